// AuditLog: the tamper-evident record of every access to customer data (P3.2c).
//
// Each entry names who (actor) did what (action) to which record (target), for which purpose,
// through which channel, whether it was allowed, denied or masked and why, and the NAMES of the
// fields touched — never their values. Entries form a hash chain:
//   hash(n) = H(hash(n-1) || canonical(entry n)),  hash(0) = 32 zero bytes   (canonical.h)
// so editing, removing, inserting or reordering an entry breaks the chain at that entry.
// Every `checkpoint_every` entries a checkpoint "(seq, hash)" is signed (Ed25519 or SM2), and
// SealHead signs the current head and also writes it to a head file outside the database.
//
// Why the head file: a chain alone cannot show that its tail was cut (a shorter chain is still
// valid), and whoever can write the database can recompute every hash. Only the signing key
// can make a checkpoint, and the head file lives where a database edit does not reach, so
// Verify can tell "the log once reached entry 250 with this hash" from the log itself.
//
// Fail closed: Append writes in the caller's storage transaction, the same one as the change
// it records. If the entry cannot be written the caller must not commit or release data
// (ARCHITECTURE.md, One door).
//
// Thread safety: an AuditLog is immutable after Open, except that SealHead calls are
// serialised internally; it may be shared between threads. Concurrent Appends are serialised
// by the store (one write transaction at a time). The signing key must outlive the AuditLog.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "crypto/primitives.h"
#include "store/store.h"

namespace custos::audit {

// What happened, as the service saw it. Every string must be free of control characters.
struct AuditEvent {
  std::string actor;     // staff id or "system"
  std::string action;    // "customer.get", "customer.create", "audit.verify", ...
  std::string target;    // "customer:<id>", "import:<id>", ...
  std::string purpose;   // from the purpose catalogue (P3.3a)
  std::string channel;   // "cli", "api", "job"
  std::string decision;  // "allow", "deny" or "mask"
  std::string reason;
  std::vector<std::string> fields;  // names of the fields touched, never values
  std::string request_id;
};

struct AuditOptions {
  crypto::Suite suite = crypto::Suite::kAes256Gcm;
  // Signs checkpoints. Not owned; null for a verify-only log (Append and SealHead then fail).
  const crypto::SigningKey* signing_key = nullptr;
  // The checkpoint public key (the signing key's, when one is given).
  crypto::Bytes public_key;
  // A signed checkpoint every N entries (N >= 1).
  uint32_t checkpoint_every = 1000;
  // Where SealHead writes, and Verify reads, the signed head.
  std::filesystem::path head_file;
  // Milliseconds since the Unix epoch; the system clock when empty. Injected by tests.
  std::function<int64_t()> now_ms;
};

struct VerifyOptions {
  // A non-empty log without a head file fails verification: without it a cut tail is
  // invisible. Off only for logs known never to have been sealed (e.g. a restore test).
  bool require_head = true;
};

struct VerifyReport {
  bool ok = false;
  int64_t entries = 0;      // entries in the log
  int64_t checkpoints = 0;  // signed checkpoints in the database (the head file not counted)
  // 0 if ok; otherwise the first entry that cannot be trusted. When only a signed checkpoint
  // or the head file shows the problem (a recomputed chain, a cut tail), the first entry
  // after the last checkpoint that still matches: the change lies at or after it.
  int64_t first_bad_seq = 0;
  // What is wrong, naming the likely cause (edited, deleted, inserted, reordered, truncated,
  // rewritten), e.g. "entry 17: hash does not match its contents (edited?)". Names seqs,
  // never entry contents.
  std::string problem;
};

class AuditLog {
 public:
  // Success: a log ready to append (with a signing key) or to verify.
  // InvalidArgument: checkpoint_every is 0, public_key is empty, head_file is empty, or the
  //   signing key's public key differs from public_key.
  static Result<std::unique_ptr<AuditLog>> Open(const AuditOptions& options);

  // Appends `event` as the next entry inside `txn` (reading the head in the same
  // transaction, so the seq is gap-free) and, when its seq is a multiple of
  // checkpoint_every, a signed checkpoint. Nothing is visible until the caller commits txn.
  // InvalidArgument: a string holds a control character, a field name is empty or holds ','
  //   (names are stored comma-joined), or decision is not allow/deny/mask. The message names
  //   the event field, never its value.
  // FailedPrecondition: the log was opened without a signing key.
  // Unavailable: the store could not read the head or write the entry or checkpoint; the
  //   caller must drop txn and release nothing (fail closed).
  Status Append(store::Transaction& txn, const AuditEvent& event) const;
  // As Append, returning the stored row (seq, timestamps and hashes filled in).
  Result<store::AuditRow> AppendAndReturn(store::Transaction& txn, const AuditEvent& event) const;

  // Signs the current head: in its own transaction, inserts a checkpoint for the newest
  // entry unless the newest checkpoint is already there, commits, then replaces the head file
  // atomically. An empty log seals seq 0. Called when a vault closes and periodically by a
  // server. It signs what the database holds: run Verify first to vouch for the log.
  // FailedPrecondition: no signing key.
  // DataLoss: the newest checkpoint is at the head entry but records another hash.
  // Unavailable: the store or the head file cannot be written (the old head file stays).
  // The caller must not hold a transaction on `store` (it begins one).
  Status SealHead(store::Store& store) const;

  // Recomputes the whole chain page by page (constant memory apart from the checkpoint list),
  // checks every link, seq continuity, every checkpoint signature and hash, and the head file.
  // Success: a report; report.ok says whether the log is intact. A broken log is a report,
  // not an error.
  // Unavailable: the store or the head file cannot be read.
  // InvalidArgument: the public key is malformed.
  // The caller must not hold a transaction on `store`.
  Result<VerifyReport> Verify(store::Store& store, const VerifyOptions& options = {}) const;

  const AuditOptions& options() const { return options_; }

 private:
  explicit AuditLog(AuditOptions options) : options_(std::move(options)) {}
  int64_t Now() const;

  AuditOptions options_;
  mutable std::mutex seal_mu_;  // one SealHead at a time: the head file must not go backwards
};

}  // namespace custos::audit
