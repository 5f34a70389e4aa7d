// custos retention plan|show|request|run|certificate verify and custos hold place|release|list
// (issue 6, P3.4; docs/retention.md). Thin: parse, call the vault, print.
#include <fmt/format.h>

#include <fstream>
#include <iterator>

#include "cli/app.h"
#include "cli/front_door.h"
#include "core/dates.h"
#include "lifecycle/certificate.h"

namespace custos::cli {
namespace {

nlohmann::json ItemJson(const vault::RetentionItemView& i) {
  nlohmann::json j = {{"kind", i.kind},   {"customer_id", i.customer_id}, {"rule", i.rule},
                      {"event", i.event}, {"event_ms", i.event_ms},       {"due_ms", i.due_ms}};
  if (!i.record_id.empty()) j["record_id"] = i.record_id;
  if (!i.held.empty()) j["held"] = i.held;
  return j;
}

std::string ItemText(const vault::RetentionItemView& i) {
  const std::string what = i.record_id.empty()
                               ? fmt::format("customer {}", i.customer_id)
                               : fmt::format("{} {} of {}", i.kind, i.record_id, i.customer_id);
  std::string line = fmt::format("  {}: class {}, {} {}, due {}", what, i.rule, i.event,
                                 core::UtcDateOfMs(i.event_ms), core::UtcDateOfMs(i.due_ms));
  if (!i.held.empty()) line += fmt::format(" — held back: {}", i.held);
  return line + "\n";
}

void PrintPlan(const Globals& g, const vault::RetentionPlanView& p) {
  nlohmann::json due = nlohmann::json::array();
  nlohmann::json held = nlohmann::json::array();
  std::string text = fmt::format("plan {} ({}), sha256 {}\n{} due:\n", p.plan_id, p.state,
                                 p.content_sha256, p.due.size());
  for (const auto& i : p.due) {
    due.push_back(ItemJson(i));
    text += ItemText(i);
  }
  text += fmt::format("{} due but held back:\n", p.held.size());
  for (const auto& i : p.held) {
    held.push_back(ItemJson(i));
    text += ItemText(i);
  }
  g.out().Print({{"plan_id", p.plan_id},
                 {"sha256", p.content_sha256},
                 {"state", p.state},
                 {"run_id", p.run_id},
                 {"created_by", p.created_by},
                 {"created_at_ms", p.created_at_ms},
                 {"due", due},
                 {"held", held}},
                text);
}

void AddPlanCommands(CLI::App* retention, Globals& g, Action& action) {
  auto* plan =
      retention->add_subcommand("plan", "sweep and save a retention plan (retention.plan)");
  plan->callback([&g, &action] {
    action = [&g] {
      return WithVault(g, [&](vault::Vault& v) {
        auto p = v.lifecycle().PlanRetention(g.MakeContext());
        if (!p.ok()) return g.out().Fail(p.status());
        PrintPlan(g, *p);
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* show = retention->add_subcommand("show", "show a saved plan (retention.read)");
  auto id = std::make_shared<std::string>();
  show->add_option("plan", *id, "plan id")->required();
  show->callback([&g, &action, id] {
    action = [&g, id] {
      return WithVault(g, [&](vault::Vault& v) {
        auto p = v.lifecycle().GetRetentionPlan(g.MakeContext(), *id);
        if (!p.ok()) return g.out().Fail(p.status());
        PrintPlan(g, *p);
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* list = retention->add_subcommand("list", "saved plans, newest first (retention.read)");
  auto limit = std::make_shared<size_t>(20);
  list->add_option("--limit", *limit, "how many (1-1000, default 20)");
  list->callback([&g, &action, limit] {
    action = [&g, limit] {
      return WithVault(g, [&](vault::Vault& v) {
        auto plans = v.lifecycle().ListRetentionPlans(g.MakeContext(), *limit);
        if (!plans.ok()) return g.out().Fail(plans.status());
        nlohmann::json items = nlohmann::json::array();
        std::vector<std::vector<std::string>> rows;
        for (const vault::RetentionPlanView& p : *plans) {
          items.push_back({{"plan_id", p.plan_id},
                           {"content_sha256", p.content_sha256},
                           {"state", p.state},
                           {"run_id", p.run_id},
                           {"created_by", p.created_by},
                           {"created_at_ms", p.created_at_ms}});
          rows.push_back({p.plan_id, core::UtcDateOfMs(p.created_at_ms), p.state, p.created_by,
                          p.content_sha256.substr(0, 16), p.run_id});
        }
        g.out().Print({{"plans", items}},
                      rows.empty()
                          ? std::string("no saved plans")
                          : Table({"plan", "created", "state", "by", "sha256", "run"}, rows));
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* request = retention->add_subcommand(
      "request", "ask a second staff member to approve destroying a plan (dual control)");
  auto req = std::make_shared<vault::ApprovalRequest>();
  auto duration = std::make_shared<std::string>("7d");
  request->add_option("--plan", req->plan_id, "plan id")->required();
  request->add_option("--justification", req->justification, "written reason, no personal data")
      ->required();
  request->add_option("--duration", *duration, "how long the approval stays valid (default 7d)");
  request->callback([&g, &action, req, duration] {
    action = [&g, req, duration] {
      auto ms = ParseDuration(*duration);
      if (!ms.ok()) return g.out().Fail(ms.status());
      req->kind = "destruction";
      req->duration_ms = *ms;
      return WithVault(g, [&](vault::Vault& v) {
        auto approval = v.approvals().Request(g.MakeContext(), *req);
        if (!approval.ok()) return g.out().Fail(approval.status());
        g.out().Print({{"approval_id", *approval}, {"plan_id", req->plan_id}},
                      fmt::format("destruction of plan {} requested: approval {} (a second "
                                  "staff member runs `custos approval approve {}`)\n",
                                  req->plan_id, *approval, *approval));
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* run =
      retention->add_subcommand("run", "destroy what an approved plan lists (retention.run)");
  auto run_id = std::make_shared<std::string>();
  run->add_option("--plan", *run_id, "plan id")->required();
  run->callback([&g, &action, run_id] {
    action = [&g, run_id] {
      return WithVault(g, [&](vault::Vault& v) {
        auto r = v.lifecycle().RunRetentionPlan(g.MakeContext(), *run_id);
        if (!r.ok()) return g.out().Fail(r.status());
        g.out().Print({{"run_id", r->run_id},
                       {"plan_id", r->plan_id},
                       {"approval_id", r->approval_id},
                       {"customers", r->customers},
                       {"transactions", r->transactions},
                       {"notes", r->notes},
                       {"consent_kept", r->consent_kept},
                       {"consent_erased", r->consent_erased},
                       {"skipped_held", r->skipped_held},
                       {"skipped_gone", r->skipped_gone},
                       {"certificate", r->certificate.string()}},
                      fmt::format("run {} of plan {}: destroyed {} customers ({} with their "
                                  "consent evidence kept), {} transactions, {} notes, {} kept "
                                  "consent evidence; skipped {} under hold, {} already gone\n"
                                  "certificate: {}\n",
                                  r->run_id, r->plan_id, r->customers, r->consent_kept,
                                  r->transactions, r->notes, r->consent_erased, r->skipped_held,
                                  r->skipped_gone, r->certificate.string()));
        return static_cast<int>(kExitOk);
      });
    };
  });
}

nlohmann::json CompletionJson(const vault::CompletionView& c) {
  nlohmann::json j = {{"run_id", c.run_id},
                      {"finished_at_ms", c.finished_at_ms},
                      {"complete_by_ms", c.complete_by_ms},
                      {"epochs", c.epochs},
                      {"waiting_for_epochs", c.waiting},
                      {"state", c.state}};
  if (!c.certificate.empty()) j["certificate"] = c.certificate.string();
  return j;
}

std::string EpochList(const std::vector<uint32_t>& epochs) {
  std::string out;
  for (uint32_t e : epochs) out += (out.empty() ? "" : ", ") + std::to_string(e);
  return out;
}

std::string CompletionText(const vault::CompletionView& c) {
  if (c.state == "unknown") {
    return fmt::format(
        "run {}: destroyed in the live vault {}; the certificate names no epoch "
        "keys (written before epochs)",
        c.run_id, core::UtcDateOfMs(c.finished_at_ms));
  }
  std::string text = fmt::format(
      "run {}: destroyed in the live vault {}; unrecoverable from every backup by {} (epoch "
      "keys {})",
      c.run_id, core::UtcDateOfMs(c.finished_at_ms), core::UtcDateOfMs(c.complete_by_ms),
      EpochList(c.epochs));
  if (c.state == "complete") return text + ": complete, every epoch key is destroyed";
  return text + fmt::format(": {}, epoch keys {} not yet destroyed", c.state, EpochList(c.waiting));
}

// `retention certificate verify FILE --with-vault`: the signature under the vault's key and
// the epochs against the vault's epoch state. Exit 8 (data loss) if the date is past and an
// epoch named is not destroyed.
int VerifyWithVault(Globals& g, const std::string& text) {
  return WithVault(g, [&](vault::Vault& v) {
    auto c = v.lifecycle().CheckCertificate(g.MakeContext(), text);
    if (!c.ok()) return g.out().Fail(c.status());
    if (c->state == "overdue") {
      return g.out().Fail(DataLoss(fmt::format(
          "certificate: destruction was due to be complete in every copy by {}, but epoch keys "
          "{} are not destroyed (epoch rotations ran late: run `custos key epoch rotate`)",
          core::UtcDateOfMs(c->complete_by_ms), EpochList(c->waiting))));
    }
    nlohmann::json doc = CompletionJson(*c);
    doc["ok"] = true;
    g.out().Print(doc, "certificate OK (signed by this vault); " + CompletionText(*c) + "\n");
    return static_cast<int>(kExitOk);
  });
}

void AddStatusCommand(CLI::App* retention, Globals& g, Action& action) {
  auto* status = retention->add_subcommand(
      "status", "destructions still waiting for their epoch keys to be destroyed");
  status->callback([&g, &action] {
    action = [&g] {
      return WithVault(g, [&](vault::Vault& v) {
        auto waiting = v.lifecycle().ListWaitingDestructions(g.MakeContext());
        if (!waiting.ok()) return g.out().Fail(waiting.status());
        nlohmann::json doc = nlohmann::json::array();
        std::string text;
        for (const vault::CompletionView& c : *waiting) {
          doc.push_back(CompletionJson(c));
          text += CompletionText(c) + "\n";
        }
        g.out().Print(doc, text.empty() ? "no destruction is waiting for its epoch keys" : text);
        return static_cast<int>(kExitOk);
      });
    };
  });
}

void AddCertificateCommands(CLI::App* retention, Globals& g, Action& action) {
  auto* cert = retention->add_subcommand("certificate", "destruction certificates");
  cert->require_subcommand(1);
  auto* verify = cert->add_subcommand("verify", "check a certificate's shape and signature");
  auto file = std::make_shared<std::string>();
  auto key = std::make_shared<std::string>();
  auto with_vault = std::make_shared<bool>(false);
  verify->add_option("file", *file, "certificate JSON file")->required();
  verify->add_option("--public-key", *key,
                     "hex public key the certificate must be signed with (the vault's "
                     "checkpoint key); without it the key in the file is reported");
  verify->add_flag("--with-vault", *with_vault,
                   "check it against the vault: signed by its key, and once the completion "
                   "date is past, every epoch key it names destroyed (retention.read)");
  verify->callback([&g, &action, file, key, with_vault] {
    action = [&g, file, key, with_vault] {
      std::ifstream in(*file, std::ios::binary);
      if (!in) return g.out().Fail(NotFound("certificate: cannot read the file"));
      const std::string text((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
      if (*with_vault) return VerifyWithVault(g, text);
      auto check = lifecycle::VerifyCertificate(text, *key);
      if (!check.ok()) return g.out().Fail(check.status());
      g.out().Print({{"ok", true},
                     {"run_id", check->run_id},
                     {"plan_id", check->plan_id},
                     {"customers", check->customers},
                     {"transactions", check->transactions},
                     {"notes", check->notes},
                     {"public_key", check->public_key_hex},
                     {"complete_by_ms", check->backups_complete_by_ms},
                     {"epochs", check->backups_epochs}},
                    fmt::format("certificate OK: run {} of plan {}: {} customers, {} "
                                "transactions, {} notes; signed by key {}{}\n",
                                check->run_id, check->plan_id, check->customers,
                                check->transactions, check->notes, check->public_key_hex,
                                check->backups_complete_by_ms == 0
                                    ? std::string()
                                    : fmt::format("; unrecoverable from every backup by {} "
                                                  "(epoch keys {})",
                                                  core::UtcDateOfMs(check->backups_complete_by_ms),
                                                  EpochList(check->backups_epochs))));
      return static_cast<int>(kExitOk);
    };
  });
}

void AddHoldCommands(CLI::App& app, Globals& g, Action& action) {
  auto* hold = app.add_subcommand("hold", "legal holds: nothing held is destroyed (P3.4c)");
  hold->require_subcommand(1);

  auto* place = hold->add_subcommand("place", "put customers on a legal hold (hold.manage)");
  auto req = std::make_shared<vault::HoldRequest>();
  place->add_option("--customer", req->customers, "customer id (repeat for a set)")->required();
  place->add_option("--reason", req->reason, "matter reference, no personal data")->required();
  place->add_option("--owner", req->owner, "staff id answerable for the hold (default: you)");
  place->callback([&g, &action, req] {
    action = [&g, req] {
      return WithVault(g, [&](vault::Vault& v) {
        auto id = v.lifecycle().PlaceHold(g.MakeContext(), *req);
        if (!id.ok()) return g.out().Fail(id.status());
        g.out().Print({{"hold_id", *id}, {"customers", req->customers.size()}},
                      fmt::format("hold {} placed on {} customers\n", *id, req->customers.size()));
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* release = hold->add_subcommand("release", "release a legal hold (hold.manage)");
  auto id = std::make_shared<std::string>();
  release->add_option("hold", *id, "hold id")->required();
  release->callback([&g, &action, id] {
    action = [&g, id] {
      return WithVault(g, [&](vault::Vault& v) {
        Status st = v.lifecycle().ReleaseHold(g.MakeContext(), *id);
        if (!st.ok()) return g.out().Fail(st);
        g.out().Print({{"hold_id", *id}, {"released", true}},
                      fmt::format("hold {} released\n", *id));
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* list = hold->add_subcommand("list", "legal holds (hold.read)");
  auto customer = std::make_shared<std::string>();
  auto all = std::make_shared<bool>(false);
  list->add_option("--customer", *customer, "only holds naming this customer");
  list->add_flag("--all", *all, "released holds too");
  list->callback([&g, &action, customer, all] {
    action = [&g, customer, all] {
      return WithVault(g, [&](vault::Vault& v) {
        auto rows = v.lifecycle().ListHolds(g.MakeContext(), *customer, !*all);
        if (!rows.ok()) return g.out().Fail(rows.status());
        nlohmann::json items = nlohmann::json::array();
        std::vector<std::vector<std::string>> table;
        for (const auto& h : *rows) {
          items.push_back({{"hold_id", h.hold_id},
                           {"customer_id", h.customer_id},
                           {"reason", h.reason},
                           {"owner", h.owner},
                           {"placed_by", h.placed_by},
                           {"placed_at_ms", h.placed_at_ms},
                           {"released_by", h.released_by},
                           {"released_at_ms", h.released_at_ms}});
          table.push_back(
              {h.hold_id, h.customer_id, h.owner, core::UtcDateOfMs(h.placed_at_ms), h.placed_by,
               h.released_at_ms == 0
                   ? std::string()
                   : fmt::format("{} by {}", core::UtcDateOfMs(h.released_at_ms), h.released_by),
               h.reason});
        }
        g.out().Print(
            {{"holds", items}},
            Table({"hold", "customer", "owner", "placed", "by", "released", "reason"}, table));
        return static_cast<int>(kExitOk);
      });
    };
  });
}

}  // namespace

void AddRetentionCommands(CLI::App& app, Globals& g, Action& action) {
  auto* retention = app.add_subcommand("retention", "retention plans, runs and certificates");
  retention->require_subcommand(1);
  AddPlanCommands(retention, g, action);
  AddCertificateCommands(retention, g, action);
  AddStatusCommand(retention, g, action);
  AddHoldCommands(app, g, action);
}

}  // namespace custos::cli
