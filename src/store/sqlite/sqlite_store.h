// The embedded Store: one SQLite 3 database file in WAL mode with secure_delete on, so that
// deleted rows (a shredded customer's wrapped key) are overwritten with zeros rather than
// left in free pages.
//
// Design: one writing connection per Store with every statement prepared once and cached. A
// Transaction holds the store's single writer slot from Begin() until Commit() or its
// destruction (BEGIN IMMEDIATE ... COMMIT / ROLLBACK); reads in a Begin() transaction are
// serialised with the writes. A read transaction (BeginRead) runs instead on one of the
// store's query-only read connections (read_connections, opened as first needed): it neither
// waits for the writer nor holds it up, and sees what was committed before it began; a write
// in it is refused and reported by Transaction::Wrote. Another process on the same file waits up to
// busy_timeout_ms for SQLite's lock. The write-ahead log is checkpointed by a thread of the
// Store with a second connection, so that no commit waits for a checkpoint's copy and
// fsyncs; if such a checkpoint fails with an I/O error, Begin() answers Unavailable from then
// on (a failed fsync stops writes). The log has a hard limit (wal_max_pages): past it a writer
// waits for a full checkpoint.
//
// Thread safety: as store.h. The Store must outlive its Transactions. A thread that holds a
// Transaction must not call Begin(), SchemaVersion() or Checkpoint() on the same Store: they
// wait for the writer slot and fail with Unavailable after busy_timeout_ms.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "store/store.h"

namespace custos::store {

struct SqliteOptions {
  // Create the file (and apply every migration) when it does not exist.
  bool create_if_missing = true;
  // "normal": a commit survives a process crash, the last commits may be lost on power loss;
  // "full": every commit is fsynced. WAL mode keeps the database consistent either way.
  std::string synchronous = "normal";
  // How long Begin() waits for the writer slot, and SQLite for another process's lock.
  int busy_timeout_ms = 5000;
  // Page cache of the connection, allocated as used. Bulk import inserts blind-index tokens
  // at random places of a large B-tree; with SQLite's 2 MiB default most of them miss.
  int cache_size_kib = 256 * 1024;
  // WAL pages after which the log is checkpointed (SQLite's default is 1000). Fewer, larger
  // checkpoints write each hot page back once instead of once per few batches. The checkpoint
  // runs on the Store's checkpoint thread; 0 turns automatic checkpoints off.
  int wal_autocheckpoint_pages = 16384;
  // The most the write-ahead log may hold, in pages (0: four times wal_autocheckpoint_pages).
  // A checkpoint that runs beside a writer that never pauses never catches up with it, and a
  // log that is never caught up with is never restarted: it grew to 48 GB under a sustained
  // audit append. Past this size the next Begin() copies the whole log back and truncates it
  // (a TRUNCATE checkpoint, on the writer's connection, before its transaction starts): the
  // writer waits, the log and the disk stay bounded. A reader of an old snapshot can hold the
  // log longer; Begin() then tries again once the log has grown by as much again.
  int wal_max_pages = 0;
  // The part of the database file SQLite reads through a memory map instead of read(): a page
  // not yet in the connection's cache is used where the kernel's page cache holds it, with no
  // system call and no copy. Read-only mapping (writes still go through the WAL with write());
  // SQLite caps it at its build's limit (2 GiB on Debian). The read connections, any size above
  // 0, read through the VFS's map of the whole file instead (wal_write_vfs.h, "The kept map").
  // 0: no mapping on any connection. Measured on a cold
  // connection (BENCHMARKS.md, "Reads through a memory map"); an I/O error under the map is a
  // crash (SIGBUS) rather than an error, which answers nothing either (docs/decisions.md).
  int64_t mmap_size_mib = 2048;
  // Connections for read transactions (Store::BeginRead), opened as first needed: a read then
  // neither waits for the writer's transaction nor holds it up (WAL: readers see the last
  // commit before they began). 0: as many as the machine has cores, at most 8; the first
  // connection is used for reads too when none can be opened.
  int read_connections = 0;
};

// Opens the database at `db_path`, sets the PRAGMAs (journal_mode=WAL, secure_delete=ON,
// foreign_keys=ON, synchronous, cache_size, mmap_size) and applies pending migrations in one
// transaction.
// Success: a ready Store whose Backend() is "sqlite".
// InvalidArgument: `synchronous` is not "normal" or "full", a number is negative, or
//   mmap_size_mib is over 1073741824 (the message names the option).
// NotFound: the file does not exist and create_if_missing is false.
// FailedPrecondition: the database was written by a newer schema version than this code
//   knows, or WAL mode is not available on the file system.
// Unavailable / DataLoss: the file cannot be opened or is not a healthy SQLite database.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::filesystem::path& db_path,
                                               const SqliteOptions& options);

// Test hook: the value of one connection-level PRAGMA of a SQLite store ("journal_mode",
// "secure_delete", "foreign_keys", "synchronous", "busy_timeout", "cache_size",
// "wal_autocheckpoint", "mmap_size"), as SQLite prints it.
// InvalidArgument for another pragma name or a Store that is not SQLite.
Result<std::string> TEST_ReadPragma(Store& store, std::string_view pragma);

}  // namespace custos::store
