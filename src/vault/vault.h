// Vault: the one door to customer data (ARCHITECTURE.md, "One door, one admission core").
// A Vault is the facade that opens (or creates, or restores) a vault directory, wires its
// configuration, keys, store and audit log in one place, and hands out the domain services,
// one per concept. Every service operation takes a Context (actor, purpose, channel) and goes
// through the one admission core (admission.h): it authenticates the actor, authorises the
// action for the purpose (deny by default), checks the customer's consent, writes the audit
// entry in the same storage transaction as the change (for a read: durable before any
// plaintext leaves; no audit, no data), and only then decrypts what was allowed, masked as
// the role sees it. Refusals are audited as "deny" entries with the reason.
//
// Failure codes every service call shares (each service header names its own on top):
//   FailedPrecondition  the vault is closed (nothing audited: there is no log to write);
//   PermissionDenied    the actor is unknown, inactive or locked out; the purpose is not in the
//                       catalogue; the actor's roles do not grant the action for the purpose;
//                       or, for customer data, the policy or the customer's consent refuses it;
//   InvalidArgument     malformed input, naming the field (or line) and the rule — never the
//                       value;
//   NotFound            what the call names does not exist;
//   Unavailable         the audit entry (or the store) cannot be written: nothing of the call
//                       is committed and no data is returned (fail closed).
// Every refusal but the first is recorded as a "deny" entry with "code: message"; a refused
// write leaves nothing else behind. Messages and entries name ids and field names, never a
// customer's value or a secret.
//
// Thread safety: a Vault and its services are safe for concurrent use; writes are serialised
// by the store. The services borrow the Vault's state: use them only while the Vault lives.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "core/status.h"
#include "vault/approvals.h"
#include "vault/audit_service.h"
#include "vault/backups.h"
#include "vault/consent_service.h"
#include "vault/context.h"
#include "vault/customers.h"
#include "vault/deid.h"
#include "vault/doctor.h"
#include "vault/dpo.h"
#include "vault/keys.h"
#include "vault/lifecycle.h"
#include "vault/records.h"
#include "vault/reports.h"
#include "vault/secops.h"
#include "vault/sharing.h"
#include "vault/staff.h"
#include "vault/subject_requests.h"

namespace custos::schema {
struct Config;
}
namespace custos::store {
class Store;
}

namespace custos::vault {

struct VaultState;

struct InitOptions {
  std::filesystem::path dir;
  std::string suite = "aes256gcm";   // or "sm4gcm"
  std::string provider = "keyfile";  // or "passphrase", "pkcs11"
  std::string passphrase;            // for the passphrase provider (the CLI reads it from env)
  Clock now_ms;                      // defaults to the system clock
  // Non-empty: the vault's rows live on PostgreSQL ([store] backend = "postgres"): a
  // postgresql:// URL or libpq keywords, without a password (PGPASSWORD or ~/.pgpass).
  std::string store_url;
  std::string store_schema = "custos";  // the PostgreSQL schema (namespace) for the tables
  // provider "pkcs11" (docs/keys.md): written into [keys]; the PIN is not written anywhere
  // (empty: read from the environment variable [keys] pkcs11_pin_env names).
  std::string pkcs11_module;
  std::string pkcs11_token;
  std::string pkcs11_key_label = "custos-kek";
  std::string pkcs11_pin;
  // Tests: a vault as made before issue 23 (no epoch key store, no epoch_state), to test the
  // migration; open it with TEST_skip_epoch_rotation to write KEK-wrapped DEKs into it.
  bool TEST_no_epochs = false;
  // Tests: the DPO's first password as already set, by its Argon2id PHC string. Hashing in the
  // test process would start Botan's thread pool (its Argon2 runs there), and a test that
  // forks a reader afterwards must be single-threaded (ThreadSanitizer refuses the child's
  // threads otherwise).
  std::string TEST_dpo_password_hash;
};

struct InitReport {
  std::string vault_id;
  std::filesystem::path config_path;
  std::filesystem::path db_path;
  std::filesystem::path keyfile_path;  // empty for the passphrase provider
  std::vector<std::string> staff;      // accounts created
  // One-time API tokens for "admin" and "dpo": shown once by `custos init`, stored only as
  // hashes. They are meant for two different people: the DPO sets their own first password
  // with theirs (`custos staff passwd dpo` on the vault host), so the DPO's account is not
  // one the administrator last changed and may approve the administrator's requests
  // (dual control, docs/security.md).
  std::string admin_token;
  int64_t admin_token_expires_at_ms = 0;
  std::string dpo_token;
};

struct OpenOptions {
  std::filesystem::path dir;
  std::string passphrase;  // for the passphrase provider
  Clock now_ms;
  // Test hook: wraps the opened store before the vault uses it (e.g. in a
  // store::FaultInjectingStore, to fail a chosen write); empty in production.
  std::function<std::unique_ptr<store::Store>(std::unique_ptr<store::Store>)> TEST_wrap_store;

  // For the pkcs11 provider; empty: read from the environment variable [keys] pkcs11_pin_env
  // names (CUSTOS_PKCS11_PIN by default).
  std::string pkcs11_pin;
  // Tests: Open does not run the epoch rotation (nor the migration) that is due, so a test
  // can look at a vault as a killed rotation left it.
  bool TEST_skip_epoch_rotation = false;
  // Whether reads are journalled when custos.toml leaves [audit] read_journal unset, on SQLite
  // (PostgreSQL never journals): `custos serve` sets it (docs/audit.md "The read journal").
  bool journal_reads = false;
};

class Vault {
 public:
  // Creates DIR (must be empty or absent): writes the default custos.toml, the KEK (keyfile
  // provider), the database with its metadata, index and signing keys, and the first staff
  // accounts ("admin", "dpo"). Conflict if DIR already holds a vault.
  static Result<InitReport> Init(const InitOptions& options);

  // Opens the vault in DIR. NotFound if DIR holds no vault; FailedPrecondition if the config's
  // suite differs from the vault's, or the epoch key store (DIR/epoch-keys) does not hold the
  // vault's current epoch; DataLoss if the keys do not unwrap (wrong KEK). Then runs the epoch
  // rotation if one is due (KeyService::RunScheduledEpochRotation: a vault made before issue
  // 23 gets epoch 1 and its DEKs re-wrapped; a new epoch every [backup] key_epoch_length;
  // old epochs destroyed), and fails with its error. A damaged audit journal does not keep it
  // closed: Open's own writes pass over it, and a due rotation waits until it is quarantined
  // (AuditService::QuarantineJournal; every other write still fails on it).
  static Result<std::unique_ptr<Vault>> Open(const OpenOptions& options);

  // Restores a backup into a new vault directory (and, with postgres_url, an empty
  // PostgreSQL schema), replaying the destruction ledgers BEFORE the vault opens: rows of
  // customers, transactions and notes they record are not loaded. Writes an audit entry
  // "backup.restore" (counts, never ids) in the restored vault, then seals its head.
  // Conflict: dir holds something other than an unfinished restore, or the schema is not
  // empty. DataLoss: the backup fails its checks or the KEK does not open it; a ledger of
  // another vault or salt, an entry whose signature does not verify under the checkpoint key
  // the backup's metadata records, or an unsigned entry in the ledger beside the backups
  // (naming the file; nothing is written). Session 40, DataLoss too (nothing written): a
  // chained ledger with an entry missing or out of place; no ledger read reaching the newest
  // destruction ledger head known (the backup's metadata, its manifest, the manifests beside
  // it), or two heads disagreeing at one entry; a pkcs11 vault's manifest naming another
  // PKCS#11 module than RestoreOptions::pkcs11_module (InvalidArgument when none is given).
  // The ledger's entries past the backup's destruction log are carried into the restored
  // store (RestoreReport::ledger_entries_carried).
  static Result<RestoreReport> Restore(const RestoreOptions& options);

  // Seals the audit head (a signed checkpoint written outside the database too;
  // AuditLog::SealHead, forward only). After Close every service call fails with
  // FailedPrecondition. Failures are SealHead's: FailedPrecondition when the head file is
  // missing (nothing is sealed; the CLI warns and keeps the command's exit code, since only
  // the dual-controlled `audit reseal` recovers it), DataLoss when the log no longer extends
  // the signed head or the head file does not verify, Unavailable when a write fails.
  ~Vault();
  Status Close();

  const schema::Config& config() const;
  const std::filesystem::path& dir() const;
  // True when this process journals its reads ([audit] read_journal, or
  // OpenOptions::journal_reads): its audited reads then wait for no commit (vault/no_wait.h).
  bool JournalsReads() const;

  // The domain services (one header each).
  CustomerService& customers() { return customers_; }
  RecordService& records() { return records_; }
  ConsentService& consent() { return consent_; }
  StaffService& staff() { return staff_; }
  ApprovalService& approvals() { return approvals_; }
  LifecycleService& lifecycle() { return lifecycle_; }
  SubjectRequestService& subject_requests() { return subject_requests_; }
  BackupService& backups() { return backups_; }
  KeyService& keys() { return keys_; }
  AuditService& audit() { return audit_; }
  DeidService& deid() { return deid_; }
  SharingService& sharing() { return sharing_; }
  DoctorService& doctor() { return doctor_; }
  ReportService& reports() { return reports_; }
  SecOpsService& secops() { return secops_; }
  DpoService& dpo() { return dpo_; }

  Vault(const Vault&) = delete;
  Vault& operator=(const Vault&) = delete;

 private:
  explicit Vault(std::unique_ptr<VaultState> state);

  std::unique_ptr<VaultState> state_;
  CustomerService customers_;
  RecordService records_;
  ConsentService consent_;
  StaffService staff_;
  ApprovalService approvals_;
  LifecycleService lifecycle_;
  SubjectRequestService subject_requests_;
  BackupService backups_;
  KeyService keys_;
  AuditService audit_;
  DeidService deid_;
  SharingService sharing_;
  DoctorService doctor_;
  ReportService reports_;
  SecOpsService secops_;
  DpoService dpo_;
};

}  // namespace custos::vault
