// KeyService: KEK rotation, status and retirement (docs/keys.md).
// Every call is admitted by the admission core (admission.h) and audited, and fails with the
// codes every service call shares (vault.h) besides those named at each call.
// Thread safety: safe for concurrent use; a rotation in another process is followed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/level.h"
#include "core/status.h"
#include "vault/context.h"
#include "vault/record_codec.h"

namespace custos::vault {

struct VaultState;

// --- keys (issue 6; docs/keys.md; src/vault/key_rotation.cpp) ---

// One KEK version: "active" (new wraps use it), "retiring" (an older version something may
// still be wrapped under), "retired" (its key material destroyed).
struct KekVersionView {
  uint32_t version = 0;
  std::string state;
  int64_t wrapped_deks = 0;       // customers' DEKs wrapped under it (format 1: not migrated)
  int64_t vault_keys = 0;         // index keys, signing key, key check, TOTP secrets under it
  int64_t epoch_keys = 0;         // epoch key files (<vault>/epoch-keys) wrapped under it
  bool material_present = false;  // the provider can find its key (keyfile, HSM object)
};

struct KeyRotationView {
  std::string state;  // "none", "running" (or interrupted: rerun `custos key rotate`), "done"
  uint32_t from_version = 0;
  uint32_t to_version = 0;
  int64_t rewrapped = 0;  // DEKs rewrapped so far
  int64_t remaining = 0;  // DEKs not yet under to_version
  int64_t started_at_ms = 0;
  int64_t finished_at_ms = 0;
};

struct KeyStatus {
  std::string provider;  // "keyfile", "passphrase", "pkcs11"
  uint32_t active_version = 1;
  std::vector<KekVersionView> versions;  // ascending
  KeyRotationView rotation;
};

struct RotateOptions {
  size_t batch_size = 1000;  // DEKs per storage transaction
  // After each committed batch: DEKs rewrapped so far (this rotation, all runs) and the
  // number still under an older version when the run started.
  std::function<void(int64_t rewrapped, int64_t total)> progress;
  // Tests: stop (as if killed) after this many batches; 0 runs to the end.
  size_t TEST_stop_after_batches = 0;
};

struct RotateReport {
  uint32_t from_version = 0;
  uint32_t to_version = 0;
  bool resumed = false;    // an interrupted rotation was continued
  bool complete = false;   // every key is under to_version
  int64_t rewrapped = 0;   // DEKs rewrapped by this run
  int64_t gone = 0;        // DEKs destroyed while the rotation ran (left destroyed)
  int64_t vault_keys = 0;  // index keys, signing key, key check, TOTP secrets rewrapped
  int64_t epoch_keys = 0;  // epoch key files rewrapped
  int64_t batches = 0;
};

// --- epoch wrapping keys (issue 23; docs/keys.md "Epoch keys", docs/backup.md) ---

// One epoch: "current" (new wraps use it), "live" (older, kept for the window), "destroyed".
struct EpochView {
  uint32_t epoch = 0;
  std::string state;
  int64_t created_at_ms = 0;
  int64_t ended_at_ms = 0;      // when its successor was created; 0 for the current one
  int64_t destroyed_at_ms = 0;  // 0 unless destroyed
  // When the schedule destroys it (created + key_epochs x key_epoch_length); 0 if destroyed.
  int64_t destroy_due_ms = 0;
  int64_t wrapped_deks = 0;  // customers' DEKs wrapped under it
  bool key_present = false;  // its file is in the epoch key store
};

struct EpochStatus {
  uint32_t current = 0;
  int64_t length_ms = 0;          // [backup] key_epoch_length
  uint32_t keep = 0;              // [backup] key_epochs
  int64_t window_ms = 0;          // keep x length
  int64_t next_rotation_ms = 0;   // when the current epoch is due to be replaced
  int64_t kek_wrapped_deks = 0;   // DEKs still wrapped by the KEK (format 1; migration pending)
  std::vector<EpochView> epochs;  // ascending, destroyed ones too
  std::string rewrap_state;       // "none", "running" (or interrupted), "done"
  uint32_t rewrap_to = 0;
  int64_t rewrapped = 0;
};

struct EpochRotateOptions {
  size_t batch_size = 1000;  // DEKs per storage transaction
  // Create a new epoch even if the current one is younger than key_epoch_length.
  bool force = false;
  // Tests: stop (as if killed) after this many re-wrap batches; 0 runs to the end.
  size_t TEST_stop_after_batches = 0;
};

struct EpochRotateReport {
  uint32_t created = 0;  // the epoch created by this run; 0 if none was due
  uint32_t current = 0;
  int64_t rewrapped = 0;            // DEKs re-wrapped under the current epoch by this run
  std::vector<uint32_t> destroyed;  // epochs destroyed by this run
  // Epochs due for destruction but still named by a wrapped key (left for the next rotation).
  std::vector<uint32_t> delayed;
  bool complete = false;  // the re-wrap finished (false when stopped by TEST_stop_after_batches)
};

// Told of each epoch destroyed, after its key file is shredded and before the destruction is
// recorded; called again for the same epoch after a crash between the two, so it must be
// idempotent. The backup half (key backups sealed under K_n) destroys K_n and the key backups
// of epoch n here. An error leaves the epoch recorded as live but without its key; the next
// rotation calls the observers again and records it.
struct EpochDestroyed {
  uint32_t epoch = 0;
  int64_t created_at_ms = 0;
  int64_t destroyed_at_ms = 0;
};
using EpochObserver = std::function<Status(const EpochDestroyed&)>;

class KeyService {
 public:
  // Made by Vault::Open; borrows the vault's state, which outlives it.
  explicit KeyService(VaultState& state) : state_(&state) {}

  // --- keys (issue 6; docs/keys.md) ---
  // Adds a KEK version (a new keyfile kek.vN.key, or a new key object in the HSM), makes it
  // the one new wraps use, and rewraps every customer DEK (in batches, each its own short
  // storage transaction, so other processes keep serving) and every KEK-wrapped vault key
  // under it. A rotation that was interrupted (killed, crashed) is resumed instead of starting
  // another. key.manage. Audited at start (or resume) and at the end, with counts.
  // FailedPrecondition for the passphrase provider (one KEK per passphrase); DataLoss if a
  // stored key does not unwrap (the rotation stops there and can be resumed after repair).
  Result<RotateReport> Rotate(const Context& ctx, const RotateOptions& options);
  // Versions, their states and counts, and the rotation's progress. key.read. Audited.
  Result<KeyStatus> GetStatus(const Context& ctx);
  // Destroys the key material of `version` once nothing is wrapped under it: its state
  // becomes "retired". key.manage. Audited. FailedPrecondition if it is the active version,
  // a rotation is unfinished, or keys are still wrapped under it (naming the counts);
  // NotFound for a version the vault never had. Retiring a retired version is OK (nothing).
  Status Retire(const Context& ctx, uint32_t version);

  // --- epoch wrapping keys (issue 23; src/vault/epoch_rotation.cpp) ---
  // `custos key epoch rotate`: what the schedule does, now (key.manage; audited
  // "key.epoch_rotate", and "key.epoch_destroy" per epoch destroyed): creates E_(n+1) when the
  // current epoch is at least key_epoch_length old (or `force`), re-wraps every DEK under an
  // older epoch (or still under the KEK) under the current one in batches, each its own
  // storage transaction with its progress in metadata (a killed rotation resumes), then
  // destroys each epoch the schedule is done with (crypto::PlanEpochRotation) that no
  // wrapped key names: its file overwritten, fsynced and unlinked. DataLoss naming the
  // customer if a wrapped key does not open (the rotation stops there; rerun after repair).
  Result<EpochRotateReport> RotateEpochs(const Context& ctx, const EpochRotateOptions& options);
  // `custos key epoch status`: the epochs, their dates and counts (key.read; audited).
  Result<EpochStatus> GetEpochStatus(const Context& ctx);
  // The vault's own job (Vault::Open and `custos serve`'s scheduler): RotateEpochs as the
  // "system" actor on the job channel, only when something is due (a new epoch, an unfinished
  // re-wrap, an epoch to destroy). Returns a report with nothing done when nothing was due.
  Result<EpochRotateReport> RunScheduledEpochRotation(const EpochRotateOptions& options = {});
  // Adds an observer told of every epoch destroyed (see EpochObserver). Set before concurrent
  // use (Vault::Open callers, the backup component's wiring).
  void AddEpochObserver(EpochObserver observer);

 private:
  VaultState* state_;
};

}  // namespace custos::vault
