#include "store/sqlite/sqlite_db.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <limits>
#include <mutex>
#include <system_error>
#include <utility>

#include "store/sqlite/page_cache.h"
#include "store/sqlite/wal_write_vfs.h"

namespace custos::store::sqlite {

Status SqliteError(int rc, std::string_view op) {
  // sqlite3_errstr gives the generic text of the code; sqlite3_errmsg is avoided because a
  // future SQLite could quote more of a statement than we want in logs.
  std::string message = fmt::format("store: {}: {}", op, sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return Conflict(std::move(message));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
      return Unavailable(std::move(message));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLoss(std::move(message));
    default:
      return Internal(std::move(message));
  }
}

// --- Stmt ---

Stmt::Stmt(Stmt&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), op_(other.op_), bind_rc_(other.bind_rc_) {}

Stmt::~Stmt() {
  if (stmt_ == nullptr) return;
  // Reset releases the statement's read lock; clearing drops pointers to caller memory.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void Stmt::Bind(int index, std::string_view text) {
  // An empty view may have a null data pointer, which SQLite would store as NULL.
  const char* data = text.data() != nullptr ? text.data() : "";
  if (text.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    bind_rc_ = SQLITE_TOOBIG;
    return;
  }
  int rc = sqlite3_bind_text(stmt_, index, data, static_cast<int>(text.size()), SQLITE_STATIC);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

void Stmt::Bind(int index, ByteView blob) {
  int rc = SQLITE_OK;
  if (blob.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    rc = SQLITE_TOOBIG;
  } else if (blob.empty()) {
    rc = sqlite3_bind_zeroblob(stmt_, index, 0);  // an empty value, not NULL
  } else {
    rc = sqlite3_bind_blob(stmt_, index, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
  }
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

void Stmt::Bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

void Stmt::BindNull(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

Result<bool> Stmt::Step() {
  if (bind_rc_ != SQLITE_OK) return SqliteError(bind_rc_, op_);
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(rc, op_);
}

Status Stmt::Run() {
  CUSTOS_ASSIGN_OR_RETURN(bool row, Step());
  if (row) return Internal(fmt::format("store: {}: statement returned a row", op_));
  return Status::Ok();
}

bool Stmt::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

int64_t Stmt::Int(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Stmt::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr || n <= 0) return {};
  return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
}

Bytes Stmt::Blob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr || n <= 0) return {};
  const auto* bytes = static_cast<const uint8_t*>(p);
  return Bytes(bytes, bytes + n);
}

// --- SqliteDb ---

namespace {

// The database holds customer data: owner-only whatever the umask (issue 12 item 9). A new
// file is created here with 0600 before SQLite opens it; SQLite gives the -wal and -shm files
// the database file's mode. Files of an existing vault are brought to 0600 as well.
Status RestrictDatabaseFiles(const std::filesystem::path& path, bool create) {
  if (path.empty() || path == ":memory:") return Status::Ok();
  std::error_code ec;
  if (create && !std::filesystem::exists(path, ec)) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno != EEXIST) {
      return Unavailable("store: open: cannot create the database file");
    }
    if (fd >= 0) ::close(fd);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string file = path.string() + suffix;
    struct stat st {};
    if (::lstat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if ((st.st_mode & 0777) != 0600 && ::chmod(file.c_str(), 0600) != 0) {
      return Unavailable(fmt::format("store: open: cannot make {} owner-only (mode 0600)", file));
    }
  }
  return Status::Ok();
}

// SQLite's memory statistics (sqlite3_memory_used) take a global mutex around every
// allocation and free, which a bulk import makes millions of; Custos never reads them, so they
// are turned off before SQLite initialises. Best effort: when SQLite was initialised already
// (another library opened a database first), SQLite refuses the change and keeps them.
void DisableMemoryStatistics() {
  static std::once_flag once;
  std::call_once(once, [] { static_cast<void>(sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0)); });
}

}  // namespace

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::filesystem::path& path, bool create) {
  std::error_code ec;
  if (!create && !std::filesystem::exists(path, ec)) {
    return NotFound("store: open: database file does not exist");
  }
  // FULLMUTEX although the owner serialises every use: a slip in that discipline must cost
  // a wait, never a corrupt database.
  CUSTOS_RETURN_IF_ERROR(RestrictDatabaseFiles(path, create));
  DisableMemoryStatistics();
  // Before SQLite initialises too: the page cache without pcache1's scan after a commit
  // (page_cache.h). Best effort, like the statistics: SQLite's own cache gives the same results.
  static_cast<void>(InstallPageCache());
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_PRIVATECACHE;
  if (create) flags |= SQLITE_OPEN_CREATE;
  sqlite3* db = nullptr;
  // Every connection writes its WAL frames through the coalescing VFS (wal_write_vfs.h); the
  // default VFS if it could not be registered.
  const char* vfs = RegisterWalWriteVfs() ? kWalWriteVfsName : nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, vfs);
  if (rc != SQLITE_OK) {
    sqlite3_close_v2(db);  // a handle is returned even on most failures
    if ((rc & 0xff) == SQLITE_CANTOPEN) {
      return Unavailable("store: open: cannot open the database file");
    }
    return SqliteError(rc, "open");
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<SqliteDb>(new SqliteDb(db));
}

SqliteDb::~SqliteDb() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Result<Stmt> SqliteDb::Prepare(const char* sql, std::string_view op) {
  sqlite3_stmt* stmt = nullptr;
  if (auto it = statements_.find(sql); it != statements_.end()) {
    stmt = it->second;
  } else {
    int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK || stmt == nullptr) {
      sqlite3_finalize(stmt);
      return SqliteError(rc == SQLITE_OK ? SQLITE_INTERNAL : rc, op);
    }
    statements_.emplace(sql, stmt);
  }
  if (read_only_ && sqlite3_stmt_readonly(stmt) == 0) {
    write_refused_ = true;
    return FailedPrecondition(fmt::format("store: {}: a read transaction does not write", op));
  }
  return Stmt(stmt, op);
}

Status SqliteDb::MakeReadOnly() {
  CUSTOS_RETURN_IF_ERROR(Exec("PRAGMA query_only=ON", "set query_only"));
  read_only_ = true;
  return Status::Ok();
}

bool SqliteDb::KeepMap() {
  int on = 1;
  return sqlite3_file_control(db_, "main", kKeepMapFileControl, &on) == SQLITE_OK;
}

Status SqliteDb::Exec(const char* sql, std::string_view op) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(rc, op);
  return Status::Ok();
}

Result<std::string> SqliteDb::QueryText(const char* sql, std::string_view op) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql, -1, &raw, nullptr);
  if (rc != SQLITE_OK || raw == nullptr) {
    sqlite3_finalize(raw);
    return SqliteError(rc == SQLITE_OK ? SQLITE_INTERNAL : rc, op);
  }
  std::string value;
  {
    Stmt stmt(raw, op);
    auto row = stmt.Step();
    if (!row.ok()) {
      sqlite3_finalize(raw);
      return row.status();
    }
    if (*row) value = stmt.Text(0);
  }
  sqlite3_finalize(raw);
  return value;
}

void SqliteDb::SetBusyTimeout(int ms) { sqlite3_busy_timeout(db_, ms); }

int64_t SqliteDb::Changes() const { return sqlite3_changes64(db_); }

bool SqliteDb::InAutocommit() const { return sqlite3_get_autocommit(db_) != 0; }

bool SqliteDb::InWriteTransaction() const {
  return sqlite3_txn_state(db_, "main") == SQLITE_TXN_WRITE;
}

void SqliteDb::SetWalHook(void (*hook)(void* arg, int pages), void* arg) {
  wal_hook_ = hook;
  wal_hook_arg_ = arg;
  if (hook == nullptr) {
    sqlite3_wal_hook(db_, nullptr, nullptr);
    return;
  }
  sqlite3_wal_hook(
      db_,
      [](void* self, sqlite3*, const char*, int pages) -> int {
        auto* db = static_cast<SqliteDb*>(self);
        db->wal_hook_(db->wal_hook_arg_, pages);
        return SQLITE_OK;
      },
      this);
}

Status SqliteDb::CheckpointPassive() {
  int rc = sqlite3_wal_checkpoint_v2(db_, "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  if (rc == SQLITE_OK || (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
    return Status::Ok();
  }
  return SqliteError(rc, "checkpoint");
}

Result<bool> SqliteDb::CheckpointTruncate() {
  int rc = sqlite3_wal_checkpoint_v2(db_, "main", SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  if (rc == SQLITE_OK) return true;
  if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) return false;
  return SqliteError(rc, "checkpoint");
}

// --- the audit head ---

namespace {
constexpr const char* kDataVersion = "PRAGMA data_version";
}

Result<const AuditRow*> SqliteDb::CurrentAuditHead() {
  int64_t version = 0;
  {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, Prepare(kDataVersion, "read data version"));
    CUSTOS_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) return SqliteError(SQLITE_INTERNAL, "read data version");
    version = stmt.Int(0);
  }
  if (audit_head_.has_value() && audit_head_version_ == version) return &*audit_head_;
  audit_head_.reset();
  observed_version_ = version;
  return nullptr;
}

void SqliteDb::RememberAuditHead(const AuditRow& row) {
  if (observed_version_ < 0) return;
  audit_head_ = row;
  audit_head_version_ = observed_version_;
}

void SqliteDb::AuditAppended(const AuditRow& row) {
  // data_version does not move for this connection's own commits, so the version at which
  // the previous head was vouched for stays right for the new one.
  if (audit_head_.has_value() && row.seq == audit_head_->seq + 1) {
    audit_head_ = row;
  } else {
    ForgetAuditHead();
  }
}

void SqliteDb::ForgetAuditHead() {
  audit_head_.reset();
  observed_version_ = -1;
}

}  // namespace custos::store::sqlite
