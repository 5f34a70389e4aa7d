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

std::string Describe(const std::filesystem::path& path) {
  return "keyfile '" + path.string() + "'";
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

std::string_view View(const SecretBytes& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Creates a new keyfile of 32 random bytes, mode 0600, with its directory entry fsync'd
// (Env::CreateFileAtomic): the bytes go to a temporary file first and are linked into place,
// so a process killed half-way never leaves a short keyfile under the real name (a rotation
// killed there reruns cleanly), and link() never replaces an existing file: overwriting a KEK
// would make every key wrapped under it unreadable.
Result<SecretBytes> CreateKeyfile(const std::filesystem::path& path, Env& env) {
  if (env.FileExists(path)) return Conflict(Describe(path) + " already exists");
  SecretBytes material = RandomSecret(kKeyfileSize);
  Status st = env.CreateFileAtomic(path, View(material), 0600);
  if (st.code() == Code::kConflict) return Conflict(Describe(path) + " already exists");
  if (!st.ok()) return Unavailable(Describe(path) + ": cannot create: " + st.message());
  return material;
}

Result<SecretBytes> ReadKeyfile(const std::filesystem::path& path) {
  // Read on its own descriptor (not through Env::ReadFile): the mode is checked on the very
  // file that is read, so it cannot be swapped between check and read.
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
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
Status ShredKeyfile(const std::filesystem::path& path, Env& env) {
  Result<std::unique_ptr<WritableFile>> file = env.NewWritableFile(path, OpenMode::kExisting, 0600);
  if (file.status().code() == Code::kNotFound) return Status::Ok();
  if (!file.ok()) return Unavailable(Describe(path) + ": cannot open: " + file.status().message());
  const SecretBytes zeros(kKeyfileSize, 0);
  Status st = (*file)->Append(View(zeros));
  if (st.ok()) st = (*file)->Sync();
  if (st.ok()) st = (*file)->Close();
  if (!st.ok()) return Unavailable(Describe(path) + ": cannot overwrite: " + st.message());
  st = env.RemoveFile(path);
  if (st.ok()) st = env.SyncDir(Env::DirOf(path));
  if (!st.ok()) return Unavailable(Describe(path) + ": cannot remove: " + st.message());
  return Status::Ok();
}

// One keyfile per KEK version (KeyfileVersionPath).
class KeyfileSource final : public KekSource {
 public:
  KeyfileSource(std::filesystem::path path, Suite suite, Env& env)
      : path_(std::move(path)), suite_(suite), env_(env) {}

  Result<std::unique_ptr<KekKey>> Load(uint32_t version) override {
    CUSTOS_ASSIGN_OR_RETURN(SecretBytes material, ReadKeyfile(KeyfileVersionPath(path_, version)));
    return NewLocalKekKey(suite_, material);
  }
  Result<std::unique_ptr<KekKey>> Create(uint32_t version) override {
    Result<SecretBytes> made = CreateKeyfile(KeyfileVersionPath(path_, version), env_);
    if (made.status().code() == Code::kConflict) return Load(version);
    CUSTOS_RETURN_IF_ERROR(made.status());
    return NewLocalKekKey(suite_, *made);
  }
  Status Destroy(uint32_t version) override {
    return ShredKeyfile(KeyfileVersionPath(path_, version), env_);
  }
  bool Exists(uint32_t version) const override {
    return env_.FileExists(KeyfileVersionPath(path_, version));
  }

  // K_n: one file per epoch beside the keyfile, written and shredded like a KEK version.
  bool SupportsBackupKeys() const override { return true; }
  Result<std::unique_ptr<KekKey>> LoadBackupKey(uint32_t epoch) override {
    CUSTOS_ASSIGN_OR_RETURN(SecretBytes material, ReadKeyfile(KeyfileBackupKeyPath(path_, epoch)));
    return NewLocalKekKey(suite_, material);
  }
  Result<std::unique_ptr<KekKey>> CreateBackupKey(uint32_t epoch) override {
    Result<SecretBytes> made = CreateKeyfile(KeyfileBackupKeyPath(path_, epoch), env_);
    if (made.status().code() == Code::kConflict) return LoadBackupKey(epoch);
    CUSTOS_RETURN_IF_ERROR(made.status());
    return NewLocalKekKey(suite_, *made);
  }
  Status DestroyBackupKey(uint32_t epoch) override {
    return ShredKeyfile(KeyfileBackupKeyPath(path_, epoch), env_);
  }
  bool BackupKeyExists(uint32_t epoch) const override {
    return env_.FileExists(KeyfileBackupKeyPath(path_, epoch));
  }

 private:
  const std::filesystem::path path_;
  const Suite suite_;
  Env& env_;
};

}  // namespace

std::filesystem::path KeyfileVersionPath(const std::filesystem::path& path, uint32_t version) {
  if (version <= 1) return path;
  std::filesystem::path out = path;
  out.replace_filename(path.stem().string() + ".v" + std::to_string(version) +
                       path.extension().string());
  return out;
}

std::filesystem::path KeyfileBackupKeyPath(const std::filesystem::path& path, uint32_t epoch) {
  std::filesystem::path out = path;
  out.replace_filename(path.stem().string() + ".kb-" + std::to_string(epoch) +
                       path.extension().string());
  return out;
}

bool IsKeyfileBackupKeyName(std::string_view name, std::string_view keyfile_name, uint32_t& epoch) {
  const std::filesystem::path keyfile{std::string(keyfile_name)};
  const std::string prefix = keyfile.stem().string() + ".kb-";
  const std::string suffix = keyfile.extension().string();
  if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) ||
      !name.ends_with(suffix)) {
    return false;
  }
  const std::string_view digits =
      name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (digits.empty() || digits.size() > 9 || digits[0] == '0') return false;
  uint32_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint32_t>(c - '0');
  }
  epoch = n;
  return true;
}

Result<std::unique_ptr<KeyProvider>> CreateKeyfileProvider(const std::filesystem::path& path,
                                                           Suite suite, Env& env) {
  CUSTOS_RETURN_IF_ERROR(CreateKeyfile(path, env).status());
  return OpenKeyfileProvider(path, suite, 1, env);
}

Result<std::unique_ptr<KeyProvider>> OpenKeyfileProvider(const std::filesystem::path& path,
                                                         Suite suite) {
  return OpenKeyfileProvider(path, suite, 1);
}

Result<std::unique_ptr<KeyProvider>> OpenKeyfileProvider(const std::filesystem::path& path,
                                                         Suite suite, uint32_t active_version,
                                                         Env& env) {
  return NewVersionedKek("keyfile", std::make_unique<KeyfileSource>(path, suite, env),
                         active_version);
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
