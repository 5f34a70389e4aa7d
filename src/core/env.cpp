// The POSIX Env, the durable sequences and FaultInjectingEnv. See env.h.
#include "core/env.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace custos {
namespace fs = std::filesystem;

int ScopedFd::Close() {
  const int rc = ::close(fd_);
  fd_ = -1;
  return rc;
}

namespace {

// "<path>: <step> failed: <reason>": Conflict for EEXIST, NotFound for ENOENT where the call
// says so (reads, kExisting), Unavailable otherwise.
Status PosixError(std::string_view step, const fs::path& path, int err,
                  bool absent_is_not_found = false) {
  std::string message = fmt::format("{}: {} failed: {}", path.string(), step, std::strerror(err));
  if (err == ENOENT && absent_is_not_found) return NotFound(std::move(message));
  if (err == EEXIST) return Conflict(std::move(message));
  return Unavailable(std::move(message));
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(fs::path path, int fd) : path_(std::move(path)), fd_(fd) {}

  Status Append(std::string_view data) override {
    while (!data.empty()) {
      const ssize_t n = ::write(fd_.get(), data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return PosixError("write", path_, errno);
      if (n == 0) return PosixError("write", path_, EIO);
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::Ok();
  }
  Status Sync() override {
    if (::fsync(fd_.get()) != 0) return PosixError("fsync", path_, errno);
    return Status::Ok();
  }
  Status Close() override {
    if (fd_.Close() != 0) return PosixError("close", path_, errno);
    return Status::Ok();
  }

 private:
  const fs::path path_;
  ScopedFd fd_;
};

class PosixEnv final : public Env {
 public:
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const fs::path& path, OpenMode open_mode,
                                                        uint32_t mode) override {
    int flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW;
    switch (open_mode) {
      case OpenMode::kTruncate:
        flags |= O_CREAT | O_TRUNC;
        break;
      case OpenMode::kAppend:
        flags |= O_CREAT | O_APPEND;
        break;
      case OpenMode::kExclusive:
        flags |= O_CREAT | O_EXCL;
        break;
      case OpenMode::kExisting:
        break;
    }
    int fd;
    do {
      fd = ::open(path.c_str(), flags, static_cast<mode_t>(mode));
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return PosixError("open", path, errno, open_mode == OpenMode::kExisting);
    return std::unique_ptr<WritableFile>(std::make_unique<PosixWritableFile>(path, fd));
  }
  Status RenameFile(const fs::path& from, const fs::path& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return PosixError("rename", to, errno);
    return Status::Ok();
  }
  Status LinkFile(const fs::path& from, const fs::path& to) override {
    if (::link(from.c_str(), to.c_str()) != 0) return PosixError("link", to, errno);
    return Status::Ok();
  }
  Status RemoveFile(const fs::path& path) override {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return PosixError("unlink", path, errno);
    return Status::Ok();
  }
  Status TruncateFile(const fs::path& path, uint64_t size) override {
    if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
      return PosixError("truncate", path, errno, /*absent_is_not_found=*/true);
    }
    return Status::Ok();
  }
  Status CreateDir(const fs::path& dir, uint32_t mode) override {
    if (::mkdir(dir.c_str(), static_cast<mode_t>(mode)) == 0) return Status::Ok();
    const int err = errno;
    struct stat st {};
    if (err == EEXIST && ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      return Status::Ok();
    }
    return PosixError("mkdir", dir, err);
  }
  Status SyncDir(const fs::path& dir) override {
    const fs::path d = dir.empty() ? fs::path(".") : dir;
    ScopedFd fd(::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) return PosixError("open directory", d, errno);
    if (::fsync(fd.get()) != 0) return PosixError("fsync directory", d, errno);
    if (fd.Close() != 0) return PosixError("close directory", d, errno);
    return Status::Ok();
  }
  Result<std::string> ReadFile(const fs::path& path) override {
    ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return PosixError("open", path, errno, /*absent_is_not_found=*/true);
    std::string out;
    char buf[64 * 1024];
    while (true) {
      const ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return PosixError("read", path, errno);
      if (n == 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  Result<std::vector<std::string>> ListDir(const fs::path& dir) override {
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), &::closedir);
    if (!d) return PosixError("open directory", dir, errno, /*absent_is_not_found=*/true);
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* e = ::readdir(d.get())) {
      const std::string_view name = e->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
    if (errno != 0) return PosixError("read directory", dir, errno);
    std::sort(names.begin(), names.end());
    return names;
  }
  bool FileExists(const fs::path& path) override {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
  }
};

std::atomic<Env*> g_default_override{nullptr};

// A temporary name beside `path` that no other process or thread uses.
fs::path TempPathFor(const fs::path& path) {
  static std::atomic<uint64_t> counter{0};
  return path.string() + ".tmp." + std::to_string(::getpid()) + "." +
         std::to_string(counter.fetch_add(1));
}

}  // namespace

Env& Env::Default() {
  static PosixEnv posix;
  Env* override = g_default_override.load(std::memory_order_acquire);
  return override != nullptr ? *override : posix;
}

Env* Env::TEST_SetDefault(Env* env) {
  return g_default_override.exchange(env, std::memory_order_acq_rel);
}

fs::path Env::DirOf(const fs::path& path) {
  return path.has_parent_path() ? path.parent_path() : fs::path(".");
}

namespace {

// A directory fsync's failure, told as the failure of the file whose entry it was for.
Status SyncDirFor(Env& env, const fs::path& path) {
  Status st = env.SyncDir(Env::DirOf(path));
  if (st.ok()) return st;
  return Status(st.code(),
                fmt::format("{}: sync of its directory failed: {}", path.string(), st.message()));
}

// Writes, fsyncs and closes a new file at `tmp`; removes it on failure (best effort: after a
// simulated crash the removal fails too, which is what a crash leaves).
Status WriteSyncClose(Env& env, const fs::path& tmp, OpenMode open_mode, std::string_view data,
                      uint32_t mode) {
  Status st;
  {
    Result<std::unique_ptr<WritableFile>> file = env.NewWritableFile(tmp, open_mode, mode);
    if (!file.ok()) return file.status();
    st = (*file)->Append(data);
    if (st.ok()) st = (*file)->Sync();
    if (st.ok()) st = (*file)->Close();
  }
  if (!st.ok()) env.RemoveFile(tmp).IgnoreError();
  return st;
}

}  // namespace

// ---- OutputFile ----

OutputFile::OutputFile(Token, Env& env, fs::path path, fs::path tmp,
                       std::unique_ptr<WritableFile> file)
    : env_(env), path_(std::move(path)), tmp_(std::move(tmp)), file_(std::move(file)) {}

OutputFile::~OutputFile() {
  if (!committed_ && failed_.ok()) (void)Abandon(Unavailable("abandoned"));
}

Status OutputFile::Abandon(Status st) {
  failed_ = st;
  file_.reset();  // closes the descriptor; its error no longer matters
  env_.RemoveFile(tmp_).IgnoreError();
  return st;
}

Status OutputFile::Append(std::string_view chunk) {
  if (!failed_.ok()) return failed_;
  if (committed_) return Internal(fmt::format("{}: append after commit", path_.string()));
  if (Status st = file_->Append(chunk); !st.ok()) return Abandon(std::move(st));
  return Status::Ok();
}

Status OutputFile::Commit() {
  if (!failed_.ok()) return failed_;
  if (committed_) return Internal(fmt::format("{}: committed twice", path_.string()));
  Status st = file_->Sync();
  if (st.ok()) st = file_->Close();
  if (st.ok()) st = env_.RenameFile(tmp_, path_);
  if (!st.ok()) return Abandon(std::move(st));
  file_.reset();
  committed_ = true;
  return SyncDirFor(env_, path_);
}

Result<std::unique_ptr<OutputFile>> Env::NewOutputFile(const fs::path& path, uint32_t mode) {
  fs::path tmp = TempPathFor(path);
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file,
                          NewWritableFile(tmp, OpenMode::kExclusive, mode));
  return std::make_unique<OutputFile>(OutputFile::Token(), *this, path, std::move(tmp),
                                      std::move(file));
}

Status Env::WriteFileAtomic(const fs::path& path, std::string_view data, uint32_t mode) {
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<OutputFile> out, NewOutputFile(path, mode));
  CUSTOS_RETURN_IF_ERROR(out->Append(data));
  return out->Commit();
}

Status Env::CreateFileAtomic(const fs::path& path, std::string_view data, uint32_t mode) {
  if (FileExists(path)) return Conflict(fmt::format("{} already exists", path.string()));
  const fs::path tmp = TempPathFor(path);
  CUSTOS_RETURN_IF_ERROR(WriteSyncClose(*this, tmp, OpenMode::kExclusive, data, mode));
  Status linked = LinkFile(tmp, path);
  Status removed = RemoveFile(tmp);
  CUSTOS_RETURN_IF_ERROR(linked);
  if (!removed.ok()) {
    // Failure means nothing was created: take the new name away again (best effort).
    RemoveFile(path).IgnoreError();
    return removed;
  }
  Status synced = SyncDirFor(*this, path);
  if (!synced.ok()) RemoveFile(path).IgnoreError();
  return synced;
}

Status Env::WriteFileDurable(const fs::path& path, std::string_view data, uint32_t mode) {
  return WriteSyncClose(*this, path, OpenMode::kTruncate, data, mode);
}

Status Env::AppendDurable(const fs::path& path, std::string_view data, uint32_t mode) {
  std::error_code ec;
  const bool existed = FileExists(path);
  const uint64_t before = existed ? fs::file_size(path, ec) : 0;
  if (ec) return Unavailable(fmt::format("{}: stat failed: {}", path.string(), ec.message()));
  Status st;
  {
    CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file,
                            NewWritableFile(path, OpenMode::kAppend, mode));
    st = file->Append(data);
    if (st.ok()) st = file->Sync();
    if (st.ok()) st = file->Close();
  }
  if (!st.ok()) {
    // Undo a partial append so the next append does not follow a torn line.
    (existed ? TruncateFile(path, before) : RemoveFile(path)).IgnoreError();
    return st;
  }
  return existed ? Status::Ok() : SyncDirFor(*this, path);
}

Status Env::CreateDirDurable(const fs::path& dir, uint32_t mode) {
  if (dir.empty() || FileExists(dir)) return Status::Ok();
  if (dir.has_parent_path() && dir.parent_path() != dir) {
    CUSTOS_RETURN_IF_ERROR(CreateDirDurable(dir.parent_path(), mode));
  }
  CUSTOS_RETURN_IF_ERROR(CreateDir(dir, mode));
  return SyncDir(DirOf(dir));
}

// ---- FaultInjectingEnv ----

namespace {

class FaultInjectingFile final : public WritableFile {
 public:
  FaultInjectingFile(FaultInjectingEnv& env, fs::path path, std::unique_ptr<WritableFile> base)
      : env_(env), path_(std::move(path)), base_(std::move(base)) {}

  Status Append(std::string_view data) override {
    const auto v = env_.Decide(path_);
    if (v == FaultInjectingEnv::Verdict::kFail) {
      // A torn write: half the bytes reach the file before the error.
      base_->Append(data.substr(0, data.size() / 2)).IgnoreError();
    }
    if (v != FaultInjectingEnv::Verdict::kRun) return env_.Injected(v, "write", path_);
    return base_->Append(data);
  }
  Status Sync() override {
    const auto v = env_.Decide(path_);
    if (v != FaultInjectingEnv::Verdict::kRun) return env_.Injected(v, "fsync", path_);
    return base_->Sync();
  }
  Status Close() override {
    const auto v = env_.Decide(path_);
    if (v != FaultInjectingEnv::Verdict::kRun) return env_.Injected(v, "close", path_);
    return base_->Close();
  }

 private:
  FaultInjectingEnv& env_;
  const fs::path path_;
  std::unique_ptr<WritableFile> base_;
};

}  // namespace

void FaultInjectingEnv::FailCall(int64_t n, int error_number, std::string path_filter) {
  std::lock_guard<std::mutex> lock(mu_);
  filter_ = std::move(path_filter);
  calls_ = 0;
  fail_at_ = n;
  crash_after_ = -1;
  error_number_ = error_number;
  fired_ = false;
  crashed_ = false;
}

void FaultInjectingEnv::CrashAfter(int64_t k, std::string path_filter) {
  std::lock_guard<std::mutex> lock(mu_);
  filter_ = std::move(path_filter);
  calls_ = 0;
  fail_at_ = 0;
  crash_after_ = k;
  error_number_ = 0;
  fired_ = false;
  crashed_ = false;
}

void FaultInjectingEnv::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  filter_.clear();
  calls_ = 0;
  fail_at_ = 0;
  crash_after_ = -1;
  error_number_ = 0;
  fired_ = false;
  crashed_ = false;
}

int64_t FaultInjectingEnv::calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

bool FaultInjectingEnv::fired() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fired_ || crashed_;
}

FaultInjectingEnv::Verdict FaultInjectingEnv::Decide(const fs::path& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (crashed_) return Verdict::kCrashed;
  if (!filter_.empty() && path.string().find(filter_) == std::string::npos) return Verdict::kRun;
  if (crash_after_ >= 0 && calls_ >= crash_after_) {
    crashed_ = true;
    return Verdict::kCrashed;
  }
  ++calls_;
  if (fail_at_ > 0 && calls_ == fail_at_) {
    fired_ = true;
    return Verdict::kFail;
  }
  return Verdict::kRun;
}

Status FaultInjectingEnv::Injected(Verdict v, std::string_view step, const fs::path& path) const {
  if (v == Verdict::kCrashed) {
    return Unavailable(fmt::format("{}: {} failed: simulated crash", path.string(), step));
  }
  int err;
  {
    std::lock_guard<std::mutex> lock(mu_);
    err = error_number_;
  }
  return PosixError(step, path, err);
}

Result<std::unique_ptr<WritableFile>> FaultInjectingEnv::NewWritableFile(const fs::path& path,
                                                                         OpenMode open_mode,
                                                                         uint32_t mode) {
  const Verdict v = Decide(path);
  if (v != Verdict::kRun) return Injected(v, "open", path);
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> base,
                          base_.NewWritableFile(path, open_mode, mode));
  return std::unique_ptr<WritableFile>(
      std::make_unique<FaultInjectingFile>(*this, path, std::move(base)));
}

Status FaultInjectingEnv::RenameFile(const fs::path& from, const fs::path& to) {
  const Verdict v = Decide(to);
  if (v != Verdict::kRun) return Injected(v, "rename", to);
  return base_.RenameFile(from, to);
}

Status FaultInjectingEnv::LinkFile(const fs::path& from, const fs::path& to) {
  const Verdict v = Decide(to);
  if (v != Verdict::kRun) return Injected(v, "link", to);
  return base_.LinkFile(from, to);
}

Status FaultInjectingEnv::RemoveFile(const fs::path& path) {
  const Verdict v = Decide(path);
  if (v != Verdict::kRun) return Injected(v, "unlink", path);
  return base_.RemoveFile(path);
}

Status FaultInjectingEnv::TruncateFile(const fs::path& path, uint64_t size) {
  const Verdict v = Decide(path);
  if (v != Verdict::kRun) return Injected(v, "truncate", path);
  return base_.TruncateFile(path, size);
}

Status FaultInjectingEnv::CreateDir(const fs::path& dir, uint32_t mode) {
  const Verdict v = Decide(dir);
  if (v != Verdict::kRun) return Injected(v, "mkdir", dir);
  return base_.CreateDir(dir, mode);
}

Status FaultInjectingEnv::SyncDir(const fs::path& dir) {
  const Verdict v = Decide(dir);
  if (v != Verdict::kRun) return Injected(v, "fsync directory", dir);
  return base_.SyncDir(dir);
}

Result<std::string> FaultInjectingEnv::ReadFile(const fs::path& path) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (crashed_) {
      return Unavailable(fmt::format("{}: read failed: simulated crash", path.string()));
    }
  }
  return base_.ReadFile(path);
}

Result<std::vector<std::string>> FaultInjectingEnv::ListDir(const fs::path& dir) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (crashed_) {
      return Unavailable(fmt::format("{}: list failed: simulated crash", dir.string()));
    }
  }
  return base_.ListDir(dir);
}

bool FaultInjectingEnv::FileExists(const fs::path& path) { return base_.FileExists(path); }

}  // namespace custos
