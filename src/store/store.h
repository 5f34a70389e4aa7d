// Store: where Custos keeps its rows. The interface knows nothing about plaintext: every
// column about a person arrives here already sealed (ciphertext) or as a blind-index token.
// Plain columns are only ids, times, status, flags and key versions (ARCHITECTURE.md, Storage).
//
// Two implementations pass the same test suite: SQLite (embedded default, sqlite_store.h)
// and PostgreSQL (a later issue). Every table that holds customer data carries customer_id in
// its key, so it can be distributed on it (docs/SCALING.md).
//
// Thread safety: a Store is safe for concurrent use from many threads. A Transaction belongs
// to one thread at a time. Write transactions are serialised by the store; an open
// Transaction must be committed or destroyed (destruction without Commit rolls back).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/level.h"
#include "core/status.h"

namespace custos::store {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

// A sealed envelope holding the fields of one classification level of one customer.
struct Envelope {
  Level level = Level::kGeneral;
  Bytes ciphertext;
};

struct CustomerRow {
  std::string customer_id;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  std::string source;          // P3.1b: "form", "api", "import:<import_id>:<line>"
  uint32_t schema_version = 0;
  std::vector<Envelope> envelopes;  // at most one per level, only levels present
};

// A customer's data-encryption key, wrapped by the KEK; kept apart from the data rows so that
// erasing it shreds the customer (ARCHITECTURE.md, Keys).
struct WrappedKeyRow {
  std::string customer_id;
  uint32_t kek_version = 0;
  Bytes wrapped_dek;
};

// One blind-index token (HMAC of a normalised value, truncated) of a searchable field.
struct IndexEntry {
  std::string field;
  Bytes token;
};

struct TransactionRow {
  std::string customer_id;
  std::string txn_id;
  int64_t created_at_ms = 0;
  std::string source;
  Bytes ciphertext;  // sealed with the owner's DEK
};

struct NoteRow {
  std::string customer_id;
  std::string note_id;
  int64_t created_at_ms = 0;
  std::string source;
  Level level = Level::kInternal;  // the strictest level the note contains
  Bytes ciphertext;
};

// One audit entry as stored. Field names, never values (P3.2c).
struct AuditRow {
  int64_t seq = 0;          // 1, 2, 3, ... without gaps
  int64_t ts_ms = 0;
  std::string actor;
  std::string action;       // "customer.get", "customer.create", "audit.verify", ...
  std::string target;       // "customer:<id>", "import:<id>", ...
  std::string purpose;
  std::string channel;      // "cli", "api", "job"
  std::string decision;     // "allow", "deny", "mask"
  std::string reason;
  std::string fields;       // comma-separated field names
  std::string request_id;
  Bytes prev_hash;
  Bytes hash;
};

// A signed statement "the chain up to seq has this hash".
struct CheckpointRow {
  int64_t seq = 0;
  int64_t ts_ms = 0;
  Bytes hash;
  Bytes signature;
};

struct StaffRow {
  std::string staff_id;
  std::string display_name;
  std::string post;
  std::string roles;       // comma-separated
  int64_t created_at_ms = 0;
  std::string status = "active";
};

// Progress of one bulk import, keyed by the SHA-256 of the file: committed in the same
// transaction as each batch, so a killed import resumes without duplicates or gaps.
struct ImportRow {
  std::string import_id;
  std::string file_sha256;  // hex
  std::string actor;
  int64_t started_at_ms = 0;
  int64_t updated_at_ms = 0;
  int64_t committed_lines = 0;  // data lines (after the header) fully handled
  int64_t imported = 0;
  int64_t rejected = 0;
  std::string state;            // "running", "done"
};

// A unit of atomic work. All writes become visible together at Commit(); a Transaction
// destroyed without Commit() rolls back. After a failed call the caller should drop the
// transaction (rolling back); the store never leaves half a write.
class Transaction {
 public:
  virtual ~Transaction() = default;

  // Makes every write durable and visible. Unavailable on an I/O failure (then nothing of
  // this transaction is visible). Calling anything after Commit is a bug.
  virtual Status Commit() = 0;

  // --- vault metadata (suite, wrapped index keys, public keys, ...) ---
  // nullopt when the key is absent.
  virtual Result<std::optional<Bytes>> GetMeta(std::string_view key) = 0;
  // Inserts or replaces.
  virtual Status PutMeta(std::string_view key, ByteView value) = 0;

  // --- customers ---
  // Conflict if the id exists.
  virtual Status InsertCustomer(const CustomerRow& row) = 0;
  // Replaces the row's envelopes, updated_at and schema_version. NotFound if absent.
  virtual Status UpdateCustomer(const CustomerRow& row) = 0;
  // nullopt when absent.
  virtual Result<std::optional<CustomerRow>> GetCustomer(std::string_view customer_id) = 0;
  // Customers in id order with id > after_id (all when after_id is empty), at most limit.
  virtual Result<std::vector<CustomerRow>> ListCustomers(std::string_view after_id,
                                                         size_t limit) = 0;
  virtual Result<int64_t> CountCustomers() = 0;

  // --- wrapped keys ---
  // Inserts or replaces the customer's wrapped DEK.
  virtual Status PutWrappedKey(const WrappedKeyRow& row) = 0;
  virtual Result<std::optional<WrappedKeyRow>> GetWrappedKey(std::string_view customer_id) = 0;

  // --- blind index ---
  // Replaces the customer's tokens for each field named in `entries` (a field with no entry
  // keeps its tokens).
  virtual Status PutIndexEntries(std::string_view customer_id,
                                 const std::vector<IndexEntry>& entries) = 0;
  // Like PutIndexEntries for a customer that has no tokens yet, but meant for bulk loads:
  // the entries may be staged and moved into the index later, in key order, by
  // Store::MergeStagedIndex (random tokens inserted one at a time would each rewrite a
  // random page of a large index). Staged entries are found by FindByIndex at once (more
  // slowly until merged). The default implementation is PutIndexEntries.
  virtual Status StageIndexEntries(std::string_view customer_id,
                                   const std::vector<IndexEntry>& entries) {
    return PutIndexEntries(customer_id, entries);
  }
  // Customer ids holding `token` for `field`, in id order, at most limit.
  virtual Result<std::vector<std::string>> FindByIndex(std::string_view field, ByteView token,
                                                       size_t limit) = 0;

  // --- transactions and communication notes (sealed with the owner's DEK) ---
  virtual Status InsertTransaction(const TransactionRow& row) = 0;  // Conflict if id exists
  virtual Result<std::vector<TransactionRow>> ListTransactions(std::string_view customer_id) = 0;
  virtual Status InsertNote(const NoteRow& row) = 0;  // Conflict if id exists
  virtual Result<std::vector<NoteRow>> ListNotes(std::string_view customer_id) = 0;

  // --- audit ---
  // Appends; Conflict if row.seq exists. The audit component computes seq and hashes.
  virtual Status AppendAudit(const AuditRow& row) = 0;
  // The entry with the highest seq, nullopt on an empty log.
  virtual Result<std::optional<AuditRow>> GetAuditHead() = 0;
  // Entries with seq >= from_seq in seq order, at most limit.
  virtual Result<std::vector<AuditRow>> ReadAudit(int64_t from_seq, size_t limit) = 0;
  virtual Status InsertCheckpoint(const CheckpointRow& row) = 0;
  // All checkpoints in seq order.
  virtual Result<std::vector<CheckpointRow>> ListCheckpoints() = 0;

  // --- staff (until the access issue: the accounts created by init) ---
  virtual Status InsertStaff(const StaffRow& row) = 0;  // Conflict if id exists
  virtual Result<std::optional<StaffRow>> GetStaff(std::string_view staff_id) = 0;
  virtual Result<std::vector<StaffRow>> ListStaff() = 0;

  // --- bulk imports ---
  virtual Result<std::optional<ImportRow>> GetImportByFile(std::string_view file_sha256) = 0;
  // Inserts or replaces by import_id.
  virtual Status PutImport(const ImportRow& row) = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Starts a read-write transaction (serialised with other writers). Unavailable when the
  // store cannot be reached.
  virtual Result<std::unique_ptr<Transaction>> Begin() = 0;

  // The applied migration version.
  virtual Result<int> SchemaVersion() = 0;

  // Makes everything committed durable in the main database file and truncates any
  // write-ahead log, so no freed page lingers outside the database (used after destruction
  // and before backups).
  virtual Status Checkpoint() = 0;

  // Moves every staged blind-index entry (Transaction::StageIndexEntries) into the index, in
  // key order, atomically. OK and cheap when nothing is staged. Called at the end of a bulk
  // import and when a vault opens (finishing the merge of an import that was killed).
  virtual Status MergeStagedIndex() { return Status::Ok(); }

  // Human-readable backend name: "sqlite", "postgres".
  virtual std::string_view Backend() const = 0;
};

}  // namespace custos::store
