// PgTransaction's key-rotation methods (issue 6): walking, rewrapping and counting the
// wrapped DEKs by KEK version. Same conventions as postgres_transaction.cpp.
#include <utility>

#include "store/postgres_transaction.h"
#include "store/row_helpers.h"

namespace custos::store::postgres {
namespace {

constexpr const char* kListNotAt =
    "SELECT customer_id, kek_version, wrapped_dek FROM wrapped_keys "
    "WHERE customer_id > $1 AND kek_version <> $2 ORDER BY customer_id LIMIT $3";
// Conditional on the version read: a key destroyed or rewrapped by another transaction in
// between is left alone (READ COMMITTED re-checks the WHERE clause on the newest row).
constexpr const char* kReplace =
    "UPDATE wrapped_keys SET kek_version = $2, wrapped_dek = $3 "
    "WHERE customer_id = $1 AND kek_version = $4";
constexpr const char* kCountByVersion =
    "SELECT kek_version, count(*) FROM wrapped_keys GROUP BY kek_version ORDER BY kek_version";

}  // namespace

Result<std::vector<WrappedKeyRow>> PgTransaction::ListWrappedKeysNotAt(uint32_t kek_version,
                                                                       std::string_view after_id,
                                                                       size_t limit) {
  CUSTOS_ASSIGN_OR_RETURN(
      PgResult r, Run(kListNotAt,
                      Params().Text(after_id).Int(int64_t{kek_version}).Int(SqlLimit(limit)),
                      "list wrapped keys"));
  std::vector<WrappedKeyRow> rows;
  rows.reserve(static_cast<size_t>(r.Rows()));
  for (int i = 0; i < r.Rows(); ++i) {
    rows.push_back({r.Text(i, 0), static_cast<uint32_t>(r.Int(i, 1)), r.Blob(i, 2)});
  }
  return rows;
}

Result<bool> PgTransaction::ReplaceWrappedKey(const WrappedKeyRow& row,
                                              uint32_t expected_kek_version) {
  Params p;
  p.Text(row.customer_id).Int(int64_t{row.kek_version}).Bytea(row.wrapped_dek);
  p.Int(int64_t{expected_kek_version});
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(kReplace, p, "replace wrapped key"));
  return r.Affected() == 1;
}

Result<std::vector<std::pair<uint32_t, int64_t>>> PgTransaction::CountWrappedKeysByVersion() {
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(kCountByVersion, Params(), "count wrapped keys"));
  std::vector<std::pair<uint32_t, int64_t>> counts;
  for (int i = 0; i < r.Rows(); ++i) {
    counts.emplace_back(static_cast<uint32_t>(r.Int(i, 0)), r.Int(i, 1));
  }
  return counts;
}

}  // namespace custos::store::postgres
