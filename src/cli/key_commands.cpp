// custos key rotate|status|retire (issue 6; docs/keys.md).
#include <fmt/format.h>

#include <iostream>

#include "api/view_json.h"
#include "cli/app.h"
#include "cli/front_door.h"
#include "core/dates.h"

namespace custos::cli {
namespace {

std::string StatusText(const vault::KeyStatus& s) {
  std::string out =
      fmt::format("provider {}, active KEK version {}\n", s.provider, s.active_version);
  out += fmt::format("{:>8}  {:<9} {:>12} {:>10} {:>10}  {}\n", "version", "state", "wrapped DEKs",
                     "epoch keys", "vault keys", "key material");
  for (const vault::KekVersionView& v : s.versions) {
    out +=
        fmt::format("{:>8}  {:<9} {:>12} {:>10} {:>10}  {}\n", v.version, v.state, v.wrapped_deks,
                    v.epoch_keys, v.vault_keys, v.material_present ? "present" : "destroyed");
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

nlohmann::json EpochStatusJson(const vault::EpochStatus& s) {
  nlohmann::json epochs = nlohmann::json::array();
  for (const vault::EpochView& e : s.epochs) {
    epochs.push_back({{"epoch", e.epoch},
                      {"state", e.state},
                      {"created_at_ms", e.created_at_ms},
                      {"ended_at_ms", e.ended_at_ms},
                      {"destroyed_at_ms", e.destroyed_at_ms},
                      {"destroy_due_ms", e.destroy_due_ms},
                      {"wrapped_deks", e.wrapped_deks},
                      {"key_present", e.key_present}});
  }
  return {{"current", s.current},
          {"key_epoch_length_ms", s.length_ms},
          {"key_epochs", s.keep},
          {"window_ms", s.window_ms},
          {"next_rotation_ms", s.next_rotation_ms},
          {"kek_wrapped_deks", s.kek_wrapped_deks},
          {"epochs", epochs},
          {"rewrap", {{"state", s.rewrap_state}, {"to", s.rewrap_to}, {"rewrapped", s.rewrapped}}}};
}

std::string EpochStatusText(const vault::EpochStatus& s) {
  std::string out = fmt::format(
      "current epoch {}; a new epoch every {} h, {} kept: the epoch window is {} days; next "
      "rotation due {}\n",
      s.current, s.length_ms / 3'600'000, s.keep, s.window_ms / 86'400'000,
      core::UtcDateOfMs(s.next_rotation_ms));
  out += fmt::format("{:>6}  {:<9}  {:<10}  {:<10}  {:<10}  {:>12}  {}\n", "epoch", "state",
                     "created", "ended", "destroy by", "wrapped DEKs", "key file");
  for (const vault::EpochView& e : s.epochs) {
    const bool destroyed = e.state == "destroyed";
    out += fmt::format(
        "{:>6}  {:<9}  {:<10}  {:<10}  {:<10}  {:>12}  {}\n", e.epoch, e.state,
        core::UtcDateOfMs(e.created_at_ms),
        e.ended_at_ms == 0 ? "-" : core::UtcDateOfMs(e.ended_at_ms),
        destroyed ? core::UtcDateOfMs(e.destroyed_at_ms) : core::UtcDateOfMs(e.destroy_due_ms),
        e.wrapped_deks, destroyed ? "destroyed" : (e.key_present ? "present" : "MISSING"));
  }
  if (s.kek_wrapped_deks > 0) {
    out += fmt::format("{} DEKs are still wrapped by the KEK (migration unfinished)\n",
                       s.kek_wrapped_deks);
  }
  return out + fmt::format("re-wrap: {}{}", s.rewrap_state,
                           s.rewrap_state == "running"
                               ? " (INTERRUPTED or running: run `custos key epoch rotate`)"
                               : "");
}

void AddEpochCommands(CLI::App* key, Globals& g, Action& action) {
  auto* epoch = key->add_subcommand(
      "epoch", "epoch wrapping keys: every customer's data key is wrapped under one (issue 23)");
  epoch->require_subcommand(1);
  auto* rotate = epoch->add_subcommand(
      "rotate",
      "start a new epoch now, re-wrap every data key under it and destroy the epochs "
      "the schedule is done with (resumes an interrupted one)");
  auto batch = std::make_shared<size_t>(1000);
  auto if_due = std::make_shared<bool>(false);
  rotate->add_option("--batch", *batch, "DEKs per storage transaction (default 1000)");
  rotate->add_flag("--if-due", *if_due,
                   "only when the current epoch is key_epoch_length old (as the schedule does)");
  rotate->callback([&g, &action, batch, if_due] {
    action = [&g, batch, if_due] {
      return WithVault(g, [&](vault::Vault& v) {
        vault::EpochRotateOptions opt;
        opt.batch_size = *batch;
        opt.force = !*if_due;
        auto r = v.keys().RotateEpochs(g.MakeContext(), opt);
        if (!r.ok()) return g.out().Fail(r.status());
        nlohmann::json doc = {{"created", r->created},     {"current", r->current},
                              {"rewrapped", r->rewrapped}, {"destroyed", r->destroyed},
                              {"delayed", r->delayed},     {"complete", r->complete}};
        std::string text = r->created == 0
                               ? fmt::format("epoch {} stays current", r->current)
                               : fmt::format("epoch {} created and current", r->created);
        text += fmt::format("; {} DEKs re-wrapped", r->rewrapped);
        for (uint32_t e : r->destroyed) text += fmt::format("; epoch {} destroyed", e);
        for (uint32_t e : r->delayed) {
          text += fmt::format("; epoch {} due but still names wrapped keys (kept)", e);
        }
        g.out().Print(doc, text);
        return static_cast<int>(kExitOk);
      });
    };
  });
  auto* status = epoch->add_subcommand("status", "epochs, their dates and wrapped-key counts");
  status->callback([&g, &action] {
    action = [&g] {
      return WithVault(g, [&](vault::Vault& v) {
        auto s = v.keys().GetEpochStatus(g.MakeContext());
        if (!s.ok()) return g.out().Fail(s.status());
        g.out().Print(EpochStatusJson(*s), EpochStatusText(*s));
        return static_cast<int>(kExitOk);
      });
    };
  });
}

}  // namespace

void AddKeyCommands(CLI::App& app, Globals& g, Action& action) {
  auto* key = app.add_subcommand(
      "key", "key-encryption key versions (rotate, status, retire) and epoch keys (epoch)");
  key->require_subcommand(1);
  AddEpochCommands(key, g, action);

  auto* rotate = key->add_subcommand(
      "rotate", "add a KEK version and rewrap every key under it (resumes an interrupted one)");
  auto batch = std::make_shared<size_t>(1000);
  rotate->add_option("--batch", *batch, "DEKs per storage transaction (default 1000)");
  rotate->callback([&g, &action, batch] {
    action = [&g, batch] {
      return WithVault(g, [&](vault::Vault& v) {
        vault::RotateOptions opt;
        opt.batch_size = *batch;
        // Progress on stderr: rewritten in place on a terminal, plain lines otherwise.
        Progress progress("DEKs", 0);
        opt.progress = [&progress](int64_t done, int64_t total) {
          progress.SetTotal(total);
          progress.Update(done);
        };
        auto report = v.keys().Rotate(g.MakeContext(), opt);
        progress.Done();
        if (!report.ok()) return g.out().Fail(report.status());
        nlohmann::json doc = {{"from_version", report->from_version},
                              {"to_version", report->to_version},
                              {"resumed", report->resumed},
                              {"complete", report->complete},
                              {"rewrapped", report->rewrapped},
                              {"gone", report->gone},
                              {"vault_keys", report->vault_keys},
                              {"epoch_keys", report->epoch_keys},
                              {"batches", report->batches}};
        g.out().Print(doc, fmt::format("KEK v{} -> v{}{}: {} epoch keys, {} vault keys and {} "
                                       "KEK-wrapped DEKs rewrapped; retire v{} with `custos key "
                                       "retire {}` once backups no longer need it (docs/keys.md)",
                                       report->from_version, report->to_version,
                                       report->resumed ? " (resumed)" : "", report->epoch_keys,
                                       report->vault_keys, report->rewrapped, report->from_version,
                                       report->from_version));
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
        g.out().Print(api::KeyStatusJson(*s), StatusText(*s));
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
