// EpochKeyStore: the vault's epoch wrapping keys (issue 23; docs/decisions.md "Destruction
// that reaches every copy"; docs/backup.md "Epoch keys"). Customers' DEKs are wrapped under
// the key of the current epoch instead of the KEK, so a copy of the database or of a data
// backup holds no DEK the KEK alone opens; an epoch key destroyed after the epoch window takes
// every older wrapping of every DEK with it.
//
// Layout: one file per epoch in the store's directory (outside the database),
//   <dir>/epoch-NNNNNNNN.key = "custos-epoch/1" || created_at_ms (8, big endian)
//                              || KeyProvider::Wrap(E_n, aad)
//   aad = "custos/epoch/v1" 0 vault_id 0 n 0 created_at_ms       (n and the time decimal)
// so a file renamed to another epoch, moved to another vault or given another date does not
// open. E_n is AeadKeySize(suite) random bytes; it is held in memory after the store opens.
//
// A DEK wrapped under an epoch key:
//   header: format 2 (kEpochWrapFormat), suite, epoch (4 bytes, big endian) || framed AEAD
//   aad = "custos/dek-epoch/v1" 0 customer_id 0 n
// Format 2 is not a Keyring ciphertext (ReadCiphertextHeader refuses it): the two wrappings of
// a DEK cannot be confused.
//
// Epoch numbers only grow: the newest epoch (the current one) can never be destroyed, so the
// next is always the highest present + 1 and a number is never reused.
//
// Thread safety: every method may be called concurrently. Several processes may share a
// store: an epoch created by another process is read from disk when first named.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/status.h"
#include "crypto/key_provider.h"
#include "crypto/primitives.h"

namespace custos::crypto {

inline constexpr uint8_t kEpochWrapFormat = 2;

struct EpochInfo {
  uint32_t epoch = 0;
  int64_t created_at_ms = 0;
};

// The epoch a DEK wrapped by EpochKeyStore names in its header. DataLoss if it is shorter
// than a header or is not an epoch wrapping (format 2).
Result<uint32_t> WrappedDekEpoch(ByteView wrapped);

// The file holding epoch `epoch` in a store at `dir`.
std::filesystem::path EpochKeyPath(const std::filesystem::path& dir, uint32_t epoch);

// The rotation schedule ([backup] key_epoch_length, key_epochs; docs/backup.md "Epochs and the
// window"). With length L and keep K (>= 2) the epoch window is W = K * L.
struct EpochSchedule {
  int64_t length_ms = 7LL * 24 * 3600 * 1000;
  uint32_t keep = 4;
};

// What a rotation at `now_ms` must do with the epochs held (oldest first).
struct EpochRotationPlan {
  // A new epoch is due: the store is empty, or the current one is at least L old.
  bool create = false;
  // Epochs to destroy, oldest first: every epoch that is not current and stopped being current
  // (its successor was created) at least (K - 1) * L ago. Epoch m created at S_m and replaced
  // on time at S_m + L is destroyed at S_m + K * L; a vault idle for longer than the window
  // destroys all its old epochs at the next rotation (after re-wrapping). A backup taken at t
  // stays restorable until at least t + (K - 1) * L. Epochs created by this plan's `create`
  // count: the current one becomes an old one ended now.
  std::vector<uint32_t> destroy;
};
// InvalidArgument if the schedule's length is not positive or keep < 2.
Result<EpochRotationPlan> PlanEpochRotation(const std::vector<EpochInfo>& epochs, int64_t now_ms,
                                            const EpochSchedule& schedule);

// When a destruction is complete in every copy (docs/backup.md "The completion date"): a
// customer destroyed while `epochs` (oldest first, non-empty) were held can still be opened
// from older copies through any of them; the last, the current one created at S, is destroyed
// by S + K * L if rotations run on time. InvalidArgument for an empty list or a bad schedule.
struct EpochCompletion {
  int64_t complete_by_ms = 0;
  std::vector<uint32_t> epochs;  // the epochs that must be destroyed, oldest first
};
Result<EpochCompletion> CompletionOfDestruction(const std::vector<EpochInfo>& epochs,
                                                const EpochSchedule& schedule);

class EpochKeyStore {
 public:
  // Opens the store in `dir` (created with mode 0700, parents too, if absent) for the vault
  // `vault_id`, reading and unwrapping every epoch file with `kek`. An empty store is valid
  // (no current epoch until CreateNext). InvalidArgument if vault_id is empty or holds a NUL;
  // DataLoss naming the file if one is malformed or does not open under the KEK (altered,
  // renamed, of another vault); NotFound if its KEK version is not held; Unavailable on I/O
  // errors. `kek` and `env` must outlive the store.
  static Result<std::unique_ptr<EpochKeyStore>> Open(const std::filesystem::path& dir,
                                                     std::string_view vault_id, Suite suite,
                                                     const KeyProvider& kek,
                                                     Env& env = Env::Default());

  const std::filesystem::path& dir() const { return dir_; }
  // The epochs held, oldest first.
  std::vector<EpochInfo> Epochs() const;
  // The newest epoch held (the one new wraps use); nullopt for an empty store.
  std::optional<EpochInfo> Current() const;
  // Whether the key of `epoch` is held (in memory, or on disk: looked up).
  bool Holds(uint32_t epoch) const;

  // Creates epoch max(highest held + 1, at_least) with a fresh key, written durably
  // (Env::CreateFileAtomic: never replacing) before it is returned; from then on it is the
  // current epoch. `at_least` lets the vault skip numbers it used before (destroyed epochs
  // are not in the store). Conflict if another process created that epoch first (reopen or
  // retry); Unavailable on I/O errors, and then no file is left for it.
  Result<EpochInfo> CreateNext(int64_t now_ms, uint32_t at_least = 1);

  // Destroys epoch `epoch`: its file is overwritten with zeros, fsynced and unlinked, the
  // directory fsynced, and the key dropped from memory. OK if it is already gone.
  // FailedPrecondition for the current epoch (a store always keeps the newest). Callers must
  // first make sure nothing live is still wrapped under it. Unavailable on I/O errors.
  // Copies of the file outside the store (filesystem snapshots) are the operator's.
  Status Destroy(uint32_t epoch);

  // Wraps `dek` under the current epoch. FailedPrecondition if the store is empty;
  // InvalidArgument if customer_id is empty or holds a NUL, or the DEK size is wrong.
  Result<Bytes> WrapDek(std::string_view customer_id, const SecretBytes& dek) const;
  // As WrapDek under `epoch`. NotFound if the store does not hold it.
  Result<Bytes> WrapDekUnder(std::string_view customer_id, const SecretBytes& dek,
                             uint32_t epoch) const;
  // Opens a wrapped DEK. NotFound naming the epoch if its key is not held (destroyed: the
  // epoch window has passed); DataLoss if the wrapping is altered, of another customer or of
  // another suite.
  Result<SecretBytes> UnwrapDek(std::string_view customer_id, ByteView wrapped) const;
  // Unwrapped and wrapped again under `epoch` (rotation). The errors of the two above.
  Result<Bytes> RewrapDek(std::string_view customer_id, ByteView wrapped, uint32_t epoch) const;

  // KEK rotation (docs/keys.md): every held epoch's file whose wrapping names another KEK
  // version than `kek_version` is written again, the same key and creation time wrapped under
  // `kek_version` (KeyProvider::WrapWith), each file replaced atomically (temporary file,
  // fsync, rename, directory fsync): a crash leaves the old or the new file, both readable
  // while both KEK versions are held. Returns how many files were rewritten. NotFound if the
  // provider does not hold `kek_version`; DataLoss naming a file that does not open;
  // Unavailable on I/O errors (files already rewritten stay rewritten: rerun).
  Result<int64_t> RewrapFiles(uint32_t kek_version);
  // The KEK version each epoch file in the directory is wrapped under (read from the files,
  // epochs another process created included), by epoch.
  // DataLoss naming a malformed file; Unavailable on I/O errors.
  Result<std::map<uint32_t, uint32_t>> FileKekVersions() const;

  ~EpochKeyStore();
  EpochKeyStore(const EpochKeyStore&) = delete;
  EpochKeyStore& operator=(const EpochKeyStore&) = delete;

 private:
  struct Entry {
    int64_t created_at_ms = 0;
    SecretBytes key;
  };
  EpochKeyStore(std::filesystem::path dir, std::string vault_id, Suite suite,
                const KeyProvider& kek, Env& env);
  // Reads and unwraps the file of `epoch`. NotFound if it is absent.
  Result<Entry> LoadFile(uint32_t epoch) const;
  // The file's contents for `key` of `epoch` created at `created_at_ms`, wrapped under KEK
  // version `kek_version`.
  Result<std::string> FileText(uint32_t epoch, int64_t created_at_ms, const SecretBytes& key,
                               uint32_t kek_version) const;
  // The key of `epoch` (copied), from memory or loaded from disk. NotFound if not held.
  Result<SecretBytes> KeyOf(uint32_t epoch) const;

  const std::filesystem::path dir_;
  const std::string vault_id_;
  const Suite suite_;
  const KeyProvider& kek_;
  Env& env_;
  mutable std::shared_mutex mutex_;
  mutable std::map<uint32_t, Entry> epochs_;
};

}  // namespace custos::crypto
