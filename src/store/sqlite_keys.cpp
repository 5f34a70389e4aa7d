// SqliteTransaction's key-rotation methods (issue 6): walking, rewrapping and counting the
// wrapped DEKs by KEK version. Same conventions as sqlite_transaction.cpp.
#include <utility>

#include "store/row_helpers.h"
#include "store/sqlite_transaction.h"

namespace custos::store::sqlite {
namespace {

// The primary key orders the walk; rows already at the version are skipped as it goes.
constexpr const char* kListNotAt =
    "SELECT customer_id, kek_version, wrapped_dek FROM wrapped_keys "
    "WHERE customer_id > ?1 AND kek_version <> ?2 ORDER BY customer_id LIMIT ?3";
constexpr const char* kReplace =
    "UPDATE wrapped_keys SET kek_version = ?2, wrapped_dek = ?3 "
    "WHERE customer_id = ?1 AND kek_version = ?4";
constexpr const char* kCountByVersion =
    "SELECT kek_version, count(*) FROM wrapped_keys GROUP BY kek_version ORDER BY kek_version";

}  // namespace

Result<std::vector<WrappedKeyRow>> SqliteTransaction::ListWrappedKeysNotAt(
    uint32_t kek_version, std::string_view after_id, size_t limit) {
  constexpr std::string_view kOp = "list wrapped keys";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::vector<WrappedKeyRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kListNotAt, kOp));
    stmt.Bind(1, after_id);
    stmt.Bind(2, int64_t{kek_version});
    stmt.Bind(3, SqlLimit(limit));
    std::vector<WrappedKeyRow> rows;
    while (true) {
      CUSTOS_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
      if (!has_row) return rows;
      rows.push_back({stmt.Text(0), static_cast<uint32_t>(stmt.Int(1)), stmt.Blob(2)});
    }
  };
  return Track(run(), kOp);
}

Result<bool> SqliteTransaction::ReplaceWrappedKey(const WrappedKeyRow& row,
                                                  uint32_t expected_kek_version) {
  constexpr std::string_view kOp = "replace wrapped key";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<bool> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kReplace, kOp));
    stmt.Bind(1, row.customer_id);
    stmt.Bind(2, int64_t{row.kek_version});
    stmt.Bind(3, ByteView(row.wrapped_dek));
    stmt.Bind(4, int64_t{expected_kek_version});
    CUSTOS_RETURN_IF_ERROR(stmt.Run());
    return db_.Changes() == 1;
  };
  return Track(run(), kOp);
}

Result<std::vector<std::pair<uint32_t, int64_t>>> SqliteTransaction::CountWrappedKeysByVersion() {
  constexpr std::string_view kOp = "count wrapped keys";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::vector<std::pair<uint32_t, int64_t>>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kCountByVersion, kOp));
    std::vector<std::pair<uint32_t, int64_t>> counts;
    while (true) {
      CUSTOS_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
      if (!has_row) return counts;
      counts.emplace_back(static_cast<uint32_t>(stmt.Int(0)), stmt.Int(1));
    }
  };
  return Track(run(), kOp);
}

}  // namespace custos::store::sqlite
