#include "store/sqlite/wal_write_vfs.h"

#include <sqlite3.h>
#include <sys/mman.h>
#include <sys/stat.h>

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
std::atomic<uint64_t> g_pages_mapped{0};

// Our sqlite3_file: SQLite allocates szOsFile bytes; the default VFS's file lives right after
// this struct (real points there).
struct WalFile {
  sqlite3_file base;  // must be first: SQLite sees this
  sqlite3_file* real;
  bool is_wal;
  bool commit_page_next;               // the last write was a commit frame's header
  sqlite3_int64 start;                 // file offset of buffer[0]
  std::vector<unsigned char>* buffer;  // WAL files only
  const char* name;                    // the file's name (SQLite keeps it until xClose)
  bool keep_map;                       // kKeepMapFileControl asked for (database files only)
  unsigned char* map;                  // the kept map, nullptr when there is none
  bool map_failed;                     // mmap failed: no new try until SQLite lets go
  sqlite3_int64 map_size;              // its length: the file's size when it was made
  int fetched;                         // pages of the kept map SQLite holds now
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

void Unmap(WalFile* f) {
  if (f->map != nullptr) ::munmap(f->map, static_cast<size_t>(f->map_size));
  f->map = nullptr;
  f->map_size = 0;
}

int Close(sqlite3_file* file) {
  WalFile* f = Of(file);
  const int flushed = Flush(f);
  delete f->buffer;
  f->buffer = nullptr;
  Unmap(f);
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

// The descriptor the default VFS opened the file with, or -1. The map must use it: a
// descriptor of our own would have to be closed some day, and closing any descriptor of a file
// drops every POSIX lock the process holds on it, the other connections' included (SQLite's
// unix VFS defers its own closes for that reason). The unix VFS's file (os_unix.c, unixFile)
// starts with its methods, its VFS, its inode record and then the descriptor, a layout
// unchanged since SQLite 3.7; the descriptor is used only when it is checked to be the named
// file (the same device and inode).
int DefaultDescriptor(const WalFile* f) {
  if (g_default->zName == nullptr || std::strcmp(g_default->zName, "unix") != 0) return -1;
  struct UnixFileHead {
    const sqlite3_io_methods* methods;
    sqlite3_vfs* vfs;
    void* inode;
    int h;
  };
  const int fd = reinterpret_cast<const UnixFileHead*>(f->real)->h;
  struct stat held {};
  struct stat named {};
  if (fd < 0 || ::fstat(fd, &held) != 0 || ::stat(f->name, &named) != 0) return -1;
  return held.st_dev == named.st_dev && held.st_ino == named.st_ino ? fd : -1;
}

int FileControl(sqlite3_file* file, int op, void* arg) {
  WalFile* f = Of(file);
  if (op == kKeepMapFileControl) {
    if (f->is_wal || f->name == nullptr || arg == nullptr) return SQLITE_NOTFOUND;
    if (DefaultDescriptor(f) < 0) return SQLITE_NOTFOUND;  // nothing this VFS can map
    if (f->fetched != 0) return SQLITE_MISUSE;             // pages of a kept map are held
    Unmap(f);
    f->keep_map = *static_cast<int*>(arg) != 0;
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

// Maps the whole file, read-only (the kept map). False when it cannot: SQLite then reads.
bool MapFile(WalFile* f) {
  sqlite3_int64 size = 0;
  if (f->real->pMethods->xFileSize(f->real, &size) != SQLITE_OK || size <= 0) return false;
  const int fd = DefaultDescriptor(f);
  if (fd < 0) return false;
  void* p = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return false;
  f->map = static_cast<unsigned char*>(p);
  f->map_size = size;
  return true;
}

int Fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  WalFile* f = Of(file);
  if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
  if (f->keep_map) {
    *out = nullptr;  // past the map, or no map: SQLite reads instead
    if (f->map == nullptr) {
      if (f->map_failed) return SQLITE_OK;
      f->map_failed = !MapFile(f);
      if (f->map_failed) return SQLITE_OK;
    }
    if (offset >= 0 && offset + amount <= f->map_size) {
      *out = f->map + offset;
      ++f->fetched;
      g_pages_mapped.fetch_add(1, std::memory_order_relaxed);
    }
    return SQLITE_OK;
  }
  if (f->real->pMethods->iVersion < 3) {
    *out = nullptr;  // no map: SQLite reads instead
    return SQLITE_OK;
  }
  return f->real->pMethods->xFetch(f->real, offset, amount, out);
}

// Whether the kept map may stay when SQLite asks to let go of it (another connection
// committed): the file is neither smaller than the map nor grown by more than a sixteenth
// (the pages past the map are read with pread until it is made again).
bool KeepsMap(const WalFile* f) {
  sqlite3_int64 size = 0;
  if (f->real->pMethods->xFileSize(f->real, &size) != SQLITE_OK) return false;
  return size >= f->map_size && size - f->map_size <= f->map_size / 16;
}

int Unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  WalFile* f = Of(file);
  if (f->keep_map) {
    if (page != nullptr) {
      --f->fetched;  // every page handed out for this file is the kept map's
      return SQLITE_OK;
    }
    f->map_failed = false;
    if (f->map == nullptr) return SQLITE_OK;
    if (KeepsMap(f) || f->fetched != 0) {
      g_maps_kept.fetch_add(1, std::memory_order_relaxed);
    } else {
      Unmap(f);  // made again, at the file's size, by the next fetch
      g_maps_dropped.fetch_add(1, std::memory_order_relaxed);
    }
    return SQLITE_OK;
  }
  if (f->real->pMethods->iVersion < 3) return SQLITE_OK;
  return f->real->pMethods->xUnfetch(f->real, offset, page);
}

int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  WalFile* f = Of(file);
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  f->is_wal = (flags & SQLITE_OPEN_WAL) != 0;
  f->commit_page_next = false;
  f->start = 0;
  f->buffer = nullptr;
  f->name = (flags & SQLITE_OPEN_MAIN_DB) != 0 ? name : nullptr;
  f->keep_map = false;
  f->map = nullptr;
  f->map_failed = false;
  f->map_size = 0;
  f->fetched = 0;
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
uint64_t TEST_PagesMapped() { return g_pages_mapped.load(std::memory_order_relaxed); }

}  // namespace custos::store::sqlite
