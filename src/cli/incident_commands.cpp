// custos incident open|list|show|contain|assess|notify|recover|close and custos violation
// add|list|close (issue 20; docs/security_operations.md). Thin: parse, call the vault, print.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <memory>
#include <string>
#include <vector>

#include "cli/app.h"
#include "core/dates.h"

namespace custos::cli {
namespace {

nlohmann::json IncidentJson(const vault::IncidentView& i) {
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : i.steps) {
    steps.push_back({{"step_no", s.step_no},
                     {"at_ms", s.at_ms},
                     {"actor", s.actor},
                     {"kind", s.kind},
                     {"detail", s.detail}});
  }
  nlohmann::json timeline = nlohmann::json::array();
  for (const auto& e : i.timeline) {
    timeline.push_back({{"seq", e.seq},
                        {"ts_ms", e.ts_ms},
                        {"actor", e.actor},
                        {"action", e.action},
                        {"target", e.target},
                        {"purpose", e.purpose},
                        {"decision", e.decision},
                        {"fields", e.fields}});
  }
  return {{"incident_id", i.incident_id},
          {"opened_at_ms", i.opened_at_ms},
          {"opened_by", i.opened_by},
          {"title", i.title},
          {"severity", i.severity},
          {"status", i.status},
          {"staff_id", i.subject_actor},
          {"alert_ids", i.alert_ids},
          {"from_ms", i.from_ms},
          {"to_ms", i.to_ms},
          {"closed_by", i.closed_by},
          {"closed_at_ms", i.closed_at_ms},
          {"steps", steps},
          {"timeline", timeline}};
}

std::string IncidentText(const vault::IncidentView& i) {
  std::string out = fmt::format("incident {} ({}, {}): {}\nstaff {}; alerts {}; opened {} by {}\n",
                                i.incident_id, i.severity, i.status, i.title,
                                i.subject_actor.empty() ? "(none)" : i.subject_actor,
                                i.alert_ids.size(), core::UtcDateOfMs(i.opened_at_ms), i.opened_by);
  for (const auto& s : i.steps) {
    out += fmt::format("  step {} {} {} by {}: {}\n", s.step_no, core::UtcDateOfMs(s.at_ms), s.kind,
                       s.actor, s.detail);
  }
  if (!i.timeline.empty()) out += "timeline (seq, action, target, decision, fields):\n";
  for (const auto& e : i.timeline) {
    out += fmt::format("  {:>8}  {:<16}  {:<36}  {:<5}  {}\n", e.seq, e.action, e.target,
                       e.decision, e.fields);
  }
  return out;
}

void AddOpen(CLI::App* inc, Globals& g, Action& action) {
  auto* open = inc->add_subcommand("open", "open an incident, taking up alerts (incident.manage)");
  auto spec = std::make_shared<vault::IncidentSpec>();
  open->add_option("--title", spec->title, "what happened, no personal data")->required();
  open->add_option("--severity", spec->severity, "low, medium, high (default) or critical");
  open->add_option("--staff", spec->subject_actor, "the staff member it is about");
  open->add_option("--alert", spec->alert_ids, "an alert it takes up (repeat)");
  OnRun(open, g, action, [&g, spec](vault::Vault& v) {
    auto r = v.secops().OpenIncident(g.MakeContext(), *spec);
    if (!r.ok()) return g.out().Fail(r.status());
    g.out().Print(IncidentJson(*r), fmt::format("incident {} opened\n", r->incident_id));
    return static_cast<int>(kExitOk);
  });
}

void AddListShow(CLI::App* inc, Globals& g, Action& action) {
  auto* list = inc->add_subcommand("list", "the incident register, newest first (incident.read)");
  auto open_only = std::make_shared<bool>(false);
  list->add_flag("--open", *open_only, "only incidents not closed");
  OnRun(list, g, action, [&g, open_only](vault::Vault& v) {
    auto rows = v.secops().Incidents(g.MakeContext(), *open_only);
    if (!rows.ok()) return g.out().Fail(rows.status());
    nlohmann::json items = nlohmann::json::array();
    std::string text;
    for (const auto& i : *rows) {
      items.push_back(IncidentJson(i));
      text += fmt::format("{:<26}  {:<10}  {:<8}  {:<10}  {:<16}  {}\n", i.incident_id,
                          core::UtcDateOfMs(i.opened_at_ms), i.severity, i.status, i.subject_actor,
                          i.title);
    }
    g.out().Print({{"incidents", items}}, text);
    return static_cast<int>(kExitOk);
  });
  auto* show = inc->add_subcommand("show", "an incident, its steps and timeline (incident.read)");
  auto id = std::make_shared<std::string>();
  show->add_option("incident", *id, "incident id")->required();
  OnRun(show, g, action, [&g, id](vault::Vault& v) {
    auto r = v.secops().ShowIncident(g.MakeContext(), *id);
    if (!r.ok()) return g.out().Fail(r.status());
    g.out().Print(IncidentJson(*r), IncidentText(*r));
    return static_cast<int>(kExitOk);
  });
}

void AddContainAssess(CLI::App* inc, Globals& g, Action& action) {
  auto* contain =
      inc->add_subcommand("contain", "perform and record a containment action (incident.manage)");
  auto id = std::make_shared<std::string>();
  auto what = std::make_shared<vault::Containment>();
  contain->add_option("incident", *id, "incident id")->required();
  contain
      ->add_option("--action", what->action,
                   "revoke_tokens, lock_account (a staff id), stop_serving (a customer id), "
                   "suspend_sharing, resume_sharing (an agreement id)")
      ->required();
  contain->add_option("--target", what->target, "the staff id, customer id or agreement id")
      ->required();
  OnRun(contain, g, action, [&g, id, what](vault::Vault& v) {
    Status st = v.secops().Contain(g.MakeContext(), *id, *what);
    if (!st.ok()) return g.out().Fail(st);
    g.out().Print({{"incident_id", *id}, {"action", what->action}, {"target", what->target}},
                  fmt::format("{} {}: done and recorded\n", what->action, what->target));
    return static_cast<int>(kExitOk);
  });
  auto* assess =
      inc->add_subcommand("assess", "compute the impact from the audit (incident.manage)");
  auto aid = std::make_shared<std::string>();
  assess->add_option("incident", *aid, "incident id")->required();
  OnRun(assess, g, action, [&g, aid](vault::Vault& v) {
    auto a = v.secops().Assess(g.MakeContext(), *aid);
    if (!a.ok()) return g.out().Fail(a.status());
    nlohmann::json fields = nlohmann::json::object();
    std::string text = fmt::format("{} customers touched ({} audit entries, {} honey records)\n",
                                   a->customers, a->entries, a->honey_records);
    for (const auto& [k, n] : a->fields) {
      fields[k] = n;
      text += fmt::format("  {:<16} {}\n", k, n);
    }
    nlohmann::json levels = nlohmann::json::object();
    for (const auto& [k, n] : a->levels) levels[k] = n;
    text += fmt::format("categories: {}\n", fmt::join(a->categories, ", "));
    g.out().Print({{"customers", a->customers},
                   {"customer_ids", a->customer_ids},
                   {"entries", a->entries},
                   {"fields", fields},
                   {"levels", levels},
                   {"categories", a->categories},
                   {"honey_records", a->honey_records}},
                  text);
    return static_cast<int>(kExitOk);
  });
}

void AddNotifyClose(CLI::App* inc, Globals& g, Action& action) {
  auto* notify =
      inc->add_subcommand("notify", "draft the PIPL Art. 57 notices, zh and en (incident.manage)");
  auto id = std::make_shared<std::string>();
  auto contact = std::make_shared<std::string>();
  notify->add_option("incident", *id, "incident id")->required();
  notify->add_option("--contact", *contact, "the company's contact for the incident")->required();
  OnRun(notify, g, action, [&g, id, contact](vault::Vault& v) {
    auto drafts = v.secops().Notify(g.MakeContext(), *id, *contact);
    if (!drafts.ok()) return g.out().Fail(drafts.status());
    nlohmann::json items = nlohmann::json::array();
    std::string text;
    for (const auto& d : *drafts) {
      items.push_back({{"audience", d.audience}, {"language", d.language}, {"text", d.text}});
      text += fmt::format("=== {} ({}) ===\n{}\n", d.audience, d.language, d.text);
    }
    g.out().Print({{"notices", items}}, text);
    return static_cast<int>(kExitOk);
  });
  auto* recover = inc->add_subcommand("recover", "record a recovery step (incident.manage)");
  auto rid = std::make_shared<std::string>();
  auto what = std::make_shared<std::string>();
  recover->add_option("incident", *rid, "incident id")->required();
  recover->add_option("--step", *what, "what was done, no personal data")->required();
  OnRun(recover, g, action, [&g, rid, what](vault::Vault& v) {
    Status st = v.secops().RecordRecovery(g.MakeContext(), *rid, *what);
    if (!st.ok()) return g.out().Fail(st);
    g.out().Print({{"incident_id", *rid}}, "recovery step recorded\n");
    return static_cast<int>(kExitOk);
  });
  auto* close = inc->add_subcommand("close", "close an assessed incident (incident.close: DPO)");
  auto cid = std::make_shared<std::string>();
  auto summary = std::make_shared<std::string>();
  close->add_option("incident", *cid, "incident id")->required();
  close->add_option("--summary", *summary, "how it ended")->required();
  OnRun(close, g, action, [&g, cid, summary](vault::Vault& v) {
    Status st = v.secops().CloseIncident(g.MakeContext(), *cid, *summary);
    if (!st.ok()) return g.out().Fail(st);
    g.out().Print({{"incident_id", *cid}, {"status", "closed"}},
                  fmt::format("incident {} closed\n", *cid));
    return static_cast<int>(kExitOk);
  });
}

nlohmann::json ViolationJson(const vault::ViolationView& r) {
  return {{"violation_id", r.violation_id},
          {"staff_id", r.staff_id},
          {"rule", r.rule},
          {"evidence_seqs", r.evidence_seqs},
          {"incident_id", r.incident_id},
          {"handling", r.handling},
          {"status", r.status},
          {"recorded_by", r.recorded_by},
          {"recorded_at_ms", r.recorded_at_ms},
          {"closed_by", r.closed_by},
          {"closed_at_ms", r.closed_at_ms}};
}

void AddViolationCommands(CLI::App& app, Globals& g, Action& action) {
  auto* vio = app.add_subcommand("violation", "violations of the policy by staff (P5c)");
  vio->require_subcommand(1);
  auto* add = vio->add_subcommand("add", "record a violation (violation.manage)");
  auto spec = std::make_shared<vault::ViolationSpec>();
  add->add_option("--staff", spec->staff_id, "staff id")->required();
  add->add_option("--rule", spec->rule, "the rule or policy clause broken")->required();
  add->add_option("--evidence", spec->evidence_seqs, "an audit seq (repeat)");
  add->add_option("--incident", spec->incident_id, "the incident it belongs to");
  add->add_option("--handling", spec->handling, "warning, retraining or discipline")->required();
  OnRun(add, g, action, [&g, spec](vault::Vault& v) {
    auto r = v.secops().AddViolation(g.MakeContext(), *spec);
    if (!r.ok()) return g.out().Fail(r.status());
    g.out().Print(ViolationJson(*r), fmt::format("violation {} recorded\n", r->violation_id));
    return static_cast<int>(kExitOk);
  });
  auto* list = vio->add_subcommand("list", "violations, oldest first (violation.read)");
  auto staff = std::make_shared<std::string>();
  auto open_only = std::make_shared<bool>(false);
  list->add_option("--staff", *staff, "only this staff member's");
  list->add_flag("--open", *open_only, "only open violations");
  OnRun(list, g, action, [&g, staff, open_only](vault::Vault& v) {
    auto rows = v.secops().Violations(g.MakeContext(), *staff, *open_only);
    if (!rows.ok()) return g.out().Fail(rows.status());
    nlohmann::json items = nlohmann::json::array();
    std::string text;
    for (const auto& r : *rows) {
      items.push_back(ViolationJson(r));
      text += fmt::format("{:<26}  {:<16}  {:<10}  {:<6}  {}\n", r.violation_id, r.staff_id,
                          r.handling, r.status, r.rule);
    }
    g.out().Print({{"violations", items}}, text);
    return static_cast<int>(kExitOk);
  });
  auto* close = vio->add_subcommand("close", "close an open violation (violation.manage)");
  auto id = std::make_shared<std::string>();
  close->add_option("violation", *id, "violation id")->required();
  OnRun(close, g, action, [&g, id](vault::Vault& v) {
    Status st = v.secops().CloseViolation(g.MakeContext(), *id);
    if (!st.ok()) return g.out().Fail(st);
    g.out().Print({{"violation_id", *id}, {"status", "closed"}},
                  fmt::format("violation {} closed\n", *id));
    return static_cast<int>(kExitOk);
  });
}

}  // namespace

void AddIncidentCommands(CLI::App& app, Globals& g, Action& action) {
  auto* inc = app.add_subcommand(
      "incident", "security incidents: timeline, containment, impact, PIPL Art. 57 notices");
  inc->require_subcommand(1);
  AddOpen(inc, g, action);
  AddListShow(inc, g, action);
  AddContainAssess(inc, g, action);
  AddNotifyClose(inc, g, action);
  AddViolationCommands(app, g, action);
}

}  // namespace custos::cli
