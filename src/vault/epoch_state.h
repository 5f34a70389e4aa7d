// Internal to the vault: the epoch wrapping keys' state in vault metadata (issue 23;
// docs/decisions.md "Destruction that reaches every copy", docs/backup.md "Epoch keys").
// The keys themselves live in the epoch key store <vault>/epoch-keys (crypto/epoch_keys.h),
// never in the database; the metadata says which epoch new wraps use, which epochs are live
// (with their start times), which were destroyed (and when), and how far a re-wrap got.
//
//   epoch_state  = "current=3;live=2@<ms>,3@<ms>;destroyed=1@<created ms>@<destroyed ms>"
//   epoch_rewrap = "state=running;to=3;cursor=<customer id>;rewrapped=N;passes=P;started=<ms>;
//                   finished=<ms>"
//
// The wrapped_keys column kek_version tells the two wrappings of a DEK apart without reading
// the blob: a KEK version (format 1, 1 .. 2^31 - 1) for DEKs still wrapped by the KEK (a vault
// not yet migrated), kEpochColumnBase + n for a DEK wrapped under epoch key n (format 2).
// Store queries by "version" (ListWrappedKeysNotAt, CountWrappedKeysByVersion,
// ReplaceWrappedKey) therefore work on epochs too.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "crypto/epoch_keys.h"
#include "store/store.h"

namespace custos::vault {

inline constexpr std::string_view kMetaEpochState = "epoch_state";
inline constexpr std::string_view kMetaEpochRewrap = "epoch_rewrap";
// Written first by every transaction that may create an epoch: it serialises them across
// processes (SQLite takes the write lock, PostgreSQL the row lock), so two processes opening a
// vault at once create one epoch, not two.
inline constexpr std::string_view kMetaEpochLock = "epoch_lock";

inline constexpr uint32_t kEpochColumnBase = 0x80000000u;
// The wrapped_keys.kek_version of a DEK wrapped under epoch `epoch`.
constexpr uint32_t EpochColumn(uint32_t epoch) { return kEpochColumnBase + epoch; }
// Whether a wrapped_keys.kek_version names an epoch (format 2) rather than a KEK version.
constexpr bool IsEpochColumn(uint32_t column) { return column >= kEpochColumnBase; }
constexpr uint32_t EpochOfColumn(uint32_t column) { return column - kEpochColumnBase; }

struct DestroyedEpoch {
  uint32_t epoch = 0;
  int64_t created_at_ms = 0;
  int64_t destroyed_at_ms = 0;
};

struct EpochState {
  uint32_t current = 0;                   // 0: no epoch yet (a vault not yet migrated)
  std::vector<crypto::EpochInfo> live;    // ascending; the current one last
  std::vector<DestroyedEpoch> destroyed;  // ascending
  std::optional<crypto::EpochInfo> Find(uint32_t epoch) const;
  std::optional<DestroyedEpoch> FindDestroyed(uint32_t epoch) const;
};

struct EpochRewrap {
  std::string state = "none";  // "none", "running", "done"
  uint32_t to = 0;
  std::string cursor;  // the last customer id of the last committed batch of this pass
  int64_t rewrapped = 0;
  int64_t passes = 0;
  int64_t started_at_ms = 0;
  int64_t finished_at_ms = 0;
};

// nullopt when the vault has no epoch state (made before issue 23: migration pending).
// DataLoss naming the key if it does not parse.
Result<std::optional<EpochState>> ReadEpochState(store::Transaction& txn);
Status WriteEpochState(store::Transaction& txn, const EpochState& state);
Result<EpochRewrap> ReadEpochRewrap(store::Transaction& txn);
Status WriteEpochRewrap(store::Transaction& txn, const EpochRewrap& rewrap);

// A restored vault's state (from a data backup) made to match the epoch keys its store holds
// (from the key side, taken later; `held` as the store's files record them): an epoch listed
// live whose key is not in `held` was destroyed since (recorded destroyed at `now_ms`); a held
// epoch the state lists neither live nor destroyed is added live with the creation time its
// file records (never `now_ms`: that would restart its window and delay its destruction); the
// newest held epoch becomes current. Live and destroyed lists come back ascending. Returns
// false, leaving `state` untouched, when no listed or new epoch is held (nothing to adopt: Open
// then names the missing epoch).
bool AdoptHeldEpochs(EpochState& state, const std::vector<crypto::EpochInfo>& held, int64_t now_ms);

}  // namespace custos::vault
