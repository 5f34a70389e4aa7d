// The description of every table of the store, written once (STYLE.md, "Describe, don't
// repeat"). From it are generated, for both dialects (store/sql.h): the CREATE TABLE / CREATE
// INDEX statements of the migrations, the plain row statements (insert, get by key, list,
// update, delete), the column lists of backups (snapshot.h) and the COPY of bulk mode.
//
// A table whose shape really differs between the dialects (blind_index: SQLite keys it by
// token and keeps a per-customer token list beside it, PostgreSQL keys it by customer) is
// still described here in its neutral form (the form backups use) and marked `ddl_by_hand`:
// each dialect writes its CREATE statements itself (sqlite/schema.cpp, postgres/schema.cpp).
//
// Thread safety: the list is built once, immutable afterwards; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace custos::store {

enum class ColumnType : uint8_t { kInt = 1, kText = 2, kBlob = 3 };

struct ColumnSpec {
  std::string_view name;
  ColumnType type = ColumnType::kText;
  bool nullable = false;
  // UNIQUE on its own (api_tokens.secret_sha256, imports.file_sha256).
  bool unique = false;
  // Compared and ordered as bytes: keys and the columns lists are ordered or filtered by.
  // PostgreSQL declares them COLLATE "C" (SQLite compares text as bytes anyway).
  bool bytewise = false;
  // Sealed by the vault (or a digest of a secret): the store never sees its plaintext.
  bool ciphertext = false;
};

struct IndexSpec {
  std::string_view name;
  std::string_view columns;  // comma-separated
};

struct TableSpec {
  std::string_view name;
  std::vector<ColumnSpec> columns;
  // The key the rows are read in (column names, comma-separated): a snapshot is deterministic.
  std::string_view order_by;
  // The column holding the owning customer's id, -1 if the table holds no customer data. The
  // rows of such a table are erased with their customer (Transaction::EraseCustomer) and
  // dropped from a restore of a customer destroyed after the backup.
  int customer_column = -1;
  // For per-record tables: the record kind as the destruction ledger names it
  // ("transaction", "note") and the column holding the record id; -1 otherwise.
  std::string_view record_kind;
  int record_column = -1;
  // Keys, not data: wrapped_keys goes to the backup's separate key section (ARCHITECTURE.md,
  // "Destruction must reach backups").
  bool is_key_section = false;
  // The migration that created the table: a backup of an older schema simply lacks it.
  int since_schema_version = 1;

  // --- the shape of the table (migrations) ---
  // The primary key (comma-separated column names); empty: order_by.
  std::string_view primary_key;
  std::vector<IndexSpec> indexes;
  // SQLite only: WITHOUT ROWID (a clustered table keyed by its primary key).
  bool without_rowid = false;
  // Each dialect writes this table's CREATE statements by hand (see the top of this file).
  bool ddl_by_hand = false;
  // Part of backups (false: a table empty outside one transaction, consent_erasures).
  bool in_snapshot = true;
  // Consent evidence (consent_ledger, consent_kept): kept when only a customer's profile is
  // destroyed (destruction-ledger kind "profile"), dropped with the whole customer or its kept
  // evidence (kinds "customer", "consent"). Not sealed, so kept by a restore without a DEK.
  bool consent_evidence = false;

  std::string_view key() const { return primary_key.empty() ? order_by : primary_key; }
  // The position of column `name`, -1 when the table has none.
  int ColumnIndex(std::string_view column) const;
};

// The migration that creates audit_tree (the audit log's stored Merkle nodes, issue 13). Kept
// in one constant so the migration can be renumbered without touching anything else.
inline constexpr int kAuditTreeMigration = 7;
// The migration that creates deid_releases (the register of de-identified releases, issue 16).
inline constexpr int kDeidReleasesMigration = 9;
// The migration that creates deid_budgets (the privacy budget spent per profile and analyst by
// differentially private aggregates, issue 16).
inline constexpr int kDeidBudgetsMigration = 10;
// The migration that creates partners, share_agreements and shares (issue 17, docs/sharing.md).
inline constexpr int kSharingMigration = 11;
// The migration that creates the security operations tables (issue 20): alerts, honey
// records, incidents and their steps, violations, the addresses staff logged in from.
inline constexpr int kSecOpsMigration = 12;
// The migration that creates the DPO's registers (issue 19): impact assessments (pias),
// self-assessments and the recorded policy and configuration versions.
inline constexpr int kDpoMigration = 13;
// The migration that creates partner_certificates: the certificates a partner had before its
// current one, replaced by `custos partner renew-cert` (docs/sharing.md).
inline constexpr int kPartnerCertificatesMigration = 14;
// The migration that creates notice_shares: the recipients (partner:ID) and partner categories
// (category:NAME) a privacy notice names, which a sharing consent under it may grant
// (PIPL Art. 23: the customer is told who receives the data; docs/consent.md).
inline constexpr int kNoticeSharesMigration = 15;
// The migration that moves the audit queries' five text indexes (migration 6) off the append:
// audit_keys, filled in key order in batches (Transaction::IndexAuditKeys), and
// audit_keys_state; the five indexes are dropped (docs/decisions.md, "The audit query keys are
// written in batches").
inline constexpr int kAuditKeysMigration = 16;
// Migration kAuditKeysMigration's own statements, the same on both dialects (after its tables):
// the keys of every entry already in the log, and the five indexes they replace dropped.
inline constexpr const char* kAuditKeysMigrationSql = R"sql(INSERT INTO audit_keys(col, key, seq)
  SELECT 0, target, seq FROM audit_log WHERE target <> '' ORDER BY target, seq;
INSERT INTO audit_keys(col, key, seq)
  SELECT 1, actor, seq FROM audit_log WHERE actor <> '' ORDER BY actor, seq;
INSERT INTO audit_keys(col, key, seq)
  SELECT 2, action, seq FROM audit_log WHERE action <> '' ORDER BY action, seq;
INSERT INTO audit_keys(col, key, seq)
  SELECT 3, decision, seq FROM audit_log WHERE decision <> '' ORDER BY decision, seq;
INSERT INTO audit_keys(col, key, seq)
  SELECT 4, purpose, seq FROM audit_log WHERE purpose <> '' ORDER BY purpose, seq;
INSERT INTO audit_keys_state(id, indexed_seq) SELECT 1, max(seq) FROM audit_log HAVING count(*) > 0;
DROP INDEX audit_log_by_target;
DROP INDEX audit_log_by_actor;
DROP INDEX audit_log_by_action;
DROP INDEX audit_log_by_decision;
DROP INDEX audit_log_by_purpose;
)sql";
// The migration that moves the audit log's time index (migration 6's audit_log_by_time) off the
// append: audit_time_spans, one row per run of at most 256 entries up to
// audit_keys_state.indexed_seq with the run's earliest and latest ts_ms, written with the query
// keys (Transaction::IndexAuditKeys); a time-range query reads the entries of the runs whose
// times overlap it, then the tail by seq (docs/decisions.md, "The audit log's time spans").
inline constexpr int kAuditTimeSpansMigration = 17;
// Migration kAuditTimeSpansMigration's own statements, the same on both dialects (after its
// table): the spans of the entries the keys already cover, and the time index dropped.
inline constexpr const char* kAuditTimeSpansMigrationSql =
    R"sql(INSERT INTO audit_time_spans(first_seq, last_seq, min_ts_ms, max_ts_ms)
  SELECT min(seq), max(seq), min(ts_ms), max(ts_ms) FROM audit_log
  WHERE seq <= (SELECT indexed_seq FROM audit_keys_state WHERE id = 1)
  GROUP BY (seq - 1) / 256 ORDER BY 1;
DROP INDEX audit_log_by_time;
)sql";

// The migration that turns the audit query keys into spans (audit_key_spans, one row per
// column, key and run of at most kAuditKeySpan entries that hold the key; docs/decisions.md,
// "The audit query keys as spans"): audit_keys' rows are grouped into spans and the table
// dropped.
inline constexpr int kAuditKeySpansMigration = 18;
// The migration that creates consent_kept: the consent evidence kept after a deletion
// request destroyed its customer's profile (docs/retention.md, "Deletion keeps the consent
// evidence").
inline constexpr int kConsentKeptMigration = 19;
// The migration that creates deid_release_classes: each de-identified release's class sizes,
// for the check of a later release against it (docs/deid.md, "Releases over time").
inline constexpr int kDeidReleaseClassesMigration = 20;
// The entries a row of audit_key_spans covers at most, aligned on multiples of it (the
// migration's SQL below and Transaction::IndexAuditKeys group by it).
inline constexpr int64_t kAuditKeySpan = 256;
static_assert(kAuditKeySpan == 256, "kAuditKeySpansMigrationSql groups by 256 entries");
// Migration kAuditKeySpansMigration's own statements, the same on both dialects (after its
// table).
inline constexpr const char* kAuditKeySpansMigrationSql =
    R"sql(INSERT INTO audit_key_spans(col, key, first_seq, last_seq)
  SELECT col, key, min(seq), max(seq) FROM audit_keys GROUP BY col, key, (seq - 1) / 256
  ORDER BY 1, 2, 3;
DROP TABLE audit_keys;
)sql";

// An index a later migration adds to a table created earlier (the table's own indexes are
// created with it). Migration 6 (issue 13 item 5): the audit queries' indexes.
struct LaterIndex {
  int since_schema_version;
  std::string_view table;
  IndexSpec index;
};

// Every table of the store, in creation (and load) order: meta first, each migration's tables
// after the previous migration's. A new migration appends its tables.
const std::vector<TableSpec>& AllTables();
// The indexes added after their tables were created, in migration order.
const std::vector<LaterIndex>& LaterIndexes();
// The entry named `name` (any table of AllTables), or nullptr.
const TableSpec* FindTable(std::string_view name);
// The described table `name`; the program is wrong if there is none (aborts).
const TableSpec& Table(std::string_view name);
// The position of `table` in AllTables(), for per-table caches of generated statements (a copy
// of a described table, such as an entry of SnapshotTables(), is found by its name). Aborts
// for a table the list does not describe.
size_t TableIndex(const TableSpec& table);

}  // namespace custos::store
