// Env: the one way Custos touches the file system for files that must survive a crash (the
// audit head, keyfiles, TLS material, backups and their manifests, ledgers, certificates,
// config edits), in the manner of LevelDB's Env and RocksDB's FileSystem.
//
// An Env offers a few primitives (open a file for writing, append, sync, close, rename, link,
// remove, truncate, make a directory, sync a directory, read, list) and, built on them and
// shared by every Env, the durable sequences every writer needs (WriteFileAtomic,
// CreateFileAtomic, WriteFileDurable, AppendDurable, CreateDirDurable, and NewOutputFile for
// streamed outputs: exports, generated data, redacted copies). Every step's error is
// checked; a failure is a Status whose message names the file path and the step, never the
// file's contents.
//
// Two implementations: the POSIX Env (Env::Default()) and FaultInjectingEnv, which wraps
// another Env for tests: it fails the Nth matching call with ENOSPC or EIO, or simulates a
// crash after the Kth call (every later call does nothing and fails, so the disk holds what a
// crash at that point would leave).
//
// Failure codes (every call): Unavailable for an I/O error (ENOSPC, EIO, EACCES, ...);
// NotFound where a call says so; Conflict where a call says so.
//
// Thread safety: an Env is safe for concurrent use from several threads without external
// synchronisation (the POSIX Env has no state; FaultInjectingEnv locks its counters). A
// WritableFile is used by one thread at a time.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace custos {

// Owns a POSIX file descriptor and closes it on every path out of a scope. For the few callers
// that must check a file on its open descriptor (a keyfile's mode bits, without a race between
// check and read); everything else goes through an Env.
class ScopedFd {
 public:
  explicit ScopedFd(int fd = -1) : fd_(fd) {}
  ~ScopedFd() {
    if (fd_ >= 0) (void)Close();
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  int get() const { return fd_; }
  // close(2)'s result: close can report a deferred write error, so writers must check it.
  int Close();

 private:
  int fd_;
};

// A file open for writing. Obtained from Env::NewWritableFile.
class WritableFile {
 public:
  // Closes the file if Close() was not called; an error there is lost, so writers call Close().
  virtual ~WritableFile() = default;
  // Writes all of `data` at the end of the file (retrying short writes and EINTR).
  // Unavailable naming the path on failure; some prefix of `data` may then have been written.
  [[nodiscard]] virtual Status Append(std::string_view data) = 0;
  // fsync(2): the bytes appended so far survive a crash. Unavailable on failure; after a
  // failed sync the file's durable contents are unknown (do not retry and trust it).
  [[nodiscard]] virtual Status Sync() = 0;
  // close(2), checked. Unavailable on failure. Further calls are bugs.
  [[nodiscard]] virtual Status Close() = 0;
};

class Env;

// A streamed output published whole (Env::NewOutputFile): the bytes go to a temporary file of
// this process beside the destination, and only Commit puts them under the destination's
// name. Until then (and whenever anything fails) a previous file at the destination is
// untouched, and nothing half-written is left behind: the temporary file is removed when an
// Append or Commit fails and when the OutputFile is destroyed without a successful Commit.
// Errors name the destination and the step, never the contents.
//
// Thread safety: used by one thread at a time.
class OutputFile {
 public:
  // Removes the temporary file unless Commit succeeded (best effort: after a simulated crash,
  // or if the file system refuses the unlink, the temporary file stays, as a crash leaves it).
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  // Writes `chunk` after what was appended before. Unavailable naming the step on failure;
  // the output is then abandoned (temporary file removed) and every later call returns the
  // same error.
  [[nodiscard]] Status Append(std::string_view chunk);
  // fsync and close the temporary file, rename it over the destination, fsync the directory.
  // OK: the destination holds exactly the appended bytes and survives a crash. Unavailable
  // naming the destination and the step otherwise; the destination then holds its previous
  // contents (or is still absent) — except when only the final directory fsync failed: the
  // new file is in place but not known durable. Call once: Append or Commit after a
  // successful Commit is a bug (Internal).
  [[nodiscard]] Status Commit();

  // The destination.
  const std::filesystem::path& path() const { return path_; }

 private:
  friend class Env;
  struct Token {
    explicit Token() = default;
  };

 public:
  // For Env::NewOutputFile only (Token is private to it).
  OutputFile(Token, Env& env, std::filesystem::path path, std::filesystem::path tmp,
             std::unique_ptr<WritableFile> file);

 private:
  // Records `st` as the output's failure and removes the temporary file; returns `st`.
  Status Abandon(Status st);

  Env& env_;
  const std::filesystem::path path_;
  const std::filesystem::path tmp_;
  std::unique_ptr<WritableFile> file_;  // null once closed or abandoned
  Status failed_;
  bool committed_ = false;
};

enum class OpenMode : uint8_t {
  kTruncate,   // create or truncate (O_CREAT | O_TRUNC)
  kAppend,     // create or append (O_CREAT | O_APPEND)
  kExclusive,  // create; Conflict if the path exists (O_CREAT | O_EXCL)
  kExisting,   // overwrite an existing file from offset 0, no create, no truncate;
               // NotFound if absent
};

class Env {
 public:
  virtual ~Env() = default;

  // The process's POSIX Env (or the one a test installed with TEST_SetDefault). Never null.
  static Env& Default();
  // Test hook: makes Default() return `env` (nullptr: the POSIX Env again); returns the one it
  // replaces. The caller keeps `env` alive while it is installed. For tests of code that has
  // no Env parameter (the vault's writers); not for production code.
  static Env* TEST_SetDefault(Env* env);

  // ---- primitives (what an Env implements) ----

  // Opens `path` for writing; `mode` (POSIX permission bits, less the umask) applies when the
  // file is created. Never follows a symbolic link at `path`. Conflict (kExclusive) if the
  // path exists; NotFound (kExisting) if it does not; Unavailable otherwise.
  [[nodiscard]] virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::filesystem::path& path, OpenMode open_mode, uint32_t mode) = 0;
  // rename(2): atomically replaces `to` if it exists. Unavailable on failure.
  [[nodiscard]] virtual Status RenameFile(const std::filesystem::path& from,
                                          const std::filesystem::path& to) = 0;
  // link(2): a second name for `from`; never replaces. Conflict if `to` exists.
  [[nodiscard]] virtual Status LinkFile(const std::filesystem::path& from,
                                        const std::filesystem::path& to) = 0;
  // unlink(2). OK if the file does not exist. Unavailable on failure.
  [[nodiscard]] virtual Status RemoveFile(const std::filesystem::path& path) = 0;
  // truncate(2) to `size` bytes. Unavailable on failure (NotFound if absent).
  [[nodiscard]] virtual Status TruncateFile(const std::filesystem::path& path, uint64_t size) = 0;
  // mkdir(2) of one directory with `mode`. OK if it already exists as a directory.
  [[nodiscard]] virtual Status CreateDir(const std::filesystem::path& dir, uint32_t mode) = 0;
  // fsync(2) of a directory, so a create, rename or unlink in it survives a crash. An empty
  // path means the current directory. Unavailable on failure.
  [[nodiscard]] virtual Status SyncDir(const std::filesystem::path& dir) = 0;
  // The whole file. NotFound if absent; Unavailable if unreadable.
  [[nodiscard]] virtual Result<std::string> ReadFile(const std::filesystem::path& path) = 0;
  // The names (not paths) in `dir`, sorted, without "." and "..". NotFound if absent.
  [[nodiscard]] virtual Result<std::vector<std::string>> ListDir(
      const std::filesystem::path& dir) = 0;
  // Whether anything exists at `path` (a failed stat counts as absent).
  virtual bool FileExists(const std::filesystem::path& path) = 0;

  // ---- durable sequences (shared by every Env; built on the primitives above) ----

  // Replaces `path` atomically with `data`: writes a temporary file in the same directory
  // (`<path>.tmp.<pid>.<n>`, so two processes never share one), fsyncs and closes it, renames
  // it over `path` and fsyncs the directory. On success a crash leaves the new file. On
  // failure the temporary file is removed and `path` holds its previous contents (or is still
  // absent); a crash during the call leaves the old or the new file, and perhaps a temporary
  // file. Unavailable naming `path` and the step.
  [[nodiscard]] Status WriteFileAtomic(const std::filesystem::path& path, std::string_view data,
                                       uint32_t mode);
  // As WriteFileAtomic, but never replaces: the temporary file is linked to `path` (Conflict
  // if `path` exists, and then nothing changed) and removed. On any failure, nothing is left
  // under `path` nor under the temporary name (best effort: unless the file system refuses
  // the unlink itself). For files whose loss would be worse than a failed create: a KEK, a
  // TLS private key.
  [[nodiscard]] Status CreateFileAtomic(const std::filesystem::path& path, std::string_view data,
                                        uint32_t mode);
  // Writes `data` to `path` in place (created or truncated), fsyncs and closes it; on failure
  // removes it. Not atomic and does not sync the directory: for files inside a directory that
  // is itself published atomically later (a backup's `.partial` directory). Unavailable.
  [[nodiscard]] Status WriteFileDurable(const std::filesystem::path& path, std::string_view data,
                                        uint32_t mode);
  // Appends `data` to `path` (created with `mode` if absent), fsyncs and closes it; fsyncs the
  // directory when the file was created. On failure the file is cut back to its previous
  // length (or removed if it was created), best effort: a crash can still leave a torn last
  // line, which readers of append-only files must tolerate. Unavailable naming `path`.
  [[nodiscard]] Status AppendDurable(const std::filesystem::path& path, std::string_view data,
                                     uint32_t mode);
  // Starts a streamed output to `path` (OutputFile): creates the temporary file
  // `<path>.tmp.<pid>.<n>` in the same directory with `mode` (0600 unless asked otherwise; the
  // umask can only take bits away, so never wider than asked, unlike a std::ofstream's 0666).
  // Unavailable naming the temporary file if it cannot be created (the directory must exist).
  [[nodiscard]] Result<std::unique_ptr<OutputFile>> NewOutputFile(const std::filesystem::path& path,
                                                                  uint32_t mode = 0600);
  // Creates `dir` and any missing parents with `mode`, fsyncing the parent of each directory
  // it created. OK if `dir` exists. Unavailable naming the directory.
  [[nodiscard]] Status CreateDirDurable(const std::filesystem::path& dir, uint32_t mode);
  // The directory holding `path` ("." for a bare name).
  static std::filesystem::path DirOf(const std::filesystem::path& path);
};

// Wraps another Env and injects failures into its mutating calls (NewWritableFile, Append,
// Sync, Close, RenameFile, LinkFile, RemoveFile, TruncateFile, CreateDir, SyncDir). A call
// "matches" when its path contains the filter given (empty: every call); only matching calls
// are counted. Reads pass through (until a crash).
//
// Thread safety: safe for concurrent use; counting is serialised by a mutex.
class FaultInjectingEnv final : public Env {
 public:
  explicit FaultInjectingEnv(Env& base) : base_(base) {}

  // The `n`th matching call from now (1-based) fails with `error_number` (ENOSPC, EIO, ...)
  // instead of running; an Append that fails first writes half of its bytes (a torn write).
  // Later calls run normally.
  void FailCall(int64_t n, int error_number, std::string path_filter = "");
  // After `k` more matching calls succeed the process "crashes": every later call (matching
  // or not, reads too) does nothing and returns Unavailable("... simulated crash"), so the
  // disk holds what a crash at that point would leave. k = 0 crashes at the next call.
  void CrashAfter(int64_t k, std::string path_filter = "");
  // Clears the pending fault or crash and the counter; the Env passes everything through.
  void Reset();
  // Matching calls seen since the last FailCall / CrashAfter / Reset.
  int64_t calls() const;
  // Whether the injected fault fired (FailCall) or the crash happened (CrashAfter).
  bool fired() const;

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::filesystem::path& path,
                                                        OpenMode open_mode, uint32_t mode) override;
  Status RenameFile(const std::filesystem::path& from, const std::filesystem::path& to) override;
  Status LinkFile(const std::filesystem::path& from, const std::filesystem::path& to) override;
  Status RemoveFile(const std::filesystem::path& path) override;
  Status TruncateFile(const std::filesystem::path& path, uint64_t size) override;
  Status CreateDir(const std::filesystem::path& dir, uint32_t mode) override;
  Status SyncDir(const std::filesystem::path& dir) override;
  Result<std::string> ReadFile(const std::filesystem::path& path) override;
  Result<std::vector<std::string>> ListDir(const std::filesystem::path& dir) override;
  bool FileExists(const std::filesystem::path& path) override;

  // What to do with one call (used by the file handles too).
  enum class Verdict : uint8_t { kRun, kFail, kCrashed };
  Verdict Decide(const std::filesystem::path& path);
  Status Injected(Verdict v, std::string_view step, const std::filesystem::path& path) const;

 private:
  Env& base_;
  mutable std::mutex mu_;
  std::string filter_;
  int64_t calls_ = 0;
  int64_t fail_at_ = 0;       // 0: none
  int64_t crash_after_ = -1;  // -1: none
  int error_number_ = 0;
  bool fired_ = false;
  bool crashed_ = false;
};

}  // namespace custos
