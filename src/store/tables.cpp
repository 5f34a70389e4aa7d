// THE table list of tables.h. Column names, order and types are those of the tables the
// migrations created since the first release: a vault created by any earlier Custos opens
// unchanged (tests/store/schema_test.cpp compares the generated schema with the one written by
// hand before this list existed).
#include "store/tables.h"

#include <cstdlib>
#include <string_view>
#include <utility>

namespace custos::store {
namespace {

// One letter each, so that a table's description reads as one column per line.
constexpr ColumnType I = ColumnType::kInt;   // NOLINT(readability-identifier-naming): see above
constexpr ColumnType T = ColumnType::kText;  // NOLINT(readability-identifier-naming): see above
constexpr ColumnType B = ColumnType::kBlob;  // NOLINT(readability-identifier-naming): see above

ColumnSpec C(std::string_view name, ColumnType type) {
  ColumnSpec c;
  c.name = name;
  c.type = type;
  return c;
}
// A key column: text compared as bytes (ids, hashes).
ColumnSpec Key(std::string_view name) {
  ColumnSpec c = C(name, T);
  c.bytewise = true;
  return c;
}
ColumnSpec Unique(ColumnSpec c) {
  c.unique = true;
  return c;
}
// Sealed by the vault; `nullable` for an envelope of a level the customer has no field at.
ColumnSpec Sealed(std::string_view name, bool nullable = false) {
  ColumnSpec c = C(name, B);
  c.ciphertext = true;
  c.nullable = nullable;
  return c;
}

struct Shape {
  std::string_view primary_key;  // empty: order_by
  bool without_rowid = false;
  std::vector<IndexSpec> indexes = {};
};

TableSpec Def(int since, std::string_view name, std::vector<ColumnSpec> columns,
              std::string_view order_by, Shape shape, int customer_column = -1) {
  TableSpec t;
  t.since_schema_version = since;
  t.name = name;
  t.columns = std::move(columns);
  t.order_by = order_by;
  t.customer_column = customer_column;
  t.primary_key = shape.primary_key;
  t.without_rowid = shape.without_rowid;
  t.indexes = std::move(shape.indexes);
  return t;
}

constexpr Shape kClustered{{}, true};  // WITHOUT ROWID on SQLite, keyed by order_by
constexpr int kCustomer = 0;           // customer_id is column 0

std::vector<TableSpec> Build() {
  std::vector<TableSpec> t;
  // --- migration 1: the tables of the first release ---
  t.push_back(Def(1, "meta", {Key("key"), C("value", B)}, "key", kClustered));
  // Envelopes are three nullable columns rather than a table: creating a customer is one row
  // write, reading one a single lookup.
  t.push_back(Def(1, "customers",
                  {Key("customer_id"), C("created_at_ms", I), C("updated_at_ms", I), C("source", T),
                   C("schema_version", I), Sealed("env_general", true),
                   Sealed("env_internal", true), Sealed("env_confidential", true)},
                  "customer_id", {}, kCustomer));
  // Apart from the data, so that shredding a customer deletes one small row.
  TableSpec keys =
      Def(1, "wrapped_keys", {Key("customer_id"), C("kek_version", I), Sealed("wrapped_dek")},
          "customer_id", kClustered, kCustomer);
  keys.is_key_section = true;
  t.push_back(std::move(keys));
  // The neutral form of the blind index (backups); each dialect keeps it its own way.
  TableSpec index = Def(1, "blind_index", {Key("customer_id"), Key("field"), C("token", B)},
                        "customer_id, field, token", {}, kCustomer);
  index.ddl_by_hand = true;
  t.push_back(std::move(index));
  TableSpec txns = Def(1, "transactions",
                       {Key("customer_id"), Key("txn_id"), C("created_at_ms", I), C("source", T),
                        Sealed("ciphertext")},
                       "customer_id, txn_id", kClustered, kCustomer);
  txns.record_kind = "transaction";
  txns.record_column = 1;
  t.push_back(std::move(txns));
  TableSpec notes = Def(1, "notes",
                        {Key("customer_id"), Key("note_id"), C("created_at_ms", I), C("source", T),
                         C("level", I), Sealed("ciphertext")},
                        "customer_id, note_id", kClustered, kCustomer);
  notes.record_kind = "note";
  notes.record_column = 1;
  t.push_back(std::move(notes));
  t.push_back(Def(1, "audit_log",
                  {C("seq", I), C("ts_ms", I), C("actor", T), C("action", T), C("target", T),
                   C("purpose", T), C("channel", T), C("decision", T), C("reason", T),
                   C("fields", T), C("request_id", T), C("prev_hash", B), C("hash", B)},
                  "seq", {}));
  t.push_back(Def(1, "audit_checkpoints",
                  {C("seq", I), C("ts_ms", I), C("hash", B), C("signature", B)}, "seq", {}));
  t.push_back(Def(1, "staff",
                  {Key("staff_id"), C("display_name", T), C("post", T), C("roles", T),
                   C("created_at_ms", I), C("status", T)},
                  "staff_id", kClustered));
  t.push_back(Def(1, "imports",
                  {Key("import_id"), Unique(Key("file_sha256")), C("actor", T),
                   C("started_at_ms", I), C("updated_at_ms", I), C("committed_lines", I),
                   C("imported", I), C("rejected", I), C("state", T)},
                  "import_id", {}));
  // --- migration 2 (issue 3, access): no customer data; the TOTP secret arrives sealed ---
  t.push_back(Def(2, "staff_credentials",
                  {Key("staff_id"), C("password_hash", T), Sealed("totp_sealed"),
                   C("failed_attempts", I), C("locked_until_ms", I), C("updated_at_ms", I)},
                  "staff_id", kClustered));
  t.push_back(Def(2, "api_tokens",
                  {Key("token_id"), Key("staff_id"), Unique(C("secret_sha256", B)), C("label", T),
                   C("created_at_ms", I), C("expires_at_ms", I), C("revoked_at_ms", I)},
                  "token_id", {{}, false, {{"api_tokens_by_staff", "staff_id, created_at_ms"}}}));
  t.push_back(Def(2, "training_records",
                  {Key("staff_id"), Key("course"), C("completed_at_ms", I), C("valid_until_ms", I),
                   C("recorded_by", T)},
                  "staff_id, course, completed_at_ms", kClustered));
  t.push_back(Def(2, "approvals",
                  {Key("approval_id"), C("kind", T), Key("requester"), C("justification", T),
                   C("scope", T), C("requested_at_ms", I), C("expires_at_ms", I), C("approver", T),
                   C("decided_at_ms", I), C("state", T)},
                  "approval_id",
                  {{}, false, {{"approvals_by_requester", "requester, requested_at_ms"}}}));
  // --- migration 3 (issue 3, consent): notices (not customer data) and the append-only
  // ledger (each dialect adds the triggers that refuse UPDATE and DELETE) ---
  t.push_back(Def(3, "privacy_notices",
                  {C("version", I), C("text_sha256", T), C("text", T), C("purposes", T),
                   C("effective_at_ms", I), C("published_at_ms", I), C("publisher", T)},
                  "version", {}));
  TableSpec ledger = Def(3, "consent_ledger",
                         {Key("customer_id"), C("seq", I), C("action", T), C("scope", T),
                          C("purpose", T), C("notice_version", I), C("channel", T),
                          C("evidence_ref", T), C("recorded_at_ms", I), C("actor", T)},
                         "customer_id, seq", kClustered, kCustomer);
  ledger.consent_evidence = true;
  t.push_back(std::move(ledger));
  // --- migration 4 (issue 6, lifecycle). Hold rows name no personal data and outlive a
  // destroyed customer (no customer column); consent_erasures is empty outside the
  // transaction that destroys a customer (the ledger's one deletion path) ---
  t.push_back(
      Def(4, "legal_holds",
          {Key("customer_id"), Key("hold_id"), C("reason", T), C("owner", T), C("placed_by", T),
           C("placed_at_ms", I), C("released_by", T), C("released_at_ms", I)},
          "customer_id, hold_id", {{}, true, {{"legal_holds_by_hold", "hold_id"}}}));
  t.push_back(Def(4, "retention_plans",
                  {Key("plan_id"), C("content_sha256", T), C("content", T), C("created_by", T),
                   C("created_at_ms", I), C("state", T), C("run_id", T), C("updated_at_ms", I)},
                  "plan_id", {}));
  t.push_back(Def(4, "destruction_log",
                  {C("seq", I), C("ts_ms", I), Key("run_id"), C("kind", T), C("id_hash", T)}, "seq",
                  {{}, false, {{"destruction_log_by_run", "run_id, seq"}}}));
  TableSpec erasures = Def(4, "consent_erasures", {Key("customer_id")}, "customer_id", kClustered);
  erasures.in_snapshot = false;
  t.push_back(std::move(erasures));
  // --- migration 5 (issue 6, lifecycle events): a closure goes with its customer; subject
  // requests name no personal data and outlive a destroyed customer (like holds) ---
  t.push_back(Def(5, "account_closures",
                  {Key("customer_id"), C("closed_at_ms", I), C("closed_by", T), C("reason", T)},
                  "customer_id", kClustered, kCustomer));
  t.push_back(Def(5, "subject_requests",
                  {Key("request_id"), Key("customer_id"), C("kind", T), C("reference", T),
                   C("opened_by", T), C("opened_at_ms", I), C("due_at_ms", I), C("closed_by", T),
                   C("closed_at_ms", I), C("outcome", T)},
                  "request_id",
                  {{}, false, {{"subject_requests_by_customer", "customer_id, closed_at_ms"}}}));
  // --- migration 6 adds indexes only (LaterIndexes) ---
  // --- migration kAuditTreeMigration (issue 13): the audit log's Merkle tree, one row per
  // completed perfect subtree of at least 2^kMinStoredLevel entries (audit/tree_nodes.h),
  // keyed by the tree size at which it completed and its level, so appends write at the end
  // and verification reads the rows in the order the entries complete them ---
  t.push_back(Def(kAuditTreeMigration, "audit_tree",
                  {C("tree_size", I), C("level", I), C("hash", B)}, "tree_size, level",
                  kClustered));
  // --- migration 8 (issue 18, fulfilling data-subject requests): the steps of a request
  // (verified, fulfilled, answered; no personal data, they outlive the customer like the
  // request), the restrictions of processing in force (erased with the customer), and the
  // values a correction request proposes, sealed under the customer's key ---
  t.push_back(Def(8, "subject_request_steps",
                  {Key("request_id"), Key("step"), C("at_ms", I), C("actor", T), C("method", T),
                   C("detail", T)},
                  "request_id, step", kClustered));
  t.push_back(Def(8, "restrictions",
                  {Key("customer_id"), Key("request_id"), C("rule", T), C("placed_by", T),
                   C("placed_at_ms", I), C("until_ms", I)},
                  "customer_id, request_id", kClustered, kCustomer));
  t.push_back(Def(8, "subject_request_values",
                  {Key("request_id"), Key("customer_id"), Sealed("sealed")}, "request_id",
                  kClustered, 1));
  // --- migration kDeidReleasesMigration (issue 16): the register of de-identified releases;
  // ids, names, parameters and figures, no personal data, so it outlives every customer ---
  t.push_back(Def(kDeidReleasesMigration, "deid_releases",
                  {Key("release_id"), C("created_at_ms", I), C("actor", T), C("purpose", T),
                   C("profile", T), C("profile_sha256", T), C("parameters", T), C("figures", T),
                   C("row_count", I), C("file_sha256", T), C("recipients", T)},
                  "release_id", {}));
  // --- migration kDeidBudgetsMigration (issue 16): the privacy budget each analyst has spent
  // under each profile (epsilon in millionths, delta in 1e-12); no personal data ---
  t.push_back(Def(kDeidBudgetsMigration, "deid_budgets",
                  {Key("profile"), Key("actor"), C("epsilon_spent", I), C("delta_spent", I),
                   C("answers", I), C("updated_at_ms", I)},
                  "profile, actor", kClustered));
  // --- migration kSharingMigration (issue 17; docs/sharing.md): partners, their agreements
  // and the shares made under them. Ids, names, hashes, limits and counts: no customer's data
  // (the partner's name and credit code are the company's, its certificate public) ---
  t.push_back(Def(kSharingMigration, "partners",
                  {Key("partner_id"), C("name", T), C("uscc", T), C("category", T),
                   C("cert_pem", T), C("cert_sha256", T), C("cert_subject", T),
                   C("cert_not_after_ms", I), C("added_by", T), C("added_at_ms", I)},
                  "partner_id", {}));
  t.push_back(Def(kSharingMigration, "share_agreements",
                  {Key("agreement_id"),
                   Key("partner_id"),
                   C("document_sha256", T),
                   C("purposes", T),
                   C("fields", T),
                   C("profile", T),
                   C("valid_until_ms", I),
                   C("max_rows", I),
                   C("cross_border", T),
                   C("impact_assessment", T),
                   C("proposed_by", T),
                   C("proposed_at_ms", I),
                   C("approval_id", T),
                   C("revoked_by", T),
                   C("revoked_at_ms", I),
                   C("revoke_reason", T),
                   C("deletion_due_ms", I),
                   C("deletion_sha256", T),
                   C("deletion_confirmed_by", T),
                   C("deletion_confirmed_at_ms", I)},
                  "agreement_id", {{}, false, {{"share_agreements_by_partner", "partner_id"}}}));
  t.push_back(
      Def(kSharingMigration, "shares",
          {Key("share_id"), Key("agreement_id"), C("partner_id", T), C("created_by", T),
           C("created_at_ms", I), C("fields", T), C("row_count", I), C("left_out", I),
           C("canary_count", I), C("file_sha256", T), C("manifest", T), C("approval_id", T)},
          "share_id", {{}, false, {{"shares_by_agreement", "agreement_id, created_at_ms"}}}));
  // --- migration kSecOpsMigration (issue 20, security operations; docs/security_operations.md):
  // ids, rule names, seqs and counts, never a customer's value. Alerts, incidents and
  // violations outlive the customers they name (like subject requests); a honey record goes
  // with its customer row; the addresses each staff member logged in from (the "new address"
  // rule) are the staff member's, not a customer's ---
  t.push_back(Def(kSecOpsMigration, "ops_alerts",
                  {Key("alert_id"), C("raised_at_ms", I), Key("rule"), C("severity", T),
                   C("actor", T), C("trigger_seq", I), C("evidence", T), C("subject", T),
                   C("detail", T), C("status", T), C("incident_id", T)},
                  "alert_id", {{}, false, {{"ops_alerts_by_trigger", "rule, trigger_seq"}}}));
  t.push_back(Def(kSecOpsMigration, "honey_records",
                  {Key("customer_id"), C("created_at_ms", I), C("created_by", T)}, "customer_id",
                  kClustered, kCustomer));
  t.push_back(Def(kSecOpsMigration, "incidents",
                  {Key("incident_id"), C("opened_at_ms", I), C("opened_by", T), C("title", T),
                   C("severity", T), C("status", T), C("subject_actor", T), C("alert_ids", T),
                   C("from_ms", I), C("to_ms", I), C("closed_by", T), C("closed_at_ms", I)},
                  "incident_id", {}));
  t.push_back(Def(kSecOpsMigration, "incident_steps",
                  {Key("incident_id"), C("step_no", I), C("at_ms", I), C("actor", T), C("kind", T),
                   C("detail", T)},
                  "incident_id, step_no", kClustered));
  t.push_back(Def(kSecOpsMigration, "violations",
                  {Key("violation_id"), Key("staff_id"), C("rule", T), C("evidence", T),
                   C("incident_id", T), C("handling", T), C("status", T), C("recorded_by", T),
                   C("recorded_at_ms", I), C("closed_by", T), C("closed_at_ms", I)},
                  "violation_id", {{}, false, {{"violations_by_staff", "staff_id, status"}}}));
  t.push_back(Def(kSecOpsMigration, "staff_addresses",
                  {Key("staff_id"), Key("address"), C("first_seen_ms", I)}, "staff_id, address",
                  kClustered));
  // --- migration kDpoMigration (issue 19, the DPO's desk; docs/dpo.md): personal-information
  // impact assessments (PIPL Art. 55-56; never deleted: no statement removes a row, so no
  // retention run can destroy one before its three years), self-assessments (P6a) and the
  // recorded versions of the policy text and of custos.toml (P6c). Staff ids, purposes, field
  // names and digests, never a customer's value ---
  t.push_back(Def(kDpoMigration, "pias",
                  {Key("pia_id"), C("title", T), C("scope", T), C("risks", T), C("measures", T),
                   C("author", T), C("created_at_ms", I), C("approver", T), C("approved_at_ms", I),
                   C("review_due_ms", I), C("keep_until_ms", I), C("state", T)},
                  "pia_id", {}));
  t.push_back(Def(kDpoMigration, "assessments",
                  {Key("assessment_id"), C("started_at_ms", I), C("started_by", T), C("from_ms", I),
                   C("to_ms", I), C("items", T), C("signed_off_by", T), C("signed_off_at_ms", I),
                   C("state", T)},
                  "assessment_id", {}));
  t.push_back(Def(kDpoMigration, "policy_versions",
                  {Key("kind"), C("version_no", I), C("sha256", T), C("effective_ms", I),
                   C("recorded_at_ms", I), C("recorded_by", T), C("source", T), C("content", T)},
                  "kind, version_no", kClustered));
  // --- migration kPartnerCertificatesMigration (docs/sharing.md, "Renewing a partner's
  // certificate"): each certificate a partner had before a renewal replaced it, so a share's
  // manifest (certificate_sha256) still names a certificate the register knows. Public
  // certificates, staff ids and times; no customer data ---
  t.push_back(
      Def(kPartnerCertificatesMigration, "partner_certificates",
          {Key("partner_id"), Key("cert_sha256"), C("cert_subject", T), C("cert_not_after_ms", I),
           C("cert_pem", T), C("in_use_from_ms", I), C("replaced_by", T), C("replaced_at_ms", I)},
          "partner_id, cert_sha256", kClustered));
  // --- migration kNoticeSharesMigration (docs/consent.md, "Sharing consents name a recipient
  // the notice names"): one row per recipient or category a published notice names. Never
  // changed after the notice's transaction, as the notice itself ---
  t.push_back(Def(kNoticeSharesMigration, "notice_shares", {C("notice_version", I), Key("target")},
                  "notice_version, target", kClustered));
  // --- migration kAuditKeysMigration (docs/decisions.md, "The audit query keys are written
  // in batches"): audit_keys_state, the last entry whose query keys are written (by
  // Transaction::IndexAuditKeys, a batch of entries at a time; the entries after it are read
  // by seq). The same migration created audit_keys, a row per key and entry, written by hand
  // in each dialect's schema file because migration kAuditKeySpansMigration replaces it by
  // audit_key_spans below. Derived from audit_log, so not in backups: a restore or a copy
  // rebuilds it ---
  TableSpec audit_keys_state =
      Def(kAuditKeysMigration, "audit_keys_state", {C("id", I), C("indexed_seq", I)}, "id", {});
  audit_keys_state.in_snapshot = false;
  t.push_back(std::move(audit_keys_state));
  // --- migration kAuditTimeSpansMigration (docs/decisions.md, "The audit log's time spans"):
  // the earliest and latest ts_ms of each run of at most 256 entries (runs aligned on multiples
  // of 256; a batch that ends inside one leaves it in two rows), up to
  // audit_keys_state.indexed_seq, written with the keys. A time-range query reads only the
  // entries of the runs its range overlaps, in seq order, whatever order the clock gave them.
  // Derived from audit_log, so not in backups ---
  TableSpec audit_time_spans =
      Def(kAuditTimeSpansMigration, "audit_time_spans",
          {C("first_seq", I), C("last_seq", I), C("min_ts_ms", I), C("max_ts_ms", I)}, "first_seq",
          kClustered);
  audit_time_spans.in_snapshot = false;
  t.push_back(std::move(audit_time_spans));
  // --- migration kAuditKeySpansMigration (docs/decisions.md, "The audit query keys as
  // spans"): audit_keys' rows, one per key of every indexed entry, become spans: a row
  // (col, key, first_seq, last_seq) says the entries first_seq and last_seq have that key in
  // column `col`, and any entry between them may (a query checks each); a span lies within one
  // run of kAuditKeySpan entries aligned on its multiples. A key that every entry of a run has
  // (one staff member's reads, an import's action and purpose) is one row a run instead of one
  // an entry; a customer read once in a run is one row, as before. Derived from audit_log, so
  // not in backups ---
  TableSpec audit_key_spans = Def(kAuditKeySpansMigration, "audit_key_spans",
                                  {C("col", I), Key("key"), C("first_seq", I), C("last_seq", I)},
                                  "col, key, first_seq", kClustered);
  audit_key_spans.in_snapshot = false;
  t.push_back(std::move(audit_key_spans));
  // --- migration kConsentKeptMigration (docs/retention.md, "Deletion keeps the consent
  // evidence"): a row per customer whose profile a deletion request destroyed while the
  // consent class's floor kept its consent ledger rows; ids and a time, no personal data ---
  TableSpec kept =
      Def(kConsentKeptMigration, "consent_kept",
          {Key("customer_id"), C("destroyed_at_ms", I), C("run_id", T), C("request_id", T)},
          "customer_id", kClustered, kCustomer);
  kept.consent_evidence = true;
  t.push_back(std::move(kept));
  // --- migration kDeidReleaseClassesMigration (docs/deid.md, "Releases over time"): one row
  // per de-identified release or share under a profile (release_id: the share's id), its class
  // sizes by digest of the class key; no personal data, it outlives every customer like the
  // register ---
  t.push_back(Def(kDeidReleaseClassesMigration, "deid_release_classes",
                  {Key("release_id"), Key("profile"), Key("levels"), C("counts", T)}, "release_id",
                  {{}, false, {{"deid_release_classes_by_profile", "profile, levels"}}}));
  // --- later migrations: append here ---
  return t;
}

}  // namespace

int TableSpec::ColumnIndex(std::string_view column) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == column) return static_cast<int>(i);
  }
  return -1;
}

const std::vector<TableSpec>& AllTables() {
  static const std::vector<TableSpec> kTables = Build();
  return kTables;
}

const std::vector<LaterIndex>& LaterIndexes() {
  // Migration 6 (issue 13 item 5): the DPO's audit queries filter on the server. Each filter
  // column is indexed with seq after it, so "entries about customer X after the cursor" is one
  // range of one index, read in seq order; the time range has its own index (migrations 16 and
  // 17 drop all six for audit_keys and audit_time_spans). The target index is the one an
  // append writes at a random place (a customer's entries); the others grow at the end of a few
  // ranges (staff ids, actions, decisions, purposes).
  static const std::vector<LaterIndex> kIndexes = {
      {6, "audit_log", {"audit_log_by_target", "target, seq"}},
      {6, "audit_log", {"audit_log_by_actor", "actor, seq"}},
      {6, "audit_log", {"audit_log_by_action", "action, seq"}},
      {6, "audit_log", {"audit_log_by_decision", "decision, seq"}},
      {6, "audit_log", {"audit_log_by_purpose", "purpose, seq"}},
      {6, "audit_log", {"audit_log_by_time", "ts_ms"}},
  };
  return kIndexes;
}

const TableSpec* FindTable(std::string_view name) {
  for (const TableSpec& t : AllTables()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const TableSpec& Table(std::string_view name) {
  const TableSpec* t = FindTable(name);
  if (t == nullptr) std::abort();  // a statement names a table the list lacks: a bug
  return *t;
}

size_t TableIndex(const TableSpec& table) {
  const std::vector<TableSpec>& all = AllTables();
  if (&table >= all.data() && &table < all.data() + all.size()) {
    return static_cast<size_t>(&table - all.data());
  }
  return TableIndex(Table(table.name));
}

}  // namespace custos::store
