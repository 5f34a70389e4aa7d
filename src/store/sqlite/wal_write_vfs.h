// The SQLite VFS every Custos connection opens its database with ("custos-wal"): the default
// VFS, except that the writes of a transaction's frames to the write-ahead log reach the
// kernel in one pwrite instead of two per page, and that a connection that asks for it reads
// the database file through the VFS's own map of the whole file, kept when another connection
// commits (below, "The kept map").
//
// Why: SQLite writes each WAL frame as two calls (a 24-byte frame header, then the page), so an
// audited read that commits eight pages makes sixteen system calls; on the project's virtual
// machine a system call costs several microseconds of entry and exit alone, and the writes
// were about 30 % of a lone audited read (BENCHMARKS.md, "WAL writes in one call").
//
// What it does: for a file opened as a WAL (SQLITE_OPEN_WAL), a write that continues the
// previous one (the next byte) is appended to a per-file buffer instead of being written. The
// buffer is written, in one pwrite, before any other call on that file reaches the default VFS
// (read, sync, truncate, size, lock, file control, close), when a write does not continue it,
// when it would exceed kWalBufferBytes, and — the point that keeps the WAL protocol intact —
// right after the page of a commit frame (a frame header whose "database size after commit"
// field is not zero). SQLite makes a commit visible to other connections only after the frame
// writes return (it then updates the shared-memory index), so every frame another connection
// can be told about is in the file by then. A crash before the commit frame is written loses
// an uncommitted transaction, as without the buffer. Other files pass straight through, but
// for the memory-mapped reads of a database file whose connection asked to keep its map.
//
// The kept map: a connection that reads through a memory map (PRAGMA mmap_size) lets go of the
// whole map whenever it starts a read transaction after another connection committed (the
// pager calls xUnfetch with offset 0 and no page), and faults every page back in afterwards;
// and SQLite maps at most 2 GiB (SQLITE_MAX_MMAP_SIZE in Debian's build), so a larger database
// is read past that with pread into the connection's page cache, which SQLite drops at each
// such commit too. After sqlite3_file_control(db, "main", kKeepMapFileControl, &one), sent
// before the connection reads, this VFS serves the connection's memory-mapped reads itself
// (while PRAGMA mmap_size is above 0) from its own read-only shared map of the whole file,
// and keeps that map when SQLite asks to let go, while the file is no smaller than the map and
// has grown by at most a sixteenth since it was made (otherwise it is unmapped, and made again
// at the file's size by the next read). Why it is safe: the map shows what pread would at that
// moment; the pager still reads a page held in the WAL from the WAL (it asks the WAL index
// before the map), and reads no page past its snapshot's database size, and a checkpoint
// shrinks the file only when no reader is on an older snapshot. Pages past the end of the map
// are read with pread. The pages a read connection has met stay mapped from one read to the
// next (BENCHMARKS.md, "Read connections keep their memory map").
//
// Errors: a deferred write that fails is reported by the call that wrote it (the commit frame's
// write, or the read/sync/... that flushed it) with SQLite's I/O error code, so the transaction
// fails as it would have.
//
// Thread safety: RegisterWalWriteVfs is safe to call from any thread, any number of times. Each
// file's buffer is used only under SQLite's serialisation of that connection.
#pragma once

#include <cstddef>
#include <cstdint>

namespace custos::store::sqlite {

inline constexpr const char* kWalWriteVfsName = "custos-wal";
// At most this many bytes in one write: the default unix VFS writes at most 0x1ffff bytes per
// call (seekAndWriteFd masks the length), so a larger buffer would be cut short.
inline constexpr size_t kWalBufferBytes = size_t{120} * 1024;
// sqlite3_file_control opcode (argument: int*, non-zero to keep) for a database file opened
// through this VFS. SQLITE_NOTFOUND from any other VFS, and from this one for a file it cannot
// map itself (a WAL, or a default VFS other than unix whose descriptor it cannot confirm): the
// connection then maps as SQLite does. SQLITE_MISUSE while pages of the kept map are held.
inline constexpr int kKeepMapFileControl = 0x43550001;

// Registers the VFS once (not as the default VFS). Returns false when SQLite has no default
// VFS to wrap or the registration failed; callers then open with the default VFS.
bool RegisterWalWriteVfs();

// Test hooks: WAL writes SQLite asked for, and pwrite calls made for them, since the start of
// the process (all connections).
uint64_t TEST_WalWritesAsked();
uint64_t TEST_WalWritesMade();
// Test hooks: requests to let go of a kept map that were ignored, and that unmapped it; pages
// served from kept maps.
uint64_t TEST_MapsKept();
uint64_t TEST_MapsDropped();
uint64_t TEST_PagesMapped();

}  // namespace custos::store::sqlite
