// custos dsr open|close|list (fulfilment: dsr_fulfil_commands.cpp): the register of data-subject
// requests (PIPL Art. 44-50; docs/subject_requests.md). Thin: parse, call the vault, print.
// With --json a request has the API's members but for the times (at_ms and due_at_ms here) and
// the same `caller` (what separation of duties lets the staff member running the command do).
#include <fmt/format.h>

#include "api/view_json.h"
#include "cli/app.h"
#include "core/dates.h"

namespace custos::cli {
namespace {

// The register's row; `caller` is the API's (api::SubjectRequestCallerJson): what separation of
// duties lets the staff member running the command do with it.
nlohmann::json RequestJson(const vault::SubjectRequestView& r) {
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : r.steps) {
    steps.push_back({{"step", s.step},
                     {"at_ms", s.at_ms},
                     {"actor", s.actor},
                     {"method", s.method},
                     {"detail", s.detail}});
  }
  return {{"request_id", r.request_id},
          {"customer_id", r.customer_id},
          {"kind", r.kind},
          {"reference", r.reference},
          {"opened_by", r.opened_by},
          {"opened_at_ms", r.opened_at_ms},
          {"due_at_ms", r.due_at_ms},
          {"closed_by", r.closed_by},
          {"closed_at_ms", r.closed_at_ms},
          {"outcome", r.outcome},
          {"overdue", r.overdue},
          {"steps", std::move(steps)},
          {"caller", api::SubjectRequestCallerJson(r)}};
}

// One table row: id, customer, kind, opened, due, state or outcome, overdue flag.
std::string RequestLine(const vault::SubjectRequestView& r) {
  return fmt::format("{:<26}  {:<26}  {:<11}  {:<10}  {:<10}  {:<9}  {}\n", r.request_id,
                     r.customer_id, r.kind, core::UtcDateOfMs(r.opened_at_ms),
                     core::UtcDateOfMs(r.due_at_ms), r.outcome.empty() ? "open" : r.outcome,
                     r.overdue ? "OVERDUE" : "");
}

void AddOpenCommand(CLI::App* dsr, Globals& g, Action& action) {
  auto* open = dsr->add_subcommand("open", "register a customer's request (dsr.manage)");
  auto spec = std::make_shared<vault::SubjectRequestSpec>();
  open->add_option("--customer", spec->customer_id, "customer id")->required();
  open->add_option("--kind", spec->kind,
                   "access, copy, portability, correction, deletion, restriction or "
                   "explanation (PIPL Art. 44-48)")
      ->required();
  open->add_option("--reference", spec->reference, "ticket reference, no personal data")
      ->required();
  auto sets = std::make_shared<std::vector<std::string>>();
  open->add_option("--set", *sets, "a correction's proposed FIELD=VALUE (repeat)");
  open->callback([&g, &action, spec, sets] {
    action = [&g, spec, sets] {
      auto proposed = ParseAssignments(*sets);
      if (!proposed.ok()) return g.out().Fail(proposed.status());
      spec->proposed = std::move(proposed).value();
      return WithVault(g, [&](vault::Vault& v) {
        auto r = v.subject_requests().Open(g.MakeContext(), *spec);
        if (!r.ok()) return g.out().Fail(r.status());
        g.out().Print(
            RequestJson(*r),
            fmt::format("request {} ({} of customer {}) opened; answer due by {}\n", r->request_id,
                        r->kind, r->customer_id, core::UtcDateOfMs(r->due_at_ms)));
        return static_cast<int>(kExitOk);
      });
    };
  });
}

void AddCloseCommand(CLI::App* dsr, Globals& g, Action& action) {
  auto* close = dsr->add_subcommand("close", "close an open request (dsr.manage)");
  auto id = std::make_shared<std::string>();
  auto outcome = std::make_shared<std::string>();
  close->add_option("request", *id, "request id")->required();
  close->add_option("--outcome", *outcome, "fulfilled, refused or withdrawn")->required();
  close->callback([&g, &action, id, outcome] {
    action = [&g, id, outcome] {
      return WithVault(g, [&](vault::Vault& v) {
        Status st = v.subject_requests().Close(g.MakeContext(), *id, *outcome);
        if (!st.ok()) return g.out().Fail(st);
        g.out().Print({{"request_id", *id}, {"outcome", *outcome}},
                      fmt::format("request {} closed: {}\n", *id, *outcome));
        return static_cast<int>(kExitOk);
      });
    };
  });
}

void AddListCommand(CLI::App* dsr, Globals& g, Action& action) {
  auto* list = dsr->add_subcommand("list", "the register, oldest first (dsr.read)");
  auto customer = std::make_shared<std::string>();
  auto open_only = std::make_shared<bool>(false);
  auto overdue_only = std::make_shared<bool>(false);
  list->add_option("--customer", *customer, "only this customer's requests");
  list->add_flag("--open", *open_only, "only open requests");
  list->add_flag("--overdue", *overdue_only, "only open requests past their due date");
  list->callback([&g, &action, customer, open_only, overdue_only] {
    action = [&g, customer, open_only, overdue_only] {
      return WithVault(g, [&](vault::Vault& v) {
        auto rows =
            v.subject_requests().List(g.MakeContext(), *customer, *open_only || *overdue_only);
        if (!rows.ok()) return g.out().Fail(rows.status());
        nlohmann::json items = nlohmann::json::array();
        std::string text =
            fmt::format("{:<26}  {:<26}  {:<11}  {:<10}  {:<10}  {:<9}  {}\n", "request",
                        "customer", "kind", "opened", "due", "state", "overdue");
        for (const auto& r : *rows) {
          if (*overdue_only && !r.overdue) continue;
          items.push_back(RequestJson(r));
          text += RequestLine(r);
        }
        // The API's shape (GET /v1/subject-requests).
        g.out().Print({{"subject_requests", items}}, text);
        return static_cast<int>(kExitOk);
      });
    };
  });
}

}  // namespace

void AddSubjectRequestCommands(CLI::App& app, Globals& g, Action& action) {
  auto* dsr = app.add_subcommand(
      "dsr", "data-subject requests: the register of what customers asked (PIPL Art. 44-50)");
  dsr->require_subcommand(1);
  AddOpenCommand(dsr, g, action);
  AddCloseCommand(dsr, g, action);
  AddListCommand(dsr, g, action);
  AddSubjectFulfilmentCommands(dsr, g, action);
}

}  // namespace custos::cli
