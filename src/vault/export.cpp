// Export of what the actor may see (CSV or JSONL), and the audit log's own read operations.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "audit/export.h"
#include "vault/authorize.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

constexpr size_t kExportPage = 500;

void WriteCsvCell(std::ostream& out, std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) {
    out << v;
    return;
  }
  out << '"';
  for (char c : v) {
    if (c == '"') out << '"';
    out << c;
  }
  out << '"';
}

}  // namespace

Result<int64_t> CustomerService::Export(const Context& ctx, ExportFormat format,
                                        std::ostream& out) {
  VaultState& m = *state_;
  const std::string action = "customer.export";
  std::vector<std::string> shown;
  for (const schema::FieldDef& def : m.config->fields) {
    if (def.type != schema::FieldType::kPassword) shown.push_back(def.name);
  }
  access::StaffFacts staff;
  {
    CUSTOS_ASSIGN_OR_RETURN(auto txn, m.BeginAuthorized(ctx, "export.start", "customers"));
    // The role first: one that may export none of the fields is refused before any row.
    const int64_t now = m.Now();
    CUSTOS_ASSIGN_OR_RETURN(staff, LoadStaffFacts(*txn, ctx.actor, "", now));
    const std::vector<FieldDecision> by_role = DecideFields(
        *m.config, staff, access::DataRequest{action, ctx.purpose, nullptr, now}, shown);
    if (AuditDecision(by_role) == "deny") {
      const FieldDecision* denied = FirstDenied(by_role);
      return m.DenyAndCommit(*txn, ctx, "export.start", "customers",
                             PermissionDenied(fmt::format("field '{}': {}", denied->field->name,
                                                          denied->decision.reason)),
                             shown);
    }
    // Columns the role may never see are left out of the file altogether.
    std::erase_if(shown, [&](const std::string& name) {
      return std::any_of(by_role.begin(), by_role.end(), [&](const FieldDecision& d) {
        return d.field->name == name && d.decision.effect == access::Effect::kDeny;
      });
    });
    CUSTOS_RETURN_IF_ERROR(m.AuditAndCommit(
        *txn, m.Event(ctx, "export.start", "customers", AuditDecision(by_role),
                      fmt::format("format {}; {}", format == ExportFormat::kCsv ? "csv" : "jsonl",
                                  AuditReason(by_role)),
                      AuditFields(by_role))));
  }
  if (format == ExportFormat::kCsv) {
    out << "customer_id,created_at_ms,source";
    for (const std::string& name : shown) out << ',' << name;
    out << '\n';
  }
  int64_t count = 0;
  std::string after;
  while (true) {
    CUSTOS_ASSIGN_OR_RETURN(auto txn, m.BeginAuthorized(ctx, action, "customers"));
    CUSTOS_ASSIGN_OR_RETURN(std::vector<store::CustomerRow> rows,
                            txn->ListCustomers(after, kExportPage));
    if (rows.empty()) break;
    std::vector<crypto::Bytes> wrapped(rows.size());
    std::vector<std::vector<FieldDecision>> decided(rows.size());
    const int64_t now = m.Now();
    for (size_t i = 0; i < rows.size(); ++i) {
      CUSTOS_ASSIGN_OR_RETURN(auto key, txn->GetWrappedKey(rows[i].customer_id));
      if (key.has_value()) wrapped[i] = std::move(key->wrapped_dek);
      // Each customer's consent decides whether (and which of) their fields leave (P3.3a).
      CUSTOS_ASSIGN_OR_RETURN(consent::ConsentState consent,
                              consent::Current(*txn, rows[i].customer_id));
      decided[i] = DecideFields(*m.config, staff,
                                access::DataRequest{action, ctx.purpose, &consent, now}, shown);
      CUSTOS_RETURN_IF_ERROR(m.audit->Append(
          *txn, m.Event(ctx, action, CustomerTarget(rows[i].customer_id), AuditDecision(decided[i]),
                        AuditReason(decided[i]), AuditFields(decided[i]))));
    }
    Status st = txn->Commit();
    if (!st.ok()) return Unavailable("audit log cannot be written: " + st.message());
    // Audited: now decrypt and write.
    for (size_t i = 0; i < rows.size(); ++i) {
      if (wrapped[i].empty()) continue;                   // destroyed customer: nothing to show
      if (AuditDecision(decided[i]) == "deny") continue;  // no consent for this purpose
      CUSTOS_ASSIGN_OR_RETURN(crypto::SecretBytes dek,
                              m.keyring->UnwrapDek(rows[i].customer_id, wrapped[i]));
      CUSTOS_ASSIGN_OR_RETURN(FieldValues all, m.OpenCustomer(rows[i], dek));
      for (const FieldDecision& d : decided[i]) {
        auto it = all.find(d.field->name);
        if (it == all.end()) continue;
        if (d.decision.effect == access::Effect::kDeny) {
          all.erase(it);
        } else {
          it->second = Shown(d.decision, std::move(it->second));
        }
      }
      if (format == ExportFormat::kCsv) {
        out << rows[i].customer_id << ',' << rows[i].created_at_ms << ',';
        WriteCsvCell(out, rows[i].source);
        for (const std::string& name : shown) {
          out << ',';
          auto it = all.find(name);
          if (it != all.end()) WriteCsvCell(out, it->second);
        }
        out << '\n';
      } else {
        nlohmann::json j;
        j["customer_id"] = rows[i].customer_id;
        j["created_at_ms"] = rows[i].created_at_ms;
        j["source"] = rows[i].source;
        nlohmann::json fields = nlohmann::json::object();
        for (const std::string& name : shown) {
          auto it = all.find(name);
          if (it != all.end()) fields[name] = it->second;
        }
        j["fields"] = std::move(fields);
        out << j.dump() << '\n';
      }
      ++count;
    }
    after = rows.back().customer_id;
    if (!out) return Unavailable("export output cannot be written");
  }
  return count;
}

Result<audit::VerifyReport> AuditService::Verify(const Context& ctx) {
  VaultState& m = *state_;
  // Permission first: a refused caller costs no sealing and no walk of the whole chain. The
  // check's transaction is dropped (nothing to write on success) so that sealing and
  // verifying can take the store; the entry below checks again as it records the result.
  { CUSTOS_ASSIGN_OR_RETURN(auto check, m.BeginAuthorized(ctx, "audit.verify", "audit")); }
  // Sealing the head first makes the head file current for this process's own entries.
  CUSTOS_RETURN_IF_ERROR(m.audit->SealHead(*m.store));
  CUSTOS_ASSIGN_OR_RETURN(audit::VerifyReport report, m.audit->Verify(*m.store));
  CUSTOS_ASSIGN_OR_RETURN(auto txn, m.BeginAuthorized(ctx, "audit.verify", "audit"));
  CUSTOS_RETURN_IF_ERROR(m.AuditAndCommit(
      *txn, m.Event(ctx, "audit.verify", "audit", "allow",
                    report.ok ? fmt::format("chain ok, {} entries", report.entries)
                              : fmt::format("chain broken at entry {}", report.first_bad_seq))));
  return report;
}

Status AuditService::Export(const Context& ctx, std::ostream& out_jsonl) {
  VaultState& m = *state_;
  CUSTOS_ASSIGN_OR_RETURN(auto txn, m.BeginAuthorized(ctx, "audit.export", "audit"));
  CUSTOS_RETURN_IF_ERROR(
      m.AuditAndCommit(*txn, m.Event(ctx, "audit.export", "audit", "allow", "")));
  return audit::ExportJsonl(*m.store, out_jsonl);
}

Status AuditService::Tail(const Context& ctx, size_t n, std::ostream& out_jsonl) {
  VaultState& m = *state_;
  CUSTOS_ASSIGN_OR_RETURN(auto txn, m.BeginAuthorized(ctx, "audit.tail", "audit"));
  CUSTOS_RETURN_IF_ERROR(m.AuditAndCommit(*txn, m.Event(ctx, "audit.tail", "audit", "allow", "")));
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::AuditRow> rows, audit::Tail(*m.store, n));
  for (const store::AuditRow& row : rows) out_jsonl << audit::EntryJson(row) << '\n';
  return Status::Ok();
}

}  // namespace custos::vault
