// Export of what the actor may see (CSV or JSONL), and the audit log's own read operations.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "access/approval.h"
#include "audit/export.h"
#include "audit/head_file.h"
#include "vault/admission.h"
#include "vault/authorize.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

constexpr size_t kExportPage = 500;

using schema::Action;

// True if a spreadsheet would read `v` as a formula: it begins with = + - @, a tab or a
// carriage return, or with the full-width ＝ ＋ － ＠ (U+FF1D, U+FF0B, U+FF0D, U+FF20).
bool FormulaLeading(std::string_view v) {
  if (v.empty()) return false;
  if (std::string_view("=+-@\t\r").find(v.front()) != std::string_view::npos) return true;
  for (std::string_view wide : {"\xEF\xBC\x9D", "\xEF\xBC\x8B", "\xEF\xBC\x8D", "\xEF\xBC\xA0"}) {
    if (v.starts_with(wide)) return true;
  }
  return false;
}

// One RFC 4180 cell; with `neutralise`, a formula-leading value gets a leading ' (and quotes).
void WriteCsvCell(std::ostream& out, std::string_view v, bool neutralise) {
  const bool formula = neutralise && FormulaLeading(v);
  if (!formula && v.find_first_of(",\"\r\n") == std::string_view::npos) {
    out << v;
    return;
  }
  out << '"';
  if (formula) out << '\'';
  for (char c : v) {
    if (c == '"') out << '"';
    out << c;
  }
  out << '"';
}

std::string_view FormatName(ExportFormat format) {
  switch (format) {
    case ExportFormat::kCsv:
      return "csv";
    case ExportFormat::kCsvRaw:
      return "csv-raw";
    case ExportFormat::kJsonl:
      return "jsonl";
  }
  return "jsonl";
}

// The columns an export may show: every field that is not a password.
std::vector<std::string> ExportableFields(const schema::Config& config) {
  std::vector<std::string> shown;
  for (const schema::FieldDef& def : config.fields) {
    if (def.type != schema::FieldType::kPassword) shown.push_back(def.name);
  }
  return shown;
}

// "export.start": the role first, so that one that may export none of the fields is refused
// before any row. Leaves in `shown` the columns the role may see (the others are left out of
// the file altogether) and in `staff` the actor's facts for the pages.
Status StartExport(VaultState& m, const Context& ctx, ExportFormat format,
                   std::vector<std::string>& shown, access::StaffFacts& staff) {
  const Operation op{Action::kExportStart, "customers"};
  return Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(staff, s.Facts(""));
    const std::vector<FieldDecision> by_role = DecideFields(
        *m.config, staff, access::DataRequest{"customer.export", s.ctx.purpose, nullptr, s.now_ms},
        shown);
    if (AuditDecision(by_role) == "deny") {
      const FieldDecision* denied = FirstDenied(by_role);
      return Verdict::Deny(PermissionDenied(fmt::format("field '{}': {}", denied->field->name,
                                                        denied->decision.reason)),
                           shown);
    }
    std::erase_if(shown, [&](const std::string& name) {
      return std::any_of(by_role.begin(), by_role.end(), [&](const FieldDecision& d) {
        return d.field->name == name && d.decision.effect == access::Effect::kDeny;
      });
    });
    Verdict v =
        Verdict::Allow(fmt::format("format {}; {}", FormatName(format), AuditReason(by_role)),
                       AuditFields(by_role));
    v.decision = AuditDecision(by_role);
    return v;
  });
}

// One page of customers, decided (each customer's consent decides whether, and which of, their
// fields leave: P3.3a) and recorded, one "customer.export" entry per customer, before anything
// is decrypted.
struct ExportPage {
  std::vector<store::CustomerRow> rows;
  std::vector<crypto::Bytes> wrapped;
  std::vector<std::vector<FieldDecision>> decided;
};

Status DecidePage(VaultState& m, const Context& ctx, const access::StaffFacts& staff,
                  const std::vector<std::string>& shown, const std::string& after,
                  ExportPage& page) {
  const Operation op{Action::kCustomerExport, "customers"};
  return Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(page.rows, s.txn.ListCustomers(after, kExportPage));
    const size_t n = page.rows.size();
    page.wrapped.assign(n, crypto::Bytes{});
    page.decided.assign(n, {});
    AuditEvents entries;
    for (size_t i = 0; i < n; ++i) {
      const std::string& id = page.rows[i].customer_id;
      CUSTOS_ASSIGN_OR_RETURN(auto key, s.txn.GetWrappedKey(id));
      if (key.has_value()) page.wrapped[i] = std::move(key->wrapped_dek);
      CUSTOS_ASSIGN_OR_RETURN(consent::ConsentState consent, consent::Current(s.txn, id));
      page.decided[i] = DecideFields(
          *m.config, staff,
          access::DataRequest{"customer.export", s.ctx.purpose, &consent, s.now_ms}, shown);
      entries.push_back(s.Event(Action::kCustomerExport, CustomerTarget(id),
                                AuditDecision(page.decided[i]), AuditReason(page.decided[i]),
                                AuditFields(page.decided[i])));
    }
    return Verdict::Entries(std::move(entries));
  });
}

// Writes one customer of a recorded page as a CSV line or a JSON object.
Status WriteCustomer(VaultState& m, const store::CustomerRow& row, const crypto::Bytes& wrapped,
                     const std::vector<FieldDecision>& decided,
                     const std::vector<std::string>& shown, ExportFormat format,
                     std::ostream& out) {
  CUSTOS_ASSIGN_OR_RETURN(crypto::SecretBytes dek, m.UnwrapDek(row.customer_id, wrapped));
  CUSTOS_ASSIGN_OR_RETURN(FieldValues all, m.OpenCustomer(row, dek));
  for (const FieldDecision& d : decided) {
    auto it = all.find(d.field->name);
    if (it == all.end()) continue;
    if (d.decision.effect == access::Effect::kDeny) {
      all.erase(it);
    } else {
      it->second = Shown(d.decision, std::move(it->second));
    }
  }
  if (format != ExportFormat::kJsonl) {
    const bool neutralise = format == ExportFormat::kCsv;
    out << row.customer_id << ',' << row.created_at_ms << ',';
    WriteCsvCell(out, row.source, neutralise);
    for (const std::string& name : shown) {
      out << ',';
      auto it = all.find(name);
      if (it != all.end()) WriteCsvCell(out, it->second, neutralise);
    }
    out << '\n';
    return Status::Ok();
  }
  nlohmann::json j;
  j["customer_id"] = row.customer_id;
  j["created_at_ms"] = row.created_at_ms;
  j["source"] = row.source;
  nlohmann::json fields = nlohmann::json::object();
  for (const std::string& name : shown) {
    auto it = all.find(name);
    if (it != all.end()) fields[name] = it->second;
  }
  j["fields"] = std::move(fields);
  out << j.dump() << '\n';
  return Status::Ok();
}

}  // namespace

Result<int64_t> CustomerService::Export(const Context& ctx, ExportFormat format, std::ostream& out,
                                        const ProgressFn& progress) {
  VaultState& m = *state_;
  std::vector<std::string> shown = ExportableFields(*m.config);
  access::StaffFacts staff;
  CUSTOS_RETURN_IF_ERROR(StartExport(m, ctx, format, shown, staff));
  if (format != ExportFormat::kJsonl) {
    out << "customer_id,created_at_ms,source";
    for (const std::string& name : shown) out << ',' << name;
    out << '\n';
  }
  int64_t count = 0;
  int64_t total = 0;
  int64_t seen = 0;
  if (progress) {
    // Admitted above: the count is no customer's data, only the progress line's total.
    CUSTOS_ASSIGN_OR_RETURN(auto txn, m.store->Begin());
    CUSTOS_ASSIGN_OR_RETURN(total, txn->CountCustomers());
    progress(0, total);
  }
  std::string after;
  while (true) {
    ExportPage page;
    CUSTOS_RETURN_IF_ERROR(DecidePage(m, ctx, staff, shown, after, page));
    if (page.rows.empty()) break;
    seen += static_cast<int64_t>(page.rows.size());
    // Recorded: now decrypt and write.
    for (size_t i = 0; i < page.rows.size(); ++i) {
      if (page.wrapped[i].empty()) continue;  // destroyed customer: nothing to show
      if (AuditDecision(page.decided[i]) == "deny") continue;  // no consent for this purpose
      CUSTOS_RETURN_IF_ERROR(
          WriteCustomer(m, page.rows[i], page.wrapped[i], page.decided[i], shown, format, out));
      ++count;
    }
    after = page.rows.back().customer_id;
    if (!out) return Unavailable("export output cannot be written");
    if (progress) progress(seen, std::max(seen, total));
  }
  return count;
}

Result<audit::VerifyReport> AuditService::Verify(const Context& ctx) {
  VaultState& m = *state_;
  const Operation op{Action::kAuditVerify, "audit"};
  // Permission first: a refused caller costs no walk of the whole chain. The check records
  // nothing when admitted (its transaction commits empty); the entry below admits again as it
  // records the result.
  CUSTOS_RETURN_IF_ERROR(
      Write(m, ctx, op, [](Scope&) -> Result<Verdict> { return Verdict::Entries({}); }));
  // Read-only: verify never seals (a seal would sign whatever the database holds). It checks
  // the log against the head file, the signed tip, the witness file and every backup manifest.
  audit::VerifyOptions options;
  options.witnesses = BackupWitnesses(m);
  CUSTOS_ASSIGN_OR_RETURN(audit::VerifyReport report, m.audit->Verify(*m.store, options));
  Status recorded = Write(m, ctx, op, [&](Scope&) -> Result<Verdict> {
    return Verdict::Allow(report.ok
                              ? fmt::format("chain ok, {} entries", report.entries)
                              : fmt::format("chain broken at entry {}", report.first_bad_seq));
  });
  // A tampered log may refuse the entry (its signed tip no longer signs its last entry): the
  // report, which names the tampering, is the answer then; it releases no customer data.
  if (!recorded.ok() && report.ok) return recorded;
  return report;
}

Result<int64_t> AuditService::Reseal(const Context& ctx) {
  VaultState& m = *state_;
  const Operation op{Action::kAuditReseal, "audit", Basis::kAdministration};
  audit::VerifyOptions options;
  options.require_head = false;
  options.use_head_file = false;
  options.witnesses = BackupWitnesses(m);
  CUSTOS_ASSIGN_OR_RETURN(audit::VerifyReport report, m.audit->Verify(*m.store, options));
  if (!report.ok) {
    const Status refused = FailedPrecondition(fmt::format(
        "audit reseal: the log does not verify even without the head file: {} (a reseal "
        "replaces a lost head; it does not sign over tampering)",
        report.problem));
    RecordRefusal(m, ctx, op, refused).IgnoreError();
    return refused;
  }
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(auto rows,
                            s.txn.ListApprovals(s.actor().staff_id, access::kStateApproved));
    for (store::ApprovalRow& row : rows) {
      if (row.kind != access::kKindAuditReseal) continue;
      if (access::EffectiveState(row, s.now_ms) != access::kStateApproved) continue;
      row.state = std::string(access::kStateUsed);
      CUSTOS_RETURN_IF_ERROR(s.txn.UpdateApproval(row));
      return Verdict::Allow(fmt::format(
          "head file re-signed at the log's end ({} entries verified without it); approval {} "
          "approved by {}",
          report.entries, row.approval_id, row.approver));
    }
    return Verdict::Deny(FailedPrecondition(
        "dual control: re-signing the audit head needs an approved audit_reseal request of "
        "yours (custos approval request --kind audit_reseal), decided by a second approver"));
  }));
  CUSTOS_RETURN_IF_ERROR(m.audit->Reseal(*m.store));
  CUSTOS_ASSIGN_OR_RETURN(std::optional<audit::SignedHead> head,
                          audit::ReadHeadFile(m.audit->options().head_file));
  return head.has_value() ? head->seq : 0;
}

Status AuditService::Export(const Context& ctx, std::ostream& out_jsonl) {
  VaultState& m = *state_;
  CUSTOS_RETURN_IF_ERROR(
      AdmitAndRecord(m, ctx, Operation{Action::kAuditExport, "audit"}, "").status());
  return audit::ExportJsonl(*m.store, out_jsonl);
}

Status AuditService::Tail(const Context& ctx, size_t n, std::ostream& out_jsonl) {
  VaultState& m = *state_;
  CUSTOS_RETURN_IF_ERROR(
      AdmitAndRecord(m, ctx, Operation{Action::kAuditTail, "audit"}, "").status());
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::AuditRow> rows, audit::Tail(*m.store, n));
  for (const store::AuditRow& row : rows) out_jsonl << audit::EntryJson(row) << '\n';
  return Status::Ok();
}

}  // namespace custos::vault
