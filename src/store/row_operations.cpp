// Transaction's row operations (store.h), written once for every backend over the table
// descriptions (tables.h), the statements generated from them (sql.h) and the primitives a
// backend implements (Exec, Query, InsertRow, PutRow).
#include <fmt/core.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/consent_facts.h"
#include "store/sql.h"
#include "store/store.h"
#include "store/tables.h"

#include "store/row_helpers.h"

namespace custos::store {
namespace {

// The row structs <-> columns binding (Fields) is in row_helpers.h.
using WrappedKeyFields = Fields<WrappedKeyRow, &WrappedKeyRow::customer_id,
                                &WrappedKeyRow::kek_version, &WrappedKeyRow::wrapped_dek>;
using TransactionFields =
    Fields<TransactionRow, &TransactionRow::customer_id, &TransactionRow::txn_id,
           &TransactionRow::created_at_ms, &TransactionRow::source, &TransactionRow::ciphertext>;
using NoteFields =
    Fields<NoteRow, &NoteRow::customer_id, &NoteRow::note_id, &NoteRow::created_at_ms,
           &NoteRow::source, &NoteRow::level, &NoteRow::ciphertext>;
using AuditFields =
    Fields<AuditRow, &AuditRow::seq, &AuditRow::ts_ms, &AuditRow::actor, &AuditRow::action,
           &AuditRow::target, &AuditRow::purpose, &AuditRow::channel, &AuditRow::decision,
           &AuditRow::reason, &AuditRow::fields, &AuditRow::request_id, &AuditRow::prev_hash,
           &AuditRow::hash>;
using AuditNodeFields =
    Fields<AuditNodeRow, &AuditNodeRow::tree_size, &AuditNodeRow::level, &AuditNodeRow::hash>;
using CheckpointFields = Fields<CheckpointRow, &CheckpointRow::seq, &CheckpointRow::ts_ms,
                                &CheckpointRow::hash, &CheckpointRow::signature>;
using StaffFields = Fields<StaffRow, &StaffRow::staff_id, &StaffRow::display_name, &StaffRow::post,
                           &StaffRow::roles, &StaffRow::created_at_ms, &StaffRow::status>;
using CredentialFields =
    Fields<StaffCredentialRow, &StaffCredentialRow::staff_id, &StaffCredentialRow::password_hash,
           &StaffCredentialRow::totp_sealed, &StaffCredentialRow::failed_attempts,
           &StaffCredentialRow::locked_until_ms, &StaffCredentialRow::updated_at_ms>;
using TokenFields =
    Fields<ApiTokenRow, &ApiTokenRow::token_id, &ApiTokenRow::staff_id, &ApiTokenRow::secret_sha256,
           &ApiTokenRow::label, &ApiTokenRow::created_at_ms, &ApiTokenRow::expires_at_ms,
           &ApiTokenRow::revoked_at_ms>;
using TrainingFields =
    Fields<TrainingRow, &TrainingRow::staff_id, &TrainingRow::course, &TrainingRow::completed_at_ms,
           &TrainingRow::valid_until_ms, &TrainingRow::recorded_by>;
using ApprovalFields =
    Fields<ApprovalRow, &ApprovalRow::approval_id, &ApprovalRow::kind, &ApprovalRow::requester,
           &ApprovalRow::justification, &ApprovalRow::scope, &ApprovalRow::requested_at_ms,
           &ApprovalRow::expires_at_ms, &ApprovalRow::approver, &ApprovalRow::decided_at_ms,
           &ApprovalRow::state>;
using ImportFields =
    Fields<ImportRow, &ImportRow::import_id, &ImportRow::file_sha256, &ImportRow::actor,
           &ImportRow::started_at_ms, &ImportRow::updated_at_ms, &ImportRow::committed_lines,
           &ImportRow::imported, &ImportRow::rejected, &ImportRow::state>;
using NoticeFields = Fields<NoticeRow, &NoticeRow::version, &NoticeRow::text_sha256,
                            &NoticeRow::text, &NoticeRow::purposes, &NoticeRow::effective_at_ms,
                            &NoticeRow::published_at_ms, &NoticeRow::publisher>;
using ConsentFields =
    Fields<ConsentRow, &ConsentRow::customer_id, &ConsentRow::seq, &ConsentRow::action,
           &ConsentRow::scope, &ConsentRow::purpose, &ConsentRow::notice_version,
           &ConsentRow::channel, &ConsentRow::evidence_ref, &ConsentRow::recorded_at_ms,
           &ConsentRow::actor>;
using HoldFields =
    Fields<LegalHoldRow, &LegalHoldRow::customer_id, &LegalHoldRow::hold_id, &LegalHoldRow::reason,
           &LegalHoldRow::owner, &LegalHoldRow::placed_by, &LegalHoldRow::placed_at_ms,
           &LegalHoldRow::released_by, &LegalHoldRow::released_at_ms>;
using PlanFields =
    Fields<RetentionPlanRow, &RetentionPlanRow::plan_id, &RetentionPlanRow::content_sha256,
           &RetentionPlanRow::content, &RetentionPlanRow::created_by,
           &RetentionPlanRow::created_at_ms, &RetentionPlanRow::state, &RetentionPlanRow::run_id,
           &RetentionPlanRow::updated_at_ms>;
using DestructionFields =
    Fields<DestructionRow, &DestructionRow::seq, &DestructionRow::ts_ms, &DestructionRow::run_id,
           &DestructionRow::kind, &DestructionRow::id_hash>;
using ClosureFields =
    Fields<AccountClosureRow, &AccountClosureRow::customer_id, &AccountClosureRow::closed_at_ms,
           &AccountClosureRow::closed_by, &AccountClosureRow::reason>;
using RequestFields =
    Fields<SubjectRequestRow, &SubjectRequestRow::request_id, &SubjectRequestRow::customer_id,
           &SubjectRequestRow::kind, &SubjectRequestRow::reference, &SubjectRequestRow::opened_by,
           &SubjectRequestRow::opened_at_ms, &SubjectRequestRow::due_at_ms,
           &SubjectRequestRow::closed_by, &SubjectRequestRow::closed_at_ms,
           &SubjectRequestRow::outcome>;
using StepFields =
    Fields<SubjectRequestStepRow, &SubjectRequestStepRow::request_id, &SubjectRequestStepRow::step,
           &SubjectRequestStepRow::at_ms, &SubjectRequestStepRow::actor,
           &SubjectRequestStepRow::method, &SubjectRequestStepRow::detail>;
using RestrictionFields =
    Fields<RestrictionRow, &RestrictionRow::customer_id, &RestrictionRow::request_id,
           &RestrictionRow::rule, &RestrictionRow::placed_by, &RestrictionRow::placed_at_ms,
           &RestrictionRow::until_ms>;
using ValuesFields =
    Fields<SubjectRequestValuesRow, &SubjectRequestValuesRow::request_id,
           &SubjectRequestValuesRow::customer_id, &SubjectRequestValuesRow::sealed>;
using DeidReleaseFields =
    Fields<DeidReleaseRow, &DeidReleaseRow::release_id, &DeidReleaseRow::created_at_ms,
           &DeidReleaseRow::actor, &DeidReleaseRow::purpose, &DeidReleaseRow::profile,
           &DeidReleaseRow::profile_sha256, &DeidReleaseRow::parameters, &DeidReleaseRow::figures,
           &DeidReleaseRow::row_count, &DeidReleaseRow::file_sha256, &DeidReleaseRow::recipients>;
using DeidReleaseClassesFields =
    Fields<DeidReleaseClassesRow, &DeidReleaseClassesRow::release_id,
           &DeidReleaseClassesRow::profile, &DeidReleaseClassesRow::levels,
           &DeidReleaseClassesRow::counts>;
using DeidBudgetFields = Fields<DeidBudgetRow, &DeidBudgetRow::profile, &DeidBudgetRow::actor,
                                &DeidBudgetRow::epsilon_spent, &DeidBudgetRow::delta_spent,
                                &DeidBudgetRow::answers, &DeidBudgetRow::updated_at_ms>;
using PartnerFields =
    Fields<PartnerRow, &PartnerRow::partner_id, &PartnerRow::name, &PartnerRow::uscc,
           &PartnerRow::category, &PartnerRow::cert_pem, &PartnerRow::cert_sha256,
           &PartnerRow::cert_subject, &PartnerRow::cert_not_after_ms, &PartnerRow::added_by,
           &PartnerRow::added_at_ms>;
using PartnerCertificateFields =
    Fields<PartnerCertificateRow, &PartnerCertificateRow::partner_id,
           &PartnerCertificateRow::cert_sha256, &PartnerCertificateRow::cert_subject,
           &PartnerCertificateRow::cert_not_after_ms, &PartnerCertificateRow::cert_pem,
           &PartnerCertificateRow::in_use_from_ms, &PartnerCertificateRow::replaced_by,
           &PartnerCertificateRow::replaced_at_ms>;
using AgreementFields =
    Fields<ShareAgreementRow, &ShareAgreementRow::agreement_id, &ShareAgreementRow::partner_id,
           &ShareAgreementRow::document_sha256, &ShareAgreementRow::purposes,
           &ShareAgreementRow::fields, &ShareAgreementRow::profile,
           &ShareAgreementRow::valid_until_ms, &ShareAgreementRow::max_rows,
           &ShareAgreementRow::cross_border, &ShareAgreementRow::impact_assessment,
           &ShareAgreementRow::proposed_by, &ShareAgreementRow::proposed_at_ms,
           &ShareAgreementRow::approval_id, &ShareAgreementRow::revoked_by,
           &ShareAgreementRow::revoked_at_ms, &ShareAgreementRow::revoke_reason,
           &ShareAgreementRow::deletion_due_ms, &ShareAgreementRow::deletion_sha256,
           &ShareAgreementRow::deletion_confirmed_by, &ShareAgreementRow::deletion_confirmed_at_ms>;
using ShareFields =
    Fields<ShareRow, &ShareRow::share_id, &ShareRow::agreement_id, &ShareRow::partner_id,
           &ShareRow::created_by, &ShareRow::created_at_ms, &ShareRow::fields, &ShareRow::row_count,
           &ShareRow::left_out, &ShareRow::canary_count, &ShareRow::file_sha256,
           &ShareRow::manifest, &ShareRow::approval_id>;
// Not a table: a row of the retention-facts query (ListRetentionFacts), in its column order.
using FactsFields =
    Fields<RetentionFactsRow, &RetentionFactsRow::customer_id, &RetentionFactsRow::created_at_ms,
           &RetentionFactsRow::updated_at_ms, &RetentionFactsRow::first_txn_ms,
           &RetentionFactsRow::last_txn_ms, &RetentionFactsRow::first_note_ms,
           &RetentionFactsRow::last_note_ms, &RetentionFactsRow::last_consent_ms,
           &RetentionFactsRow::on_hold, &RetentionFactsRow::closed_at_ms,
           &RetentionFactsRow::consent_withdrawn_ms, &RetentionFactsRow::open_request>;
using ConsentKeptFields =
    Fields<ConsentKeptRow, &ConsentKeptRow::customer_id, &ConsentKeptRow::destroyed_at_ms,
           &ConsentKeptRow::run_id, &ConsentKeptRow::request_id>;
using RecordTimeFields = Fields<RecordTimeRow, &RecordTimeRow::kind, &RecordTimeRow::record_id,
                                &RecordTimeRow::created_at_ms>;

// Customers: five plain columns, then one nullable envelope column per level.
Result<std::vector<Param>> CustomerValues(const CustomerRow& row) {
  CUSTOS_ASSIGN_OR_RETURN(EnvelopeSlots slots, SlotEnvelopes(row.envelopes));
  std::vector<Param> v = {std::string_view(row.customer_id), row.created_at_ms, row.updated_at_ms,
                          std::string_view(row.source), int64_t{row.schema_version}};
  for (const Bytes* slot : slots) v.push_back(slot == nullptr ? Param() : Param(ByteView(*slot)));
  return v;
}

Result<CustomerRow> ReadCustomer(const Cells& c) {
  CustomerRow row;
  row.customer_id = c.Text(0);
  row.created_at_ms = c.Int(1);
  row.updated_at_ms = c.Int(2);
  row.source = c.Text(3);
  row.schema_version = static_cast<uint32_t>(c.Int(4));
  for (size_t i = 0; i < kAllLevels.size(); ++i) {
    const int col = 5 + static_cast<int>(i);
    if (!c.IsNull(col)) row.envelopes.push_back({kAllLevels[i], c.Blob(col)});
  }
  return row;
}

Result<int64_t> ReadInt(const Cells& c) { return c.Int(0); }
// (first, last) of a min() / max() pair; (0, 0) for the NULLs of an aggregate over no rows.
using SeqRange = std::pair<int64_t, int64_t>;
Result<SeqRange> ReadSeqRange(const Cells& c) {
  if (c.IsNull(0) || c.IsNull(1)) return SeqRange{0, 0};
  return SeqRange{c.Int(0), c.Int(1)};
}

// The described tables, looked up once.
const TableSpec& kMeta = Table("meta");
const TableSpec& kCustomers = Table("customers");
const TableSpec& kWrappedKeys = Table("wrapped_keys");
const TableSpec& kTransactions = Table("transactions");
const TableSpec& kNotes = Table("notes");
const TableSpec& kAudit = Table("audit_log");
const TableSpec& kCheckpoints = Table("audit_checkpoints");
const TableSpec& kAuditTree = Table("audit_tree");
const TableSpec& kStaff = Table("staff");
const TableSpec& kCredentials = Table("staff_credentials");
const TableSpec& kTokens = Table("api_tokens");
const TableSpec& kTraining = Table("training_records");
const TableSpec& kApprovals = Table("approvals");
const TableSpec& kImports = Table("imports");
const TableSpec& kNotices = Table("privacy_notices");
const TableSpec& kConsents = Table("consent_ledger");
const TableSpec& kConsentErasures = Table("consent_erasures");
const TableSpec& kConsentKept = Table("consent_kept");
const TableSpec& kHolds = Table("legal_holds");
const TableSpec& kPlans = Table("retention_plans");
const TableSpec& kDestructions = Table("destruction_log");
const TableSpec& kClosures = Table("account_closures");
const TableSpec& kRequests = Table("subject_requests");
const TableSpec& kSteps = Table("subject_request_steps");
const TableSpec& kRestrictions = Table("restrictions");
const TableSpec& kRequestValues = Table("subject_request_values");
const TableSpec& kDeidReleases = Table("deid_releases");
const TableSpec& kDeidBudgets = Table("deid_budgets");
const TableSpec& kDeidReleaseClasses = Table("deid_release_classes");
const TableSpec& kPartners = Table("partners");
const TableSpec& kPartnerCertificates = Table("partner_certificates");
const TableSpec& kNoticeShares = Table("notice_shares");
const TableSpec& kAgreements = Table("share_agreements");
const TableSpec& kShares = Table("shares");

Status NotFoundUnless(int64_t changed, std::string_view what) {
  if (changed == 0) return NotFound(fmt::format("store: {}", what));
  return Status::Ok();
}

// Rows and FirstRow are in row_helpers.h.

}  // namespace

// --- the row primitives every dialect shares ---

Status Transaction::InsertRow(const TableSpec& table, std::span<const Param> values,
                              std::string_view op) {
  // One statement per table, built on first use (the map holds it at a fixed address).
  static const std::vector<Statement> kInserts = [] {
    std::vector<Statement> out;
    for (const TableSpec& t : AllTables()) out.push_back(Insert(t));
    return out;
  }();
  const size_t index = TableIndex(table);
  CUSTOS_ASSIGN_OR_RETURN(int64_t inserted, Exec(kInserts[index], values, op));
  if (inserted == 0) return Conflict(fmt::format("store: {}: already exists", op));
  return Status::Ok();
}

Status Transaction::PutRow(const TableSpec& table, std::span<const Param> values,
                           std::string_view op) {
  static const std::vector<Statement> kUpserts = [] {
    std::vector<Statement> out;
    for (const TableSpec& t : AllTables()) out.push_back(Upsert(t));
    return out;
  }();
  const size_t index = TableIndex(table);
  return Exec(kUpserts[index], values, op).status();
}

// --- meta ---

Result<std::optional<Bytes>> Transaction::GetMeta(std::string_view key) {
  static const Statement kSql = SelectByKey(kMeta);
  const Param params[] = {key};
  return FirstRow<Bytes>(*this, kSql, params, "get meta",
                         [](const Cells& c) -> Result<Bytes> { return c.Blob(1); });
}

Status Transaction::PutMeta(std::string_view key, ByteView value) {
  const Param values[] = {key, value};
  return PutRow(kMeta, values, "put meta");
}

Result<bool> Transaction::DeleteMeta(std::string_view key) {
  static const Statement kSql = Delete(kMeta, "WHERE key = ?1");
  const Param params[] = {key};
  CUSTOS_ASSIGN_OR_RETURN(int64_t deleted, Exec(kSql, params, "delete meta"));
  return deleted > 0;
}

// --- customers ---

Status Transaction::InsertCustomer(const CustomerRow& row) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<Param> values, CustomerValues(row));
  return InsertRow(kCustomers, values, "insert customer");
}

Status Transaction::UpdateCustomer(const CustomerRow& row) {
  static const Statement kSql = Update(
      kCustomers, "updated_at_ms, schema_version, env_general, env_internal, env_confidential");
  CUSTOS_ASSIGN_OR_RETURN(std::vector<Param> values, CustomerValues(row));
  const Param params[] = {values[0], values[2], values[4], values[5], values[6], values[7]};
  CUSTOS_ASSIGN_OR_RETURN(int64_t changed, Exec(kSql, params, "update customer"));
  return NotFoundUnless(changed, "update customer: no such customer");
}

Result<std::optional<CustomerRow>> Transaction::GetCustomer(std::string_view customer_id) {
  static const Statement kSql = SelectByKey(kCustomers);
  const Param params[] = {customer_id};
  return FirstRow<CustomerRow>(*this, kSql, params, "get customer", ReadCustomer);
}

Result<std::vector<CustomerRow>> Transaction::ListCustomers(std::string_view after_id,
                                                            size_t limit) {
  static const Statement kSql =
      Select(kCustomers, "WHERE customer_id > ?1 ORDER BY customer_id LIMIT ?2");
  const Param params[] = {after_id, SqlLimit(limit)};  // '' sorts before every id: all
  return Rows<CustomerRow>(*this, kSql, params, "list customers", ReadCustomer);
}

Result<int64_t> Transaction::CountCustomers() {
  static const Statement kSql = Statement::Same("SELECT count(*) FROM customers");
  CUSTOS_ASSIGN_OR_RETURN(auto count,
                          (FirstRow<int64_t>(*this, kSql, {}, "count customers", ReadInt)));
  return count.value_or(0);
}

// --- wrapped keys ---

Status Transaction::PutWrappedKey(const WrappedKeyRow& row) {
  return PutRow(kWrappedKeys, WrappedKeyFields::Values(row), "put wrapped key");
}

Result<std::optional<WrappedKeyRow>> Transaction::GetWrappedKey(std::string_view customer_id) {
  static const Statement kSql = SelectByKey(kWrappedKeys);
  const Param params[] = {customer_id};
  return FirstRow<WrappedKeyRow>(*this, kSql, params, "get wrapped key", WrappedKeyFields::Read);
}

Result<std::optional<Transaction::CustomerWithKey>> Transaction::GetCustomerWithKey(
    std::string_view customer_id) {
  // ReadCustomer's columns, then the key's (NULL without a key).
  static const Statement kSql = Statement::Same(fmt::format(
      "SELECT c.customer_id, c.created_at_ms, c.updated_at_ms, c.source, c.schema_version, "
      "c.env_general, c.env_internal, c.env_confidential, k.kek_version, k.wrapped_dek "
      "FROM {} c LEFT JOIN {} k ON k.customer_id = c.customer_id WHERE c.customer_id = ?1",
      kCustomers.name, kWrappedKeys.name));
  const Param params[] = {customer_id};
  return FirstRow<CustomerWithKey>(
      *this, kSql, params, "get customer with key", [](const Cells& c) -> Result<CustomerWithKey> {
        CUSTOS_ASSIGN_OR_RETURN(CustomerRow row, ReadCustomer(c));
        CustomerWithKey out{std::move(row), std::nullopt};
        if (!c.IsNull(9)) {
          out.key = WrappedKeyRow{out.row.customer_id, static_cast<uint32_t>(c.Int(8)), c.Blob(9)};
        }
        return out;
      });
}

Result<std::vector<WrappedKeyRow>> Transaction::ListWrappedKeysNotAt(uint32_t kek_version,
                                                                     std::string_view after_id,
                                                                     size_t limit) {
  static const Statement kSql = Select(
      kWrappedKeys, "WHERE customer_id > ?1 AND kek_version <> ?2 ORDER BY customer_id LIMIT ?3");
  const Param params[] = {after_id, int64_t{kek_version}, SqlLimit(limit)};
  return Rows<WrappedKeyRow>(*this, kSql, params, "list wrapped keys", WrappedKeyFields::Read);
}

Result<bool> Transaction::ReplaceWrappedKey(const WrappedKeyRow& row,
                                            uint32_t expected_kek_version) {
  // Conditional on the version read: a key destroyed or rewrapped meanwhile is left alone.
  static const Statement kSql =
      Update(kWrappedKeys, "kek_version, wrapped_dek", "AND kek_version = ?4");
  const Param params[] = {std::string_view(row.customer_id), int64_t{row.kek_version},
                          ByteView(row.wrapped_dek), int64_t{expected_kek_version}};
  CUSTOS_ASSIGN_OR_RETURN(int64_t changed, Exec(kSql, params, "replace wrapped key"));
  return changed == 1;
}

Result<std::vector<std::pair<uint32_t, int64_t>>> Transaction::CountWrappedKeysByVersion() {
  static const Statement kSql = Statement::Same(
      "SELECT kek_version, count(*) FROM wrapped_keys GROUP BY kek_version ORDER BY kek_version");
  using Count = std::pair<uint32_t, int64_t>;
  return Rows<Count>(*this, kSql, {}, "count wrapped keys", [](const Cells& c) -> Result<Count> {
    return Count{static_cast<uint32_t>(c.Int(0)), c.Int(1)};
  });
}

// --- transactions and notes ---

Status Transaction::InsertTransaction(const TransactionRow& row) {
  return InsertRow(kTransactions, TransactionFields::Values(row), "insert transaction");
}

Result<std::vector<TransactionRow>> Transaction::ListTransactions(std::string_view customer_id) {
  static const Statement kSql =
      Select(kTransactions, "WHERE customer_id = ?1 ORDER BY created_at_ms, txn_id");
  const Param params[] = {customer_id};
  return Rows<TransactionRow>(*this, kSql, params, "list transactions", TransactionFields::Read);
}

Status Transaction::InsertNote(const NoteRow& row) {
  return InsertRow(kNotes, NoteFields::Values(row), "insert note");
}

Result<std::vector<NoteRow>> Transaction::ListNotes(std::string_view customer_id) {
  static const Statement kSql =
      Select(kNotes, "WHERE customer_id = ?1 ORDER BY created_at_ms, note_id");
  const Param params[] = {customer_id};
  return Rows<NoteRow>(*this, kSql, params, "list notes", NoteFields::Read);
}

Result<bool> Transaction::DeleteTransaction(std::string_view customer_id, std::string_view txn_id) {
  static const Statement kSql = Delete(kTransactions, "WHERE customer_id = ?1 AND txn_id = ?2");
  const Param params[] = {customer_id, txn_id};
  CUSTOS_ASSIGN_OR_RETURN(int64_t deleted, Exec(kSql, params, "delete transaction"));
  return deleted > 0;
}

Result<bool> Transaction::DeleteNote(std::string_view customer_id, std::string_view note_id) {
  static const Statement kSql = Delete(kNotes, "WHERE customer_id = ?1 AND note_id = ?2");
  const Param params[] = {customer_id, note_id};
  CUSTOS_ASSIGN_OR_RETURN(int64_t deleted, Exec(kSql, params, "delete note"));
  return deleted > 0;
}

// --- audit (the append and the head differ per dialect) ---

Result<std::vector<AuditRow>> Transaction::ReadAudit(int64_t from_seq, size_t limit) {
  static const Statement kSql = Select(kAudit, "WHERE seq >= ?1 ORDER BY seq LIMIT ?2");
  const Param params[] = {from_seq, SqlLimit(limit)};
  return Rows<AuditRow>(*this, kSql, params, "read audit", AuditFields::Read);
}

namespace {

// The text filters of an AuditFilter, in the order their conditions are written; a filter's
// position is also its `col` in audit_key_spans (migration kAuditKeySpansMigration).
constexpr std::string_view kAuditFilterColumns[] = {"target", "actor", "action", "decision",
                                                    "purpose"};
constexpr size_t kAuditFilterCount = std::size(kAuditFilterColumns);
// The filter whose keys a query reads when several are set: the most selective first (a
// customer, a staff member, an action, a purpose, a decision).
constexpr size_t kAuditKeyPreference[] = {0, 1, 2, 4, 3};
static_assert(std::size(kAuditKeyPreference) == kAuditFilterCount);

const TableSpec& kAuditKeysState = Table("audit_keys_state");
// The entries a row of audit_time_spans covers at most, aligned on multiples of it.
constexpr int64_t kAuditTimeSpan = 256;

size_t AuditKeyColumn(unsigned mask) {
  for (size_t col : kAuditKeyPreference) {
    if ((mask & (1u << col)) != 0) return col;
  }
  return 0;
}

// One statement per set of text filters in use (bit i: kAuditFilterColumns[i]), built once: the
// backends cache prepared statements by their text. Parameters: ?1 after_seq, ?2 up_to_seq,
// ?3 from_ms, ?4 to_ms, then the filters' values in column order, then the limit.
// The entries of a seq range, filtered: with no text filter the whole query (its seq range
// narrowed by audit_time_spans when it has a time range); with one or more, the entries after
// the last indexed one (AuditKeysIndexedSeq). `+ts_ms` keeps a planner on the seq range.
const Statement& AuditQuerySql(unsigned mask) {
  static const std::vector<Statement> kAll = [] {
    std::vector<Statement> all;
    all.reserve(size_t{1} << kAuditFilterCount);
    for (unsigned m = 0; m < (1u << kAuditFilterCount); ++m) {
      std::string where = "WHERE seq > ?1 AND seq <= ?2 AND +ts_ms >= ?3 AND +ts_ms < ?4";
      int n = 5;
      for (size_t i = 0; i < kAuditFilterCount; ++i) {
        if ((m & (1u << i)) != 0) {
          where += fmt::format(" AND {} = ?{}", kAuditFilterColumns[i], n++);
        }
      }
      all.push_back(Select(kAudit, fmt::format("{} ORDER BY seq LIMIT ?{}", where, n)));
    }
    return all;
  }();
  return kAll[mask];
}

// The indexed part of a query with text filters (mask != 0): the spans of audit_key_spans of
// the preferred filter's value that reach past ?1, each span's entries read by seq and checked
// against every filter (an entry inside a span need not hold its key). A span lies within one
// run of kAuditKeySpan entries, so one that ends after ?1 starts after ?1 - kAuditKeySpan: the
// spans are one range of the key. Spans of one key do not overlap, so ordering by the span
// then the entry is seq order. Same parameters as AuditQuerySql; ?2 is the last indexed seq
// (or up_to_seq, if lower).
const Statement& AuditKeyedSql(unsigned mask) {
  static const std::vector<Statement> kAll = [] {
    std::string columns;
    for (const ColumnSpec& c : kAudit.columns) {
      columns += fmt::format("{}a.{}", columns.empty() ? "" : ", ", c.name);
    }
    std::vector<Statement> all;
    all.reserve(size_t{1} << kAuditFilterCount);
    for (unsigned m = 0; m < (1u << kAuditFilterCount); ++m) {
      const size_t key_col = AuditKeyColumn(m);
      const std::string spans = fmt::format(
          "k.col = {} AND k.first_seq > ?1 - {} AND k.first_seq <= ?2 AND k.last_seq > ?1", key_col,
          kAuditKeySpan);
      std::string entries =
          "a.seq >= k.first_seq AND a.seq <= k.last_seq AND a.seq > ?1 AND a.seq <= ?2 AND "
          "+a.ts_ms >= ?3 AND +a.ts_ms < ?4";
      std::string key;
      int n = 5;
      for (size_t i = 0; i < kAuditFilterCount; ++i) {
        if ((m & (1u << i)) == 0) continue;
        if (i == key_col) key = fmt::format(" AND k.key = ?{}", n);
        entries += fmt::format(" AND a.{} = ?{}", kAuditFilterColumns[i], n++);
      }
      // SQLite: CROSS JOIN reads audit_key_spans first. PostgreSQL: its planner cannot tell a
      // span is short and would scan the log for a rare key, so each span's entries are a
      // fenced (OFFSET 0) lateral range of the log's key.
      all.push_back(Statement::Each(
          fmt::format("SELECT {} FROM audit_key_spans k CROSS JOIN audit_log a WHERE {}{} AND {} "
                      "ORDER BY k.first_seq, a.seq LIMIT ?{}",
                      columns, spans, key, entries, n),
          fmt::format("SELECT {} FROM audit_key_spans k CROSS JOIN LATERAL (SELECT * FROM "
                      "audit_log a WHERE {} OFFSET 0) a WHERE {}{} ORDER BY k.first_seq, a.seq "
                      "LIMIT ?{}",
                      columns, entries, spans, key, n)));
    }
    return all;
  }();
  return kAll[mask];
}

// The time spans of the entries in (?1, ?2], one row per run of kAuditTimeSpan entries (or the
// part of one in the range).
const Statement& IndexAuditTimeSpansSql() {
  static const Statement kSql = Statement::Same(
      fmt::format("INSERT INTO audit_time_spans(first_seq, last_seq, min_ts_ms, max_ts_ms) "
                  "SELECT min(seq), max(seq), min(ts_ms), max(ts_ms) FROM audit_log WHERE seq > "
                  "?1 AND seq <= ?2 GROUP BY (seq - 1) / {} ORDER BY 1",
                  kAuditTimeSpan));
  return kSql;
}

// The first and last seq of the spans in (?1, ?2] whose times overlap [?3, ?4): a span holds
// at most kAuditTimeSpan entries, so one that ends after ?1 starts after ?1 - kAuditTimeSpan
// (a range of the key, not a scan of every span).
const Statement& AuditTimeSpansSql() {
  static const Statement kSql = Statement::Same(fmt::format(
      "SELECT min(first_seq), max(last_seq) FROM audit_time_spans WHERE first_seq > ?1 - {} AND "
      "first_seq <= ?2 AND last_seq > ?1 AND max_ts_ms >= ?3 AND min_ts_ms < ?4",
      kAuditTimeSpan));
  return kSql;
}

// The key spans of the entries in (?1, ?2], in key order, in one statement: no row crosses into
// the program, and the statement's sorter hands the B-tree its spans in order. Each column's
// keys are grouped by run of kAuditKeySpan entries (the same runs as audit_time_spans).
const Statement& IndexAuditKeysSql() {
  static const Statement kSql = [] {
    std::string keys;
    for (size_t col = 0; col < kAuditFilterCount; ++col) {
      keys += fmt::format(
          "{}SELECT {} AS col, {} AS key, seq FROM audit_log WHERE seq > ?1 AND seq <= ?2 AND {} "
          "<> ''",
          col == 0 ? "" : " UNION ALL ", col, kAuditFilterColumns[col], kAuditFilterColumns[col]);
    }
    const std::string select = fmt::format(
        "SELECT col, key, min(seq), max(seq) FROM ({}) AS entry_keys GROUP BY col, key, "
        "(seq - 1) / {} ORDER BY 1, 2, 3",
        keys, kAuditKeySpan);
    // A span already there (none should be: appends are serialised) is left as it is.
    return Statement::Each(
        fmt::format("INSERT OR IGNORE INTO audit_key_spans(col, key, first_seq, last_seq) {}",
                    select),
        fmt::format("INSERT INTO audit_key_spans(col, key, first_seq, last_seq) {} ON CONFLICT DO "
                    "NOTHING",
                    select));
  }();
  return kSql;
}

}  // namespace

Result<int64_t> Transaction::AuditKeysIndexedSeq() {
  static const Statement kSql =
      Statement::Same("SELECT indexed_seq FROM audit_keys_state WHERE id = 1");
  CUSTOS_ASSIGN_OR_RETURN(std::optional<int64_t> seq,
                          FirstRow<int64_t>(*this, kSql, {}, "read audit keys state", ReadInt));
  return seq.value_or(0);
}

Result<int64_t> Transaction::IndexAuditKeys(int64_t head_seq, int64_t min_tail,
                                            size_t max_entries) {
  CUSTOS_ASSIGN_OR_RETURN(const int64_t indexed, AuditKeysIndexedSeq());
  if (max_entries == 0 || head_seq - indexed < std::max<int64_t>(min_tail, 1)) return indexed;
  // Entries are numbered without gaps (audit/audit_log.h), so the batch is a seq range.
  const auto span = static_cast<int64_t>(std::min<size_t>(max_entries, INT64_MAX));
  const int64_t last = head_seq - indexed > span ? indexed + span : head_seq;
  const Param range[] = {indexed, last};
  CUSTOS_RETURN_IF_ERROR(Exec(IndexAuditKeysSql(), range, "index audit keys").status());
  CUSTOS_RETURN_IF_ERROR(
      Exec(IndexAuditTimeSpansSql(), range, "index audit keys: time spans").status());
  const Param state[] = {int64_t{1}, last};
  CUSTOS_RETURN_IF_ERROR(PutRow(kAuditKeysState, state, "index audit keys: state"));
  return last;
}

Result<std::vector<AuditRow>> Transaction::QueryAudit(const AuditFilter& filter, size_t limit) {
  if (limit == 0) return std::vector<AuditRow>();
  const std::string* values[] = {&filter.target, &filter.actor, &filter.action, &filter.decision,
                                 &filter.purpose};
  static_assert(std::size(values) == kAuditFilterCount);
  unsigned mask = 0;
  for (size_t i = 0; i < kAuditFilterCount; ++i) {
    if (!values[i]->empty()) mask |= 1u << i;
  }
  // ?1 after_seq, ?2 up_to_seq, ?3 from_ms, ?4 to_ms, the filters, the limit.
  auto params_for = [&](int64_t after, int64_t up_to, size_t n) {
    std::vector<Param> params = {after, up_to, filter.from_ms, filter.to_ms};
    for (size_t i = 0; i < kAuditFilterCount; ++i) {
      if ((mask & (1u << i)) != 0) params.emplace_back(std::string_view(*values[i]));
    }
    params.emplace_back(SqlLimit(n));
    return params;
  };
  const bool timed = filter.from_ms > 0 || filter.to_ms != std::numeric_limits<int64_t>::max();
  if (mask == 0 && !timed) {
    return Rows<AuditRow>(*this, AuditQuerySql(0),
                          params_for(filter.after_seq, filter.up_to_seq, limit), "query audit",
                          AuditFields::Read);
  }
  // The indexed entries (through audit_key_spans, or the runs audit_time_spans says overlap the
  // time range), then the tail after them by seq: in seq order.
  CUSTOS_ASSIGN_OR_RETURN(const int64_t indexed, AuditKeysIndexedSeq());
  std::vector<AuditRow> out;
  const int64_t keyed_to = std::min(filter.up_to_seq, indexed);
  if (filter.after_seq < keyed_to && mask != 0) {
    CUSTOS_ASSIGN_OR_RETURN(out, Rows<AuditRow>(*this, AuditKeyedSql(mask),
                                                params_for(filter.after_seq, keyed_to, limit),
                                                "query audit", AuditFields::Read));
    if (out.size() >= limit) return out;
  } else if (filter.after_seq < keyed_to) {
    const Param span_params[] = {filter.after_seq, keyed_to, filter.from_ms, filter.to_ms};
    CUSTOS_ASSIGN_OR_RETURN(std::optional<SeqRange> spans,
                            FirstRow<SeqRange>(*this, AuditTimeSpansSql(), span_params,
                                               "query audit: time spans", ReadSeqRange));
    if (spans.has_value() && spans->second > 0) {
      const int64_t after = std::max(filter.after_seq, spans->first - 1);
      const int64_t up_to = std::min(keyed_to, spans->second);
      CUSTOS_ASSIGN_OR_RETURN(
          out, Rows<AuditRow>(*this, AuditQuerySql(0), params_for(after, up_to, limit),
                              "query audit", AuditFields::Read));
      if (out.size() >= limit) return out;
    }
  }
  const int64_t tail_after = std::max(filter.after_seq, indexed);
  if (tail_after >= filter.up_to_seq) return out;
  CUSTOS_ASSIGN_OR_RETURN(
      std::vector<AuditRow> tail,
      Rows<AuditRow>(*this, AuditQuerySql(mask),
                     params_for(tail_after, filter.up_to_seq, limit - out.size()), "query audit",
                     AuditFields::Read));
  if (out.empty()) return tail;
  out.insert(out.end(), std::make_move_iterator(tail.begin()), std::make_move_iterator(tail.end()));
  return out;
}

Status IndexAllAuditKeys(Store& store, size_t per_transaction) {
  while (true) {
    CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn, store.Begin());
    CUSTOS_ASSIGN_OR_RETURN(std::optional<AuditRow> head, txn->GetAuditHead());
    const int64_t head_seq = head.has_value() ? head->seq : 0;
    CUSTOS_ASSIGN_OR_RETURN(const int64_t indexed,
                            txn->IndexAuditKeys(head_seq, 1, per_transaction));
    CUSTOS_RETURN_IF_ERROR(txn->Commit());
    if (indexed >= head_seq) return Status::Ok();
  }
}

Status Transaction::InsertCheckpoint(const CheckpointRow& row) {
  return InsertRow(kCheckpoints, CheckpointFields::Values(row), "insert checkpoint");
}

Result<std::vector<CheckpointRow>> Transaction::ListCheckpoints() {
  static const Statement kSql = Select(kCheckpoints, "ORDER BY seq");
  return Rows<CheckpointRow>(*this, kSql, {}, "list checkpoints", CheckpointFields::Read);
}

Status Transaction::InsertAuditNode(const AuditNodeRow& row) {
  return InsertRow(kAuditTree, AuditNodeFields::Values(row), "insert audit tree node");
}

Result<std::optional<AuditNodeRow>> Transaction::GetAuditNode(int64_t tree_size, int64_t level) {
  static const Statement kSql = SelectByKey(kAuditTree);
  const Param params[] = {tree_size, level};
  return FirstRow<AuditNodeRow>(*this, kSql, params, "get audit tree node", AuditNodeFields::Read);
}

Result<std::vector<AuditNodeRow>> Transaction::ReadAuditNodes(int64_t after_size,
                                                              int64_t after_level, size_t limit) {
  // Row-value comparison reads as one range of the key on both dialects.
  static const Statement kSql =
      Select(kAuditTree, "WHERE (tree_size, level) > (?1, ?2) ORDER BY tree_size, level LIMIT ?3");
  const Param params[] = {after_size, after_level, SqlLimit(limit)};
  return Rows<AuditNodeRow>(*this, kSql, params, "read audit tree nodes", AuditNodeFields::Read);
}

Result<int64_t> Transaction::LastAuditNodeSize() {
  static const Statement kSql =
      Statement::Same("SELECT coalesce(max(tree_size), 0) FROM audit_tree");
  CUSTOS_ASSIGN_OR_RETURN(std::optional<int64_t> last,
                          FirstRow<int64_t>(*this, kSql, {}, "last audit tree node", ReadInt));
  return last.value_or(0);
}

// --- staff and access ---

Status Transaction::InsertStaff(const StaffRow& row) {
  return InsertRow(kStaff, StaffFields::Values(row), "insert staff");
}

Result<std::optional<StaffRow>> Transaction::GetStaff(std::string_view staff_id) {
  static const Statement kSql = SelectByKey(kStaff);
  const Param params[] = {staff_id};
  return FirstRow<StaffRow>(*this, kSql, params, "get staff", StaffFields::Read);
}

Result<std::vector<StaffRow>> Transaction::ListStaff() {
  static const Statement kSql = Select(kStaff, "ORDER BY staff_id");
  return Rows<StaffRow>(*this, kSql, {}, "list staff", StaffFields::Read);
}

Status Transaction::UpdateStaff(const StaffRow& row) {
  static const Statement kSql = Update(kStaff, "display_name, post, roles, status");
  const Param params[] = {std::string_view(row.staff_id), std::string_view(row.display_name),
                          std::string_view(row.post), std::string_view(row.roles),
                          std::string_view(row.status)};
  CUSTOS_ASSIGN_OR_RETURN(int64_t changed, Exec(kSql, params, "update staff"));
  return NotFoundUnless(changed, "update staff: no such staff id");
}

Status Transaction::PutStaffCredential(const StaffCredentialRow& row) {
  return PutRow(kCredentials, CredentialFields::Values(row), "put staff credential");
}

Result<std::optional<StaffCredentialRow>> Transaction::GetStaffCredential(
    std::string_view staff_id) {
  static const Statement kSql = SelectByKey(kCredentials);
  const Param params[] = {staff_id};
  return FirstRow<StaffCredentialRow>(*this, kSql, params, "get staff credential",
                                      CredentialFields::Read);
}

Status Transaction::InsertApiToken(const ApiTokenRow& row) {
  return InsertRow(kTokens, TokenFields::Values(row), "insert api token");
}

Result<std::optional<ApiTokenRow>> Transaction::FindApiToken(ByteView secret_sha256) {
  static const Statement kSql = Select(kTokens, "WHERE secret_sha256 = ?1");
  const Param params[] = {secret_sha256};
  return FirstRow<ApiTokenRow>(*this, kSql, params, "find api token", TokenFields::Read);
}

Result<std::optional<ApiTokenRow>> Transaction::GetApiToken(std::string_view token_id) {
  static const Statement kSql = SelectByKey(kTokens);
  const Param params[] = {token_id};
  return FirstRow<ApiTokenRow>(*this, kSql, params, "get api token", TokenFields::Read);
}

Result<std::vector<ApiTokenRow>> Transaction::ListApiTokens(std::string_view staff_id) {
  static const Statement kSql =
      Select(kTokens, "WHERE (?1 = '' OR staff_id = ?1) ORDER BY created_at_ms, token_id");
  const Param params[] = {staff_id};
  return Rows<ApiTokenRow>(*this, kSql, params, "list api tokens", TokenFields::Read);
}

Status Transaction::RevokeApiToken(std::string_view token_id, int64_t revoked_at_ms) {
  // A revoked token stays revoked: the first time is kept.
  static const Statement kSql = Statement::Same(
      "UPDATE api_tokens SET revoked_at_ms = CASE WHEN revoked_at_ms = 0 THEN ?2 "
      "ELSE revoked_at_ms END WHERE token_id = ?1");
  const Param params[] = {token_id, revoked_at_ms};
  CUSTOS_ASSIGN_OR_RETURN(int64_t changed, Exec(kSql, params, "revoke api token"));
  return NotFoundUnless(changed, "revoke api token: no such token id");
}

Status Transaction::InsertTraining(const TrainingRow& row) {
  return InsertRow(kTraining, TrainingFields::Values(row), "insert training");
}

Result<std::vector<TrainingRow>> Transaction::ListTraining(std::string_view staff_id) {
  static const Statement kSql = Select(
      kTraining, "WHERE (?1 = '' OR staff_id = ?1) ORDER BY staff_id, course, completed_at_ms");
  const Param params[] = {staff_id};
  return Rows<TrainingRow>(*this, kSql, params, "list training", TrainingFields::Read);
}

Status Transaction::InsertApproval(const ApprovalRow& row) {
  return InsertRow(kApprovals, ApprovalFields::Values(row), "insert approval");
}

Status Transaction::UpdateApproval(const ApprovalRow& row) {
  static const Statement kSql = Update(kApprovals, "approver, decided_at_ms, state");
  const Param params[] = {std::string_view(row.approval_id), std::string_view(row.approver),
                          row.decided_at_ms, std::string_view(row.state)};
  CUSTOS_ASSIGN_OR_RETURN(int64_t changed, Exec(kSql, params, "update approval"));
  return NotFoundUnless(changed, "update approval: no such approval id");
}

Result<std::optional<ApprovalRow>> Transaction::GetApproval(std::string_view approval_id) {
  static const Statement kSql = SelectByKey(kApprovals);
  const Param params[] = {approval_id};
  return FirstRow<ApprovalRow>(*this, kSql, params, "get approval", ApprovalFields::Read);
}

Result<std::vector<ApprovalRow>> Transaction::ListApprovals(std::string_view requester,
                                                            std::string_view state) {
  static const Statement kSql =
      Select(kApprovals,
             "WHERE (?1 = '' OR requester = ?1) AND (?2 = '' OR state = ?2) "
             "ORDER BY requested_at_ms, approval_id");
  const Param params[] = {requester, state};
  return Rows<ApprovalRow>(*this, kSql, params, "list approvals", ApprovalFields::Read);
}

// --- bulk imports ---

Result<std::optional<ImportRow>> Transaction::GetImportByFile(std::string_view file_sha256) {
  static const Statement kSql = Select(kImports, "WHERE file_sha256 = ?1");
  const Param params[] = {file_sha256};
  return FirstRow<ImportRow>(*this, kSql, params, "get import", ImportFields::Read);
}

Result<std::optional<ImportRow>> Transaction::LockImportByFile(std::string_view file_sha256) {
  // PostgreSQL: an advisory lock on the file (in this schema) serialises the runs even before
  // the row exists (two first starts), then the row itself is read FOR UPDATE. SQLite: the
  // transaction already holds the database's write lock (BEGIN IMMEDIATE), so the read is under
  // it and nothing more is needed.
  static const Statement kLock = Statement::Each(
      "",
      "SELECT pg_advisory_xact_lock(hashtextextended('custos.import:' || current_schema() || "
      "':' || ?1, 0))");
  static const Statement kSelect = [] {
    const Statement plain = Select(kImports, "WHERE file_sha256 = ?1");
    return Statement::Each(plain.For(Dialect::kSqlite),
                           std::string(plain.For(Dialect::kPostgres)) + " FOR UPDATE");
  }();
  const Param params[] = {file_sha256};
  CUSTOS_RETURN_IF_ERROR(Exec(kLock, params, "lock import").status());
  return FirstRow<ImportRow>(*this, kSelect, params, "lock import", ImportFields::Read);
}

Status Transaction::PutImport(const ImportRow& row) {
  // Another import of the same file is a Conflict, never a silent replacement; checked first
  // so that the refusal does not abort a PostgreSQL transaction (the UNIQUE constraint stays
  // as the guard against a concurrent writer).
  CUSTOS_ASSIGN_OR_RETURN(std::optional<ImportRow> existing, GetImportByFile(row.file_sha256));
  if (existing.has_value() && existing->import_id != row.import_id) {
    return Conflict("store: put import: the file is already imported under another id");
  }
  return PutRow(kImports, ImportFields::Values(row), "put import");
}

// --- consent ---

Status Transaction::InsertNotice(const NoticeRow& row) {
  return InsertRow(kNotices, NoticeFields::Values(row), "insert notice");
}

Result<std::optional<NoticeRow>> Transaction::GetNotice(int64_t version) {
  static const Statement kSql = SelectByKey(kNotices);
  const Param params[] = {version};
  return FirstRow<NoticeRow>(*this, kSql, params, "get notice", NoticeFields::Read);
}

Result<std::vector<NoticeRow>> Transaction::ListNotices() {
  static const Statement kSql = Select(kNotices, "ORDER BY version");
  return Rows<NoticeRow>(*this, kSql, {}, "list notices", NoticeFields::Read);
}

Status Transaction::InsertNoticeShare(int64_t notice_version, std::string_view target) {
  const Param values[] = {notice_version, target};
  return InsertRow(kNoticeShares, values, "insert notice share");
}

Result<std::vector<std::string>> Transaction::ListNoticeShares(int64_t notice_version) {
  static const Statement kSql =
      Statement::Same("SELECT target FROM notice_shares WHERE notice_version = ?1 ORDER BY target");
  const Param params[] = {notice_version};
  return Rows<std::string>(*this, kSql, params, "list notice shares",
                           [](const Cells& c) -> Result<std::string> { return c.Text(0); });
}

Status Transaction::AppendConsent(const ConsentRow& row) {
  // The ledger is append-only: there is no update or delete here (the schema's triggers
  // refuse them anyway).
  return InsertRow(kConsents, ConsentFields::Values(row), "append consent");
}

Result<std::vector<ConsentRow>> Transaction::ListConsents(std::string_view customer_id) {
  static const Statement kSql = Select(kConsents, "WHERE customer_id = ?1 ORDER BY seq");
  const Param params[] = {customer_id};
  return Rows<ConsentRow>(*this, kSql, params, "list consents", ConsentFields::Read);
}

Result<std::vector<ConsentFact>> ListConsentFacts(Transaction& txn, std::string_view customer_id) {
  using FactFields =
      Fields<ConsentFact, &ConsentFact::seq, &ConsentFact::action, &ConsentFact::scope,
             &ConsentFact::purpose, &ConsentFact::notice_version, &ConsentFact::recorded_at_ms>;
  static const Statement kSql = Statement::Same(
      "SELECT seq, action, scope, purpose, notice_version, recorded_at_ms FROM consent_ledger "
      "WHERE customer_id = ?1 ORDER BY seq");
  const Param params[] = {customer_id};
  return Rows<ConsentFact>(txn, kSql, params, "list consent facts", FactFields::Read);
}

// --- lifecycle ---

Status Transaction::InsertLegalHold(const LegalHoldRow& row) {
  LegalHoldRow placed = row;  // a hold is placed in force
  placed.released_by.clear();
  placed.released_at_ms = 0;
  return InsertRow(kHolds, HoldFields::Values(placed), "insert legal hold");
}

Result<int64_t> Transaction::ReleaseLegalHold(std::string_view hold_id,
                                              std::string_view released_by,
                                              int64_t released_at_ms) {
  static const Statement kSql = Statement::Same(
      "UPDATE legal_holds SET released_by = ?2, released_at_ms = ?3 "
      "WHERE hold_id = ?1 AND released_at_ms = 0");
  const Param params[] = {hold_id, released_by, released_at_ms};
  return Exec(kSql, params, "release legal hold");
}

Result<std::vector<LegalHoldRow>> Transaction::ListLegalHolds(std::string_view customer_id,
                                                              bool in_force_only) {
  static const Statement kSql =
      Select(kHolds,
             "WHERE (?1 = '' OR customer_id = ?1) AND (?2 = 0 OR released_at_ms = 0) "
             "ORDER BY placed_at_ms, hold_id, customer_id");
  const Param params[] = {customer_id, int64_t{in_force_only ? 1 : 0}};
  return Rows<LegalHoldRow>(*this, kSql, params, "list legal holds", HoldFields::Read);
}

Status Transaction::InsertAccountClosure(const AccountClosureRow& row) {
  return InsertRow(kClosures, ClosureFields::Values(row), "insert account closure");
}

Result<bool> Transaction::DeleteAccountClosure(std::string_view customer_id) {
  static const Statement kSql = Delete(kClosures, "WHERE customer_id = ?1");
  const Param params[] = {customer_id};
  CUSTOS_ASSIGN_OR_RETURN(int64_t deleted, Exec(kSql, params, "delete account closure"));
  return deleted > 0;
}

Result<std::optional<AccountClosureRow>> Transaction::GetAccountClosure(
    std::string_view customer_id) {
  static const Statement kSql = SelectByKey(kClosures);
  const Param params[] = {customer_id};
  return FirstRow<AccountClosureRow>(*this, kSql, params, "get account closure",
                                     ClosureFields::Read);
}

Status Transaction::InsertRetentionPlan(const RetentionPlanRow& row) {
  return InsertRow(kPlans, PlanFields::Values(row), "insert retention plan");
}

Status Transaction::UpdateRetentionPlan(const RetentionPlanRow& row) {
  static const Statement kSql = Update(kPlans, "state, run_id, updated_at_ms");
  const Param params[] = {std::string_view(row.plan_id), std::string_view(row.state),
                          std::string_view(row.run_id), row.updated_at_ms};
  CUSTOS_ASSIGN_OR_RETURN(int64_t changed, Exec(kSql, params, "update retention plan"));
  return NotFoundUnless(changed, "update retention plan: no such plan id");
}

Result<std::optional<RetentionPlanRow>> Transaction::GetRetentionPlan(std::string_view plan_id) {
  static const Statement kSql = SelectByKey(kPlans);
  const Param params[] = {plan_id};
  return FirstRow<RetentionPlanRow>(*this, kSql, params, "get retention plan", PlanFields::Read);
}

Result<std::vector<RetentionPlanRow>> Transaction::ListRetentionPlans(size_t limit) {
  // Without their content.
  static const Statement kSql = Statement::Same(
      "SELECT plan_id, content_sha256, CAST('' AS TEXT), created_by, created_at_ms, state, "
      "run_id, updated_at_ms FROM retention_plans "
      "ORDER BY created_at_ms DESC, plan_id DESC LIMIT ?1");
  const Param params[] = {SqlLimit(limit)};
  return Rows<RetentionPlanRow>(*this, kSql, params, "list retention plans", PlanFields::Read);
}

Result<std::vector<RetentionFactsRow>> Transaction::ListRetentionFacts(std::string_view after_id,
                                                                       size_t limit) {
  // One text per dialect: PostgreSQL types an aggregate of bigint as numeric and a comparison
  // as boolean, so its columns are cast back to bigint.
  static const Statement kSql = Statement::Each(
      "SELECT c.customer_id, c.created_at_ms, c.updated_at_ms, "
      "(SELECT coalesce(min(created_at_ms), 0) FROM transactions t WHERE t.customer_id = "
      "c.customer_id), "
      "(SELECT coalesce(max(created_at_ms), 0) FROM transactions t WHERE t.customer_id = "
      "c.customer_id), "
      "(SELECT coalesce(min(created_at_ms), 0) FROM notes n WHERE n.customer_id = c.customer_id), "
      "(SELECT coalesce(max(created_at_ms), 0) FROM notes n WHERE n.customer_id = c.customer_id), "
      "(SELECT coalesce(max(recorded_at_ms), 0) FROM consent_ledger l "
      " WHERE l.customer_id = c.customer_id), "
      "EXISTS(SELECT 1 FROM legal_holds h WHERE h.customer_id = c.customer_id "
      " AND h.released_at_ms = 0), "
      "(SELECT coalesce(max(closed_at_ms), 0) FROM account_closures a "
      " WHERE a.customer_id = c.customer_id), "
      // The latest entry of each purpose; all withdrawn: the time of the last withdrawal.
      "(SELECT CASE WHEN count(*) > 0 AND sum(l.action = 'grant') = 0 "
      " THEN max(l.recorded_at_ms) ELSE 0 END FROM consent_ledger l "
      " WHERE l.customer_id = c.customer_id AND l.scope = 'purpose' AND l.seq = "
      " (SELECT max(m.seq) FROM consent_ledger m WHERE m.customer_id = l.customer_id "
      "  AND m.scope = 'purpose' AND m.purpose = l.purpose)), "
      "EXISTS(SELECT 1 FROM subject_requests r WHERE r.customer_id = c.customer_id "
      " AND r.closed_at_ms = 0 AND r.kind <> 'deletion') "
      "FROM customers c WHERE c.customer_id > ?1 ORDER BY c.customer_id LIMIT ?2",
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
      "FROM customers c WHERE c.customer_id > $1 ORDER BY c.customer_id LIMIT $2");
  const Param params[] = {after_id, SqlLimit(limit)};
  return Rows<RetentionFactsRow>(*this, kSql, params, "list retention facts", FactsFields::Read);
}

Result<std::vector<RecordTimeRow>> Transaction::ListRecordTimes(std::string_view customer_id) {
  static const Statement kSql = Statement::Same(
      "SELECT CAST('transaction' AS TEXT), txn_id, created_at_ms FROM transactions "
      "WHERE customer_id = ?1 "
      "UNION ALL SELECT CAST('note' AS TEXT), note_id, created_at_ms FROM notes "
      "WHERE customer_id = ?1 ORDER BY 3, 2");
  const Param params[] = {customer_id};
  return Rows<RecordTimeRow>(*this, kSql, params, "list record times", RecordTimeFields::Read);
}

Result<bool> Transaction::EraseProfile(const ConsentKeptRow& kept) {
  CUSTOS_ASSIGN_OR_RETURN(const bool existed, EraseCustomerRows(kept.customer_id, true));
  if (!existed) return false;
  CUSTOS_RETURN_IF_ERROR(InsertRow(kConsentKept, ConsentKeptFields::Values(kept), "keep consent"));
  return true;
}

Result<std::optional<ConsentKeptRow>> Transaction::GetConsentKept(std::string_view customer_id) {
  static const Statement kSql = SelectByKey(kConsentKept);
  const Param params[] = {customer_id};
  return FirstRow<ConsentKeptRow>(*this, kSql, params, "get kept consent", ConsentKeptFields::Read);
}

Result<std::vector<ConsentKeptRow>> Transaction::ListConsentKept(std::string_view after_id,
                                                                 size_t limit) {
  static const Statement kSql =
      Select(kConsentKept, "WHERE customer_id > ?1 ORDER BY customer_id LIMIT ?2");
  const Param params[] = {after_id, SqlLimit(limit)};
  return Rows<ConsentKeptRow>(*this, kSql, params, "list kept consent", ConsentKeptFields::Read);
}

Result<bool> Transaction::EraseKeptConsent(std::string_view customer_id) {
  constexpr std::string_view kOp = "erase kept consent";
  static const Statement kDeleteKept = Delete(kConsentKept, "WHERE customer_id = ?1");
  static const Statement kDeleteLedger = Delete(kConsents, "WHERE customer_id = ?1");
  static const Statement kDeleteMark = Delete(kConsentErasures, "WHERE customer_id = ?1");
  const Param params[] = {customer_id};
  CUSTOS_ASSIGN_OR_RETURN(const int64_t kept, Exec(kDeleteKept, params, kOp));
  if (kept == 0) return false;
  // The ledger's one deletion path (migration 4): the customer named in consent_erasures
  // within this transaction, as EraseCustomer does.
  CUSTOS_RETURN_IF_ERROR(InsertRow(kConsentErasures, params, kOp));
  CUSTOS_RETURN_IF_ERROR(Exec(kDeleteLedger, params, kOp).status());
  CUSTOS_RETURN_IF_ERROR(Exec(kDeleteMark, params, kOp).status());
  return true;
}

Result<int64_t> Transaction::AppendDestruction(const DestructionRow& row) {
  constexpr std::string_view kOp = "append destruction";
  // The seq is the highest + 1. PostgreSQL locks the table for the rest of the transaction so
  // two writers cannot take the same number (destruction is rare and serial); SQLite's
  // transactions are serialised already.
  static const Statement kLock =
      Statement::Each("", "LOCK TABLE destruction_log IN EXCLUSIVE MODE");
  static const Statement kSql = Statement::Same(
      "INSERT INTO destruction_log(seq, ts_ms, run_id, kind, id_hash) "
      "SELECT coalesce(max(seq), 0) + 1, ?1, ?2, ?3, ?4 FROM destruction_log RETURNING seq");
  CUSTOS_RETURN_IF_ERROR(Exec(kLock, {}, kOp).status());
  const Param params[] = {row.ts_ms, std::string_view(row.run_id), std::string_view(row.kind),
                          std::string_view(row.id_hash)};
  CUSTOS_ASSIGN_OR_RETURN(auto seq, (FirstRow<int64_t>(*this, kSql, params, kOp, ReadInt)));
  if (!seq.has_value()) return Internal("store: append destruction: no seq returned");
  return *seq;
}

Result<std::vector<DestructionRow>> Transaction::ListDestructions(std::string_view run_id,
                                                                  int64_t after_seq, size_t limit) {
  static const Statement kSql =
      Select(kDestructions, "WHERE (?1 = '' OR run_id = ?1) AND seq > ?2 ORDER BY seq LIMIT ?3");
  const Param params[] = {run_id, after_seq, SqlLimit(limit)};
  return Rows<DestructionRow>(*this, kSql, params, "list destructions", DestructionFields::Read);
}

// --- data-subject requests ---

Status Transaction::InsertSubjectRequest(const SubjectRequestRow& row) {
  return InsertRow(kRequests, RequestFields::Values(row), "insert subject request");
}

Result<std::optional<SubjectRequestRow>> Transaction::GetSubjectRequest(
    std::string_view request_id) {
  static const Statement kSql = SelectByKey(kRequests);
  const Param params[] = {request_id};
  return FirstRow<SubjectRequestRow>(*this, kSql, params, "get subject request",
                                     RequestFields::Read);
}

Result<bool> Transaction::CloseSubjectRequest(std::string_view request_id,
                                              std::string_view closed_by, int64_t closed_at_ms,
                                              std::string_view outcome) {
  static const Statement kSql =
      Update(kRequests, "closed_by, closed_at_ms, outcome", "AND closed_at_ms = 0");
  const Param params[] = {request_id, closed_by, closed_at_ms, outcome};
  CUSTOS_ASSIGN_OR_RETURN(int64_t changed, Exec(kSql, params, "close subject request"));
  return changed > 0;
}

Result<std::vector<SubjectRequestRow>> Transaction::ListSubjectRequests(
    std::string_view customer_id, bool open_only, size_t limit) {
  static const Statement kSql =
      Select(kRequests,
             "WHERE (?1 = '' OR customer_id = ?1) AND (?2 = 0 OR closed_at_ms = 0) "
             "ORDER BY opened_at_ms, request_id LIMIT ?3");
  const Param params[] = {customer_id, int64_t{open_only ? 1 : 0}, SqlLimit(limit)};
  return Rows<SubjectRequestRow>(*this, kSql, params, "list subject requests", RequestFields::Read);
}

// --- fulfilment of data-subject requests (issue 18) ---

Status Transaction::InsertSubjectRequestStep(const SubjectRequestStepRow& row) {
  return InsertRow(kSteps, StepFields::Values(row), "insert subject request step");
}

Result<std::vector<SubjectRequestStepRow>> Transaction::ListSubjectRequestSteps(
    std::string_view request_id) {
  static const Statement kSql = Select(kSteps, "WHERE request_id = ?1 ORDER BY at_ms, step");
  const Param params[] = {request_id};
  return Rows<SubjectRequestStepRow>(*this, kSql, params, "list subject request steps",
                                     StepFields::Read);
}

Status Transaction::InsertRestriction(const RestrictionRow& row) {
  return InsertRow(kRestrictions, RestrictionFields::Values(row), "insert restriction");
}

Result<std::vector<RestrictionRow>> Transaction::ListRestrictions(std::string_view customer_id) {
  static const Statement kSql =
      Select(kRestrictions, "WHERE customer_id = ?1 ORDER BY placed_at_ms, request_id");
  const Param params[] = {customer_id};
  return Rows<RestrictionRow>(*this, kSql, params, "list restrictions", RestrictionFields::Read);
}

Result<int64_t> Transaction::DeleteRestrictions(std::string_view customer_id) {
  static const Statement kSql = Delete(kRestrictions, "WHERE customer_id = ?1");
  const Param params[] = {customer_id};
  return Exec(kSql, params, "delete restrictions");
}

Status Transaction::InsertSubjectRequestValues(const SubjectRequestValuesRow& row) {
  return InsertRow(kRequestValues, ValuesFields::Values(row), "insert subject request values");
}

Result<std::optional<SubjectRequestValuesRow>> Transaction::GetSubjectRequestValues(
    std::string_view request_id) {
  static const Statement kSql = SelectByKey(kRequestValues);
  const Param params[] = {request_id};
  return FirstRow<SubjectRequestValuesRow>(*this, kSql, params, "get subject request values",
                                           ValuesFields::Read);
}

// --- de-identified releases ---

Status Transaction::InsertDeidRelease(const DeidReleaseRow& row) {
  return InsertRow(kDeidReleases, DeidReleaseFields::Values(row), "insert deid release");
}

Result<std::vector<DeidReleaseRow>> Transaction::ListDeidReleases(int64_t after_ms, size_t limit) {
  static const Statement kSql =
      Select(kDeidReleases, "WHERE created_at_ms > ?1 ORDER BY created_at_ms, release_id LIMIT ?2");
  const Param params[] = {after_ms, SqlLimit(limit)};
  return Rows<DeidReleaseRow>(*this, kSql, params, "list deid releases", DeidReleaseFields::Read);
}

Status Transaction::InsertDeidReleaseClasses(const DeidReleaseClassesRow& row) {
  return InsertRow(kDeidReleaseClasses, DeidReleaseClassesFields::Values(row),
                   "insert deid release classes");
}

Result<std::vector<DeidReleaseClassesRow>> Transaction::ListDeidReleaseClasses(
    std::string_view profile, std::string_view levels, size_t limit) {
  static const Statement kSql = Select(
      kDeidReleaseClasses, "WHERE profile = ?1 AND levels = ?2 ORDER BY release_id DESC LIMIT ?3");
  const Param params[] = {profile, levels, SqlLimit(limit)};
  return Rows<DeidReleaseClassesRow>(*this, kSql, params, "list deid release classes",
                                     DeidReleaseClassesFields::Read);
}

Result<std::optional<DeidBudgetRow>> Transaction::GetDeidBudget(std::string_view profile,
                                                                std::string_view actor) {
  static const Statement kSql = SelectByKey(kDeidBudgets);
  const Param params[] = {profile, actor};
  return FirstRow<DeidBudgetRow>(*this, kSql, params, "get deid budget", DeidBudgetFields::Read);
}

Result<bool> Transaction::SpendDeidBudget(const DeidBudgetRow& spend, int64_t epsilon_limit,
                                          int64_t delta_limit) {
  if (spend.epsilon_spent > epsilon_limit || spend.delta_spent > delta_limit) return false;
  // One statement: PostgreSQL's ON CONFLICT DO UPDATE locks the row and evaluates the WHERE on
  // its latest version (READ COMMITTED), SQLite holds the write lock; no spend is lost.
  static const Statement kSql = Statement::Same(
      "INSERT INTO deid_budgets(profile, actor, epsilon_spent, delta_spent, answers, "
      "updated_at_ms) VALUES(?1, ?2, ?3, ?4, 1, ?5) ON CONFLICT(profile, actor) DO UPDATE SET "
      "epsilon_spent = deid_budgets.epsilon_spent + excluded.epsilon_spent, "
      "delta_spent = deid_budgets.delta_spent + excluded.delta_spent, "
      "answers = deid_budgets.answers + 1, updated_at_ms = excluded.updated_at_ms "
      "WHERE deid_budgets.epsilon_spent + excluded.epsilon_spent <= ?6 "
      "AND deid_budgets.delta_spent + excluded.delta_spent <= ?7");
  const Param params[] = {std::string_view(spend.profile),
                          std::string_view(spend.actor),
                          spend.epsilon_spent,
                          spend.delta_spent,
                          spend.updated_at_ms,
                          epsilon_limit,
                          delta_limit};
  CUSTOS_ASSIGN_OR_RETURN(int64_t changed, Exec(kSql, params, "spend deid budget"));
  return changed == 1;
}

// --- sharing with partners (issue 17) ---

Status Transaction::InsertPartner(const PartnerRow& row) {
  return InsertRow(kPartners, PartnerFields::Values(row), "insert partner");
}

Result<std::optional<PartnerRow>> Transaction::GetPartner(std::string_view partner_id) {
  static const Statement kSql = SelectByKey(kPartners);
  const Param params[] = {partner_id};
  return FirstRow<PartnerRow>(*this, kSql, params, "get partner", PartnerFields::Read);
}

Result<std::vector<PartnerRow>> Transaction::ListPartners() {
  static const Statement kSql = Select(kPartners, "ORDER BY partner_id");
  return Rows<PartnerRow>(*this, kSql, {}, "list partners", PartnerFields::Read);
}

Status Transaction::PutPartner(const PartnerRow& row) {
  return PutRow(kPartners, PartnerFields::Values(row), "put partner");
}

Status Transaction::InsertPartnerCertificate(const PartnerCertificateRow& row) {
  return InsertRow(kPartnerCertificates, PartnerCertificateFields::Values(row),
                   "insert partner certificate");
}

Result<std::vector<PartnerCertificateRow>> Transaction::ListPartnerCertificates(
    std::string_view partner_id) {
  static const Statement kSql =
      Select(kPartnerCertificates, "WHERE partner_id = ?1 ORDER BY replaced_at_ms, cert_sha256");
  const Param params[] = {partner_id};
  return Rows<PartnerCertificateRow>(*this, kSql, params, "list partner certificates",
                                     PartnerCertificateFields::Read);
}

Status Transaction::InsertShareAgreement(const ShareAgreementRow& row) {
  return InsertRow(kAgreements, AgreementFields::Values(row), "insert share agreement");
}

Status Transaction::PutShareAgreement(const ShareAgreementRow& row) {
  return PutRow(kAgreements, AgreementFields::Values(row), "put share agreement");
}

Result<std::optional<ShareAgreementRow>> Transaction::GetShareAgreement(
    std::string_view agreement_id) {
  static const Statement kSql = SelectByKey(kAgreements);
  const Param params[] = {agreement_id};
  return FirstRow<ShareAgreementRow>(*this, kSql, params, "get share agreement",
                                     AgreementFields::Read);
}

Result<std::vector<ShareAgreementRow>> Transaction::ListShareAgreements(
    std::string_view partner_id) {
  static const Statement kSql =
      Select(kAgreements, "WHERE ?1 = '' OR partner_id = ?1 ORDER BY agreement_id");
  const Param params[] = {partner_id};
  return Rows<ShareAgreementRow>(*this, kSql, params, "list share agreements",
                                 AgreementFields::Read);
}

Status Transaction::InsertShare(const ShareRow& row) {
  return InsertRow(kShares, ShareFields::Values(row), "insert share");
}

Result<std::optional<ShareRow>> Transaction::GetShare(std::string_view share_id) {
  static const Statement kSql = SelectByKey(kShares);
  const Param params[] = {share_id};
  return FirstRow<ShareRow>(*this, kSql, params, "get share", ShareFields::Read);
}

Result<std::vector<ShareRow>> Transaction::ListShares(std::string_view agreement_id) {
  static const Statement kSql =
      Select(kShares, "WHERE ?1 = '' OR agreement_id = ?1 ORDER BY created_at_ms, share_id");
  const Param params[] = {agreement_id};
  return Rows<ShareRow>(*this, kSql, params, "list shares", ShareFields::Read);
}

}  // namespace custos::store
