// Internal to the vault: the KEK-wrapped keys a vault keeps besides the customers' DEKs —
// the key check, one index key per searchable field, the checkpoint signing key and the
// staff TOTP secrets. A rotation rewraps them; a retirement must find none under the version
// it destroys.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/store.h"
#include "vault/vault_impl.h"

namespace custos::vault {

struct VaultKeyRef {
  std::string name;  // "kek_check", "index_key:phone", "signing_key", "totp:li.na"
  uint32_t kek_version = 0;
};

// Every KEK-wrapped vault key and the version it is under. Index keys are looked up for
// every field of the catalogue (searchable now or once). DataLoss if one has no readable header.
Result<std::vector<VaultKeyRef>> ListVaultKeys(const VaultState& m, store::Transaction& txn);

// Rewraps every vault key not yet under `kek_version`; returns how many were rewrapped.
// The errors of unwrapping (DataLoss, NotFound for a missing version) name the key.
Result<int64_t> RewrapVaultKeys(VaultState& m, store::Transaction& txn, uint32_t kek_version);

}  // namespace custos::vault
