// Internal to the vault: the KEK versions of a vault and the progress of a rotation, kept in
// vault metadata (docs/keys.md), and the metadata keys of the KEK-wrapped vault keys.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "core/status.h"
#include "store/store.h"

namespace custos::vault {

// KEK-wrapped vault keys in the metadata (vault_open.cpp writes them at init).
inline constexpr std::string_view kMetaKekCheck = "kek_check";
inline constexpr std::string_view kMetaSigningKey = "signing_key";
inline constexpr std::string_view kIndexKeyPrefix = "index_key:";
inline constexpr std::string_view kKekCheckAad = "custos/kek-check/v1";

// The rotation state. Absent keys mean a vault that never rotated: version 1, active.
inline constexpr std::string_view kMetaKekActive = "kek_active_version";  // "2"
inline constexpr std::string_view kMetaKekVersions = "kek_versions";      // "1=retiring,2=active"
inline constexpr std::string_view kMetaKekRotation = "kek_rotation";      // "state=running;..."

struct KekState {
  uint32_t active = 1;
  std::map<uint32_t, std::string> versions{{1, "active"}};  // version -> state
  std::string rotation = "none";                            // "none", "running", "done"
  uint32_t from = 0;
  uint32_t to = 0;
  int64_t rewrapped = 0;
  int64_t gone = 0;
  int64_t started_at_ms = 0;
  int64_t finished_at_ms = 0;
  std::string cursor;  // the last customer id of the last committed batch of this pass
  uint32_t HighestVersion() const;
};

// DataLoss naming the key if the stored state does not parse.
Result<KekState> ReadKekState(store::Transaction& txn);
Status WriteKekState(store::Transaction& txn, const KekState& state);
// Only the active version (cheap: one metadata read). 1 when absent.
Result<uint32_t> ReadActiveKekVersion(store::Transaction& txn);

}  // namespace custos::vault
