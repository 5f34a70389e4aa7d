// The checks of `custos doctor` (doctor_checks.h; docs/dpo.md "The doctor").
#include "vault/doctor_checks.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "access/policy.h"
#include "access/training.h"
#include "audit/head_file.h"
#include "crypto/x509.h"
#include "vault/authorize.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace fs = std::filesystem;

namespace {

fs::path InVault(const VaultState& m, const std::string& configured) {
  const fs::path p(configured);
  return p.is_absolute() ? p : m.dir / p;
}

DoctorFinding Ok(std::string id, std::string message) {
  return DoctorFinding{std::move(id), Severity::kOk, std::move(message), ""};
}

std::string Joined(const std::vector<std::string>& items, size_t max = 10) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < max; ++i) {
    if (i > 0) out += ", ";
    out += items[i];
  }
  if (items.size() > max) out += fmt::format(" and {} more", items.size() - max);
  return out;
}

// The permission bits of `p` (-1: absent or unreadable).
int ModeBits(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 0777);
}

// How open a file may be: key material and the database, nothing for group or others; the
// head file is public (a signed head, like vault.pub), but nobody else may write it.
enum class Exposure { kSecret, kPrivate, kPublicReadable };

// The staff members whose roles (the post's and their own) are `wanted` of the config.
bool Active(const store::StaffRow& s) { return s.status == "active"; }

// The courses the roles of `facts` require for any grant (requires_training).
std::set<std::string> RequiredCourses(const schema::Config& config,
                                      const std::vector<std::string>& roles) {
  std::set<std::string> courses;
  for (const std::string& name : roles) {
    const schema::RoleDef* role = config.FindRole(name);
    if (role == nullptr) continue;
    for (const schema::GrantDef& g : role->grants) {
      if (!g.requires_training.empty()) courses.insert(g.requires_training);
    }
  }
  return courses;
}

bool HoldsDataRole(const schema::Config& config, const std::vector<std::string>& roles) {
  return std::any_of(roles.begin(), roles.end(), [&](const std::string& name) {
    const schema::RoleDef* role = config.FindRole(name);
    return role != nullptr && schema::HandlesCustomerData(*role);
  });
}

std::string DaysText(int64_t ms) { return fmt::format("{} days", ms / kDoctorDayMs); }

// The newest "backup.verify" entries since the newest backup was taken: verified when the
// last entry of some target is allowed (a failed verification ends with a deny entry).
Status ReadBackupVerification(store::Transaction& txn, DoctorFacts& f) {
  if (!f.gauges.has_backup) return Status::Ok();
  store::AuditFilter filter;
  filter.action = "backup.verify";
  filter.from_ms = f.now_ms - (f.gauges.backup_age_seconds + 1) * 1000;
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::AuditRow> rows, txn.QueryAudit(filter, 1000));
  std::map<std::string, const store::AuditRow*> last;
  for (const store::AuditRow& row : rows) last[row.target] = &row;
  for (const auto& [target, row] : last) {
    if (row->decision != "allow") continue;
    f.backup_verified = true;
    f.backup_verify_seq = std::max(f.backup_verify_seq, row->seq);
  }
  return Status::Ok();
}

}  // namespace

Result<DoctorFacts> ReadDoctorFacts(const VaultState& m, store::Transaction& txn, int64_t now_ms) {
  DoctorFacts f;
  f.now_ms = now_ms;
  CUSTOS_ASSIGN_OR_RETURN(std::optional<store::AuditRow> head, txn.GetAuditHead());
  f.audit_seq = head.has_value() ? head->seq : 0;
  CUSTOS_ASSIGN_OR_RETURN(f.staff, txn.ListStaff());
  for (const store::StaffRow& s : f.staff) {
    CUSTOS_ASSIGN_OR_RETURN(std::optional<store::StaffCredentialRow> cred,
                            txn.GetStaffCredential(s.staff_id));
    f.has_totp[s.staff_id] = cred.has_value() && !cred->totp_sealed.empty();
    f.has_password[s.staff_id] = cred.has_value() && !cred->password_hash.empty();
    store::AuditFilter recent;
    recent.actor = s.staff_id;
    recent.from_ms = now_ms - kDormantAfterMs;
    CUSTOS_ASSIGN_OR_RETURN(std::vector<store::AuditRow> rows, txn.QueryAudit(recent, 1));
    f.active_recently[s.staff_id] = !rows.empty();
  }
  CUSTOS_ASSIGN_OR_RETURN(f.tokens, txn.ListApiTokens(""));
  CUSTOS_ASSIGN_OR_RETURN(f.training, txn.ListTraining(""));
  f.gauges.now_ms = now_ms;
  CUSTOS_RETURN_IF_ERROR(ReadKeyAges(m, txn, f.gauges));
  ReadBackupAge(m, f.gauges);
  CUSTOS_RETURN_IF_ERROR(ReadBackupVerification(txn, f));
  return f;
}

void CheckFilePermissions(const VaultState& m, std::vector<DoctorFinding>& out) {
  const schema::Config& c = *m.config;
  std::vector<std::pair<fs::path, Exposure>> files = {
      {m.dir, Exposure::kPrivate},
      {m.dir / "epoch-keys", Exposure::kSecret},
      {InVault(m, c.server.key), Exposure::kSecret},
      {InVault(m, c.audit.head_file), Exposure::kPublicReadable}};
  if (c.keys.provider == "keyfile") {
    files.emplace_back(InVault(m, c.keys.keyfile), Exposure::kSecret);
  }
  if (c.store.backend == "sqlite") {
    files.emplace_back(InVault(m, c.store.path), Exposure::kPrivate);
    files.emplace_back(fs::path(InVault(m, c.store.path).string() + "-wal"), Exposure::kPrivate);
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(m.dir / "epoch-keys", ec)) {
    files.emplace_back(entry.path(), Exposure::kSecret);
  }
  std::vector<std::string> secrets_open;
  std::vector<std::string> others_open;
  for (const auto& [path, exposure] : files) {
    const int mode = ModeBits(path);
    if (mode < 0) continue;  // absent
    const int forbidden = exposure == Exposure::kPublicReadable ? 022 : 077;
    if ((mode & forbidden) == 0) continue;
    (exposure == Exposure::kSecret ? secrets_open : others_open)
        .push_back(fmt::format("{} (mode {:03o})", path.string(), mode));
  }
  if (!secrets_open.empty()) {
    out.push_back({"files.permissions", Severity::kFailure,
                   "key material readable beyond its owner: " + Joined(secrets_open),
                   "chmod 600 each key file and 700 the epoch-keys directory; then rotate the "
                   "keys that may have been read (custos key rotate, docs/keys.md)"});
  } else if (!others_open.empty()) {
    out.push_back({"files.permissions", Severity::kWarning,
                   "vault files open to the group or others: " + Joined(others_open),
                   "chmod 700 the vault directory and 600 its files (custos init makes them so)"});
  } else {
    out.push_back(
        Ok("files.permissions",
           fmt::format("{} vault files and directories closed to group and others (the head file: "
                       "readable, not writable)",
                       files.size())));
  }
}

void CheckKeys(const VaultState& m, const DoctorFacts& f, std::vector<DoctorFinding>& out) {
  const schema::Config& c = *m.config;
  if (c.keys.provider == "keyfile") {
    out.push_back({"keys.provider", Severity::kInfo,
                   "the KEK is a key file on the vault's own disk (provider keyfile)",
                   "for production keep the KEK in an HSM (provider pkcs11, docs/keys.md)"});
  } else {
    out.push_back(
        Ok("keys.provider", fmt::format("the KEK is held by the {} provider", c.keys.provider)));
  }
  const ServiceGauges& g = f.gauges;
  const std::vector<ServiceAlert> alerts = EvaluateAlerts(g, c.backup);
  auto firing = [&](std::string_view name) {
    return std::any_of(alerts.begin(), alerts.end(),
                       [&](const ServiceAlert& a) { return a.name == name && a.firing; });
  };
  const std::string kek =
      fmt::format("KEK version {} is {} old", g.kek_version, DaysText(g.kek_age_seconds * 1000));
  if (firing("kek_rotation_due")) {
    out.push_back(
        {"keys.kek_age", Severity::kWarning,
         kek + fmt::format(" (rotation due after {})", DaysText(kKekMaxAgeSeconds * 1000)),
         "custos key rotate (docs/keys.md)"});
  } else {
    out.push_back(Ok("keys.kek_age", kek));
  }
  if (firing("key_epoch_destruction_overdue")) {
    out.push_back({"keys.epochs", Severity::kFailure,
                   "an epoch key is past its destruction date: the completion dates of "
                   "destruction certificates are at risk",
                   "run custos key epoch rotate, or custos serve which rotates on schedule"});
  } else if (firing("key_epoch_rotation_overdue")) {
    out.push_back({"keys.epochs", Severity::kWarning,
                   "the current epoch key is older than [backup] key_epoch_length",
                   "run custos key epoch rotate, or custos serve which rotates on schedule"});
  } else {
    out.push_back(
        Ok("keys.epochs", fmt::format("{} live epoch keys on schedule", g.epochs.size())));
  }
}

TlsState ReadTlsState(const VaultState& m) {
  const schema::ServerConfig& s = m.config->server;
  TlsState t;
  t.cert_path = InVault(m, s.cert).string();
  t.key_path = InVault(m, s.key).string();
  std::error_code ec;
  t.key_present = fs::is_regular_file(t.key_path, ec);
  Result<crypto::CertificateDates> dates = crypto::ReadCertificateDates(t.cert_path);
  if (dates.ok()) {
    t.cert_readable = true;
    t.not_after_ms = dates->not_after_ms;
  } else {
    t.problem = dates.status().message();
  }
  return t;
}

void CheckTls(const VaultState& m, int64_t now_ms, std::vector<DoctorFinding>& out) {
  const TlsState t = ReadTlsState(m);
  if (!t.key_present) {
    out.push_back({"tls.certificate", Severity::kFailure,
                   fmt::format("the TLS key {} is missing", t.key_path),
                   "install the key and certificate named by [server] key and cert"});
  } else if (!t.cert_readable) {
    out.push_back({"tls.certificate", Severity::kFailure, t.problem,
                   "install the certificate named by [server] cert (PEM)"});
  } else if (t.not_after_ms <= now_ms) {
    out.push_back({"tls.certificate", Severity::kFailure,
                   fmt::format("the TLS certificate {} expired on {}", t.cert_path,
                               access::UtcDate(t.not_after_ms)),
                   "install a new certificate and send custos serve SIGHUP"});
  } else if (t.not_after_ms - now_ms < kCertWarnMs) {
    out.push_back({"tls.certificate", Severity::kWarning,
                   fmt::format("the TLS certificate {} expires on {}", t.cert_path,
                               access::UtcDate(t.not_after_ms)),
                   "renew it now; custos serve reloads it on SIGHUP"});
  } else {
    out.push_back(Ok("tls.certificate", fmt::format("the TLS certificate is valid until {}",
                                                    access::UtcDate(t.not_after_ms))));
  }
}

WitnessState ReadWitnessState(const VaultState& m, const DoctorFacts& f) {
  // Freshness: the newest head written outside the database (the head file, or a backup
  // manifest) should not lag the log by more than kWitnessStaleMs.
  WitnessState w;
  Result<std::optional<audit::SignedHead>> head = audit::ReadHeadFile(m.audit->options().head_file);
  if (head.ok() && head->has_value()) {
    w.newest_ms = (*head)->ts_ms;
    w.newest_seq = (*head)->seq;
  }
  if (f.gauges.has_backup) {
    w.newest_ms = std::max(w.newest_ms, f.now_ms - f.gauges.backup_age_seconds * 1000);
  }
  w.external = !m.config->audit.witness_file.empty();
  w.stale = w.newest_seq < f.audit_seq && f.now_ms - w.newest_ms > kWitnessStaleMs;
  return w;
}

void CheckAudit(const audit::VerifyReport& verify, const VaultState& m, const DoctorFacts& f,
                std::vector<DoctorFinding>& out) {
  if (!verify.ok) {
    out.push_back({"audit.verify", Severity::kFailure,
                   fmt::format("the audit log does not verify: {}", verify.problem),
                   "stop and investigate (docs/audit.md, \"When verify fails\"); keep copies of "
                   "the database, the head file and the witnesses"});
  } else {
    out.push_back(Ok("audit.verify", fmt::format("the audit log verifies: {} entries against {}",
                                                 verify.entries, Joined(verify.witnesses_used))));
  }
  const WitnessState w = ReadWitnessState(m, f);
  if (w.stale) {
    out.push_back({"audit.witness", Severity::kWarning,
                   fmt::format("the newest witnessed head is {} old ({} entries since the head "
                               "file's)",
                               DaysText(f.now_ms - w.newest_ms), f.audit_seq - w.newest_seq),
                   "take a backup (each manifest is a witness) or restart custos serve, which "
                   "seals the head at exit"});
  } else if (!w.external) {
    out.push_back({"audit.witness", Severity::kWarning,
                   "no external witness: [audit] witness_file is empty",
                   "set [audit] witness_file to an append-only file on another mount "
                   "(docs/audit.md)"});
  } else {
    out.push_back(Ok("audit.witness", "the head file and the external witness are current"));
  }
}

void CheckAuditJournals(bool journalled, const std::vector<audit::JournalCheck>& journals,
                        const std::vector<std::string>& quarantined,
                        std::vector<DoctorFinding>& out) {
  if (!journalled) {
    out.push_back(Ok("audit.journals",
                     "no read journal on this backend: every entry is committed in the database"));
    return;
  }
  std::vector<std::string> damaged;  // "<id> (held by a running process): <damage>"
  std::vector<std::string> unmoved;
  uint64_t waiting = 0;
  for (const audit::JournalCheck& c : journals) {
    waiting += c.waiting;
    if (c.quarantined) {
      unmoved.push_back(c.id);
    } else if (!c.damage.ok()) {
      damaged.push_back(
          fmt::format("{}{}", c.damage.message(), c.held ? " (held by a running process)" : ""));
    }
  }
  if (!damaged.empty()) {
    out.push_back({"audit.journals", Severity::kFailure,
                   fmt::format("{} damaged audit journal(s): {}; every write of the audit log "
                               "fails until each is quarantined",
                               damaged.size(), fmt::join(damaged, "; ")),
                   "keep a copy of the vault's audit-journal/ directory, stop the process that "
                   "holds a journal if any, then custos audit quarantine-journal ID, and open an "
                   "incident (docs/audit.md, \"A damaged journal\")"});
  } else if (!unmoved.empty()) {
    out.push_back({"audit.journals", Severity::kWarning,
                   fmt::format("quarantined audit journal(s) not yet moved into quarantine/: {}",
                               fmt::join(unmoved, " ")),
                   "run custos audit quarantine-journal ID again: it finishes the move"});
  } else if (!quarantined.empty()) {
    out.push_back({"audit.journals", Severity::kInfo,
                   fmt::format("{} audit journal(s) set aside in audit-journal/quarantine/ "
                               "(evidence of an incident); {} journal(s) in use, {} record(s) "
                               "waiting to be folded",
                               quarantined.size(), journals.size(), waiting),
                   "keep them with the incident's records; remove them once it is closed"});
  } else {
    out.push_back(Ok("audit.journals", fmt::format("{} audit journal(s) in use, none damaged; {} "
                                                   "record(s) waiting to be folded",
                                                   journals.size(), waiting)));
  }
}

void CheckBackups(const VaultState& m, const DoctorFacts& f, std::vector<DoctorFinding>& out) {
  const ServiceGauges& g = f.gauges;
  const int64_t max_age = BackupMaxAgeSeconds(m.config->backup);
  if (!g.has_backup) {
    out.push_back({"backup.age", Severity::kWarning, "no backup of this vault",
                   "custos backup, and set [backup] every for custos serve (docs/backup.md)"});
    out.push_back({"backup.verify", Severity::kWarning, "no backup to verify",
                   "custos backup verify PATH after each backup"});
    return;
  }
  if (g.backup_age_seconds > max_age) {
    out.push_back({"backup.age", Severity::kWarning,
                   fmt::format("the newest backup {} is {} hours old (limit {})", g.backup_id,
                               g.backup_age_seconds / 3600, max_age / 3600),
                   "custos backup, and set [backup] every for custos serve"});
  } else {
    out.push_back(Ok("backup.age", fmt::format("the newest backup {} is {} hours old", g.backup_id,
                                               g.backup_age_seconds / 3600)));
  }
  if (!f.backup_verified) {
    out.push_back({"backup.verify", Severity::kWarning,
                   fmt::format("the newest backup {} has not been verified", g.backup_id),
                   "custos backup verify PATH (docs/backup.md)"});
  } else {
    out.push_back(Ok("backup.verify", fmt::format("the newest backup was verified (audit entry {})",
                                                  f.backup_verify_seq)));
  }
}

namespace {

void CheckTotp(const schema::Config& c, const DoctorFacts& f, std::vector<DoctorFinding>& out) {
  std::vector<std::string> missing;
  for (const store::StaffRow& s : f.staff) {
    if (!Active(s)) continue;
    if (!access::CanReadConfidential(c, access::EffectiveRoles(c, FactsOf(s)))) continue;
    if (!f.has_totp.at(s.staff_id)) missing.push_back(s.staff_id);
  }
  if (!missing.empty()) {
    out.push_back(
        {"access.totp", Severity::kFailure,
         "staff reading confidential fields unmasked without a second factor: " + Joined(missing),
         "each enrols at their next login (custos token issue); until then they "
         "cannot log in by password (P4a)"});
  } else {
    out.push_back(Ok("access.totp", "every staff member reading confidential fields has TOTP"));
  }
}

void CheckTraining(const schema::Config& c, const DoctorFacts& f, std::vector<DoctorFinding>& out) {
  std::vector<std::string> lapsed;
  for (const store::StaffRow& s : f.staff) {
    if (!Active(s)) continue;
    const std::vector<std::string> roles = access::EffectiveRoles(c, FactsOf(s));
    if (!HoldsDataRole(c, roles)) continue;
    for (const std::string& course : RequiredCourses(c, roles)) {
      std::vector<store::TrainingRow> own;
      for (const store::TrainingRow& t : f.training) {
        if (t.staff_id == s.staff_id) own.push_back(t);
      }
      const access::TrainingStatus st = access::EvaluateTraining(own, course, f.now_ms);
      if (!st.valid) {
        lapsed.push_back(fmt::format("{} ({})", s.staff_id, access::TrainingReason(course, st)));
      }
    }
  }
  if (!lapsed.empty()) {
    out.push_back({"access.training", Severity::kWarning,
                   "staff holding data roles without valid training: " + Joined(lapsed),
                   "record the renewed course (custos training record); until then they are "
                   "refused what the course gates (P5b)"});
  } else {
    out.push_back(Ok("access.training", "every staff member with a data role is trained"));
  }
}

void CheckDormant(const DoctorFacts& f, std::vector<DoctorFinding>& out) {
  std::vector<std::string> dormant;
  for (const store::StaffRow& s : f.staff) {
    if (!Active(s) || f.now_ms - s.created_at_ms < kDormantAfterMs) continue;
    if (!f.active_recently.at(s.staff_id)) dormant.push_back(s.staff_id);
  }
  if (!dormant.empty()) {
    out.push_back(
        {"access.dormant", Severity::kWarning,
         fmt::format("active accounts with no audit entry for {}: ", DaysText(kDormantAfterMs)) +
             Joined(dormant),
         "disable accounts no longer needed (custos staff update ID --status "
         "disabled)"});
  } else {
    out.push_back(Ok("access.dormant", "no dormant active account"));
  }
}

void CheckTokens(const DoctorFacts& f, std::vector<DoctorFinding>& out) {
  std::vector<std::string> long_lived;
  for (const store::ApiTokenRow& t : f.tokens) {
    if (t.revoked_at_ms != 0 || t.expires_at_ms <= f.now_ms) continue;
    if (t.expires_at_ms - t.created_at_ms > kLongTokenMs) {
      long_lived.push_back(fmt::format("{} of {} (expires {})", t.token_id, t.staff_id,
                                       access::UtcDate(t.expires_at_ms)));
    }
  }
  if (!long_lived.empty()) {
    out.push_back({"access.tokens", Severity::kWarning,
                   fmt::format("live tokens issued for more than {}: ", DaysText(kLongTokenMs)) +
                       Joined(long_lived),
                   "revoke them (custos token revoke ID) and issue shorter ones"});
  } else {
    out.push_back(Ok("access.tokens", "no live token lives longer than 30 days"));
  }
}

void CheckSeparation(const schema::Config& c, const DoctorFacts& f,
                     std::vector<DoctorFinding>& out) {
  std::vector<std::string> conflicts;
  for (const store::StaffRow& s : f.staff) {
    if (!Active(s)) continue;
    const auto pair = c.ForbiddenRolePair(access::EffectiveRoles(c, FactsOf(s)));
    if (pair.has_value()) {
      conflicts.push_back(fmt::format("{} ({} + {})", s.staff_id, pair->first, pair->second));
    }
  }
  if (!conflicts.empty()) {
    out.push_back({"access.separation", Severity::kFailure,
                   "staff combining an administrative and a data role not allowed by [access] "
                   "allowed_role_pairs: " +
                       Joined(conflicts),
                   "take one of the roles away (custos staff update), or allow the pair in "
                   "custos.toml with the reason (docs/security.md)"});
  } else {
    out.push_back(Ok("access.separation", "no separation-of-duties conflict"));
  }
}

// The accounts that can decide a credential reset: active, holding a role that decides
// approvals, with a password of their own (an account with its init token only decides no role
// grant or credential reset). A reset needs a requester and an approver other than the account
// it names (and an approver the requester did not make), so with fewer than three such accounts
// one of them who loses a password or second factor — the DPO — cannot be reset under dual
// control (docs/access.md, "Dual control over access").
constexpr size_t kApproversNeeded = 3;

void CheckApprovers(const schema::Config& c, const DoctorFacts& f,
                    std::vector<DoctorFinding>& out) {
  std::vector<std::string> approvers;
  for (const store::StaffRow& s : f.staff) {
    if (!Active(s) || !f.has_password.at(s.staff_id)) continue;
    if (access::CanDecideApprovals(c, access::EffectiveRoles(c, FactsOf(s)))) {
      approvers.push_back(s.staff_id);
    }
  }
  if (approvers.size() < kApproversNeeded) {
    out.push_back(
        {"access.approvers", Severity::kWarning,
         fmt::format("{} active account(s) with a password decide approvals ({}); with fewer "
                     "than {}, an approver who loses their password or second factor (the "
                     "DPO) cannot be reset under dual control",
                     approvers.size(), approvers.empty() ? "none" : Joined(approvers),
                     kApproversNeeded),
         "grant security_admin or dpo to another person under dual control (custos approval "
         "request --kind role_grant, then custos staff add) and have them set their password "
         "(docs/access.md)"});
  } else {
    out.push_back(Ok("access.approvers", fmt::format("{} active accounts decide approvals: {}",
                                                     approvers.size(), Joined(approvers))));
  }
}

}  // namespace

void CheckStaff(const VaultState& m, const DoctorFacts& f, std::vector<DoctorFinding>& out) {
  CheckTotp(*m.config, f, out);
  CheckTraining(*m.config, f, out);
  CheckDormant(f, out);
  CheckTokens(f, out);
  CheckSeparation(*m.config, f, out);
  CheckApprovers(*m.config, f, out);
}

void CheckRetention(const VaultState& m, std::vector<DoctorFinding>& out) {
  const schema::Config& c = *m.config;
  std::set<std::string> used;  // classes holding customer data
  for (const schema::FieldDef& field : c.fields) used.insert(field.retention_class);
  for (const schema::RecordKindDef& kind : c.records) used.insert(kind.retention_class);
  std::vector<std::string> failures;
  std::vector<std::string> warnings;
  for (const schema::RetentionClassDef& rc : c.retention_classes) {
    if (rc.name == "audit" || rc.name == "consent") {
      // Evidence (PIPL Art. 54; P3.2c): three years at least.
      if (rc.min.ApproxDays() < 3 * 365) {
        failures.push_back(fmt::format("{}: floor {} below the 3 years evidence needs", rc.name,
                                       schema::RetentionPeriodText(rc.min)));
      }
      continue;
    }
    if (used.count(rc.name) > 0 && !rc.max.has_value()) {
      warnings.push_back(fmt::format("{}: customer data with no ceiling (kept forever)", rc.name));
    }
  }
  if (!failures.empty()) {
    out.push_back({"retention.ceilings", Severity::kFailure, Joined(failures),
                   "raise min to at least 3y in [retention.audit] / [retention.consent]"});
  } else if (!warnings.empty()) {
    out.push_back({"retention.ceilings", Severity::kWarning, Joined(warnings),
                   "set max in the class (PIPL Art. 19: the shortest time the purpose needs)"});
  } else {
    out.push_back(Ok("retention.ceilings",
                     fmt::format("{} retention classes: every customer class has a ceiling at or "
                                 "above its floor; evidence kept 3 years",
                                 c.retention_classes.size())));
  }
}

void CheckListen(const VaultState& m, std::vector<DoctorFinding>& out) {
  const std::string& listen = m.config->server.listen;
  if (listen == "0.0.0.0" || listen == "::" || listen == "[::]") {
    out.push_back({"server.listen", Severity::kWarning,
                   fmt::format("custos serve listens on every interface ({})", listen),
                   "set [server] listen to the one address clients use, behind the firewall"});
  } else {
    out.push_back(Ok("server.listen", fmt::format("custos serve listens on {} only", listen)));
  }
}

}  // namespace custos::vault
