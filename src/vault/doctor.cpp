// DoctorService (doctor.h): admission, the checks (doctor_checks.cpp), and the recorded result.
#include "vault/doctor.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "vault/audit_journals.h"
#include "vault/doctor_checks.h"
#include "vault/vault_impl.h"

namespace custos::vault {

namespace {

nlohmann::json ToJson(const DoctorReport& r) {
  nlohmann::json findings = nlohmann::json::array();
  for (const DoctorFinding& f : r.findings) {
    findings.push_back({{"id", f.id},
                        {"severity", SeverityName(f.severity)},
                        {"message", f.message},
                        {"fix", f.fix}});
  }
  return {{"at_ms", r.at_ms}, {"audit_seq", r.audit_seq}, {"findings", findings}};
}

// "2 failures (access.totp, audit.verify), 1 warning (backup.age), 9 ok": the entry's reason.
std::string Summary(const DoctorReport& r) {
  std::vector<std::string> failures;
  std::vector<std::string> warnings;
  for (const DoctorFinding& f : r.findings) {
    if (f.severity == Severity::kFailure) failures.push_back(f.id);
    if (f.severity == Severity::kWarning) warnings.push_back(f.id);
  }
  return fmt::format("doctor at entry {}: {} failures ({}), {} warnings ({}), {} checks",
                     r.audit_seq, failures.size(), fmt::join(failures, " "), warnings.size(),
                     fmt::join(warnings, " "), r.findings.size());
}

Result<DoctorReport> RunDoctor(VaultState& m, const Context& ctx, const Operation& op) {
  DoctorFacts facts;
  auto admit = [&] {
    return Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
      CUSTOS_ASSIGN_OR_RETURN(facts, ReadDoctorFacts(m, s.txn, s.now_ms));
      return Verdict::Entries({});  // recorded with its result below
    });
  };
  // Admission first, so that a caller who is refused (any bearer string reaches this over
  // HTTP) costs no scan of the journals. A damaged audit journal fails every write of the log
  // (Unavailable): only then are the journals scanned before admission, and the run passes
  // over the damaged ones (on this thread only) so that it can record itself and report them.
  std::optional<audit::JournalSkip> skip;
  Status admitted = admit();
  if (admitted.code() == Code::kUnavailable || admitted.code() == Code::kDataLoss) {
    CUSTOS_ASSIGN_OR_RETURN(std::vector<audit::JournalCheck> before, ReadJournalChecks(m));
    std::vector<std::string> damaged = DamagedJournals(before);
    if (!damaged.empty()) {
      skip.emplace(std::move(damaged));
      admitted = admit();
    }
  }
  CUSTOS_RETURN_IF_ERROR(admitted);
  CUSTOS_ASSIGN_OR_RETURN(std::vector<audit::JournalCheck> journals, ReadJournalChecks(m));
  CUSTOS_ASSIGN_OR_RETURN(std::vector<std::string> quarantined, m.audit->QuarantinedJournals());
  DoctorReport report;
  report.at_ms = facts.now_ms;
  report.audit_seq = facts.audit_seq;
  std::vector<DoctorFinding>& out = report.findings;
  CheckFilePermissions(m, out);
  CheckKeys(m, facts, out);
  CheckTls(m, facts.now_ms, out);
  audit::VerifyOptions options;
  options.witnesses = BackupWitnesses(m);
  CUSTOS_ASSIGN_OR_RETURN(audit::VerifyReport verify, m.audit->Verify(*m.store, options));
  CheckAudit(verify, m, facts, out);
  CheckAuditJournals(!m.audit->options().journal_dir.empty(), journals, quarantined, out);
  CheckBackups(m, facts, out);
  CheckStaff(m, facts, out);
  CheckRetention(m, out);
  CheckListen(m, out);
  // The result and its entry commit together: a result kept is a result audited.
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<store::Transaction> txn, m.store->Begin());
  const std::string text = ToJson(report).dump();
  CUSTOS_RETURN_IF_ERROR(txn->PutMeta(
      kDoctorLastKey, store::ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size())));
  Status recorded = CommitOutcome(m, *txn, ctx, op, Verdict::Allow(Summary(report)));
  // A tampered log may refuse the entry: the report, which names the tampering, is the
  // answer then (as AuditService::Verify); it holds no customer data.
  if (!recorded.ok() && !verify.ok) return report;
  CUSTOS_RETURN_IF_ERROR(recorded);
  return report;
}

}  // namespace

namespace {

Severity ParseSeverity(std::string_view s) {
  if (s == "failure") return Severity::kFailure;
  if (s == "warning") return Severity::kWarning;
  if (s == "info") return Severity::kInfo;
  return Severity::kOk;
}

}  // namespace

Result<DoctorReport> ParseDoctorResult(const store::Bytes& bytes) {
  const nlohmann::json j =
      nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("findings") || !j["findings"].is_array()) {
    return DataLoss("doctor.last: the stored result is not well-formed");
  }
  DoctorReport r;
  r.at_ms = j.value("at_ms", int64_t{0});
  r.audit_seq = j.value("audit_seq", int64_t{0});
  for (const nlohmann::json& f : j["findings"]) {
    if (!f.is_object()) return DataLoss("doctor.last: the stored result is not well-formed");
    r.findings.push_back({f.value("id", ""), ParseSeverity(f.value("severity", "")),
                          f.value("message", ""), f.value("fix", "")});
  }
  return r;
}

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kOk:
      return "ok";
    case Severity::kInfo:
      return "info";
    case Severity::kWarning:
      return "warning";
    case Severity::kFailure:
      return "failure";
  }
  return "ok";
}

Severity DoctorReport::Worst() const {
  Severity worst = Severity::kOk;
  for (const DoctorFinding& f : findings) worst = std::max(worst, f.severity);
  return worst;
}

int64_t DoctorReport::Count(Severity s) const {
  return std::count_if(findings.begin(), findings.end(),
                       [s](const DoctorFinding& f) { return f.severity == s; });
}

Result<DoctorReport> DoctorService::Run(const Context& ctx) {
  return RunDoctor(*state_, ctx,
                   Operation{schema::Action::kDoctorRun, "doctor", Basis::kAdministration});
}

Result<DoctorReport> DoctorService::RunScheduled() {
  VaultState& m = *state_;
  if (m.closed) return FailedPrecondition("vault is closed");
  const Context ctx = SystemJobContext();
  return RunDoctor(m, ctx, Operation{schema::Action::kDoctorRun, "doctor", Basis::kSystem});
}

Result<int64_t> DoctorService::ScheduledDelayMs(int64_t every_ms) {
  VaultState& m = *state_;
  if (m.closed) return FailedPrecondition("vault is closed");
  const Context ctx = SystemJobContext();
  std::optional<store::Bytes> stored;
  int64_t now_ms = 0;
  // Write: the admission core admits the system basis (no staff account) as a writer; one
  // query at each start of `custos serve`.
  CUSTOS_RETURN_IF_ERROR(
      Write(m, ctx, Operation{schema::Action::kDoctorRead, "doctor", Basis::kSystem},
            [&](Scope& s) -> Result<Verdict> {
              CUSTOS_ASSIGN_OR_RETURN(stored, s.txn.GetMeta(kDoctorLastKey));
              now_ms = s.now_ms;
              return Verdict::Allow(stored.has_value() ? "last doctor result: when it ran"
                                                       : "no doctor result yet");
            }));
  if (!stored.has_value()) return int64_t{0};
  CUSTOS_ASSIGN_OR_RETURN(DoctorReport last, ParseDoctorResult(*stored));
  return DueInMs(last.at_ms, every_ms, now_ms);
}

Result<DoctorReport> DoctorService::Last(const Context& ctx) {
  VaultState& m = *state_;
  std::optional<store::Bytes> stored;
  CUSTOS_RETURN_IF_ERROR(
      Read(m, ctx, Operation{schema::Action::kDoctorRead, "doctor", Basis::kAdministration},
           [&](Scope& s) -> Result<Verdict> {
             CUSTOS_ASSIGN_OR_RETURN(stored, s.txn.GetMeta(kDoctorLastKey));
             if (!stored.has_value()) {
               return Verdict::Deny(NotFound("doctor: no result yet (run custos doctor)"));
             }
             return Verdict::Allow("last doctor result");
           }));
  if (!stored.has_value()) return NotFound("doctor: no result yet (run custos doctor)");
  return ParseDoctorResult(*stored);
}

}  // namespace custos::vault
