// The access report of a data-subject request (issue 18 item 2; PIPL Art. 45;
// docs/subject_requests.md, "The access report"): everything held about the customer,
// unmasked — it is theirs — with its sources, the purposes it is processed for and their legal
// bases, the consent ledger, the categories of staff who accessed it and when (from the audit
// log, by post and role, never by name), and when each part is due for destruction.
// Gathered in the fulfilment's transaction, decrypted only once its entry is committed, and
// rendered as JSON and as HTML in Chinese and English from the templates below.
#include "vault/subject_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "core/dates.h"
#include "lifecycle/rules.h"
#include "ops/rules.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using Json = nlohmann::ordered_json;

std::string IsoOf(int64_t ms) { return IsoOfMs(ms); }

// The audit entries that let someone's access to the customer through, oldest first.
Status ReadAccesses(Scope& s, std::string_view customer_id, ReportSources& out) {
  for (std::string_view decision : {"allow", "mask"}) {
    store::AuditFilter filter;
    filter.target = CustomerTarget(customer_id);
    filter.decision = std::string(decision);
    CUSTOS_ASSIGN_OR_RETURN(auto rows, s.txn.QueryAudit(filter, kMaxReportedAccesses + 1));
    for (store::AuditRow& r : rows) out.accesses.push_back(std::move(r));
  }
  std::sort(out.accesses.begin(), out.accesses.end(),
            [](const store::AuditRow& a, const store::AuditRow& b) { return a.seq < b.seq; });
  out.accesses_cut = out.accesses.size() > kMaxReportedAccesses;
  if (out.accesses_cut) out.accesses.resize(kMaxReportedAccesses);
  for (const store::AuditRow& r : out.accesses) {
    if (out.staff.contains(r.actor)) continue;
    CUSTOS_ASSIGN_OR_RETURN(auto staff, s.txn.GetStaff(r.actor));
    store::StaffRow row;
    row.staff_id = r.actor;
    row.post = r.actor == "system" ? "system" : "(unknown)";
    out.staff.emplace(r.actor, staff.has_value() ? std::move(*staff) : std::move(row));
  }
  return Status::Ok();
}

}  // namespace

std::string IsoOfMs(int64_t ms) { return core::FormatIsoUtc(ms / 1000); }

Result<Verdict> GatherReport(VaultState& m, Scope& s, const store::SubjectRequestRow& row,
                             ReportSources& out) {
  const std::string& id = row.customer_id;
  out.request = row;
  out.produced_at_ms = s.now_ms;
  CUSTOS_ASSIGN_OR_RETURN(auto customer, s.txn.GetCustomer(id));
  CUSTOS_ASSIGN_OR_RETURN(auto key, s.txn.GetWrappedKey(id));
  if (!customer.has_value() || !key.has_value()) {
    return Verdict::Deny(NotFound("customer: destroyed or absent"));
  }
  out.customer = std::move(*customer);
  out.wrapped_dek = std::move(key->wrapped_dek);
  CUSTOS_ASSIGN_OR_RETURN(out.transactions, s.txn.ListTransactions(id));
  CUSTOS_ASSIGN_OR_RETURN(out.notes, s.txn.ListNotes(id));
  CUSTOS_ASSIGN_OR_RETURN(out.consents, s.txn.ListConsents(id));
  CUSTOS_ASSIGN_OR_RETURN(out.restrictions, s.txn.ListRestrictions(id));
  CUSTOS_ASSIGN_OR_RETURN(out.facts, RetentionFactsOf(s, id));
  CUSTOS_RETURN_IF_ERROR(ReadAccesses(s, id, out));
  std::vector<std::string> fields;
  for (const schema::FieldDef& f : m.config->fields) {
    if (f.type != schema::FieldType::kPassword) fields.push_back(f.name);
  }
  return Verdict::Allow(
      fmt::format("{}{}: profile, {} transaction(s), {} note(s), {} consent entr(ies), {} "
                  "access(es) of the audit log{}",
                  ops::kAccessReportOf, id, out.transactions.size(), out.notes.size(),
                  out.consents.size(), out.accesses.size(),
                  out.accesses_cut ? " (the oldest; more exist)" : ""),
      std::move(fields));
}

namespace {

Json ProfileJson(const schema::Config& config, const FieldValues& opened) {
  Json fields = Json::array();
  for (const schema::FieldDef& f : config.fields) {
    auto it = opened.find(f.name);
    if (it == opened.end() || f.type == schema::FieldType::kPassword) continue;
    fields.push_back({{"name", f.name},
                      {"label", f.label},
                      {"category", f.category},
                      {"level", std::string(LevelName(f.level))},
                      {"sensitive", f.pipl_sensitive},
                      {"value", it->second},
                      {"retention_class", f.retention_class}});
  }
  return fields;
}

Result<Json> RecordsJson(const VaultState& m, const ReportSources& src,
                         const crypto::SecretBytes& dek) {
  Json txns = Json::array();
  for (const store::TransactionRow& t : src.transactions) {
    CUSTOS_ASSIGN_OR_RETURN(
        crypto::SecretBytes plain,
        m.keyring->OpenRecord(dek, t.customer_id, "txn", t.txn_id, t.ciphertext));
    CUSTOS_ASSIGN_OR_RETURN(FieldValues fields, DecodeFields(plain));
    txns.push_back({{"txn_id", t.txn_id},
                    {"created_at", IsoOf(t.created_at_ms)},
                    {"source", t.source},
                    {"fields", Json(fields)}});
  }
  Json notes = Json::array();
  for (const store::NoteRow& n : src.notes) {
    CUSTOS_ASSIGN_OR_RETURN(
        crypto::SecretBytes plain,
        m.keyring->OpenRecord(dek, n.customer_id, "note", n.note_id, n.ciphertext));
    CUSTOS_ASSIGN_OR_RETURN(FieldValues fields, DecodeFields(plain));
    notes.push_back({{"note_id", n.note_id},
                     {"created_at", IsoOf(n.created_at_ms)},
                     {"source", n.source},
                     {"text", fields["text"]}});
  }
  return Json{{"transactions", std::move(txns)}, {"notes", std::move(notes)}};
}

Json ConsentJson(const ReportSources& src) {
  Json history = Json::array();
  for (const store::ConsentRow& c : src.consents) {
    history.push_back({{"seq", c.seq},
                       {"action", c.action},
                       {"scope", c.scope},
                       {"purpose", c.purpose},
                       {"notice_version", c.notice_version},
                       {"channel", c.channel},
                       {"evidence_ref", c.evidence_ref},
                       {"recorded_at", IsoOf(c.recorded_at_ms)}});
  }
  Json restrictions = Json::array();
  for (const store::RestrictionRow& r : src.restrictions) {
    restrictions.push_back({{"since", IsoOf(r.placed_at_ms)},
                            {"rule", r.rule},
                            {"until", r.until_ms == 0 ? Json() : Json(IsoOf(r.until_ms))}});
  }
  return Json{{"history", std::move(history)}, {"restrictions", std::move(restrictions)}};
}

}  // namespace

Result<Json> ProcessedPurposesJson(const schema::Config& config, const ReportSources& src) {
  CUSTOS_ASSIGN_OR_RETURN(consent::ConsentState state,
                          consent::Replay(src.customer.customer_id, src.consents));
  Json out = Json::array();
  for (const schema::PurposeDef& p : config.purposes) {
    if (!p.legal_obligation && !state.Grants(p.name)) continue;
    out.push_back({{"purpose", p.name},
                   {"label", p.label},
                   {"description", p.description},
                   {"legal_basis", p.legal_obligation ? "legal_obligation" : "consent"}});
  }
  return out;
}

namespace {

Json SourcesJson(const ReportSources& src) {
  std::set<std::string> sources{src.customer.source};
  for (const auto& t : src.transactions) sources.insert(t.source);
  for (const auto& n : src.notes) sources.insert(n.source);
  for (const auto& c : src.consents) sources.insert(c.channel);
  return Json(std::vector<std::string>(sources.begin(), sources.end()));
}

// Who accessed the data: by post and role, never by name (issue 18 item 2).
Json AccessesJson(const schema::Config& config, const ReportSources& src) {
  Json out = Json::array();
  for (const store::AuditRow& r : src.accesses) {
    const store::StaffRow& staff = src.staff.at(r.actor);
    const schema::PostDef* post = config.FindPost(staff.post);
    out.push_back({{"at", IsoOf(r.ts_ms)},
                   {"post", staff.post},
                   {"post_label", post != nullptr ? post->label : ""},
                   {"roles", staff.roles},
                   {"action", r.action},
                   {"purpose", r.purpose},
                   {"channel", r.channel},
                   {"fields", r.fields}});
  }
  return out;
}

}  // namespace

Json RetentionDatesJson(const schema::Config& config, const ReportSources& src) {
  Json out = Json::array();
  for (const lifecycle::DuePart& d : lifecycle::DueDates(config, src.facts)) {
    auto day = [](int64_t ms) {
      return ms == lifecycle::kNeverMs ? Json() : Json(lifecycle::UtcDay(ms));
    };
    out.push_back({{"retention_class", d.rule},
                   {"counted_from", d.event},
                   {"parts", d.parts},
                   {"due_for_destruction", day(d.due_ms)},
                   {"kept_at_least_until", day(d.floor_ms)}});
  }
  return out;
}

namespace {

Result<Json> ReportJson(const VaultState& m, const ReportSources& src, const FieldValues& opened,
                        const crypto::SecretBytes& dek) {
  const schema::Config& config = *m.config;
  CUSTOS_ASSIGN_OR_RETURN(Json records, RecordsJson(m, src, dek));
  CUSTOS_ASSIGN_OR_RETURN(Json purposes, ProcessedPurposesJson(config, src));
  Json doc;
  doc["schema"] = "custos.subject_access_report/1";
  doc["request"] = {{"request_id", src.request.request_id},
                    {"kind", src.request.kind},
                    {"reference", src.request.reference},
                    {"opened_at", IsoOf(src.request.opened_at_ms)},
                    {"produced_at", IsoOf(src.produced_at_ms)}};
  doc["customer"] = {{"customer_id", src.customer.customer_id},
                     {"created_at", IsoOf(src.customer.created_at_ms)},
                     {"updated_at", IsoOf(src.customer.updated_at_ms)},
                     {"source", src.customer.source}};
  doc["fields"] = ProfileJson(config, opened);
  doc["transactions"] = std::move(records["transactions"]);
  doc["notes"] = std::move(records["notes"]);
  doc["consent"] = ConsentJson(src);
  doc["sources"] = SourcesJson(src);
  doc["purposes"] = std::move(purposes);
  doc["accesses"] = AccessesJson(config, src);
  doc["accesses_cut"] = src.accesses_cut;
  // This version has no data sharing with partners (the share component): nothing to list.
  doc["shared_with"] = Json::array();
  doc["retention"] = RetentionDatesJson(config, src);
  return doc;
}

}  // namespace

Result<SubjectReport> RenderReport(const VaultState& m, const ReportSources& sources) {
  CUSTOS_ASSIGN_OR_RETURN(crypto::SecretBytes dek,
                          m.UnwrapDek(sources.customer.customer_id, sources.wrapped_dek));
  CUSTOS_ASSIGN_OR_RETURN(FieldValues opened, m.OpenCustomer(sources.customer, dek));
  CUSTOS_ASSIGN_OR_RETURN(Json doc, ReportJson(m, sources, opened, dek));
  SubjectReport report;
  report.json = doc.dump(2) + "\n";
  report.html = RenderReportHtml(doc.dump());
  return report;
}

}  // namespace custos::vault
