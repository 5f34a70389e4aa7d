// SqliteDb: one SQLite connection (the store's writer, or a query-only read connection:
// MakeReadOnly) with its cache of prepared statements, and Stmt, a borrowed
// prepared statement that is reset when it goes out of scope. Internal to the store
// component; the rest of Custos sees only store.h and sqlite_store.h.
//
// Every SQL text is a string literal with static storage; the cache is keyed by its address,
// so each statement is prepared once per connection (bulk import executes millions of them).
//
// The connection also remembers the audit chain's head (see CurrentAuditHead), so that an
// append need not read the head back from the table.
//
// Errors: SQLite result codes become Status values through SqliteError(). Messages name the
// operation and SQLite's generic text for the code (sqlite3_errstr), never a bound value.
//
// Thread safety: the owner serialises every use (SqliteStore's writer slot, or the lease of a
// read connection from its pool), including the destruction of a Stmt, which resets it. The
// connection is also opened in SQLite's serialized mode as a second line of defence.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/status.h"
#include "store/store.h"

namespace custos::store::sqlite {

// Maps a SQLite result code to a Custos Status naming `op`:
// CONSTRAINT -> Conflict; BUSY, LOCKED, IOERR, FULL, CANTOPEN, READONLY, NOMEM, PROTOCOL ->
// Unavailable; CORRUPT, NOTADB -> DataLoss; anything else -> Internal.
Status SqliteError(int rc, std::string_view op);

// A prepared statement borrowed from the cache for one execution. Binding indices start at 1,
// column indices at 0 (SQLite's convention). A failed bind is remembered and reported by the
// next Step/Run, so call sites stay linear.
class Stmt {
 public:
  Stmt(sqlite3_stmt* stmt, std::string_view op) : stmt_(stmt), op_(op) {}
  Stmt(Stmt&& other) noexcept;
  Stmt& operator=(Stmt&&) = delete;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  void Bind(int index, std::string_view text);
  void Bind(int index, ByteView blob);
  void Bind(int index, int64_t value);
  void BindNull(int index);

  // true: a row is available; false: the statement finished. An error otherwise.
  Result<bool> Step();
  // Runs a statement that returns no rows.
  Status Run();

  bool IsNull(int col) const;
  int64_t Int(int col) const;
  std::string Text(int col) const;
  Bytes Blob(int col) const;

 private:
  sqlite3_stmt* stmt_;
  std::string_view op_;
  int bind_rc_ = SQLITE_OK;
};

class SqliteDb {
 public:
  // Opens (creating when `create` is set) the database file. NotFound when the file is absent
  // and `create` is false; Unavailable when it cannot be opened. The first Open of the process
  // also sets SQLite up for every later connection, where SQLite still allows it: memory
  // statistics off, the page cache of page_cache.h, the WAL VFS of wal_write_vfs.h.
  static Result<std::unique_ptr<SqliteDb>> Open(const std::filesystem::path& path, bool create);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // The cached statement for `sql` (which must have static storage), prepared on first use.
  // `op` names the operation in error messages. Internal on a malformed statement.
  Result<Stmt> Prepare(const char* sql, std::string_view op);

  // Runs `sql` (one or more statements, no bound values, results discarded) uncached: for
  // PRAGMAs and migrations.
  Status Exec(const char* sql, std::string_view op);

  // The first column of the first row of `sql` as text (for PRAGMAs); empty without rows.
  Result<std::string> QueryText(const char* sql, std::string_view op);

  // How long SQLite waits for another process's lock before answering SQLITE_BUSY.
  void SetBusyTimeout(int ms);

  // Rows changed by the most recent INSERT/UPDATE/DELETE.
  int64_t Changes() const;
  // True when no transaction is open on the connection (SQLite may roll back on its own
  // after an I/O error, a full disk or memory exhaustion).
  bool InAutocommit() const;
  // Whether the open transaction holds the write lock (sqlite3_txn_state).
  bool InWriteTransaction() const;

  // Makes this a read connection (PRAGMA query_only): Prepare refuses a statement that would
  // write (FailedPrecondition) and remembers that one was asked for, until ClearWriteRefused.
  Status MakeReadOnly();
  // Asks the VFS to serve this connection's memory-mapped reads from its own map of the whole
  // file, kept when another connection commits (wal_write_vfs.h, "The kept map"); call before
  // the first read. False when the VFS does not offer it (SQLite's own map then).
  bool KeepMap();
  bool WriteRefused() const { return write_refused_; }
  void ClearWriteRefused() { write_refused_ = false; }

  // After every commit SQLite calls `hook(arg, pages)` with the number of pages now in the
  // write-ahead log. Replaces SQLite's own automatic checkpoint (wal_autocheckpoint).
  void SetWalHook(void (*hook)(void* arg, int pages), void* arg);

  // A PASSIVE checkpoint: copies what it can of the log into the database without waiting for
  // anyone, fsyncing both as `synchronous` says. OK also when another connection is
  // checkpointing; Unavailable / DataLoss on an I/O error.
  Status CheckpointPassive();

  // A TRUNCATE checkpoint: waits (busy_timeout) for writers and for readers of older
  // snapshots, copies the whole log into the database and truncates the log to zero bytes.
  // True when done; false when a reader (another connection's long snapshot) still held part
  // of the log when the wait ran out. Unavailable / DataLoss on an I/O error.
  Result<bool> CheckpointTruncate();

  // --- the audit head, as this connection last wrote or read it ---
  // Reading the head row back before every append cost more than the append itself (each
  // audited read, and every row of a bulk import, appends one entry). The remembered head is
  // trusted only while PRAGMA data_version is unchanged: that is, no other connection or
  // process has committed since it was remembered (an append by another process, or an edit
  // of the log, makes it be read again). A transaction that ends without committing must call
  // ForgetAuditHead, since what it appended is gone.
  //
  // Call inside a transaction. The remembered head when it is still the head of the log;
  // nullptr when it must be read from the table (then pass what was read to
  // RememberAuditHead). An error if data_version cannot be read.
  Result<const AuditRow*> CurrentAuditHead();
  // `row` was read as the head after CurrentAuditHead returned nullptr in this transaction.
  void RememberAuditHead(const AuditRow& row);
  // `row` was appended in the open transaction: it becomes the head if it directly follows a
  // head that CurrentAuditHead vouched for; otherwise the head is forgotten.
  void AuditAppended(const AuditRow& row);
  void ForgetAuditHead();

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  std::unordered_map<const char*, sqlite3_stmt*> statements_;
  void (*wal_hook_)(void*, int) = nullptr;
  void* wal_hook_arg_ = nullptr;
  bool read_only_ = false;
  bool write_refused_ = false;
  std::optional<AuditRow> audit_head_;
  int64_t audit_head_version_ = 0;  // data_version at which audit_head_ was current
  int64_t observed_version_ = -1;   // data_version seen by the last CurrentAuditHead miss
};

}  // namespace custos::store::sqlite
