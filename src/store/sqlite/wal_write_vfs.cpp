#include "store/sqlite/wal_write_vfs.h"

#include <sqlite3.h>

#include <atomic>
#include <cstring>
#include <new>
#include <vector>

namespace custos::store::sqlite {
namespace {

constexpr int kFrameHeaderBytes = 24;

std::atomic<uint64_t> g_wal_asked{0};
std::atomic<uint64_t> g_made{0};
std::atomic<uint64_t> g_maps_kept{0};
std::atomic<uint64_t> g_maps_dropped{0};

// Our sqlite3_file: SQLite allocates szOsFile bytes; the default VFS's file lives right after
// this struct (real points there).
struct WalFile {
  sqlite3_file base;  // must be first: SQLite sees this
  sqlite3_file* real;
  bool is_wal;
  bool commit_page_next;               // the last write was a commit frame's header
  sqlite3_int64 start;                 // file offset of buffer[0]
  std::vector<unsigned char>* buffer;  // WAL files only
  bool keep_map;                       // kKeepMapFileControl asked for (database files only)
  sqlite3_int64 map_basis;             // the file's size when the map was last let go
};

sqlite3_vfs* g_default = nullptr;
sqlite3_vfs g_vfs;
sqlite3_io_methods g_wal_methods;

WalFile* Of(sqlite3_file* f) { return reinterpret_cast<WalFile*>(f); }

// Writes the buffered bytes (if any) in one call. SQLITE_OK or the default VFS's error.
int Flush(WalFile* f) {
  if (f->buffer == nullptr || f->buffer->empty()) return SQLITE_OK;
  const int rc = f->real->pMethods->xWrite(f->real, f->buffer->data(),
                                           static_cast<int>(f->buffer->size()), f->start);
  g_made.fetch_add(1, std::memory_order_relaxed);
  f->buffer->clear();
  return rc;
}

int Close(sqlite3_file* file) {
  WalFile* f = Of(file);
  const int flushed = Flush(f);
  delete f->buffer;
  f->buffer = nullptr;
  const int rc = f->real->pMethods != nullptr ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
  return flushed != SQLITE_OK ? flushed : rc;
}

int Read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  WalFile* f = Of(file);
  if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xRead(f->real, out, amount, offset);
}

int Write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  WalFile* f = Of(file);
  if (!f->is_wal) return f->real->pMethods->xWrite(f->real, data, amount, offset);
  g_wal_asked.fetch_add(1, std::memory_order_relaxed);
  std::vector<unsigned char>& buf = *f->buffer;
  const auto size = static_cast<size_t>(amount);
  const bool continues =
      !buf.empty() && f->start + static_cast<sqlite3_int64>(buf.size()) == offset;
  if (!buf.empty() && (!continues || buf.size() + size > kWalBufferBytes)) {
    if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
  }
  if (size > kWalBufferBytes) {
    g_made.fetch_add(1, std::memory_order_relaxed);
    return f->real->pMethods->xWrite(f->real, data, amount, offset);
  }
  if (buf.empty()) f->start = offset;
  const auto* bytes = static_cast<const unsigned char*>(data);
  buf.insert(buf.end(), bytes, bytes + size);
  // A frame header's bytes 4..7 hold the database size after a commit, zero for other frames.
  if (amount == kFrameHeaderBytes) {
    f->commit_page_next = (bytes[4] | bytes[5] | bytes[6] | bytes[7]) != 0;
    return SQLITE_OK;
  }
  if (f->commit_page_next) {
    f->commit_page_next = false;
    return Flush(f);  // the commit frame is complete: it must be in the file before SQLite
                      // publishes it in the shared-memory index
  }
  return SQLITE_OK;
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  WalFile* f = Of(file);
  if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xTruncate(f->real, size);
}

int Sync(sqlite3_file* file, int flags) {
  WalFile* f = Of(file);
  if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xSync(f->real, flags);
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  WalFile* f = Of(file);
  if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFileSize(f->real, size);
}

int Lock(sqlite3_file* file, int level) {
  WalFile* f = Of(file);
  if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xLock(f->real, level);
}

int Unlock(sqlite3_file* file, int level) {
  WalFile* f = Of(file);
  if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xUnlock(f->real, level);
}

int CheckReservedLock(sqlite3_file* file, int* out) {
  WalFile* f = Of(file);
  if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xCheckReservedLock(f->real, out);
}

int FileControl(sqlite3_file* file, int op, void* arg) {
  WalFile* f = Of(file);
  if (op == kKeepMapFileControl) {
    if (f->is_wal || arg == nullptr) return SQLITE_NOTFOUND;
    f->keep_map = *static_cast<int*>(arg) != 0;
    f->map_basis = 0;  // the first request to let go of the map is passed on
    return SQLITE_OK;
  }
  if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFileControl(f->real, op, arg);
}

int SectorSize(sqlite3_file* file) {
  WalFile* f = Of(file);
  return f->real->pMethods->xSectorSize(f->real);
}

int DeviceCharacteristics(sqlite3_file* file) {
  WalFile* f = Of(file);
  return f->real->pMethods->xDeviceCharacteristics(f->real);
}

int ShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  WalFile* f = Of(file);
  if (f->real->pMethods->iVersion < 2) return SQLITE_IOERR_SHMMAP;
  return f->real->pMethods->xShmMap(f->real, region, size, extend, out);
}

int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  WalFile* f = Of(file);
  if (f->real->pMethods->iVersion < 2) return SQLITE_IOERR_SHMLOCK;
  return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

void ShmBarrier(sqlite3_file* file) {
  WalFile* f = Of(file);
  if (f->real->pMethods->iVersion < 2) return;
  f->real->pMethods->xShmBarrier(f->real);
}

int ShmUnmap(sqlite3_file* file, int delete_flag) {
  WalFile* f = Of(file);
  if (f->real->pMethods->iVersion < 2) return SQLITE_OK;
  return f->real->pMethods->xShmUnmap(f->real, delete_flag);
}

int Fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  WalFile* f = Of(file);
  if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
  if (f->real->pMethods->iVersion < 3) {
    *out = nullptr;  // no map: SQLite reads instead
    return SQLITE_OK;
  }
  return f->real->pMethods->xFetch(f->real, offset, amount, out);
}

// Whether a request to let go of the whole map (offset 0, no page) may be ignored: the
// connection asked to keep its map, and the file is neither smaller than when the map was
// last let go nor grown by more than a sixteenth since (the map would not cover the new pages;
// they are read with pread until it is let go).
bool KeepsMap(WalFile* f) {
  sqlite3_int64 size = 0;
  if (f->real->pMethods->xFileSize(f->real, &size) != SQLITE_OK) return false;
  const bool keep = size >= f->map_basis && size - f->map_basis <= f->map_basis / 16;
  if (!keep) f->map_basis = size;
  return keep;
}

int Unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  WalFile* f = Of(file);
  if (f->real->pMethods->iVersion < 3) return SQLITE_OK;
  if (page == nullptr && f->keep_map) {
    if (KeepsMap(f)) {
      g_maps_kept.fetch_add(1, std::memory_order_relaxed);
      return SQLITE_OK;
    }
    g_maps_dropped.fetch_add(1, std::memory_order_relaxed);
  }
  return f->real->pMethods->xUnfetch(f->real, offset, page);
}

int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  WalFile* f = Of(file);
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  f->is_wal = (flags & SQLITE_OPEN_WAL) != 0;
  f->commit_page_next = false;
  f->start = 0;
  f->buffer = nullptr;
  f->keep_map = false;
  f->map_basis = 0;
  f->base.pMethods = nullptr;
  const int rc = g_default->xOpen(g_default, name, f->real, flags, out_flags);
  (void)vfs;
  if (rc != SQLITE_OK) return rc;
  if (f->is_wal) {
    f->buffer = new (std::nothrow) std::vector<unsigned char>();
    if (f->buffer == nullptr) {
      f->real->pMethods->xClose(f->real);
      return SQLITE_NOMEM;
    }
    f->buffer->reserve(std::size_t{64} * 1024);
  }
  f->base.pMethods = &g_wal_methods;
  return SQLITE_OK;
}

// The rest of the VFS is the default's.
int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return g_default->xDelete(g_default, name, sync_dir);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_default->xAccess(g_default, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return g_default->xFullPathname(g_default, name, n, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) { return g_default->xDlOpen(g_default, name); }
void DlError(sqlite3_vfs*, int n, char* out) { g_default->xDlError(g_default, n, out); }
void (*DlSym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return g_default->xDlSym(g_default, handle, symbol);
}
void DlClose(sqlite3_vfs*, void* handle) { g_default->xDlClose(g_default, handle); }
int Randomness(sqlite3_vfs*, int n, char* out) { return g_default->xRandomness(g_default, n, out); }
int Sleep(sqlite3_vfs*, int us) { return g_default->xSleep(g_default, us); }
int CurrentTime(sqlite3_vfs*, double* out) { return g_default->xCurrentTime(g_default, out); }
int GetLastError(sqlite3_vfs*, int n, char* out) {
  return g_default->xGetLastError != nullptr ? g_default->xGetLastError(g_default, n, out) : 0;
}
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return g_default->xCurrentTimeInt64(g_default, out);
}

bool Register() {
  g_default = sqlite3_vfs_find(nullptr);
  if (g_default == nullptr || g_default->iVersion < 2) return false;
  g_wal_methods = sqlite3_io_methods{};
  // Version 3 (shared memory, memory-mapped reads) as the default unix VFS; each optional
  // method checks that the default file has it.
  g_wal_methods.iVersion = 3;
  g_wal_methods.xClose = Close;
  g_wal_methods.xRead = Read;
  g_wal_methods.xWrite = Write;
  g_wal_methods.xTruncate = Truncate;
  g_wal_methods.xSync = Sync;
  g_wal_methods.xFileSize = FileSize;
  g_wal_methods.xLock = Lock;
  g_wal_methods.xUnlock = Unlock;
  g_wal_methods.xCheckReservedLock = CheckReservedLock;
  g_wal_methods.xFileControl = FileControl;
  g_wal_methods.xSectorSize = SectorSize;
  g_wal_methods.xDeviceCharacteristics = DeviceCharacteristics;
  g_wal_methods.xShmMap = ShmMap;
  g_wal_methods.xShmLock = ShmLock;
  g_wal_methods.xShmBarrier = ShmBarrier;
  g_wal_methods.xShmUnmap = ShmUnmap;
  g_wal_methods.xFetch = Fetch;
  g_wal_methods.xUnfetch = Unfetch;

  g_vfs = sqlite3_vfs{};
  g_vfs.iVersion = 2;
  g_vfs.szOsFile = static_cast<int>(sizeof(WalFile)) + g_default->szOsFile;
  g_vfs.mxPathname = g_default->mxPathname;
  g_vfs.zName = kWalWriteVfsName;
  g_vfs.xOpen = Open;
  g_vfs.xDelete = Delete;
  g_vfs.xAccess = Access;
  g_vfs.xFullPathname = FullPathname;
  g_vfs.xDlOpen = DlOpen;
  g_vfs.xDlError = DlError;
  g_vfs.xDlSym = DlSym;
  g_vfs.xDlClose = DlClose;
  g_vfs.xRandomness = Randomness;
  g_vfs.xSleep = Sleep;
  g_vfs.xCurrentTime = CurrentTime;
  g_vfs.xGetLastError = GetLastError;
  g_vfs.xCurrentTimeInt64 = CurrentTimeInt64;
  return sqlite3_vfs_register(&g_vfs, /*makeDflt=*/0) == SQLITE_OK;
}

}  // namespace

bool RegisterWalWriteVfs() {
  static const bool registered = Register();
  return registered;
}

uint64_t TEST_WalWritesAsked() { return g_wal_asked.load(std::memory_order_relaxed); }
uint64_t TEST_WalWritesMade() { return g_made.load(std::memory_order_relaxed); }
uint64_t TEST_MapsKept() { return g_maps_kept.load(std::memory_order_relaxed); }
uint64_t TEST_MapsDropped() { return g_maps_dropped.load(std::memory_order_relaxed); }

}  // namespace custos::store::sqlite
