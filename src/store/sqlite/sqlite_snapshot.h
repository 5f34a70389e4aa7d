// Internal to the store: Snapshot and Loader (snapshot.h) on a SQLite database file, each on a
// connection of its own.
#pragma once

#include <filesystem>
#include <memory>

#include "core/status.h"
#include "store/snapshot.h"
#include "store/sqlite/sqlite_store.h"

namespace custos::store::sqlite {

// A read transaction on the file's current WAL snapshot; it holds no write lock, so the
// store's writers carry on. Unavailable / DataLoss as SqliteDb::Open.
Result<std::unique_ptr<Snapshot>> OpenSnapshot(const std::filesystem::path& path,
                                               int busy_timeout_ms);

// A loader into the (migrated, empty) database at `path`. Conflict if it holds a vault.
Result<std::unique_ptr<Loader>> OpenLoader(const std::filesystem::path& path,
                                           const SqliteOptions& options);

}  // namespace custos::store::sqlite
