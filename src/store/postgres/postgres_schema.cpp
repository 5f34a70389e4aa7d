#include "store/postgres/postgres_schema.h"

#include <fmt/core.h>

#include <string>

#include "store/sql.h"
#include "store/tables.h"

namespace custos::store::postgres {
static_assert(kLatestSchemaVersion >= kAuditTreeMigration,
              "the latest schema version must include the audit tree's migration");

namespace {

// The migrations are the tables described in store/tables.h, generated for PostgreSQL
// (every integer BIGINT, every blob BYTEA: values travel in binary; keys COLLATE "C"), plus
// what PostgreSQL writes by hand:
//
// - migration 1: blind_index is keyed (customer_id, field, token) so it can be distributed
//   with the customer; searches use the secondary index (field, token). No customer_tokens
//   table is needed: a customer's tokens are found by the primary key.
// - migration 3: the consent ledger is append-only: a trigger refuses UPDATE and DELETE.
// - migration 4: the ledger's one deletion path (a customer named in consent_erasures within
//   the destroying transaction).
constexpr HandWritten kHandWritten[] = {
    {1, "blind_index", R"sql(CREATE TABLE blind_index(
  customer_id TEXT COLLATE "C" NOT NULL,
  field       TEXT COLLATE "C" NOT NULL,
  token       BYTEA NOT NULL,
  PRIMARY KEY(customer_id, field, token)
);
CREATE INDEX blind_index_by_token ON blind_index(field, token, customer_id);
)sql"},
    {3, "consent_ledger",
     R"sql(CREATE FUNCTION consent_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'consent_ledger is append-only';
END
$$;
CREATE TRIGGER consent_ledger_no_change BEFORE UPDATE OR DELETE ON consent_ledger
  FOR EACH ROW EXECUTE FUNCTION consent_ledger_append_only();
)sql"},
    {4, "consent_erasures",
     R"sql(CREATE OR REPLACE FUNCTION consent_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM consent_erasures e
                                  WHERE e.customer_id = OLD.customer_id) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'consent_ledger is append-only';
END
$$;
)sql"},
    // audit_keys as migration 16 created it (migration 18 replaces it by audit_key_spans).
    {kAuditKeysMigration, "audit_keys_state", R"sql(CREATE TABLE audit_keys(
  col BIGINT NOT NULL,
  key TEXT COLLATE "C" NOT NULL,
  seq BIGINT NOT NULL,
  PRIMARY KEY(col, key, seq)
);
)sql"},
    {kAuditKeysMigration, "audit_keys_state", kAuditKeysMigrationSql},
    {kAuditTimeSpansMigration, "audit_time_spans", kAuditTimeSpansMigrationSql},
    {kAuditKeySpansMigration, "audit_key_spans", kAuditKeySpansMigrationSql},
};

constexpr const char* kLockSchema = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";
constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations("
    "version BIGINT PRIMARY KEY, applied_at_ms BIGINT NOT NULL)";
constexpr const char* kHasMigrationsTable =
    "SELECT count(*) FROM pg_catalog.pg_tables "
    "WHERE schemaname = current_schema() AND tablename = 'schema_migrations'";
constexpr const char* kSelectVersion =
    "SELECT coalesce(max(version), 0)::bigint FROM schema_migrations";
constexpr const char* kInsertVersion =
    "INSERT INTO schema_migrations(version, applied_at_ms) VALUES($1, $2)";

Status ApplyPending(PgConn& conn, const std::string& schema, bool create, int64_t now_ms) {
  const std::string lock_key = "custos.migrate:" + schema;
  CUSTOS_RETURN_IF_ERROR(conn.Exec(kLockSchema, Params().Text(lock_key), "migrate: lock").status());
  if (create) {
    // DDL takes no parameters: the name is quoted by libpq (and validated by
    // the store).
    char* quoted = PQescapeIdentifier(conn.raw(), schema.c_str(), schema.size());
    if (quoted == nullptr) return InvalidArgument("store: option 'schema': not a valid name");
    const std::string sql = fmt::format("CREATE SCHEMA IF NOT EXISTS {}", quoted);
    PQfreemem(quoted);
    CUSTOS_RETURN_IF_ERROR(conn.ExecSimple(sql.c_str(), "migrate: create schema").status());
    CUSTOS_RETURN_IF_ERROR(
        conn.ExecSimple(kCreateMigrationsTable, "migrate: create schema_migrations").status());
  }
  CUSTOS_ASSIGN_OR_RETURN(int current, ReadSchemaVersion(conn));
  if (current == 0 && !create) {
    return NotFound(
        fmt::format("store: PostgreSQL schema '{}' holds no Custos "
                    "database (run `custos init` first)",
                    schema));
  }
  if (current > kLatestSchemaVersion) {
    return FailedPrecondition(
        fmt::format("store: database schema version {} is newer than this "
                    "Custos knows ({}); "
                    "upgrade Custos to open it",
                    current, kLatestSchemaVersion));
  }
  for (int version = current + 1; version <= kLatestSchemaVersion; ++version) {
    const std::string op = fmt::format("migrate: apply version {}", version);
    const std::string sql = MigrationSql(version, Dialect::kPostgres, kHandWritten);
    // A version with nothing to create (a number reserved for another change) is only recorded:
    // PostgreSQL refuses an empty query string.
    if (!sql.empty()) CUSTOS_RETURN_IF_ERROR(conn.ExecSimple(sql.c_str(), op).status());
    CUSTOS_RETURN_IF_ERROR(
        conn.Exec(kInsertVersion, Params().Int(version).Int(now_ms), "migrate: record version")
            .status());
  }
  return Status::Ok();
}

}  // namespace

Result<int> ReadSchemaVersion(PgConn& conn) {
  CUSTOS_ASSIGN_OR_RETURN(PgResult exists,
                          conn.Exec(kHasMigrationsTable, Params(), "read schema version"));
  if (exists.Rows() == 0 || exists.Int(0, 0) == 0) return 0;
  CUSTOS_ASSIGN_OR_RETURN(PgResult version,
                          conn.Exec(kSelectVersion, Params(), "read schema version"));
  return version.Rows() == 0 ? 0 : static_cast<int>(version.Int(0, 0));
}

Status Migrate(PgConn& conn, const std::string& schema, bool create, int64_t now_ms) {
  CUSTOS_RETURN_IF_ERROR(conn.ExecSimple("BEGIN", "migrate: begin").status());
  Status status = ApplyPending(conn, schema, create, now_ms);
  if (status.ok()) {
    auto commit = conn.ExecSimple("COMMIT", "migrate: commit");
    status = commit.status();
    if (status.ok() && commit->CommandTag() != "COMMIT") {
      status = Unavailable("store: migrate: commit: the server rolled the migration back");
    }
  }
  if (!status.ok() && !conn.Broken() && !conn.Idle()) {
    conn.ExecSimple("ROLLBACK", "migrate: rollback").status().IgnoreError();
  }
  return status;
}

}  // namespace custos::store::postgres
