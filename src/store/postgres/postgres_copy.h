// Moving up (issue 4, P3.2a): copies a whole SQLite vault database into a
// PostgreSQL store, row for row. Ciphertext is copied as it is and keys stay
// wrapped: nothing is decrypted, so no key is needed and nothing about a person
// is ever in plaintext here. The audit log and its signed checkpoints are
// copied entry for entry, so the chain (and the head file next to the config)
// verifies after the move exactly as before.
//
// Thread safety: a free function; it holds SQLite's write lock (BEGIN
// IMMEDIATE) for the whole copy, so no writer of the source can commit
// meanwhile, and writes the target in one PostgreSQL transaction: after a
// failure the target holds nothing of the copy.
#pragma once

#include <cstdint>
#include <filesystem>

#include "core/progress.h"
#include "core/status.h"
#include "store/postgres/postgres_store.h"

namespace custos::store {

struct CopyReport {
  int64_t meta = 0;
  int64_t customers = 0;
  int64_t wrapped_keys = 0;
  int64_t index_entries = 0;
  int64_t transactions = 0;
  int64_t notes = 0;
  int64_t audit_entries = 0;
  int64_t checkpoints = 0;
  int64_t staff = 0;
  int64_t imports = 0;
  int64_t access_rows = 0;   // credentials, API tokens, training records, approvals (issue 3)
  int64_t consent_rows = 0;  // privacy notices and consent ledger entries (issue 3)
  // legal holds, retention plans, the destruction log (issue 6), account closures,
  // data-subject requests, and the audit log's Merkle tree nodes
  int64_t lifecycle_rows = 0;
};

// Copies every row of the SQLite database at `sqlite_path` into the PostgreSQL
// schema named by `target` (created and migrated when absent). Success: the
// counts copied; the target holds exactly the source's rows. NotFound: no
// database at `sqlite_path`. FailedPrecondition: the source's schema version is
// not the one this Custos knows. Conflict: the target already holds a vault
// (vault metadata, customers, staff or audit
//   entries); nothing is written.
// Unavailable / InvalidArgument: as OpenPostgresStore, or the copy failed
// (rolled back).
// `progress`, when set, hears the rows copied of the source's rows (counted first, under
// the same lock).
Result<CopyReport> CopySqliteToPostgres(const std::filesystem::path& sqlite_path,
                                        const PostgresOptions& target,
                                        const ProgressFn& progress = {});

}  // namespace custos::store
