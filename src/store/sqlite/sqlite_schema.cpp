#include "store/sqlite/sqlite_schema.h"

#include <fmt/core.h>

#include <string>

#include "store/sql.h"
#include "store/tables.h"

namespace custos::store::sqlite {
static_assert(kLatestSchemaVersion >= kAuditTreeMigration,
              "the latest schema version must include the audit tree's migration");

namespace {

// The migrations are the tables described in store/tables.h (each created by the migration
// its `since_schema_version` names), generated for SQLite, plus what SQLite writes by hand:
//
// - migration 1: the blind index. Keyed (field, token, customer_id) so a search is one range
//   of the primary key, with each customer's tokens beside it in customer_tokens (so
//   PutIndexEntries can replace them and a shredded customer's entries can be found by key:
//   a row per customer is appended, where a second index on blind_index would take a random
//   write), and blind_index_staged for bulk imports.
// - migration 3: the consent ledger is append-only: triggers refuse UPDATE and DELETE, so
//   even a bug above the store cannot rewrite what a customer agreed to.
// - migration 4: the ledger's one deletion path, destroying the whole customer
//   (Transaction::EraseCustomer): the customer is named in consent_erasures within the
//   destroying transaction.
//
// No foreign keys between the customer tables: the vault decides the order of writes (a
// wrapped key may be stored before its customer row) and shredding deletes rows
// independently; foreign_keys=ON is set for later migrations that want them.
constexpr HandWritten kHandWritten[] = {
    {1, "blind_index", R"sql(CREATE TABLE blind_index(
  field       TEXT NOT NULL,
  token       BLOB NOT NULL,
  customer_id TEXT NOT NULL,
  PRIMARY KEY(field, token, customer_id)
) WITHOUT ROWID;
CREATE TABLE customer_tokens(
  customer_id TEXT PRIMARY KEY,
  tokens      BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE blind_index_staged(
  seq         INTEGER PRIMARY KEY,
  field       TEXT NOT NULL,
  token       BLOB NOT NULL,
  customer_id TEXT NOT NULL
);
)sql"},
    {3, "consent_ledger",
     R"sql(CREATE TRIGGER consent_ledger_no_update BEFORE UPDATE ON consent_ledger
BEGIN SELECT RAISE(ABORT, 'consent_ledger is append-only'); END;
CREATE TRIGGER consent_ledger_no_delete BEFORE DELETE ON consent_ledger
BEGIN SELECT RAISE(ABORT, 'consent_ledger is append-only'); END;
)sql"},
    {4, "consent_erasures", R"sql(DROP TRIGGER consent_ledger_no_delete;
CREATE TRIGGER consent_ledger_no_delete BEFORE DELETE ON consent_ledger
WHEN NOT EXISTS (SELECT 1 FROM consent_erasures WHERE customer_id = OLD.customer_id)
BEGIN SELECT RAISE(ABORT, 'consent_ledger is append-only'); END;
)sql"},
    // audit_keys as migration 16 created it (migration 18 replaces it by audit_key_spans).
    {kAuditKeysMigration, "audit_keys_state", R"sql(CREATE TABLE audit_keys(
  col INTEGER NOT NULL,
  key TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY(col, key, seq)
) WITHOUT ROWID;
)sql"},
    {kAuditKeysMigration, "audit_keys_state", kAuditKeysMigrationSql},
    {kAuditTimeSpansMigration, "audit_time_spans", kAuditTimeSpansMigrationSql},
    {kAuditKeySpansMigration, "audit_key_spans", kAuditKeySpansMigrationSql},
};

constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations("
    "version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL)";
constexpr const char* kSelectVersion = "SELECT coalesce(max(version), 0) FROM schema_migrations";
constexpr const char* kInsertVersion =
    "INSERT INTO schema_migrations(version, applied_at_ms) VALUES(?1, ?2)";
constexpr const char* kSelectMigrationsTable =
    "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'";

Status ApplyPending(SqliteDb& db, int64_t now_ms) {
  CUSTOS_RETURN_IF_ERROR(db.Exec(kCreateMigrationsTable, "migrate: create schema_migrations"));
  CUSTOS_ASSIGN_OR_RETURN(int current, ReadSchemaVersion(db));
  if (current > kLatestSchemaVersion) {
    return FailedPrecondition(
        fmt::format("store: database schema version {} is newer than this Custos knows ({}); "
                    "upgrade Custos to open it",
                    current, kLatestSchemaVersion));
  }
  for (int version = current + 1; version <= kLatestSchemaVersion; ++version) {
    std::string op = fmt::format("migrate: apply version {}", version);
    const std::string sql = MigrationSql(version, Dialect::kSqlite, kHandWritten);
    CUSTOS_RETURN_IF_ERROR(db.Exec(sql.c_str(), op));
    CUSTOS_ASSIGN_OR_RETURN(Stmt record, db.Prepare(kInsertVersion, "migrate: record version"));
    record.Bind(1, int64_t{version});
    record.Bind(2, now_ms);
    CUSTOS_RETURN_IF_ERROR(record.Run());
  }
  return Status::Ok();
}

}  // namespace

Result<int> ReadSchemaVersion(SqliteDb& db) {
  CUSTOS_ASSIGN_OR_RETURN(Stmt exists, db.Prepare(kSelectMigrationsTable, "read schema version"));
  CUSTOS_ASSIGN_OR_RETURN(bool row, exists.Step());
  if (!row || exists.Int(0) == 0) return 0;
  CUSTOS_ASSIGN_OR_RETURN(Stmt select, db.Prepare(kSelectVersion, "read schema version"));
  CUSTOS_ASSIGN_OR_RETURN(row, select.Step());
  if (!row) return 0;
  return static_cast<int>(select.Int(0));
}

Status Migrate(SqliteDb& db, int64_t now_ms) {
  // IMMEDIATE: two processes opening a fresh database at once must not both migrate.
  CUSTOS_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE", "migrate: begin"));
  Status status = ApplyPending(db, now_ms);
  if (status.ok()) status = db.Exec("COMMIT", "migrate: commit");
  if (!status.ok() && !db.InAutocommit()) {
    db.Exec("ROLLBACK", "migrate: rollback").IgnoreError();
  }
  return status;
}

}  // namespace custos::store::sqlite
