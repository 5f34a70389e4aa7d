// AuditService's view of the read journal's files: listing them, and quarantining a damaged
// one (docs/audit.md, "A damaged journal"; docs/decisions.md, "Quarantining a damaged audit
// journal").
#include "vault/audit_journals.h"

#include <fmt/format.h>

#include "ops/rules.h"
#include "vault/admission.h"
#include "vault/audit_service.h"
#include "vault/vault_impl.h"

namespace custos::vault {

using schema::Action;

Result<std::vector<audit::JournalCheck>> ReadJournalChecks(VaultState& m) {
  if (m.audit->options().journal_dir.empty()) return std::vector<audit::JournalCheck>();
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<store::Transaction> txn, m.store->BeginRead());
  return m.audit->CheckJournals(*txn);
}

std::vector<std::string> DamagedJournals(const std::vector<audit::JournalCheck>& checks) {
  std::vector<std::string> ids;
  for (const audit::JournalCheck& c : checks) {
    if (!c.damage.ok() && !c.quarantined) ids.push_back(c.id);
  }
  return ids;
}

Result<std::unique_ptr<audit::JournalSkip>> AuditService::PassOverDamagedJournals() {
  VaultState& m = *state_;
  if (m.closed) return FailedPrecondition("vault is closed");
  CUSTOS_ASSIGN_OR_RETURN(std::vector<audit::JournalCheck> checks, ReadJournalChecks(m));
  return std::make_unique<audit::JournalSkip>(DamagedJournals(checks));
}

Result<JournalsReport> AuditService::Journals(const Context& ctx) {
  VaultState& m = *state_;
  if (m.closed) return FailedPrecondition("vault is closed");
  JournalsReport report;
  CUSTOS_ASSIGN_OR_RETURN(report.journals, ReadJournalChecks(m));
  CUSTOS_ASSIGN_OR_RETURN(report.quarantined, m.audit->QuarantinedJournals());
  const std::vector<std::string> damaged = DamagedJournals(report.journals);
  const audit::JournalSkip skip(damaged);
  uint64_t waiting = 0;
  for (const audit::JournalCheck& c : report.journals) waiting += c.waiting;
  const Operation op{Action::kAuditJournals, "audit", Basis::kAdministration};
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope&) -> Result<Verdict> {
    return Verdict::Allow(
        fmt::format("{} journal(s), {} record(s) waiting; damaged: {}; {} in quarantine",
                    report.journals.size(), waiting,
                    damaged.empty() ? "none" : fmt::format("{}", fmt::join(damaged, " ")),
                    report.quarantined.size()));
  }));
  return report;
}

Result<audit::QuarantineReport> AuditService::QuarantineJournal(const Context& ctx,
                                                                std::string_view id) {
  VaultState& m = *state_;
  if (m.closed) return FailedPrecondition("vault is closed");
  // The target names the journal only when it is a journal id: nothing else enters the log.
  const Operation op{
      Action::kAuditJournalQuarantine,
      audit::IsJournalId(id) ? fmt::format("journal:{}", id) : std::string("journal:(invalid id)"),
      Basis::kAdministration};
  // The admission's write passes over every damaged journal, this one included (its records
  // are taken by QuarantineJournalInto alone), and over nothing else.
  CUSTOS_ASSIGN_OR_RETURN(std::vector<audit::JournalCheck> checks, ReadJournalChecks(m));
  std::vector<std::string> skipped = DamagedJournals(checks);
  skipped.emplace_back(id);
  const audit::JournalSkip skip(std::move(skipped));
  audit::QuarantineReport report;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    Result<audit::QuarantineReport> done = m.audit->QuarantineJournalInto(s.txn, id);
    if (!done.ok()) {
      const Code code = done.status().code();
      if (code == Code::kInvalidArgument || code == Code::kNotFound ||
          code == Code::kFailedPrecondition) {
        return Verdict::Deny(done.status());
      }
      return done.status();
    }
    report = *std::move(done);
    if (report.already) {
      return Verdict::Allow(std::string(ops::kQuarantinedBefore) +
                            " (an earlier run's entry); its file is moved into quarantine/ if it "
                            "is still in place");
    }
    return Verdict::Allow(fmt::format(
        "{}; {} authentic record(s) {} folded into the log; {} byte(s) from record {} on "
        "set aside in {}/{}{} ({})",
        report.damage, report.folded,
        report.position_refused ? "from the journal's start (its stored position was refused: "
                                  "those folded before are in the log twice)"
                                : "before it",
        report.set_aside, report.damaged_record, audit::kQuarantineDir, id, audit::kJournalSuffix,
        report.file_sha256.empty() ? std::string("not readable: no SHA-256")
                                   : "SHA-256 " + report.file_sha256));
  }));
  CUSTOS_RETURN_IF_ERROR(m.audit->MoveQuarantined(id));
  return report;
}

}  // namespace custos::vault
