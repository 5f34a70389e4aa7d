// custos key rotate|status|retire (issue 6; docs/keys.md).
#include <fmt/format.h>

#include <iostream>

#include "cli/app.h"

namespace custos::cli {
namespace {

nlohmann::json StatusJson(const vault::KeyStatus& s) {
  nlohmann::json versions = nlohmann::json::array();
  for (const vault::KekVersionView& v : s.versions) {
    versions.push_back({{"version", v.version},
                        {"state", v.state},
                        {"wrapped_deks", v.wrapped_deks},
                        {"vault_keys", v.vault_keys},
                        {"material_present", v.material_present}});
  }
  const vault::KeyRotationView& r = s.rotation;
  return {{"provider", s.provider},
          {"active_version", s.active_version},
          {"versions", versions},
          {"rotation",
           {{"state", r.state},
            {"from_version", r.from_version},
            {"to_version", r.to_version},
            {"rewrapped", r.rewrapped},
            {"remaining", r.remaining},
            {"started_at_ms", r.started_at_ms},
            {"finished_at_ms", r.finished_at_ms}}}};
}

std::string StatusText(const vault::KeyStatus& s) {
  std::string out =
      fmt::format("provider {}, active KEK version {}\n", s.provider, s.active_version);
  out += fmt::format("{:>8}  {:<9} {:>12} {:>10}  {}\n", "version", "state", "wrapped DEKs",
                     "vault keys", "key material");
  for (const vault::KekVersionView& v : s.versions) {
    out += fmt::format("{:>8}  {:<9} {:>12} {:>10}  {}\n", v.version, v.state, v.wrapped_deks,
                       v.vault_keys, v.material_present ? "present" : "destroyed");
  }
  const vault::KeyRotationView& r = s.rotation;
  if (r.state == "none") return out + "rotation: never rotated";
  if (r.state == "running") {
    return out + fmt::format(
                     "rotation v{} -> v{}: INTERRUPTED or running, {} rewrapped, {} to "
                     "go; run `custos key rotate` to finish it",
                     r.from_version, r.to_version, r.rewrapped, r.remaining);
  }
  return out + fmt::format("rotation v{} -> v{}: done, {} DEKs rewrapped", r.from_version,
                           r.to_version, r.rewrapped);
}

}  // namespace

void AddKeyCommands(CLI::App& app, Globals& g, Action& action) {
  auto* key = app.add_subcommand("key", "key-encryption key versions: rotate, status, retire");
  key->require_subcommand(1);

  auto* rotate = key->add_subcommand(
      "rotate", "add a KEK version and rewrap every key under it (resumes an interrupted one)");
  auto batch = std::make_shared<size_t>(1000);
  rotate->add_option("--batch", *batch, "DEKs per storage transaction (default 1000)");
  rotate->callback([&g, &action, batch] {
    action = [&g, batch] {
      return WithVault(g, [&](vault::Vault& v) {
        vault::RotateOptions opt;
        opt.batch_size = *batch;
        if (!g.json) {
          opt.progress = [](int64_t done, int64_t total) {
            std::cerr << fmt::format("\rrewrapped {} of {} DEKs", done, total) << std::flush;
          };
        }
        auto report = v.keys().Rotate(g.MakeContext(), opt);
        if (!g.json) std::cerr << "\n";
        if (!report.ok()) return g.out().Fail(report.status());
        nlohmann::json doc = {
            {"from_version", report->from_version}, {"to_version", report->to_version},
            {"resumed", report->resumed},           {"complete", report->complete},
            {"rewrapped", report->rewrapped},       {"gone", report->gone},
            {"vault_keys", report->vault_keys},     {"batches", report->batches}};
        g.out().Print(doc,
                      fmt::format("KEK v{} -> v{}{}: {} DEKs and {} vault keys rewrapped; "
                                  "retire v{} with `custos key retire {}` once backups "
                                  "no longer need it (docs/keys.md)",
                                  report->from_version, report->to_version,
                                  report->resumed ? " (resumed)" : "", report->rewrapped,
                                  report->vault_keys, report->from_version, report->from_version));
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* status = key->add_subcommand("status", "KEK versions, wrapped-key counts, rotation");
  status->callback([&g, &action] {
    action = [&g] {
      return WithVault(g, [&](vault::Vault& v) {
        auto s = v.keys().GetStatus(g.MakeContext());
        if (!s.ok()) return g.out().Fail(s.status());
        g.out().Print(StatusJson(*s), StatusText(*s));
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* retire = key->add_subcommand(
      "retire", "destroy an old KEK version's key material once nothing is wrapped under it");
  auto version = std::make_shared<uint32_t>(0);
  retire->add_option("VERSION", *version, "the KEK version")->required();
  retire->callback([&g, &action, version] {
    action = [&g, version] {
      return WithVault(g, [&](vault::Vault& v) {
        Status st = v.keys().Retire(g.MakeContext(), *version);
        if (!st.ok()) return g.out().Fail(st);
        g.out().Print({{"retired", *version}},
                      fmt::format("KEK v{} retired: its key material is destroyed", *version));
        return static_cast<int>(kExitOk);
      });
    };
  });
}

}  // namespace custos::cli
