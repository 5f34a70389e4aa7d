// The one table list of snapshot.h. Column names and order follow the SQLite and PostgreSQL
// migrations (sqlite_schema.cpp, postgres_schema.cpp); a new migration appends its tables.
#include <fmt/core.h>

#include <string_view>

#include "store/snapshot.h"

namespace custos::store {
namespace {

constexpr ColumnType I = ColumnType::kInt;
constexpr ColumnType T = ColumnType::kText;
constexpr ColumnType B = ColumnType::kBlob;

ColumnSpec C(std::string_view name, ColumnType type) {
  ColumnSpec c;
  c.name = name;
  c.type = type;
  return c;
}

// A nullable blob (an envelope of a level the customer has no field at).
ColumnSpec N(std::string_view name) {
  ColumnSpec c = C(name, B);
  c.nullable = true;
  return c;
}

// A table; `customer_column` names the owner's column (-1: no customer data) and
// `record_kind` / `record_column` the record id for per-record destruction.
TableSpec Table(std::string_view name, std::vector<ColumnSpec> columns, std::string_view order_by,
                int customer_column = -1, std::string_view record_kind = {},
                int record_column = -1) {
  TableSpec t;
  t.name = name;
  t.columns = std::move(columns);
  t.order_by = order_by;
  t.customer_column = customer_column;
  t.record_kind = record_kind;
  t.record_column = record_column;
  return t;
}

std::vector<TableSpec> Build() {
  std::vector<TableSpec> t;
  // --- migration 1 ---
  t.push_back(Table("meta", {C("key", T), C("value", B)}, "key"));
  t.push_back(Table("customers",
               {C("customer_id", T),
                C("created_at_ms", I),
                C("updated_at_ms", I),
                C("source", T),
                C("schema_version", I),
                N("env_general"),
                N("env_internal"),
                N("env_confidential")},
               "customer_id",
               0));
  TableSpec keys = Table("wrapped_keys",
                 {C("customer_id", T), C("kek_version", I), C("wrapped_dek", B)},
                 "customer_id",
                 0);
  keys.is_key_section = true;
  t.push_back(std::move(keys));
  // Neutral form of the blind index; SQLite's staged entries read as index entries.
  t.push_back(Table("blind_index",
               {C("customer_id", T), C("field", T), C("token", B)},
               "customer_id, field, token",
               0));
  t.push_back(Table("transactions",
               {C("customer_id", T),
                C("txn_id", T),
                C("created_at_ms", I),
                C("source", T),
                C("ciphertext", B)},
               "customer_id, txn_id",
               0,
               "transaction",
               1));
  t.push_back(Table("notes",
               {C("customer_id", T),
                C("note_id", T),
                C("created_at_ms", I),
                C("source", T),
                C("level", I),
                C("ciphertext", B)},
               "customer_id, note_id",
               0,
               "note",
               1));
  t.push_back(Table("audit_log",
               {C("seq", I),
                C("ts_ms", I),
                C("actor", T),
                C("action", T),
                C("target", T),
                C("purpose", T),
                C("channel", T),
                C("decision", T),
                C("reason", T),
                C("fields", T),
                C("request_id", T),
                C("prev_hash", B),
                C("hash", B)},
               "seq"));
  t.push_back(Table("audit_checkpoints",
               {C("seq", I), C("ts_ms", I), C("hash", B), C("signature", B)},
               "seq"));
  t.push_back(Table("staff",
               {C("staff_id", T),
                C("display_name", T),
                C("post", T),
                C("roles", T),
                C("created_at_ms", I),
                C("status", T)},
               "staff_id"));
  t.push_back(Table("imports",
               {C("import_id", T),
                C("file_sha256", T),
                C("actor", T),
                C("started_at_ms", I),
                C("updated_at_ms", I),
                C("committed_lines", I),
                C("imported", I),
                C("rejected", I),
                C("state", T)},
               "import_id"));
  // --- migration 2 (access) ---
  t.push_back(Table("staff_credentials",
               {C("staff_id", T),
                C("password_hash", T),
                C("totp_sealed", B),
                C("failed_attempts", I),
                C("locked_until_ms", I),
                C("updated_at_ms", I)},
               "staff_id"));
  t.push_back(Table("api_tokens",
               {C("token_id", T),
                C("staff_id", T),
                C("secret_sha256", B),
                C("label", T),
                C("created_at_ms", I),
                C("expires_at_ms", I),
                C("revoked_at_ms", I)},
               "token_id"));
  t.push_back(Table("training_records",
               {C("staff_id", T),
                C("course", T),
                C("completed_at_ms", I),
                C("valid_until_ms", I),
                C("recorded_by", T)},
               "staff_id, course, completed_at_ms"));
  t.push_back(Table("approvals",
               {C("approval_id", T),
                C("kind", T),
                C("requester", T),
                C("justification", T),
                C("scope", T),
                C("requested_at_ms", I),
                C("expires_at_ms", I),
                C("approver", T),
                C("decided_at_ms", I),
                C("state", T)},
               "approval_id"));
  // --- migration 3 (consent) ---
  t.push_back(Table("privacy_notices",
               {C("version", I),
                C("text_sha256", T),
                C("text", T),
                C("purposes", T),
                C("effective_at_ms", I),
                C("published_at_ms", I),
                C("publisher", T)},
               "version"));
  t.push_back(Table("consent_ledger",
               {C("customer_id", T),
                C("seq", I),
                C("action", T),
                C("scope", T),
                C("purpose", T),
                C("notice_version", I),
                C("channel", T),
                C("evidence_ref", T),
                C("recorded_at_ms", I),
                C("actor", T)},
               "customer_id, seq",
               0));
  for (size_t i = t.size() - 2; i < t.size(); ++i) t[i].since_schema_version = 3;
  for (auto& spec : t) {
    if (spec.name == "staff_credentials" || spec.name == "api_tokens" ||
        spec.name == "training_records" || spec.name == "approvals") {
      spec.since_schema_version = 2;
    }
  }
  // --- migration 4 (lifecycle): legal holds, saved retention plans, the destruction log.
  // Hold rows name no personal data and outlive a destroyed customer on the live vault too,
  // so a restore keeps them (no customer column). consent_erasures is empty outside the
  // transaction that destroys a customer: nothing to copy.
  const size_t first_lifecycle = t.size();
  t.push_back(Table("legal_holds",
               {C("customer_id", T),
                C("hold_id", T),
                C("reason", T),
                C("owner", T),
                C("placed_by", T),
                C("placed_at_ms", I),
                C("released_by", T),
                C("released_at_ms", I)},
               "customer_id, hold_id"));
  t.push_back(Table("retention_plans",
               {C("plan_id", T),
                C("content_sha256", T),
                C("content", T),
                C("created_by", T),
                C("created_at_ms", I),
                C("state", T),
                C("run_id", T),
                C("updated_at_ms", I)},
               "plan_id"));
  t.push_back(Table("destruction_log",
               {C("seq", I), C("ts_ms", I), C("run_id", T), C("kind", T), C("id_hash", T)},
               "seq"));
  for (size_t i = first_lifecycle; i < t.size(); ++i) t[i].since_schema_version = 4;
  // --- migration 5 (lifecycle events): account closures go with their customer; subject
  // requests name no personal data and outlive a destroyed customer (like holds).
  const size_t first_events = t.size();
  t.push_back(Table("account_closures",
               {C("customer_id", T), C("closed_at_ms", I), C("closed_by", T), C("reason", T)},
               "customer_id",
               0));
  t.push_back(Table("subject_requests",
               {C("request_id", T),
                C("customer_id", T),
                C("kind", T),
                C("reference", T),
                C("opened_by", T),
                C("opened_at_ms", I),
                C("due_at_ms", I),
                C("closed_by", T),
                C("closed_at_ms", I),
                C("outcome", T)},
               "request_id"));
  for (size_t i = first_events; i < t.size(); ++i) t[i].since_schema_version = 5;
  // --- migration 6 and later: append here ---
  return t;
}

}  // namespace

const std::vector<TableSpec>& SnapshotTables() {
  static const std::vector<TableSpec> kTables = Build();
  return kTables;
}

const TableSpec* FindSnapshotTable(std::string_view name) {
  for (const TableSpec& t : SnapshotTables()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

Result<std::unique_ptr<Snapshot>> Store::OpenSnapshot() {
  return FailedPrecondition("store: this backend takes no snapshots");
}

Result<std::unique_ptr<Loader>> Store::OpenLoader() {
  return FailedPrecondition("store: this backend cannot load a snapshot");
}

Status CheckRow(const TableSpec& table, const Row& row) {
  if (row.size() != table.columns.size()) {
    return InvalidArgument(fmt::format("snapshot: table {}: a row has {} values, the table {} columns",
                                       table.name, row.size(), table.columns.size()));
  }
  for (size_t i = 0; i < row.size(); ++i) {
    const ColumnSpec& col = table.columns[i];
    const Value& v = row[i];
    bool ok = false;
    switch (col.type) {
      case ColumnType::kInt: ok = std::holds_alternative<int64_t>(v); break;
      case ColumnType::kText: ok = std::holds_alternative<std::string>(v); break;
      case ColumnType::kBlob: ok = std::holds_alternative<Bytes>(v); break;
    }
    if (!ok && !(col.nullable && std::holds_alternative<std::monostate>(v))) {
      return InvalidArgument(fmt::format("snapshot: table {}: column {}: wrong value type",
                                         table.name, col.name));
    }
  }
  return Status::Ok();
}

}  // namespace custos::store
