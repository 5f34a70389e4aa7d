// Reading and atomically replacing the audit head file. See head_file.h.
#include "audit/head_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace custos::audit {
namespace {

constexpr const char* kFormat = "custos-audit-head/1";

// Closes a POSIX descriptor on every path out of a function.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // close() reports deferred write errors on some file systems: it must be checked.
  int Close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

Status IoError(std::string_view step, const std::filesystem::path& path) {
  return Unavailable(fmt::format("audit head file {}: {} failed: {}", path.string(), step,
                                 std::strerror(errno)));
}

Status WriteAll(int fd, const std::string& text, const std::filesystem::path& path) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IoError("write", path);
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

std::string HeadLine(const SignedHead& head) {
  nlohmann::ordered_json j;
  j["format"] = kFormat;
  j["suite"] = std::string(crypto::SuiteName(head.suite));
  j["seq"] = head.seq;
  j["ts_ms"] = head.ts_ms;
  j["hash"] = crypto::ToHex(head.hash);
  j["signature"] = crypto::ToHex(head.signature);
  return j.dump() + "\n";
}

Status SyncDirectory(const std::filesystem::path& path) {
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return IoError("open directory", path);
  if (::fsync(fd.get()) != 0) return IoError("fsync directory", path);
  return Status::Ok();
}

Result<SignedHead> ParseHead(const std::string& text) {
  const Status malformed = DataLoss("audit head file is not a well-formed head line (edited?)");
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return malformed;
  try {
    if (j.at("format").get<std::string>() != kFormat) return malformed;
    auto suite = crypto::ParseSuite(j.at("suite").get<std::string>());
    auto hash = crypto::FromHex(j.at("hash").get<std::string>());
    auto sig = crypto::FromHex(j.at("signature").get<std::string>());
    if (!suite.ok() || !hash.ok() || !sig.ok()) return malformed;
    SignedHead head;
    head.suite = *suite;
    head.seq = j.at("seq").get<int64_t>();
    head.ts_ms = j.at("ts_ms").get<int64_t>();
    head.hash = std::move(*hash);
    head.signature = std::move(*sig);
    if (head.seq < 0) return malformed;
    return head;
  } catch (const nlohmann::json::exception&) {
    return malformed;
  }
}

}  // namespace

Status WriteHeadFile(const std::filesystem::path& path, const SignedHead& head) {
  // A name of this process's own: two processes sharing a vault directory (two imports, two
  // servers on one PostgreSQL vault) must never write or rename each other's temporary file.
  static std::atomic<uint64_t> counter{0};
  const std::filesystem::path tmp = path.string() + ".tmp." + std::to_string(::getpid()) + "." +
                                    std::to_string(counter.fetch_add(1));
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) return IoError("create temporary file", path);
  CUSTOS_RETURN_IF_ERROR(WriteAll(fd.get(), HeadLine(head), path));
  if (::fsync(fd.get()) != 0) return IoError("fsync", path);
  if (fd.Close() != 0) return IoError("close", path);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return IoError("rename", path);
  return SyncDirectory(path);
}

Result<std::optional<SignedHead>> ReadHeadFile(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (ec) return Unavailable(fmt::format("audit head file {}: cannot stat", path.string()));
    return std::optional<SignedHead>();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Unavailable(fmt::format("audit head file {}: cannot open", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Unavailable(fmt::format("audit head file {}: cannot read", path.string()));
  CUSTOS_ASSIGN_OR_RETURN(SignedHead head, ParseHead(text.str()));
  return std::optional<SignedHead>(std::move(head));
}

}  // namespace custos::audit
