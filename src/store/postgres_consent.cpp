// PgTransaction's consent methods (issue 3): privacy notices and the append-only consent
// ledger. Same conventions as postgres_transaction.cpp: static SQL, binary parameters, inserts
// that may duplicate a key answer Conflict without aborting. There is no UPDATE or DELETE of
// the ledger here, and the schema's trigger refuses them anyway (postgres_schema.cpp).
//
// Bulk mode: the consent recorded with a customer created in this bulk transaction (the import
// path) is gathered and sent by COPY with the customer, so importing stays one COPY per table.
#include <fmt/core.h>

#include <utility>

#include "store/postgres_transaction.h"

namespace custos::store::postgres {
namespace {

#define CUSTOS_NOTICE_COLUMNS \
  "version, text_sha256, text, purposes, effective_at_ms, published_at_ms, publisher"
constexpr const char* kInsertNotice = "INSERT INTO privacy_notices(" CUSTOS_NOTICE_COLUMNS
                                      ") VALUES($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING";
constexpr const char* kGetNotice =
    "SELECT " CUSTOS_NOTICE_COLUMNS " FROM privacy_notices WHERE version = $1";
constexpr const char* kListNotices =
    "SELECT " CUSTOS_NOTICE_COLUMNS " FROM privacy_notices ORDER BY version";
#undef CUSTOS_NOTICE_COLUMNS

#define CUSTOS_CONSENT_COLUMNS                                                        \
  "customer_id, seq, action, scope, purpose, notice_version, channel, evidence_ref, " \
  "recorded_at_ms, actor"
constexpr const char* kAppendConsent =
    "INSERT INTO consent_ledger(" CUSTOS_CONSENT_COLUMNS
    ") VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING";
constexpr const char* kListConsents = "SELECT " CUSTOS_CONSENT_COLUMNS
                                      " FROM consent_ledger WHERE customer_id = $1 ORDER BY seq";
constexpr const char* kCopyConsentsSql =
    "COPY consent_ledger(" CUSTOS_CONSENT_COLUMNS ") FROM STDIN (FORMAT binary)";
#undef CUSTOS_CONSENT_COLUMNS

NoticeRow ReadNotice(const PgResult& r, int i) {
  NoticeRow row;
  row.version = r.Int(i, 0);
  row.text_sha256 = r.Text(i, 1);
  row.text = r.Text(i, 2);
  row.purposes = r.Text(i, 3);
  row.effective_at_ms = r.Int(i, 4);
  row.published_at_ms = r.Int(i, 5);
  row.publisher = r.Text(i, 6);
  return row;
}

ConsentRow ReadConsent(const PgResult& r, int i) {
  ConsentRow row;
  row.customer_id = r.Text(i, 0);
  row.seq = r.Int(i, 1);
  row.action = r.Text(i, 2);
  row.scope = r.Text(i, 3);
  row.purpose = r.Text(i, 4);
  row.notice_version = r.Int(i, 5);
  row.channel = r.Text(i, 6);
  row.evidence_ref = r.Text(i, 7);
  row.recorded_at_ms = r.Int(i, 8);
  row.actor = r.Text(i, 9);
  return row;
}

}  // namespace

const char* const PgTransaction::kCopyConsents = kCopyConsentsSql;

Status PgTransaction::InsertNotice(const NoticeRow& row) {
  Params p;
  p.Int(row.version).Text(row.text_sha256).Text(row.text).Text(row.purposes);
  p.Int(row.effective_at_ms).Int(row.published_at_ms).Text(row.publisher);
  return InsertOnce(kInsertNotice, p, "insert notice");
}

Result<std::optional<NoticeRow>> PgTransaction::GetNotice(int64_t version) {
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(kGetNotice, Params().Int(version), "get notice"));
  if (r.Rows() == 0) return std::optional<NoticeRow>();
  return std::optional<NoticeRow>(ReadNotice(r, 0));
}

Result<std::vector<NoticeRow>> PgTransaction::ListNotices() {
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(kListNotices, Params(), "list notices"));
  std::vector<NoticeRow> rows;
  rows.reserve(static_cast<size_t>(r.Rows()));
  for (int i = 0; i < r.Rows(); ++i) rows.push_back(ReadNotice(r, i));
  return rows;
}

Status PgTransaction::AppendConsent(const ConsentRow& row) {
  constexpr std::string_view kOp = "append consent";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  // A customer created in this bulk transaction has no ledger yet; (customer_id, seq) pairs
  // gathered here are checked for duplicates before anything is sent.
  if (bulk_ && pending_customers_.count(row.customer_id) != 0) {
    if (!pending_consents_.insert(fmt::format("{}/{}", row.customer_id, row.seq)).second) {
      return Conflict(fmt::format("store: {}: already exists", kOp));
    }
    consents_.Row().Text(row.customer_id).Int(row.seq).Text(row.action).Text(row.scope);
    consents_.Text(row.purpose).Int(row.notice_version).Text(row.channel);
    consents_.Text(row.evidence_ref).Int(row.recorded_at_ms).Text(row.actor);
    return Status::Ok();
  }
  Params p;
  p.Text(row.customer_id).Int(row.seq).Text(row.action).Text(row.scope).Text(row.purpose);
  p.Int(row.notice_version).Text(row.channel).Text(row.evidence_ref).Int(row.recorded_at_ms);
  p.Text(row.actor);
  return InsertOnce(kAppendConsent, p, kOp);
}

Result<std::vector<ConsentRow>> PgTransaction::ListConsents(std::string_view customer_id) {
  CUSTOS_ASSIGN_OR_RETURN(PgResult r,
                          Run(kListConsents, Params().Text(customer_id), "list consents"));
  std::vector<ConsentRow> rows;
  rows.reserve(static_cast<size_t>(r.Rows()));
  for (int i = 0; i < r.Rows(); ++i) rows.push_back(ReadConsent(r, i));
  return rows;
}

}  // namespace custos::store::postgres
