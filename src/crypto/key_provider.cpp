// The keyfile and passphrase KEK providers. See key_provider.h.
#include "crypto/key_provider.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "crypto/internal/versioned_kek.h"

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

// Creates a new keyfile of 32 random bytes, mode 0600, fsync'd with its directory entry. The
// bytes are written to "<path>.tmp" first and linked into place, so a process killed half-way
// never leaves a short keyfile under the real name (a rotation killed there reruns cleanly).
Result<SecretBytes> CreateKeyfile(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return Conflict(Describe(path) + " already exists");
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  SecretBytes material = RandomSecret(kKeyfileSize);
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (fd.get() < 0) {
      return Unavailable(Describe(path) + ": cannot create: " + std::strerror(errno));
    }
    // The umask can only remove bits, but be explicit: owner read/write, nobody else.
    if (::fchmod(fd.get(), 0600) != 0 || !WriteAll(fd.get(), material) ||
        ::fsync(fd.get()) != 0 || fd.Close() != 0) {
      const std::string reason = std::strerror(errno);
      ::unlink(tmp.c_str());
      return Unavailable(Describe(path) + ": cannot write: " + reason);
    }
  }
  // link() never replaces an existing file: never overwrite a KEK, which would make every
  // key wrapped under it unreadable.
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    if (err == EEXIST) return Conflict(Describe(path) + " already exists");
    return Unavailable(Describe(path) + ": cannot create: " + std::strerror(err));
  }
  ::unlink(tmp.c_str());
  SyncParentDirectory(path);
  return material;
}

Result<SecretBytes> ReadKeyfile(const std::filesystem::path& path) {
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
  return material;
}

// Overwrites the file with zeros (fsync'd) before unlinking it, so the bytes do not linger
// in the freed blocks of a file system that writes in place. Copy-on-write file systems and
// SSD wear levelling may keep old blocks anyway (docs/keys.md).
Status ShredKeyfile(const std::filesystem::path& path) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) {
    if (errno == ENOENT) return Status::Ok();
    return Unavailable(Describe(path) + ": cannot open: " + std::strerror(errno));
  }
  const SecretBytes zeros(kKeyfileSize, 0);
  if (!WriteAll(fd.get(), zeros) || ::fsync(fd.get()) != 0 || fd.Close() != 0) {
    return Unavailable(Describe(path) + ": cannot overwrite: " + std::strerror(errno));
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Unavailable(Describe(path) + ": cannot remove: " + std::strerror(errno));
  }
  SyncParentDirectory(path);
  return Status::Ok();
}

// One keyfile per KEK version (KeyfileVersionPath).
class KeyfileSource final : public KekSource {
 public:
  KeyfileSource(std::filesystem::path path, Suite suite) : path_(std::move(path)), suite_(suite) {}

  Result<std::unique_ptr<KekKey>> Load(uint32_t version) override {
    CUSTOS_ASSIGN_OR_RETURN(SecretBytes material, ReadKeyfile(KeyfileVersionPath(path_, version)));
    return NewLocalKekKey(suite_, material);
  }
  Result<std::unique_ptr<KekKey>> Create(uint32_t version) override {
    Result<SecretBytes> made = CreateKeyfile(KeyfileVersionPath(path_, version));
    if (made.status().code() == Code::kConflict) return Load(version);
    CUSTOS_RETURN_IF_ERROR(made.status());
    return NewLocalKekKey(suite_, *made);
  }
  Status Destroy(uint32_t version) override {
    return ShredKeyfile(KeyfileVersionPath(path_, version));
  }
  bool Exists(uint32_t version) const override {
    std::error_code ec;
    return std::filesystem::exists(KeyfileVersionPath(path_, version), ec);
  }

 private:
  const std::filesystem::path path_;
  const Suite suite_;
};

}  // namespace

std::filesystem::path KeyfileVersionPath(const std::filesystem::path& path, uint32_t version) {
  if (version <= 1) return path;
  std::filesystem::path out = path;
  out.replace_filename(path.stem().string() + ".v" + std::to_string(version) +
                       path.extension().string());
  return out;
}

Result<std::unique_ptr<KeyProvider>> CreateKeyfileProvider(const std::filesystem::path& path,
                                                           Suite suite) {
  CUSTOS_RETURN_IF_ERROR(CreateKeyfile(path).status());
  return OpenKeyfileProvider(path, suite, 1);
}

Result<std::unique_ptr<KeyProvider>> OpenKeyfileProvider(const std::filesystem::path& path,
                                                         Suite suite) {
  return OpenKeyfileProvider(path, suite, 1);
}

Result<std::unique_ptr<KeyProvider>> OpenKeyfileProvider(const std::filesystem::path& path,
                                                         Suite suite, uint32_t active_version) {
  return NewVersionedKek("keyfile", std::make_unique<KeyfileSource>(path, suite), active_version);
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
  return NewSingleVersionKek(
      "passphrase", suite, material,
      "the passphrase provider derives one KEK from one passphrase and cannot rotate it; move "
      "the vault to the keyfile or pkcs11 provider to rotate (docs/keys.md)");
}

}  // namespace custos::crypto
