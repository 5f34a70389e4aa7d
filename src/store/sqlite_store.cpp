#include "store/sqlite_store.h"

#include <fmt/core.h>

#include <array>
#include <chrono>
#include <utility>

#include "store/sqlite_db.h"
#include "store/sqlite_schema.h"
#include "store/sqlite_transaction.h"
#include "store/sqlite_writer_slot.h"

namespace custos::store {
namespace {

using sqlite::SlotLease;
using sqlite::SqliteDb;

constexpr const char* kWalCheckpoint = "PRAGMA wal_checkpoint(TRUNCATE)";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class SqliteStore final : public Store {
 public:
  SqliteStore(std::unique_ptr<SqliteDb> db, std::chrono::milliseconds slot_timeout)
      : db_(std::move(db)), slot_timeout_(slot_timeout) {}

  Result<std::unique_ptr<Transaction>> Begin() override {
    CUSTOS_ASSIGN_OR_RETURN(SlotLease lease, TakeSlot("begin"));
    return sqlite::SqliteTransaction::Begin(*db_, std::move(lease));
  }

  Result<int> SchemaVersion() override {
    CUSTOS_ASSIGN_OR_RETURN(SlotLease lease, TakeSlot("schema version"));
    return sqlite::ReadSchemaVersion(*db_);
  }

  Status Checkpoint() override {
    CUSTOS_ASSIGN_OR_RETURN(SlotLease lease, TakeSlot("checkpoint"));
    CUSTOS_ASSIGN_OR_RETURN(sqlite::Stmt stmt, db_->Prepare(kWalCheckpoint, "checkpoint"));
    CUSTOS_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    // Columns: busy, log pages, checkpointed pages. Busy means a reader in another process
    // kept part of the log alive: the log was not truncated.
    if (has_row && stmt.Int(0) != 0) {
      return Unavailable("store: checkpoint: another connection is reading the log");
    }
    return Status::Ok();
  }

  Status MergeStagedIndex() override {
    CUSTOS_ASSIGN_OR_RETURN(SlotLease lease, TakeSlot("merge staged index"));
    CUSTOS_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE", "merge staged index: begin"));
    // Key order: each index page is written once, however random the tokens.
    Status st = db_->Exec(
        "INSERT OR IGNORE INTO blind_index(field, token, customer_id) "
        "SELECT field, token, customer_id FROM blind_index_staged ORDER BY field, token, "
        "customer_id",
        "merge staged index: insert");
    if (st.ok()) st = db_->Exec("DELETE FROM blind_index_staged", "merge staged index: clear");
    if (st.ok()) st = db_->Exec("COMMIT", "merge staged index: commit");
    if (!st.ok() && !db_->InAutocommit()) {
      db_->Exec("ROLLBACK", "merge staged index: rollback").IgnoreError();
    }
    return st.ok() ? st : Unavailable(st.message());
  }

  std::string_view Backend() const override { return "sqlite"; }

  Result<std::string> ReadPragma(std::string_view pragma) {
    static constexpr std::array<std::pair<std::string_view, const char*>, 7> kAllowed = {{
        {"journal_mode", "PRAGMA journal_mode"},
        {"secure_delete", "PRAGMA secure_delete"},
        {"foreign_keys", "PRAGMA foreign_keys"},
        {"synchronous", "PRAGMA synchronous"},
        {"busy_timeout", "PRAGMA busy_timeout"},
        {"cache_size", "PRAGMA cache_size"},
        {"wal_autocheckpoint", "PRAGMA wal_autocheckpoint"},
    }};
    for (const auto& [name, sql] : kAllowed) {
      if (name != pragma) continue;
      CUSTOS_ASSIGN_OR_RETURN(SlotLease lease, TakeSlot("read pragma"));
      return db_->QueryText(sql, "read pragma");
    }
    return InvalidArgument("store: read pragma: not an inspectable pragma");
  }

 private:
  Result<SlotLease> TakeSlot(std::string_view op) {
    if (!slot_.Acquire(slot_timeout_)) {
      return Unavailable(
          fmt::format("store: {}: timed out waiting for the open transaction to finish", op));
    }
    return SlotLease(&slot_);
  }

  std::unique_ptr<SqliteDb> db_;
  std::chrono::milliseconds slot_timeout_;
  sqlite::WriterSlot slot_;
};

Status CheckOptions(const SqliteOptions& options) {
  if (options.synchronous != "normal" && options.synchronous != "full") {
    return InvalidArgument("store: option 'synchronous': must be \"normal\" or \"full\"");
  }
  if (options.busy_timeout_ms < 0) {
    return InvalidArgument("store: option 'busy_timeout_ms': must not be negative");
  }
  if (options.cache_size_kib < 0) {
    return InvalidArgument("store: option 'cache_size_kib': must not be negative");
  }
  if (options.wal_autocheckpoint_pages < 0) {
    return InvalidArgument("store: option 'wal_autocheckpoint_pages': must not be negative");
  }
  return Status::Ok();
}

Status SetPragmas(SqliteDb& db, const SqliteOptions& options) {
  CUSTOS_ASSIGN_OR_RETURN(std::string mode,
                          db.QueryText("PRAGMA journal_mode=WAL", "set journal_mode"));
  if (mode != "wal") {
    return FailedPrecondition("store: journal_mode WAL is not available for this file");
  }
  // secure_delete: deleted content (a shredded wrapped key) is overwritten, not left in
  // free pages (ARCHITECTURE.md, Keys).
  CUSTOS_RETURN_IF_ERROR(db.Exec("PRAGMA secure_delete=ON", "set secure_delete"));
  CUSTOS_RETURN_IF_ERROR(db.Exec("PRAGMA foreign_keys=ON", "set foreign_keys"));
  CUSTOS_RETURN_IF_ERROR(db.Exec(
      options.synchronous == "full" ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
      "set synchronous"));
  // PRAGMA arguments cannot be bound; these are validated integers.
  std::string cache = fmt::format("PRAGMA cache_size=-{}", options.cache_size_kib);
  CUSTOS_RETURN_IF_ERROR(db.Exec(cache.c_str(), "set cache_size"));
  std::string autocheckpoint =
      fmt::format("PRAGMA wal_autocheckpoint={}", options.wal_autocheckpoint_pages);
  CUSTOS_RETURN_IF_ERROR(db.Exec(autocheckpoint.c_str(), "set wal_autocheckpoint"));
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::filesystem::path& db_path,
                                               const SqliteOptions& options) {
  CUSTOS_RETURN_IF_ERROR(CheckOptions(options));
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db,
                          SqliteDb::Open(db_path, options.create_if_missing));
  db->SetBusyTimeout(options.busy_timeout_ms);
  CUSTOS_RETURN_IF_ERROR(SetPragmas(*db, options));
  CUSTOS_RETURN_IF_ERROR(sqlite::Migrate(*db, NowMs()));
  return std::unique_ptr<Store>(std::make_unique<SqliteStore>(
      std::move(db), std::chrono::milliseconds(options.busy_timeout_ms)));
}

Result<std::string> TEST_ReadPragma(Store& store, std::string_view pragma) {
  auto* sqlite_store = dynamic_cast<SqliteStore*>(&store);
  if (sqlite_store == nullptr) return InvalidArgument("store: read pragma: not a SQLite store");
  return sqlite_store->ReadPragma(pragma);
}

}  // namespace custos::store
