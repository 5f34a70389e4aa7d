// custos ops scan|alerts|alert-close|honey (issue 20; docs/security_operations.md): the rules on
// the audit stream, their alerts and the honey records. Thin: parse, call the vault, print.
#include <fmt/format.h>

#include <optional>
#include <random>

#include "api/view_json.h"
#include "cli/app.h"
#include "core/dates.h"
#include "vault/audit_service.h"

namespace custos::cli {
namespace {

std::string AlertLine(const vault::AlertView& a) {
  return fmt::format("{:<26}  {:<10}  {:<19}  {:<8}  {:<16}  {:<6}  {}\n", a.alert_id,
                     core::UtcDateOfMs(a.raised_at_ms), a.rule, a.severity, a.actor, a.status,
                     a.detail);
}

std::string AlertHeader() {
  return fmt::format("{:<26}  {:<10}  {:<19}  {:<8}  {:<16}  {:<6}  {}\n", "alert", "raised",
                     "rule", "severity", "staff", "status", "detail");
}

void AddScan(CLI::App* ops, Globals& g, Action& action) {
  auto* scan = ops->add_subcommand(
      "scan", "evaluate the audit entries since the last scan against the rules (ops.manage)");
  auto since = std::make_shared<std::string>();
  scan->add_option("--since", *since,
                   "rescan from this date (YYYY-MM-DD, UTC) or ISO 8601 date-time; alerts "
                   "already raised are not raised again");
  scan->callback([&g, &action, since] {
    action = [&g, since] {
      std::optional<int64_t> from;
      if (!since->empty()) {
        auto ms = vault::ParseAuditTime("--since", *since, false);
        if (!ms.ok()) return g.out().Fail(ms.status());
        from = *ms;
      }
      return WithVault(g, [&](vault::Vault& v) {
        auto r = v.secops().Scan(g.MakeContext(), from);
        if (!r.ok()) return g.out().Fail(r.status());
        nlohmann::json alerts = nlohmann::json::array();
        std::string text =
            fmt::format("{} audit entries evaluated (seqs {} to {}); {} alerts\n", r->entries,
                        r->after_seq + 1, r->up_to_seq, r->raised.size());
        if (!r->raised.empty()) text += AlertHeader();
        for (const auto& a : r->raised) {
          alerts.push_back(api::AlertJson(a));
          text += AlertLine(a);
        }
        g.out().Print({{"entries", r->entries},
                       {"after_seq", r->after_seq},
                       {"up_to_seq", r->up_to_seq},
                       {"alerts", alerts}},
                      text);
        return static_cast<int>(kExitOk);
      });
    };
  });
}

void AddAlerts(CLI::App* ops, Globals& g, Action& action) {
  auto* list = ops->add_subcommand("alerts", "alerts, newest first (ops.read)");
  auto q = std::make_shared<vault::AlertQuery>();
  auto since = std::make_shared<std::string>();
  list->add_option("--status", q->status, "open or closed");
  list->add_option("--since", *since, "raised on or after this date (YYYY-MM-DD, UTC)");
  list->add_option("--limit", q->limit, "at most this many (1 to 1000, default 100)");
  list->callback([&g, &action, q, since] {
    action = [&g, q, since] {
      if (!since->empty()) {
        auto ms = vault::ParseAuditTime("--since", *since, false);
        if (!ms.ok()) return g.out().Fail(ms.status());
        q->from_ms = *ms;
      }
      return WithVault(g, [&](vault::Vault& v) {
        auto rows = v.secops().Alerts(g.MakeContext(), *q);
        if (!rows.ok()) return g.out().Fail(rows.status());
        nlohmann::json items = nlohmann::json::array();
        std::string text = AlertHeader();
        for (const auto& a : *rows) {
          items.push_back(api::AlertJson(a));
          text += AlertLine(a);
        }
        g.out().Print({{"alerts", items}}, text);  // the API's shape (GET /v1/alerts)
        return static_cast<int>(kExitOk);
      });
    };
  });
  auto* close = ops->add_subcommand("alert-close", "close an open alert (ops.manage)");
  auto id = std::make_shared<std::string>();
  auto reason = std::make_shared<std::string>();
  close->add_option("alert", *id, "alert id")->required();
  close->add_option("--reason", *reason, "why (no personal data)")->required();
  close->callback([&g, &action, id, reason] {
    action = [&g, id, reason] {
      return WithVault(g, [&](vault::Vault& v) {
        Status st = v.secops().CloseAlert(g.MakeContext(), *id, *reason);
        if (!st.ok()) return g.out().Fail(st);
        g.out().Print({{"alert_id", *id}, {"status", "closed"}},
                      fmt::format("alert {} closed\n", *id));
        return static_cast<int>(kExitOk);
      });
    };
  });
}

void AddHoney(CLI::App* ops, Globals& g, Action& action) {
  auto* honey = ops->add_subcommand("honey", "honey records: canary customers (ops.manage)");
  honey->require_subcommand(1);
  auto* add = honey->add_subcommand("add", "create N honey records, like real customers");
  auto count = std::make_shared<int64_t>(0);
  auto seed = std::make_shared<uint64_t>(0);
  add->add_option("count", *count, "how many (1 to 100)")->required();
  add->add_option("--seed", *seed, "generator seed (default: random)");
  add->callback([&g, &action, count, seed] {
    action = [&g, count, seed] {
      return WithVault(g, [&](vault::Vault& v) {
        uint64_t s = *seed;
        if (s == 0) s = std::random_device{}() * 4294967296ULL + std::random_device{}();
        auto r = v.secops().AddHoney(g.MakeContext(), *count, s);
        if (!r.ok()) return g.out().Fail(r.status());
        g.out().Print(
            {{"created", r->created}, {"total", r->total}},
            fmt::format("{} honey records created ({} in the vault)\n", r->created, r->total));
        return static_cast<int>(kExitOk);
      });
    };
  });
  auto* list = honey->add_subcommand("list", "the honey records' customer ids");
  list->callback([&g, &action] {
    action = [&g] {
      return WithVault(g, [&](vault::Vault& v) {
        auto ids = v.secops().HoneyRecords(g.MakeContext());
        if (!ids.ok()) return g.out().Fail(ids.status());
        std::string text;
        for (const auto& id : *ids) text += id + "\n";
        g.out().Print({{"honey_records", *ids}}, text);
        return static_cast<int>(kExitOk);
      });
    };
  });
}

}  // namespace

void AddOpsCommands(CLI::App& app, Globals& g, Action& action) {
  auto* ops = app.add_subcommand(
      "ops", "security operations: rules on the audit stream, alerts, honey records (P4d)");
  ops->require_subcommand(1);
  AddScan(ops, g, action);
  AddAlerts(ops, g, action);
  AddHoney(ops, g, action);
}

}  // namespace custos::cli
