// The keyfile and passphrase KEK providers. See key_provider.h.
#include "crypto/key_provider.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "crypto/internal/local_kek.h"

namespace custos::crypto {
namespace {

constexpr size_t kKeyfileSize = 32;

std::string Describe(const std::filesystem::path& path) { return "keyfile '" + path.string() + "'"; }

// Closes the descriptor on every path out of a function.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // close() can report a write error (e.g. on NFS); callers that wrote must check it.
  int Close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

bool WriteAll(int fd, const SecretBytes& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

bool ReadAll(int fd, SecretBytes& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// The new keyfile's name must survive a crash as well as its bytes.
void SyncParentDirectory(const std::filesystem::path& path) {
  const auto parent = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const int fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

Result<std::unique_ptr<KeyProvider>> CreateKeyfileProvider(const std::filesystem::path& path,
                                                           Suite suite) {
  // O_EXCL: never overwrite a KEK, which would make every wrapped key unreadable.
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) {
    if (errno == EEXIST) return Conflict(Describe(path) + " already exists");
    return Unavailable(Describe(path) + ": cannot create: " + std::strerror(errno));
  }
  // The umask can only remove bits, but be explicit: owner read/write, nobody else.
  const SecretBytes material = RandomSecret(kKeyfileSize);
  if (::fchmod(fd.get(), 0600) != 0 || !WriteAll(fd.get(), material) || ::fsync(fd.get()) != 0 ||
      fd.Close() != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(path.c_str());
    return Unavailable(Describe(path) + ": cannot write: " + reason);
  }
  SyncParentDirectory(path);
  return NewLocalKekProvider("keyfile", suite, material);
}

Result<std::unique_ptr<KeyProvider>> OpenKeyfileProvider(const std::filesystem::path& path,
                                                         Suite suite) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return NotFound(Describe(path) + " does not exist");
    return Unavailable(Describe(path) + ": cannot open: " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Unavailable(Describe(path) + ": cannot stat: " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return InvalidArgument(Describe(path) + " is not a regular file");
  // Checked on the open descriptor, so the file cannot be swapped between check and read.
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return FailedPrecondition(Describe(path) +
                              " is accessible to group or others; it must be mode 0600");
  }
  if (static_cast<size_t>(st.st_size) != kKeyfileSize) {
    return InvalidArgument(Describe(path) + " must hold exactly 32 bytes");
  }
  SecretBytes material(kKeyfileSize);
  if (!ReadAll(fd.get(), material)) {
    return Unavailable(Describe(path) + ": cannot read");
  }
  return NewLocalKekProvider("keyfile", suite, material);
}

Result<std::unique_ptr<KeyProvider>> OpenPassphraseProvider(std::string_view passphrase,
                                                            ByteView salt, Suite suite) {
  return OpenPassphraseProvider(passphrase, salt, suite, kPassphraseKekParams);
}

Result<std::unique_ptr<KeyProvider>> OpenPassphraseProvider(std::string_view passphrase,
                                                            ByteView salt, Suite suite,
                                                            const PasswordHashParams& params) {
  if (passphrase.empty()) return InvalidArgument("KEK passphrase is empty");
  CUSTOS_ASSIGN_OR_RETURN(SecretBytes material,
                          DeriveKeyArgon2id(passphrase, salt, kKeyfileSize, params));
  return NewLocalKekProvider("passphrase", suite, material);
}

}  // namespace custos::crypto
