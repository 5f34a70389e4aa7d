// PgTransaction's lifecycle methods (issue 6): legal holds, retention plans, the retention
// facts the sweep reads, destruction and the destruction log. Same conventions as
// postgres_transaction.cpp: static SQL, binary parameters, inserts that may duplicate a key
// answer Conflict without aborting.
//
// PostgreSQL has no secure_delete: a deleted row stays in its heap page until VACUUM reuses
// the space, and in the WAL and its archives. The ciphertext left there is unreadable once
// the wrapped key is gone (crypto-shredding); docs/retention.md says what the operator does.
#include <fmt/core.h>

#include <utility>

#include "store/row_helpers.h"

#include "store/postgres_transaction.h"

namespace custos::store::postgres {
namespace {

#define CUSTOS_HOLD_COLUMNS \
  "hold_id, customer_id, reason, owner, placed_by, placed_at_ms, released_by, released_at_ms"
constexpr const char* kInsertHold =
    "INSERT INTO legal_holds(" CUSTOS_HOLD_COLUMNS
    ") VALUES($1, $2, $3, $4, $5, $6, '', 0) ON CONFLICT DO NOTHING";
constexpr const char* kReleaseHold =
    "UPDATE legal_holds SET released_by = $2, released_at_ms = $3 "
    "WHERE hold_id = $1 AND released_at_ms = 0";
constexpr const char* kListHolds =
    "SELECT " CUSTOS_HOLD_COLUMNS " FROM legal_holds WHERE ($1 = '' OR customer_id = $1) "
    "AND ($2 = 0 OR released_at_ms = 0) ORDER BY placed_at_ms, hold_id, customer_id";
#undef CUSTOS_HOLD_COLUMNS

#define CUSTOS_PLAN_COLUMNS \
  "plan_id, content_sha256, content, created_by, created_at_ms, state, run_id, updated_at_ms"
constexpr const char* kInsertPlan = "INSERT INTO retention_plans(" CUSTOS_PLAN_COLUMNS
                                    ") VALUES($1, $2, $3, $4, $5, $6, $7, $8) "
                                    "ON CONFLICT DO NOTHING";
constexpr const char* kUpdatePlan =
    "UPDATE retention_plans SET state = $2, run_id = $3, updated_at_ms = $4 WHERE plan_id = $1";
constexpr const char* kGetPlan =
    "SELECT " CUSTOS_PLAN_COLUMNS " FROM retention_plans WHERE plan_id = $1";
constexpr const char* kListPlans =
    "SELECT plan_id, content_sha256, ''::text, created_by, created_at_ms, state, run_id, "
    "updated_at_ms FROM retention_plans ORDER BY created_at_ms DESC, plan_id DESC LIMIT $1";
#undef CUSTOS_PLAN_COLUMNS

constexpr const char* kListFacts =
    "SELECT c.customer_id, c.created_at_ms, c.updated_at_ms, "
    "(SELECT coalesce(min(created_at_ms), 0) FROM transactions t "
    " WHERE t.customer_id = c.customer_id)::bigint, "
    "(SELECT coalesce(max(created_at_ms), 0) FROM transactions t "
    " WHERE t.customer_id = c.customer_id)::bigint, "
    "(SELECT coalesce(min(created_at_ms), 0) FROM notes n "
    " WHERE n.customer_id = c.customer_id)::bigint, "
    "(SELECT coalesce(max(created_at_ms), 0) FROM notes n "
    " WHERE n.customer_id = c.customer_id)::bigint, "
    "(SELECT coalesce(max(recorded_at_ms), 0) FROM consent_ledger l "
    " WHERE l.customer_id = c.customer_id)::bigint, "
    "(CASE WHEN EXISTS(SELECT 1 FROM legal_holds h WHERE h.customer_id = c.customer_id "
    " AND h.released_at_ms = 0) THEN 1 ELSE 0 END)::bigint, "
    "(SELECT coalesce(max(closed_at_ms), 0) FROM account_closures a "
    " WHERE a.customer_id = c.customer_id)::bigint, "
    // The latest entry of each purpose; all withdrawn: the time of the last withdrawal.
    "(SELECT CASE WHEN count(*) > 0 AND sum(CASE WHEN l.action = 'grant' THEN 1 ELSE 0 END) = 0 "
    " THEN max(l.recorded_at_ms) ELSE 0 END FROM consent_ledger l "
    " WHERE l.customer_id = c.customer_id AND l.scope = 'purpose' AND l.seq = "
    " (SELECT max(m.seq) FROM consent_ledger m WHERE m.customer_id = l.customer_id "
    "  AND m.scope = 'purpose' AND m.purpose = l.purpose))::bigint, "
    "(CASE WHEN EXISTS(SELECT 1 FROM subject_requests r WHERE r.customer_id = c.customer_id "
    " AND r.closed_at_ms = 0 AND r.kind <> 'deletion') THEN 1 ELSE 0 END)::bigint "
    "FROM customers c WHERE c.customer_id > $1 ORDER BY c.customer_id LIMIT $2";
constexpr const char* kInsertClosure =
    "INSERT INTO account_closures(customer_id, closed_at_ms, closed_by, reason) "
    "VALUES($1, $2, $3, $4) ON CONFLICT DO NOTHING";
constexpr const char* kDeleteClosure = "DELETE FROM account_closures WHERE customer_id = $1";
constexpr const char* kGetClosure =
    "SELECT customer_id, closed_at_ms, closed_by, reason FROM account_closures "
    "WHERE customer_id = $1";
constexpr const char* kListRecordTimes =
    "SELECT 'transaction'::text, txn_id, created_at_ms FROM transactions WHERE customer_id = $1 "
    "UNION ALL SELECT 'note'::text, note_id, created_at_ms FROM notes WHERE customer_id = $1 "
    "ORDER BY 3, 2";

constexpr const char* kDeleteKey = "DELETE FROM wrapped_keys WHERE customer_id = $1";
// Run for every customer erased, in this order; $1 is the customer id.
constexpr const char* kEraseSteps[] = {
    "DELETE FROM blind_index WHERE customer_id = $1",
    "DELETE FROM transactions WHERE customer_id = $1",
    "DELETE FROM notes WHERE customer_id = $1",
    "DELETE FROM account_closures WHERE customer_id = $1",
    "INSERT INTO consent_erasures(customer_id) VALUES($1) ON CONFLICT DO NOTHING",
    "DELETE FROM consent_ledger WHERE customer_id = $1",
    "DELETE FROM consent_erasures WHERE customer_id = $1",
    "DELETE FROM customers WHERE customer_id = $1",
};
constexpr const char* kDeleteTxn =
    "DELETE FROM transactions WHERE customer_id = $1 AND txn_id = $2";
constexpr const char* kDeleteNote = "DELETE FROM notes WHERE customer_id = $1 AND note_id = $2";

// The destruction log's seq: the table is locked for the rest of the transaction so two
// writers cannot take the same number (destruction is rare and serial).
constexpr const char* kLockDestructions = "LOCK TABLE destruction_log IN EXCLUSIVE MODE";
constexpr const char* kAppendDestruction =
    "INSERT INTO destruction_log(seq, ts_ms, run_id, kind, id_hash) "
    "SELECT coalesce(max(seq), 0) + 1, $1, $2, $3, $4 FROM destruction_log RETURNING seq";
constexpr const char* kListDestructions =
    "SELECT seq, ts_ms, run_id, kind, id_hash FROM destruction_log "
    "WHERE ($1 = '' OR run_id = $1) AND seq > $2 ORDER BY seq LIMIT $3";

LegalHoldRow ReadHold(const PgResult& r, int i) {
  LegalHoldRow row;
  row.hold_id = r.Text(i, 0);
  row.customer_id = r.Text(i, 1);
  row.reason = r.Text(i, 2);
  row.owner = r.Text(i, 3);
  row.placed_by = r.Text(i, 4);
  row.placed_at_ms = r.Int(i, 5);
  row.released_by = r.Text(i, 6);
  row.released_at_ms = r.Int(i, 7);
  return row;
}

RetentionPlanRow ReadPlan(const PgResult& r, int i) {
  RetentionPlanRow row;
  row.plan_id = r.Text(i, 0);
  row.content_sha256 = r.Text(i, 1);
  row.content = r.Text(i, 2);
  row.created_by = r.Text(i, 3);
  row.created_at_ms = r.Int(i, 4);
  row.state = r.Text(i, 5);
  row.run_id = r.Text(i, 6);
  row.updated_at_ms = r.Int(i, 7);
  return row;
}

RetentionFactsRow ReadFacts(const PgResult& r, int i) {
  RetentionFactsRow row;
  row.customer_id = r.Text(i, 0);
  row.created_at_ms = r.Int(i, 1);
  row.updated_at_ms = r.Int(i, 2);
  row.first_txn_ms = r.Int(i, 3);
  row.last_txn_ms = r.Int(i, 4);
  row.first_note_ms = r.Int(i, 5);
  row.last_note_ms = r.Int(i, 6);
  row.last_consent_ms = r.Int(i, 7);
  row.on_hold = r.Int(i, 8) != 0;
  row.closed_at_ms = r.Int(i, 9);
  row.consent_withdrawn_ms = r.Int(i, 10);
  row.open_request = r.Int(i, 11) != 0;
  return row;
}

RecordTimeRow ReadRecordTime(const PgResult& r, int i) {
  return RecordTimeRow{r.Text(i, 0), r.Text(i, 1), r.Int(i, 2)};
}

DestructionRow ReadDestruction(const PgResult& r, int i) {
  return DestructionRow{r.Int(i, 0), r.Int(i, 1), r.Text(i, 2), r.Text(i, 3), r.Text(i, 4)};
}

template <typename Row>
std::vector<Row> AllRows(const PgResult& r, Row (*read)(const PgResult&, int)) {
  std::vector<Row> rows;
  rows.reserve(static_cast<size_t>(r.Rows()));
  for (int i = 0; i < r.Rows(); ++i) rows.push_back(read(r, i));
  return rows;
}

}  // namespace

Status PgTransaction::InsertLegalHold(const LegalHoldRow& row) {
  Params p;
  p.Text(row.hold_id).Text(row.customer_id).Text(row.reason).Text(row.owner);
  p.Text(row.placed_by).Int(row.placed_at_ms);
  return InsertOnce(kInsertHold, p, "insert legal hold");
}

Result<int64_t> PgTransaction::ReleaseLegalHold(std::string_view hold_id,
                                                std::string_view released_by,
                                                int64_t released_at_ms) {
  Params p;
  p.Text(hold_id).Text(released_by).Int(released_at_ms);
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(kReleaseHold, p, "release legal hold"));
  return r.Affected();
}

Result<std::vector<LegalHoldRow>> PgTransaction::ListLegalHolds(std::string_view customer_id,
                                                                bool in_force_only) {
  Params p;
  p.Text(customer_id).Int(in_force_only ? 1 : 0);
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(kListHolds, p, "list legal holds"));
  return AllRows(r, ReadHold);
}

Status PgTransaction::InsertRetentionPlan(const RetentionPlanRow& row) {
  Params p;
  p.Text(row.plan_id).Text(row.content_sha256).Text(row.content).Text(row.created_by);
  p.Int(row.created_at_ms).Text(row.state).Text(row.run_id).Int(row.updated_at_ms);
  return InsertOnce(kInsertPlan, p, "insert retention plan");
}

Status PgTransaction::UpdateRetentionPlan(const RetentionPlanRow& row) {
  Params p;
  p.Text(row.plan_id).Text(row.state).Text(row.run_id).Int(row.updated_at_ms);
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(kUpdatePlan, p, "update retention plan"));
  if (r.Affected() == 0) return NotFound("store: update retention plan: no such plan id");
  return Status::Ok();
}

Status PgTransaction::InsertAccountClosure(const AccountClosureRow& row) {
  Params p;
  p.Text(row.customer_id).Int(row.closed_at_ms).Text(row.closed_by).Text(row.reason);
  return InsertOnce(kInsertClosure, p, "insert account closure");
}

Result<bool> PgTransaction::DeleteAccountClosure(std::string_view customer_id) {
  CUSTOS_ASSIGN_OR_RETURN(
      PgResult r, Run(kDeleteClosure, Params().Text(customer_id), "delete account closure"));
  return r.Affected() > 0;
}

Result<std::optional<AccountClosureRow>> PgTransaction::GetAccountClosure(
    std::string_view customer_id) {
  CUSTOS_ASSIGN_OR_RETURN(PgResult r,
                          Run(kGetClosure, Params().Text(customer_id), "get account closure"));
  if (r.Rows() == 0) return std::optional<AccountClosureRow>();
  return std::optional<AccountClosureRow>(
      AccountClosureRow{r.Text(0, 0), r.Int(0, 1), r.Text(0, 2), r.Text(0, 3)});
}

Result<std::optional<RetentionPlanRow>> PgTransaction::GetRetentionPlan(
    std::string_view plan_id) {
  CUSTOS_ASSIGN_OR_RETURN(PgResult r,
                          Run(kGetPlan, Params().Text(plan_id), "get retention plan"));
  if (r.Rows() == 0) return std::optional<RetentionPlanRow>();
  return std::optional<RetentionPlanRow>(ReadPlan(r, 0));
}

Result<std::vector<RetentionPlanRow>> PgTransaction::ListRetentionPlans(size_t limit) {
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(kListPlans, Params().Int(SqlLimit(limit)),
                                          "list retention plans"));
  return AllRows(r, ReadPlan);
}

Result<std::vector<RetentionFactsRow>> PgTransaction::ListRetentionFacts(
    std::string_view after_id, size_t limit) {
  Params p;
  p.Text(after_id).Int(SqlLimit(limit));
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(kListFacts, p, "list retention facts"));
  return AllRows(r, ReadFacts);
}

Result<std::vector<RecordTimeRow>> PgTransaction::ListRecordTimes(std::string_view customer_id) {
  CUSTOS_ASSIGN_OR_RETURN(
      PgResult r, Run(kListRecordTimes, Params().Text(customer_id), "list record times"));
  return AllRows(r, ReadRecordTime);
}

Result<bool> PgTransaction::EraseCustomer(std::string_view customer_id) {
  constexpr std::string_view kOp = "erase customer";
  CUSTOS_ASSIGN_OR_RETURN(PgResult key, Run(kDeleteKey, Params().Text(customer_id), kOp));
  bool existed = key.Affected() > 0;
  for (const char* sql : kEraseSteps) {
    CUSTOS_ASSIGN_OR_RETURN(PgResult step, Run(sql, Params().Text(customer_id), kOp));
    existed = existed || (sql == kEraseSteps[std::size(kEraseSteps) - 1] && step.Affected() > 0);
  }
  return existed;
}

Result<bool> PgTransaction::DeleteTransaction(std::string_view customer_id,
                                              std::string_view txn_id) {
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(kDeleteTxn, Params().Text(customer_id).Text(txn_id),
                                          "delete transaction"));
  return r.Affected() > 0;
}

Result<bool> PgTransaction::DeleteNote(std::string_view customer_id, std::string_view note_id) {
  CUSTOS_ASSIGN_OR_RETURN(
      PgResult r, Run(kDeleteNote, Params().Text(customer_id).Text(note_id), "delete note"));
  return r.Affected() > 0;
}

Result<int64_t> PgTransaction::AppendDestruction(const DestructionRow& row) {
  constexpr std::string_view kOp = "append destruction";
  CUSTOS_RETURN_IF_ERROR(Run(kLockDestructions, Params(), kOp).status());
  Params p;
  p.Int(row.ts_ms).Text(row.run_id).Text(row.kind).Text(row.id_hash);
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(kAppendDestruction, p, kOp));
  if (r.Rows() != 1) return Internal("store: append destruction: no seq returned");
  return r.Int(0, 0);
}

Result<std::vector<DestructionRow>> PgTransaction::ListDestructions(std::string_view run_id,
                                                                    int64_t after_seq,
                                                                    size_t limit) {
  Params p;
  p.Text(run_id).Int(after_seq).Int(SqlLimit(limit));
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(kListDestructions, p, "list destructions"));
  return AllRows(r, ReadDestruction);
}

}  // namespace custos::store::postgres
