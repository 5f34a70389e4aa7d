#include "store/postgres_schema.h"

#include <fmt/core.h>

#include <array>

namespace custos::store::postgres {
namespace {

// Migration 1: the tables of the first release, as on SQLite. Differences:
// - blind_index is keyed (customer_id, field, token) so it can be distributed
// with the
//   customer; searches use the secondary index (field, token). No
//   customer_tokens table is needed: a customer's tokens are found by the
//   primary key.
// - every integer is BIGINT and every blob BYTEA (values travel in binary).
constexpr const char* kMigration1 = R"sql(
CREATE TABLE meta(
  key   TEXT COLLATE "C" PRIMARY KEY,
  value BYTEA NOT NULL
);

CREATE TABLE customers(
  customer_id      TEXT COLLATE "C" PRIMARY KEY,
  created_at_ms    BIGINT NOT NULL,
  updated_at_ms    BIGINT NOT NULL,
  source           TEXT NOT NULL,
  schema_version   BIGINT NOT NULL,
  env_general      BYTEA,
  env_internal     BYTEA,
  env_confidential BYTEA
);

CREATE TABLE wrapped_keys(
  customer_id TEXT COLLATE "C" PRIMARY KEY,
  kek_version BIGINT NOT NULL,
  wrapped_dek BYTEA NOT NULL
);

CREATE TABLE blind_index(
  customer_id TEXT COLLATE "C" NOT NULL,
  field       TEXT COLLATE "C" NOT NULL,
  token       BYTEA NOT NULL,
  PRIMARY KEY(customer_id, field, token)
);
CREATE INDEX blind_index_by_token ON blind_index(field, token, customer_id);

CREATE TABLE transactions(
  customer_id   TEXT COLLATE "C" NOT NULL,
  txn_id        TEXT COLLATE "C" NOT NULL,
  created_at_ms BIGINT NOT NULL,
  source        TEXT NOT NULL,
  ciphertext    BYTEA NOT NULL,
  PRIMARY KEY(customer_id, txn_id)
);

CREATE TABLE notes(
  customer_id   TEXT COLLATE "C" NOT NULL,
  note_id       TEXT COLLATE "C" NOT NULL,
  created_at_ms BIGINT NOT NULL,
  source        TEXT NOT NULL,
  level         BIGINT NOT NULL,
  ciphertext    BYTEA NOT NULL,
  PRIMARY KEY(customer_id, note_id)
);

CREATE TABLE audit_log(
  seq        BIGINT PRIMARY KEY,
  ts_ms      BIGINT NOT NULL,
  actor      TEXT NOT NULL,
  action     TEXT NOT NULL,
  target     TEXT NOT NULL,
  purpose    TEXT NOT NULL,
  channel    TEXT NOT NULL,
  decision   TEXT NOT NULL,
  reason     TEXT NOT NULL,
  fields     TEXT NOT NULL,
  request_id TEXT NOT NULL,
  prev_hash  BYTEA NOT NULL,
  hash       BYTEA NOT NULL
);

CREATE TABLE audit_checkpoints(
  seq       BIGINT PRIMARY KEY,
  ts_ms     BIGINT NOT NULL,
  hash      BYTEA NOT NULL,
  signature BYTEA NOT NULL
);

CREATE TABLE staff(
  staff_id      TEXT COLLATE "C" PRIMARY KEY,
  display_name  TEXT NOT NULL,
  post          TEXT NOT NULL,
  roles         TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  status        TEXT NOT NULL
);

CREATE TABLE imports(
  import_id       TEXT COLLATE "C" PRIMARY KEY,
  file_sha256     TEXT COLLATE "C" NOT NULL UNIQUE,
  actor           TEXT NOT NULL,
  started_at_ms   BIGINT NOT NULL,
  updated_at_ms   BIGINT NOT NULL,
  committed_lines BIGINT NOT NULL,
  imported        BIGINT NOT NULL,
  rejected        BIGINT NOT NULL,
  state           TEXT NOT NULL
);
)sql";

// Migration 2 (issue 3, access): staff credentials, API tokens, training records, approvals.
// None holds customer data; the TOTP secret is sealed by the vault before it arrives here.
constexpr const char* kMigration2Access = R"sql(
CREATE TABLE staff_credentials(
  staff_id        TEXT COLLATE "C" PRIMARY KEY,
  password_hash   TEXT NOT NULL,
  totp_sealed     BYTEA NOT NULL,
  failed_attempts BIGINT NOT NULL,
  locked_until_ms BIGINT NOT NULL,
  updated_at_ms   BIGINT NOT NULL
);

CREATE TABLE api_tokens(
  token_id      TEXT COLLATE "C" PRIMARY KEY,
  staff_id      TEXT COLLATE "C" NOT NULL,
  secret_sha256 BYTEA NOT NULL UNIQUE,
  label         TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  expires_at_ms BIGINT NOT NULL,
  revoked_at_ms BIGINT NOT NULL
);
CREATE INDEX api_tokens_by_staff ON api_tokens(staff_id, created_at_ms);

CREATE TABLE training_records(
  staff_id        TEXT COLLATE "C" NOT NULL,
  course          TEXT COLLATE "C" NOT NULL,
  completed_at_ms BIGINT NOT NULL,
  valid_until_ms  BIGINT NOT NULL,
  recorded_by     TEXT NOT NULL,
  PRIMARY KEY(staff_id, course, completed_at_ms)
);

CREATE TABLE approvals(
  approval_id     TEXT COLLATE "C" PRIMARY KEY,
  kind            TEXT NOT NULL,
  requester       TEXT COLLATE "C" NOT NULL,
  justification   TEXT NOT NULL,
  scope           TEXT NOT NULL,
  requested_at_ms BIGINT NOT NULL,
  expires_at_ms   BIGINT NOT NULL,
  approver        TEXT NOT NULL,
  decided_at_ms   BIGINT NOT NULL,
  state           TEXT NOT NULL
);
CREATE INDEX approvals_by_requester ON approvals(requester, requested_at_ms);
)sql";

// Migration 3 (issue 3, consent): privacy notices and the consent ledger (P3.1a, P3.3a).
// The ledger is append-only: a trigger refuses UPDATE and DELETE, so even a bug above the
// store cannot rewrite what a customer agreed to. Keyed (customer_id, seq) to distribute
// with the customer. Notices are not customer data.
constexpr const char* kMigration3Consent = R"sql(
CREATE TABLE privacy_notices(
  version         BIGINT PRIMARY KEY,
  text_sha256     TEXT NOT NULL,
  text            TEXT NOT NULL,
  purposes        TEXT NOT NULL,
  effective_at_ms BIGINT NOT NULL,
  published_at_ms BIGINT NOT NULL,
  publisher       TEXT NOT NULL
);

CREATE TABLE consent_ledger(
  customer_id    TEXT COLLATE "C" NOT NULL,
  seq            BIGINT NOT NULL,
  action         TEXT NOT NULL,
  scope          TEXT NOT NULL,
  purpose        TEXT NOT NULL,
  notice_version BIGINT NOT NULL,
  channel        TEXT NOT NULL,
  evidence_ref   TEXT NOT NULL,
  recorded_at_ms BIGINT NOT NULL,
  actor          TEXT NOT NULL,
  PRIMARY KEY(customer_id, seq)
);
CREATE FUNCTION consent_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'consent_ledger is append-only';
END
$$;
CREATE TRIGGER consent_ledger_no_change BEFORE UPDATE OR DELETE ON consent_ledger
  FOR EACH ROW EXECUTE FUNCTION consent_ledger_append_only();
)sql";

// Migration 4 (issue 6, lifecycle), as on SQLite: legal holds, saved retention plans, the
// destruction log, and the consent ledger's one deletion path (a customer named in
// consent_erasures within the destroying transaction).
constexpr const char* kMigration4Lifecycle = R"sql(
CREATE TABLE legal_holds(
  customer_id    TEXT COLLATE "C" NOT NULL,
  hold_id        TEXT COLLATE "C" NOT NULL,
  reason         TEXT NOT NULL,
  owner          TEXT NOT NULL,
  placed_by      TEXT NOT NULL,
  placed_at_ms   BIGINT NOT NULL,
  released_by    TEXT NOT NULL,
  released_at_ms BIGINT NOT NULL,
  PRIMARY KEY(customer_id, hold_id)
);
CREATE INDEX legal_holds_by_hold ON legal_holds(hold_id);

CREATE TABLE retention_plans(
  plan_id        TEXT COLLATE "C" PRIMARY KEY,
  content_sha256 TEXT NOT NULL,
  content        TEXT NOT NULL,
  created_by     TEXT NOT NULL,
  created_at_ms  BIGINT NOT NULL,
  state          TEXT NOT NULL,
  run_id         TEXT NOT NULL,
  updated_at_ms  BIGINT NOT NULL
);

CREATE TABLE destruction_log(
  seq     BIGINT PRIMARY KEY,
  ts_ms   BIGINT NOT NULL,
  run_id  TEXT COLLATE "C" NOT NULL,
  kind    TEXT NOT NULL,
  id_hash TEXT NOT NULL
);
CREATE INDEX destruction_log_by_run ON destruction_log(run_id, seq);

CREATE TABLE consent_erasures(
  customer_id TEXT COLLATE "C" PRIMARY KEY
);
CREATE OR REPLACE FUNCTION consent_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM consent_erasures e
                                  WHERE e.customer_id = OLD.customer_id) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'consent_ledger is append-only';
END
$$;
)sql";

// Migration 5 (issue 6, lifecycle events), as on SQLite: account closures and data-subject
// requests.
constexpr const char* kMigration5Events = R"sql(
CREATE TABLE account_closures(
  customer_id  TEXT COLLATE "C" PRIMARY KEY,
  closed_at_ms BIGINT NOT NULL,
  closed_by    TEXT NOT NULL,
  reason       TEXT NOT NULL
);

CREATE TABLE subject_requests(
  request_id   TEXT COLLATE "C" PRIMARY KEY,
  customer_id  TEXT COLLATE "C" NOT NULL,
  kind         TEXT NOT NULL,
  reference    TEXT NOT NULL,
  opened_by    TEXT NOT NULL,
  opened_at_ms BIGINT NOT NULL,
  due_at_ms    BIGINT NOT NULL,
  closed_by    TEXT NOT NULL,
  closed_at_ms BIGINT NOT NULL,
  outcome      TEXT NOT NULL
);
CREATE INDEX subject_requests_by_customer ON subject_requests(customer_id, closed_at_ms);
)sql";

// Index i holds migration i + 1.
constexpr std::array<const char*, kLatestSchemaVersion> kMigrations = {
    kMigration1, kMigration2Access, kMigration3Consent, kMigration4Lifecycle, kMigration5Events};

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
    CUSTOS_RETURN_IF_ERROR(
        conn.ExecSimple(kMigrations[static_cast<size_t>(version - 1)], op).status());
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
