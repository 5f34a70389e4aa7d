// The destruction ledger (docs/retention.md; a contract with the backup component):
// <vault_dir>/destruction-ledger.jsonl, one JSON line per destroyed item, appended and fsynced
// after each committed run. The first line of a new file is the header
//   {"format":"custos-destruction-ledger/1","vault_id":"<id>","salt":"<hex>"}
// and each entry reads
//   {"seq":N,"ts_ms":T,"run_id":"...","kind":"customer"|"profile"|"consent"|"transaction"|"note","id_hash":"<hex>"}
// where id_hash = hex HMAC-SHA256(salt, id) of the customer, transaction or note id and salt
// is the vault's 32-byte meta value "lifecycle.id_salt". seq is the store's destruction-log
// seq: the file is brought up to date from the store, so a run killed after its commits and
// before the append is completed by the next run (entries are never written twice).
//
// Thread safety: functions on a file; callers serialise writers (the vault runs one sweep at
// a time).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/status.h"
#include "crypto/primitives.h"
#include "store/store.h"

namespace custos::lifecycle {

inline constexpr std::string_view kLedgerFormat = "custos-destruction-ledger/1";
inline constexpr std::string_view kLedgerFile = "destruction-ledger.jsonl";
inline constexpr std::string_view kSaltMetaKey = "lifecycle.id_salt";
inline constexpr size_t kSaltBytes = 32;

// Lower-case hex HMAC-SHA256(salt, id).
std::string IdHash(const crypto::SecretBytes& salt, std::string_view id);

// The seq of the file's last entry; 0 when the file is absent or holds only the header.
// DataLoss when a line does not parse.
Result<int64_t> LastLedgerSeq(const std::filesystem::path& file);

// Appends the entries whose seq is above the file's last (creating the file with its header
// first) through `env` (Env::AppendDurable: fsyncs the file and, for a new file, its
// directory; a failed append is cut back to the previous length). A torn last line a crash
// left is cut off first. Unavailable naming the file on an I/O error.
Status AppendLedger(const std::filesystem::path& file, std::string_view vault_id,
                    std::string_view salt_hex, const std::vector<store::DestructionRow>& entries,
                    Env& env = Env::Default());

// One entry's line (without the newline), exactly as written.
std::string LedgerLine(const store::DestructionRow& entry);

}  // namespace custos::lifecycle
