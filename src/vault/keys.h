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
  int64_t wrapped_deks = 0;       // customers' DEKs wrapped under it
  int64_t vault_keys = 0;         // index keys, signing key, key check, TOTP secrets under it
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
  int64_t batches = 0;
};

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

 private:
  VaultState* state_;
};

}  // namespace custos::vault
