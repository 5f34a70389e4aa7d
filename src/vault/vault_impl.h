// Internal to the vault component: the state behind Vault and the steps every operation
// shares (authorise, audit, seal, open). Not a public header.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_log.h"
#include "crypto/epoch_keys.h"
#include "crypto/keyring.h"
#include "schema/config.h"
#include "store/store.h"
#include "vault/access_cache.h"
#include "vault/admission.h"
#include "vault/group_commit.h"
#include "vault/login_limit.h"
#include "vault/search_limit.h"
#include "vault/token_address.h"
#include "vault/vault.h"

namespace custos::vault {

inline constexpr std::string_view kConfigFile = "custos.toml";

// The largest group-commit batch of audited reads: enough for every server thread, small
// enough that the first request of a batch does not wait long for the last one's reads.
inline constexpr size_t kMaxReadBatch = 64;

// The audit journals' directory in a SQLite vault (audit/journal.h).
inline constexpr std::string_view kJournalDir = "audit-journal";

// What a group-commit step records.
using AuditEvents = std::vector<audit::AuditEvent>;

// Folds the audit journal in the background (journal_folder.h).
class JournalFolder;

struct VaultState {
  std::filesystem::path dir;
  std::unique_ptr<schema::Config> config;
  std::unique_ptr<crypto::Keyring> keyring;
  // The epoch wrapping keys (<vault>/epoch-keys; issue 23): every customer's DEK is wrapped
  // under one of them. Held in memory after Open: unwrapping a DEK reads no file.
  std::unique_ptr<crypto::EpochKeyStore> epochs;
  // The epoch new DEK wraps use: the vault's current epoch (metadata epoch_state), followed in
  // each write transaction that wraps (FollowWrapEpoch).
  std::atomic<uint32_t> wrap_epoch{0};
  // Told of each epoch destroyed (keys.h, EpochObserver); set before concurrent use.
  std::vector<EpochObserver> epoch_observers;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<crypto::SigningKey> signing_key;
  std::unique_ptr<audit::AuditLog> audit;
  Clock now_ms;
  bool closed = false;
  // Staff, credential, training, grant and token rows between requests, trusted while the
  // access epoch is unchanged (access_cache.h).
  AccessCache access_cache;
  // Equality searches per staff member and field in the last hour (issue 12, item 3).
  SearchLimiter search_limits;
  // Failed logins per source address and staff id, and concurrent password checks (issue
  // 12, item 6).
  LoginLimiter login_limits;
  // The (token, address) pairs this process saw recorded (token_address.h); mutable: the
  // token check takes a const VaultState.
  mutable TokenAddresses token_addresses;
  // This process's audit journal ([audit] read_journal; audit/journal.h), and what folds it
  // into the log in the background. Declared before `reads`, which borrows the journal.
  std::unique_ptr<audit::JournalWriter> journal;
  // Audited reads of concurrent requests share a transaction and a commit (group_commit.h).
  // Set by Open once the store and the audit log are.
  std::unique_ptr<GroupCommit> reads;
  DestructionHook on_destroyed;           // issue 6: called after each retention run (may be empty)
  std::unique_ptr<JournalFolder> folder;  // declared last: stopped first

  // The purposes an approved impact assessment in force covers (issue 19; dpo.h), which
  // admission consults when [dpo] require_pia names "purpose". Loaded by Open, replaced by each
  // approval in this process.
  void SetPurposesWithPia(std::vector<std::string> purposes);
  bool PurposeHasPia(std::string_view purpose) const;

  int64_t Now() const { return now_ms(); }

 private:
  mutable std::mutex pia_mu_;
  std::vector<std::string> purposes_with_pia_;  // sorted

 public:
  // An audit event for ctx with the given action/target/decision.
  audit::AuditEvent Event(const Context& ctx, std::string_view action, std::string_view target,
                          std::string_view decision, std::string_view reason,
                          std::vector<std::string> fields = {}) const;

  // The deny entry recording `refusal`: decision "deny", reason "<code>: <message>".
  audit::AuditEvent DenyEvent(const Context& ctx, std::string_view action, std::string_view target,
                              const Status& refusal, std::vector<std::string> fields = {}) const;

  // Validates and normalises customer fields (P3.1c). Password fields become Argon2id hashes.
  // On create, required fields must be present.
  Result<FieldValues> NormalizeCustomerFields(const FieldValues& in, bool is_create) const;
  // GB 11643: a birth date or gender stored beside an ID number must agree with it (P3.1c).
  Status CheckIdentityConsistency(const FieldValues& fields) const;
  // The catalogue's required fields are all present and non-empty.
  Status CheckRequired(const FieldValues& fields) const;

  // Seals a customer's (normalised) fields into one envelope per level, with blind-index
  // tokens for searchable fields.
  struct Sealed {
    std::vector<store::Envelope> envelopes;
    std::vector<store::IndexEntry> index;
  };
  Result<Sealed> SealCustomer(std::string_view customer_id, const crypto::SecretBytes& dek,
                              const FieldValues& fields) const;
  // Opens every envelope of a row and merges the fields.
  Result<FieldValues> OpenCustomer(const store::CustomerRow& row,
                                   const crypto::SecretBytes& dek) const;
  Result<crypto::SecretBytes> LoadDek(store::Transaction& txn, std::string_view customer_id) const;
  // A customer's wrapped DEK opened: under its epoch key (format 2) or, for a vault whose
  // migration has not reached it, the KEK (format 1). In memory: no file or HSM access for an
  // epoch this process already holds. NotFound naming the epoch if it is destroyed; DataLoss
  // if the wrapping is altered or of another customer.
  Result<crypto::SecretBytes> UnwrapDek(std::string_view customer_id,
                                        crypto::ByteView wrapped) const;
  // A new DEK wrapped under the epoch new wraps use (wrap_epoch): the wrapped_keys row
  // (kek_version = EpochColumn(epoch), epoch_state.h). A vault with no epoch yet (only with
  // OpenOptions::TEST_skip_epoch_rotation) wraps by the KEK, as before issue 23.
  Result<store::WrappedKeyRow> WrapDek(std::string_view customer_id,
                                       const crypto::SecretBytes& dek) const;
  // Makes wrap_epoch the vault's current epoch (metadata), which a rotation in another process
  // may have moved on since this vault opened (epoch_rotation.cpp). Call inside the write
  // transaction, before wrapping a DEK.
  Status FollowWrapEpoch(store::Transaction& txn);
  // Makes the keyring wrap under the vault's active KEK version (vault metadata), which a
  // rotation in another process may have moved on since this vault opened (key_rotation.cpp).
  // Call inside the write transaction, before wrapping a key.
  Status FollowKekVersion(store::Transaction& txn);
};

// Opens the vault's epoch key store (<vault>/epoch-keys) into state.epochs and follows the
// current epoch (epoch_rotation.cpp). FailedPrecondition if the vault names a current epoch
// the store does not hold (the directory lost or not restored); the errors of
// crypto::EpochKeyStore::Open.
Status OpenEpochKeys(VaultState& state);
// The epoch schedule [backup] key_epoch_length / key_epochs name.
crypto::EpochSchedule EpochScheduleOf(const schema::Config& config);
// Vault::Init: the epoch key store of a new vault with its first epoch, and its epoch_state
// written in `txn`.
Status InitEpochKeys(const std::filesystem::path& dir, std::string_view vault_id,
                     const crypto::Keyring& keyring, store::Transaction& txn, int64_t now_ms);

// The wiring of vault_open.cpp, shared with restore (backups.cpp): the store [store] names
// (created and migrated when `create`), and the KEK provider [keys] names (an existing one).
Result<std::unique_ptr<store::Store>> OpenVaultStore(const schema::Config& config,
                                                     const std::filesystem::path& dir, bool create);
Result<std::unique_ptr<crypto::KeyProvider>> OpenVaultKeyProvider(const schema::Config& config,
                                                                  const std::filesystem::path& dir,
                                                                  std::string_view passphrase,
                                                                  crypto::ByteView salt);

// A new sortable id: 48-bit millisecond time then 80 random bits, Crockford base32 (26 chars).
std::string NewId(int64_t now_ms);

// The audit heads the backup manifests in the configured backup directory record, each
// checked under the vault's audit key (manifests of another key, or altered, are left out):
// witnesses for AuditLog::Verify. Best effort: an unreadable directory gives none.
std::vector<audit::Witness> BackupWitnesses(const VaultState& impl);

// Customer ids are 26 Crockford base32 characters (NewId); anything else is refused before it
// reaches the store or the audit log.
bool ValidCustomerId(std::string_view id);
// InvalidArgument for an id that is not a customer id.
Status BadCustomerId();
// Sets `missing` when the customer does not exist (InvalidArgument when the id is not one,
// NotFound when absent), for a body of the admission core to refuse with. Failure: the
// store's error.
Status CheckCustomer(Scope& s, std::string_view customer_id, Status& missing);

// "customer:<id>", or "customer:(invalid id)" so that a hostile id never enters the log.
std::string CustomerTarget(std::string_view id);

// "<kind>:<id>" for an id made by NewId (a hold, plan, data-subject request), or
// "<kind>:(invalid id)" so that a hostile id never enters the log.
std::string IdTarget(std::string_view kind, std::string_view id);

// Staff's free text bound for the audit log (a close or hold reason, a request reference, an
// approval justification; issue 12 item 7): `min` to `max` bytes with no control character
// (UTF-8 text passes) in which the project's PII scanner finds no personal data of confidence
// 0.5 or more — the log is hash-chained and outlives crypto-shredding, so what enters it must
// hold none. `field` names the input in the error and `kind` says what belongs there ("a ticket
// reference"). InvalidArgument naming the field and the rule (and the type of data found, never
// the value); Unavailable if the scanner cannot run (fail closed: nothing is recorded).
Status CheckAuditText(std::string_view field, std::string_view value, size_t min, size_t max,
                      std::string_view kind);

// What intake flags in a record it keeps (issue 15 item 3), for its audit entry: "; flagged:
// id_number region not in the GB/T 2260 tables" for each gb11643 field whose region code the
// tables do not list (a valid ID of an abolished or renamed region); empty when nothing is.
// Names fields, never values.
std::string IntakeFlags(const schema::Config& config, const FieldValues& normalised);

// `in`, with the purpose `fallback` (when the catalogue has it) if the caller named none.
Context WithDefaultPurpose(const VaultState& impl, const Context& in, std::string_view fallback);
// The context of a lifecycle operation (holds, retention, data-subject requests): the
// purpose "legal_obligation" if the caller named none.
Context LifecycleContext(const VaultState& impl, const Context& in);
// The vault's own job (a scheduled backup, the doctor, key epochs): actor "system", purpose
// "administration", channel job. Admitted with Basis::kSystem.
Context SystemJobContext();
// For a schedule that runs every `every_ms`: how long after `now_ms` the next run is due when
// the last one was at `last_ms` — 0 when that is an interval ago or more, never more than
// `every_ms` (a last run dated in the future waits one interval).
int64_t DueInMs(int64_t last_ms, int64_t every_ms, int64_t now_ms);

// The audit event recording an operation of `ctx` (its actor, purpose, channel, request id).
audit::AuditEvent EventFor(const Context& ctx, std::string_view action, std::string_view target,
                           std::string_view decision, std::string_view reason,
                           std::vector<std::string> fields = {});

// The validated update path (CustomerService::Update, a correction request): merges the
// normalised `changes` (an empty value removes the field) into the customer's opened fields,
// checks the whole record (required fields, GB 11643 consistency), re-seals it and rewrites its
// blind-index tokens in s.txn. `before` (may be null) receives the fields as they were. Sets
// `refusal` to the InvalidArgument of the rule the merged record breaks (then nothing is
// written), OK otherwise. Failure: the store's or the keyring's error.
Status ApplyChanges(VaultState& m, Scope& s, store::CustomerRow row, const crypto::SecretBytes& dek,
                    const FieldValues& changes, Status& refusal, FieldValues* before = nullptr);

// The names of `fields`, for an audit entry: a name that is not an identifier
// (core::IsEchoableName) is recorded as "(not an identifier)".
std::vector<std::string> FieldNames(const FieldValues& fields);

}  // namespace custos::vault
