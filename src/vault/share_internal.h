// Internal to the vault: what the sharing service's files share (share_agreements.cpp,
// share_create.cpp, share_trace.cpp). Not a public header.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "schema/config.h"
#include "share/fingerprint.h"
#include "store/store.h"
#include "vault/sharing.h"

namespace custos::vault {

inline constexpr int64_t kSharingDayMs = int64_t{24} * 3600 * 1000;

// "<kind>:<id>" for a partner or agreement id, or "<kind>:(invalid id)" so that a hostile id
// never enters the log.
std::string SharingTarget(std::string_view kind, std::string_view id);

// The items of a comma-separated list (empty items dropped).
std::vector<std::string> SplitList(std::string_view text);

// The agreement as staff see it: its state computed from its approval and `now_ms`, the rows
// shared under it, and its deletion obligation. Failure: the store's error.
Result<AgreementView> AgreementOf(const VaultState& m, store::Transaction& txn,
                                  store::ShareAgreementRow row, int64_t now_ms);

// The secret every share's fingerprint key is derived from (share::ShareKey): an HMAC of the
// vault's signing key under a label, so no new key is stored; never leaves the process.
std::string FingerprintSecret(const VaultState& m);

// The canary rows of a share under key `key` with columns ref + `fields`: their cells as
// written. A free-text column's canary value is copied from a row of `real` (the share's real
// rows, ref first) chosen by the key; with `real` empty it is left empty (tracing uses only the
// values drawn from the key).
std::vector<std::vector<std::string>> CanaryRows(const schema::Config& config,
                                                 const share::FingerprintKey& key,
                                                 const std::vector<std::string>& fields,
                                                 const std::vector<std::vector<std::string>>& real,
                                                 int64_t count);

}  // namespace custos::vault
