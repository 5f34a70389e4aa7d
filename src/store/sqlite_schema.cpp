#include "store/sqlite_schema.h"

#include <fmt/core.h>

#include <array>
#include <string>

namespace custos::store::sqlite {
namespace {

// Migration 1: the tables of the first release.
//
// Envelopes live in three nullable BLOB columns of `customers` (one per level, P2.2) rather
// than in a table of their own: creating a customer is one row write instead of four, and
// reading one is a single lookup. Wrapped keys stay in their own table so that shredding a
// customer deletes exactly one small row (secure_delete zeroes it on disk).
//
// No foreign keys between the customer tables: the vault decides the order of writes
// (a wrapped key may be stored before its customer row) and shredding deletes rows
// independently; foreign_keys=ON is set for later migrations that want them.
constexpr const char* kMigration1 = R"sql(
CREATE TABLE meta(
  key   TEXT PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE customers(
  customer_id      TEXT PRIMARY KEY,
  created_at_ms    INTEGER NOT NULL,
  updated_at_ms    INTEGER NOT NULL,
  source           TEXT NOT NULL,
  schema_version   INTEGER NOT NULL,
  env_general      BLOB,
  env_internal     BLOB,
  env_confidential BLOB
);

CREATE TABLE wrapped_keys(
  customer_id TEXT PRIMARY KEY,
  kek_version INTEGER NOT NULL,
  wrapped_dek BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE blind_index(
  field       TEXT NOT NULL,
  token       BLOB NOT NULL,
  customer_id TEXT NOT NULL,
  PRIMARY KEY(field, token, customer_id)
) WITHOUT ROWID;
-- Each customer's tokens, (field, token) pairs, so PutIndexEntries can replace them and a
-- shredded customer's entries can be found by primary key. A row per customer keyed by a
-- time-ordered id is appended, where a second index on blind_index would take a random write.
CREATE TABLE customer_tokens(
  customer_id TEXT PRIMARY KEY,
  tokens      BLOB NOT NULL
) WITHOUT ROWID;

-- Tokens of bulk-imported customers, appended in arrival order and merged into blind_index in
-- key order by MergeStagedIndex. Empty outside a running (or killed) import.
CREATE TABLE blind_index_staged(
  seq         INTEGER PRIMARY KEY,
  field       TEXT NOT NULL,
  token       BLOB NOT NULL,
  customer_id TEXT NOT NULL
);

CREATE TABLE transactions(
  customer_id   TEXT NOT NULL,
  txn_id        TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  source        TEXT NOT NULL,
  ciphertext    BLOB NOT NULL,
  PRIMARY KEY(customer_id, txn_id)
) WITHOUT ROWID;

CREATE TABLE notes(
  customer_id   TEXT NOT NULL,
  note_id       TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  source        TEXT NOT NULL,
  level         INTEGER NOT NULL,
  ciphertext    BLOB NOT NULL,
  PRIMARY KEY(customer_id, note_id)
) WITHOUT ROWID;

CREATE TABLE audit_log(
  seq        INTEGER PRIMARY KEY,
  ts_ms      INTEGER NOT NULL,
  actor      TEXT NOT NULL,
  action     TEXT NOT NULL,
  target     TEXT NOT NULL,
  purpose    TEXT NOT NULL,
  channel    TEXT NOT NULL,
  decision   TEXT NOT NULL,
  reason     TEXT NOT NULL,
  fields     TEXT NOT NULL,
  request_id TEXT NOT NULL,
  prev_hash  BLOB NOT NULL,
  hash       BLOB NOT NULL
);

CREATE TABLE audit_checkpoints(
  seq       INTEGER PRIMARY KEY,
  ts_ms     INTEGER NOT NULL,
  hash      BLOB NOT NULL,
  signature BLOB NOT NULL
);

CREATE TABLE staff(
  staff_id      TEXT PRIMARY KEY,
  display_name  TEXT NOT NULL,
  post          TEXT NOT NULL,
  roles         TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  status        TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE imports(
  import_id       TEXT PRIMARY KEY,
  file_sha256     TEXT NOT NULL UNIQUE,
  actor           TEXT NOT NULL,
  started_at_ms   INTEGER NOT NULL,
  updated_at_ms   INTEGER NOT NULL,
  committed_lines INTEGER NOT NULL,
  imported        INTEGER NOT NULL,
  rejected        INTEGER NOT NULL,
  state           TEXT NOT NULL
);
)sql";

// Migration 2 (issue 3, access): staff credentials, API tokens, training records, approvals.
// None holds customer data; the TOTP secret is sealed by the vault before it arrives here.
constexpr const char* kMigration2Access = R"sql(
CREATE TABLE staff_credentials(
  staff_id        TEXT PRIMARY KEY,
  password_hash   TEXT NOT NULL,
  totp_sealed     BLOB NOT NULL,
  failed_attempts INTEGER NOT NULL,
  locked_until_ms INTEGER NOT NULL,
  updated_at_ms   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE api_tokens(
  token_id      TEXT PRIMARY KEY,
  staff_id      TEXT NOT NULL,
  secret_sha256 BLOB NOT NULL UNIQUE,
  label         TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  revoked_at_ms INTEGER NOT NULL
);
CREATE INDEX api_tokens_by_staff ON api_tokens(staff_id, created_at_ms);

CREATE TABLE training_records(
  staff_id        TEXT NOT NULL,
  course          TEXT NOT NULL,
  completed_at_ms INTEGER NOT NULL,
  valid_until_ms  INTEGER NOT NULL,
  recorded_by     TEXT NOT NULL,
  PRIMARY KEY(staff_id, course, completed_at_ms)
) WITHOUT ROWID;

CREATE TABLE approvals(
  approval_id     TEXT PRIMARY KEY,
  kind            TEXT NOT NULL,
  requester       TEXT NOT NULL,
  justification   TEXT NOT NULL,
  scope           TEXT NOT NULL,
  requested_at_ms INTEGER NOT NULL,
  expires_at_ms   INTEGER NOT NULL,
  approver        TEXT NOT NULL,
  decided_at_ms   INTEGER NOT NULL,
  state           TEXT NOT NULL
);
CREATE INDEX approvals_by_requester ON approvals(requester, requested_at_ms);
)sql";

// Migration 3 (issue 3, consent): privacy notices and the consent ledger (P3.1a, P3.3a).
// The ledger is append-only: triggers refuse UPDATE and DELETE, so even a bug above the store
// cannot rewrite what a customer agreed to. Keyed (customer_id, seq) to distribute with the
// customer. Notices are not customer data.
constexpr const char* kMigration3Consent = R"sql(
CREATE TABLE privacy_notices(
  version         INTEGER PRIMARY KEY,
  text_sha256     TEXT NOT NULL,
  text            TEXT NOT NULL,
  purposes        TEXT NOT NULL,
  effective_at_ms INTEGER NOT NULL,
  published_at_ms INTEGER NOT NULL,
  publisher       TEXT NOT NULL
);

CREATE TABLE consent_ledger(
  customer_id    TEXT NOT NULL,
  seq            INTEGER NOT NULL,
  action         TEXT NOT NULL,
  scope          TEXT NOT NULL,
  purpose        TEXT NOT NULL,
  notice_version INTEGER NOT NULL,
  channel        TEXT NOT NULL,
  evidence_ref   TEXT NOT NULL,
  recorded_at_ms INTEGER NOT NULL,
  actor          TEXT NOT NULL,
  PRIMARY KEY(customer_id, seq)
) WITHOUT ROWID;
CREATE TRIGGER consent_ledger_no_update BEFORE UPDATE ON consent_ledger
BEGIN SELECT RAISE(ABORT, 'consent_ledger is append-only'); END;
CREATE TRIGGER consent_ledger_no_delete BEFORE DELETE ON consent_ledger
BEGIN SELECT RAISE(ABORT, 'consent_ledger is append-only'); END;
)sql";

// Migration 4 (issue 6, lifecycle): legal holds, saved retention plans and the destruction log
// (salted hashes of destroyed ids, never the ids). The consent ledger stays append-only
// except on one path: destroying the whole customer (Transaction::EraseCustomer) first names
// the customer in consent_erasures, in the same transaction, and removes that row again.
constexpr const char* kMigration4Lifecycle = R"sql(
CREATE TABLE legal_holds(
  customer_id    TEXT NOT NULL,
  hold_id        TEXT NOT NULL,
  reason         TEXT NOT NULL,
  owner          TEXT NOT NULL,
  placed_by      TEXT NOT NULL,
  placed_at_ms   INTEGER NOT NULL,
  released_by    TEXT NOT NULL,
  released_at_ms INTEGER NOT NULL,
  PRIMARY KEY(customer_id, hold_id)
) WITHOUT ROWID;
CREATE INDEX legal_holds_by_hold ON legal_holds(hold_id);

CREATE TABLE retention_plans(
  plan_id        TEXT PRIMARY KEY,
  content_sha256 TEXT NOT NULL,
  content        TEXT NOT NULL,
  created_by     TEXT NOT NULL,
  created_at_ms  INTEGER NOT NULL,
  state          TEXT NOT NULL,
  run_id         TEXT NOT NULL,
  updated_at_ms  INTEGER NOT NULL
);

CREATE TABLE destruction_log(
  seq     INTEGER PRIMARY KEY,
  ts_ms   INTEGER NOT NULL,
  run_id  TEXT NOT NULL,
  kind    TEXT NOT NULL,
  id_hash TEXT NOT NULL
);
CREATE INDEX destruction_log_by_run ON destruction_log(run_id, seq);

CREATE TABLE consent_erasures(
  customer_id TEXT PRIMARY KEY
) WITHOUT ROWID;
DROP TRIGGER consent_ledger_no_delete;
CREATE TRIGGER consent_ledger_no_delete BEFORE DELETE ON consent_ledger
WHEN NOT EXISTS (SELECT 1 FROM consent_erasures WHERE customer_id = OLD.customer_id)
BEGIN SELECT RAISE(ABORT, 'consent_ledger is append-only'); END;
)sql";

// Migration 5 (issue 6, lifecycle events): account closures (the "account_closure" retention
// event; a reopened account has no row) and data-subject requests (PIPL Art. 44-50; an open
// request holds the customer's destruction back). Request rows name no personal data and
// outlive a destroyed customer, like legal holds; a closure row goes with its customer.
constexpr const char* kMigration5Events = R"sql(
CREATE TABLE account_closures(
  customer_id  TEXT PRIMARY KEY,
  closed_at_ms INTEGER NOT NULL,
  closed_by    TEXT NOT NULL,
  reason       TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE subject_requests(
  request_id   TEXT PRIMARY KEY,
  customer_id  TEXT NOT NULL,
  kind         TEXT NOT NULL,
  reference    TEXT NOT NULL,
  opened_by    TEXT NOT NULL,
  opened_at_ms INTEGER NOT NULL,
  due_at_ms    INTEGER NOT NULL,
  closed_by    TEXT NOT NULL,
  closed_at_ms INTEGER NOT NULL,
  outcome      TEXT NOT NULL
);
CREATE INDEX subject_requests_by_customer ON subject_requests(customer_id, closed_at_ms);
)sql";

// Index i holds migration i + 1.
constexpr std::array<const char*, kLatestSchemaVersion> kMigrations = {
    kMigration1, kMigration2Access, kMigration3Consent, kMigration4Lifecycle, kMigration5Events};

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
    return FailedPrecondition(fmt::format(
        "store: database schema version {} is newer than this Custos knows ({}); "
        "upgrade Custos to open it",
        current, kLatestSchemaVersion));
  }
  for (int version = current + 1; version <= kLatestSchemaVersion; ++version) {
    std::string op = fmt::format("migrate: apply version {}", version);
    CUSTOS_RETURN_IF_ERROR(db.Exec(kMigrations[static_cast<size_t>(version - 1)], op));
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
