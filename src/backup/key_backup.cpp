// Key backups. See key_backup.h for the format and contracts; comments here say why.
#include "backup/key_backup.h"

#include <fmt/core.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "backup/format.h"
#include "crypto/epoch_keys.h"

namespace custos::backup {
namespace {

namespace fs = std::filesystem;
using crypto::Bytes;
using crypto::ByteView;

constexpr std::string_view kMagic = "custos-key-backup/1\n";
constexpr std::string_view kAadLabel = "custos/key-backup/v1";
constexpr std::string_view kPrefix = "kb-";
constexpr std::string_view kSuffix = ".bin";
// A bound for the body after decompression (it is authenticated before it is decompressed):
// 1 KiB a customer for 64 million customers.
constexpr uint64_t kMaxBody = 64ull << 30;
constexpr size_t kKeyBatchRows = 4096;

Bytes Aad(std::string_view vault_id, uint32_t epoch, int64_t created_at_ms, crypto::Suite suite) {
  Bytes out(kAadLabel.begin(), kAadLabel.end());
  for (const std::string& part :
       {std::string(vault_id), std::to_string(epoch), std::to_string(created_at_ms),
        std::string(crypto::SuiteName(suite))}) {
    out.push_back(0);
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

void PutBe(Bytes& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// Reads big-endian integers and length-prefixed byte strings; any short read sets !ok.
class Cursor {
 public:
  explicit Cursor(ByteView in) : in_(in) {}
  uint64_t Be(int bytes) {
    if (!ok_ || in_.size() - pos_ < static_cast<size_t>(bytes)) {
      ok_ = false;
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | in_[pos_++];
    return v;
  }
  ByteView Take(size_t n) {
    if (!ok_ || in_.size() - pos_ < n) {
      ok_ = false;
      return {};
    }
    ByteView out = in_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  ByteView Rest() { return ok_ ? in_.subspan(pos_) : ByteView{}; }
  bool ok() const { return ok_; }

 private:
  ByteView in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

std::string KeyBackupName(uint32_t epoch, int64_t created_at_ms) {
  return fmt::format("{}{}-{}{}", kPrefix, epoch, created_at_ms, kSuffix);
}

const store::TableSpec& WrappedKeysTable() { return *store::FindSnapshotTable("wrapped_keys"); }

Status KeyBackupError(const Status& st) {
  return st.ok() ? st : Status(st.code(), "key backup: " + st.message());
}

// Overwrites a file with zeros (fsynced) and unlinks it, as KEK retirement does (docs/keys.md
// on what this cannot reach: copy-on-write file systems, SSD wear levelling).
Status ShredFile(Env& env, const fs::path& path) {
  Result<std::string> text = env.ReadFile(path);
  if (text.status().code() == Code::kNotFound) return Status::Ok();
  if (!text.ok()) return KeyBackupError(text.status());
  Result<std::unique_ptr<WritableFile>> file = env.NewWritableFile(path, OpenMode::kExisting, 0600);
  if (file.status().code() == Code::kNotFound) return Status::Ok();
  if (!file.ok()) return KeyBackupError(file.status());
  std::string zeros(text->size(), '\0');
  std::fill(text->begin(), text->end(), '\0');
  Status st = (*file)->Append(zeros);
  if (st.ok()) st = (*file)->Sync();
  if (st.ok()) st = (*file)->Close();
  if (st.ok()) st = env.RemoveFile(path);
  return KeyBackupError(st);
}

// The epoch files a key backup of `rows` holds: the sealing epoch's (the restored vault wraps
// new DEKs under it; it dies with K_n) and those of the epochs some row's DEK is wrapped under
// (several only mid-re-wrap), nothing else. An older epoch no row needs is left out: it is
// destroyed on its own schedule, before K_n, and must not live on inside this file (a copy of
// the database from its time would open again with it).
Result<std::vector<const EpochFile*>> EpochFilesNeeded(ByteView rows, int64_t row_count,
                                                       const KeyBackupOptions& options) {
  std::set<uint32_t> named = {options.epoch};
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::Row> decoded,
                          internal::DecodeRows(WrappedKeysTable(), rows));
  if (static_cast<int64_t>(decoded.size()) != row_count) {
    return InvalidArgument("key backup: the row count does not match the rows");
  }
  for (const store::Row& row : decoded) {
    const auto* wrapped = std::get_if<Bytes>(&row[2]);
    if (wrapped == nullptr || wrapped->empty() || (*wrapped)[0] != crypto::kEpochWrapFormat) {
      continue;  // wrapped by the KEK (a vault not yet migrated): no epoch key needed
    }
    CUSTOS_ASSIGN_OR_RETURN(const uint32_t epoch, crypto::WrappedDekEpoch(*wrapped));
    named.insert(epoch);
  }
  std::vector<const EpochFile*> out;
  for (const EpochFile& f : options.epoch_files) {
    if (named.contains(f.epoch)) out.push_back(&f);
  }
  return out;
}

}  // namespace

Result<KeyBackupSummary> WriteKeyBackupRows(ByteView rows, int64_t row_count,
                                            const KeyBackupOptions& options,
                                            const crypto::KeyProvider& kek) {
  if (options.vault_id.empty() || options.vault_id.size() > 0xffff) {
    return InvalidArgument("key backup: the vault id is missing");
  }
  if (options.epoch == 0) return InvalidArgument("key backup: no epoch to seal it under");
  Env& env = internal::EnvOr(options.env);
  const fs::path dir = options.backups_dir / kKeyBackupDir;
  CUSTOS_ASSIGN_OR_RETURN(const std::vector<const EpochFile*> files,
                          EpochFilesNeeded(rows, row_count, options));
  CUSTOS_RETURN_IF_ERROR(KeyBackupError(env.CreateDirDurable(dir, 0700)));

  Bytes body;
  PutBe(body, files.size(), 4);
  for (const EpochFile* file : files) {
    const EpochFile& f = *file;
    PutBe(body, f.epoch, 4);
    PutBe(body, f.bytes.size(), 4);
    body.insert(body.end(), f.bytes.begin(), f.bytes.end());
  }
  PutBe(body, static_cast<uint64_t>(row_count), 8);
  body.insert(body.end(), rows.begin(), rows.end());
  CUSTOS_ASSIGN_OR_RETURN(Bytes packed, internal::Compress(body));

  // A name of its own: two key backups in one millisecond (a test clock, two processes) take
  // the next free millisecond; the time inside is the one in the name.
  int64_t at = options.now_ms;
  for (int attempt = 0;; ++attempt) {
    while (env.FileExists(dir / KeyBackupName(options.epoch, at))) ++at;
    const fs::path path = dir / KeyBackupName(options.epoch, at);
    const Bytes aad = Aad(options.vault_id, options.epoch, at, options.suite);
    const crypto::SecretBytes file_key = crypto::RandomSecret(crypto::AeadKeySize(options.suite));
    CUSTOS_ASSIGN_OR_RETURN(Bytes wrapped, kek.WrapWithKeyBackupKey(options.epoch, file_key, aad));
    CUSTOS_ASSIGN_OR_RETURN(auto aead, crypto::Aead::New(options.suite, file_key));
    const Bytes sealed = aead->Seal(packed, aad);
    Bytes out(kMagic.begin(), kMagic.end());
    PutBe(out, options.epoch, 4);
    PutBe(out, static_cast<uint64_t>(at), 8);
    out.push_back(static_cast<uint8_t>(options.suite));
    PutBe(out, options.vault_id.size(), 2);
    out.insert(out.end(), options.vault_id.begin(), options.vault_id.end());
    PutBe(out, wrapped.size(), 2);
    out.insert(out.end(), wrapped.begin(), wrapped.end());
    out.insert(out.end(), sealed.begin(), sealed.end());
    if (options.TEST_before_publish) options.TEST_before_publish();
    const Status st = env.CreateFileAtomic(
        path, std::string_view(reinterpret_cast<const char*>(out.data()), out.size()), 0600);
    if (st.code() == Code::kConflict && attempt < 16) continue;  // another writer, same name
    CUSTOS_RETURN_IF_ERROR(KeyBackupError(st));
    KeyBackupSummary summary;
    summary.path = path;
    summary.epoch = options.epoch;
    summary.created_at_ms = at;
    summary.rows = row_count;
    summary.epoch_files = static_cast<int64_t>(files.size());
    summary.bytes = static_cast<int64_t>(out.size());
    return summary;
  }
}

Result<KeyBackupSummary> WriteKeyBackup(store::Snapshot& snapshot, const KeyBackupOptions& options,
                                        const crypto::KeyProvider& kek) {
  Bytes rows;
  int64_t count = 0;
  CUSTOS_RETURN_IF_ERROR(snapshot.ReadTable(WrappedKeysTable(), kKeyBatchRows,
                                            [&](std::vector<store::Row>& batch) -> Status {
                                              for (const store::Row& row : batch) {
                                                internal::EncodeRow(row, rows);
                                              }
                                              count += static_cast<int64_t>(batch.size());
                                              return Status::Ok();
                                            }));
  return WriteKeyBackupRows(rows, count, options, kek);
}

std::optional<KeyBackupInfo> KeyBackupInfoOf(const fs::path& file) {
  const std::string name = file.filename().string();
  if (!name.starts_with(kPrefix) || !name.ends_with(kSuffix)) return std::nullopt;
  const std::string_view middle =
      std::string_view(name).substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
  const size_t dash = middle.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == middle.size()) {
    return std::nullopt;
  }
  auto number = [](std::string_view digits, uint64_t limit) -> std::optional<uint64_t> {
    if (digits.empty() || digits.size() > 18) return std::nullopt;
    uint64_t v = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    if (v > limit) return std::nullopt;
    return v;
  };
  const auto epoch = number(middle.substr(0, dash), 0xffffffffu);
  const auto time = number(middle.substr(dash + 1), static_cast<uint64_t>(INT64_MAX));
  if (!epoch.has_value() || !time.has_value() || *epoch == 0) return std::nullopt;
  return KeyBackupInfo{file, static_cast<uint32_t>(*epoch), static_cast<int64_t>(*time)};
}

std::vector<KeyBackupInfo> ListKeyBackups(const fs::path& dir) {
  std::vector<KeyBackupInfo> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    if (auto info = KeyBackupInfoOf(entry.path())) out.push_back(std::move(*info));
  }
  std::sort(out.begin(), out.end(), [](const KeyBackupInfo& a, const KeyBackupInfo& b) {
    return std::tie(a.created_at_ms, a.epoch) < std::tie(b.created_at_ms, b.epoch);
  });
  return out;
}

Result<KeyBackupContents> ReadKeyBackup(const fs::path& file, const crypto::KeyProvider& kek,
                                        crypto::Suite suite, std::string_view vault_id, Env& env) {
  const auto bad = [&](std::string_view why) {
    return DataLoss(fmt::format("key backup {}: {}", file.string(), why));
  };
  if (vault_id.empty()) return InvalidArgument("key backup: the vault id is required");
  CUSTOS_ASSIGN_OR_RETURN(std::string text, env.ReadFile(file));
  const ByteView bytes(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  if (!std::string_view(text).starts_with(kMagic)) return bad("not a key backup");
  Cursor in(bytes.subspan(kMagic.size()));
  KeyBackupContents out;
  out.epoch = static_cast<uint32_t>(in.Be(4));
  out.created_at_ms = static_cast<int64_t>(in.Be(8));
  const auto suite_byte = static_cast<uint8_t>(in.Be(1));
  const ByteView vault = in.Take(in.Be(2));
  const ByteView wrapped = in.Take(in.Be(2));
  const ByteView sealed = in.Rest();
  if (!in.ok()) return bad("truncated");
  out.vault_id.assign(reinterpret_cast<const char*>(vault.data()), vault.size());
  if (out.vault_id != vault_id) return bad("written for another vault");
  if (suite_byte != static_cast<uint8_t>(suite)) return bad("made under another suite");
  const Bytes aad = Aad(out.vault_id, out.epoch, out.created_at_ms, suite);
  Result<crypto::SecretBytes> file_key = kek.UnwrapWithKeyBackupKey(out.epoch, wrapped, aad);
  if (!file_key.ok()) {
    const Code code = file_key.status().code();
    if (code == Code::kNotFound) {
      return NotFound(fmt::format("key backup {}: its key-backup key {} is not held: {}",
                                  file.string(), out.epoch, file_key.status().message()));
    }
    if (code == Code::kDataLoss) return bad("its file key does not open (altered or renamed)");
    return file_key.status();
  }
  CUSTOS_ASSIGN_OR_RETURN(auto aead, crypto::Aead::New(suite, *file_key));
  Result<crypto::SecretBytes> packed = aead->Open(sealed, aad);
  if (!packed.ok()) return bad("does not decrypt (altered)");
  // The header is authenticated now; the name is not, and restore chooses key backups by
  // name (review finding F3, session 39): an older key backup renamed to a newer time must
  // not pass for a newer one.
  const std::optional<KeyBackupInfo> named = KeyBackupInfoOf(file);
  if (!named.has_value() || named->epoch != out.epoch ||
      named->created_at_ms != out.created_at_ms) {
    return bad(fmt::format(
        "its name does not match its authenticated header ({}): a key backup must keep the "
        "name it was written under (renamed or re-dated copies are refused)",
        KeyBackupName(out.epoch, out.created_at_ms)));
  }
  CUSTOS_ASSIGN_OR_RETURN(Bytes body, internal::Decompress(*packed, kMaxBody));
  Cursor b(body);
  const uint64_t files = b.Be(4);
  for (uint64_t i = 0; i < files && b.ok(); ++i) {
    EpochFile f;
    f.epoch = static_cast<uint32_t>(b.Be(4));
    const ByteView data = b.Take(b.Be(4));
    f.bytes.assign(reinterpret_cast<const char*>(data.data()), data.size());
    out.epoch_files.push_back(std::move(f));
  }
  const uint64_t rows = b.Be(8);
  const ByteView encoded = b.Rest();
  if (!b.ok()) return bad("its contents are malformed");
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::Row> decoded,
                          internal::DecodeRows(WrappedKeysTable(), encoded));
  if (decoded.size() != rows) return bad("its row count does not match");
  for (store::Row& row : decoded) {
    std::string id = std::get<std::string>(row[0]);
    out.keys.emplace(std::move(id), std::move(row));
  }
  return out;
}

std::optional<int64_t> EpochDestroyedAt(const fs::path& dir, uint32_t epoch) {
  std::ifstream in(dir / kDestroyedEpochsFile);
  std::string line;
  std::optional<int64_t> at;
  while (std::getline(in, line)) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("epoch") || !j.contains("destroyed_at_ms")) continue;
    if (!j["epoch"].is_number_unsigned() || !j["destroyed_at_ms"].is_number_integer()) continue;
    if (j["epoch"].get<uint32_t>() != epoch) continue;
    const auto t = j["destroyed_at_ms"].get<int64_t>();
    if (!at.has_value() || t < *at) at = t;
  }
  return at;
}

Status RecordEpochDestroyed(const fs::path& dir, uint32_t epoch, int64_t now_ms, Env& env) {
  CUSTOS_RETURN_IF_ERROR(KeyBackupError(env.CreateDirDurable(dir, 0700)));
  if (EpochDestroyedAt(dir, epoch).has_value()) return Status::Ok();
  const std::string line =
      nlohmann::json{{"epoch", epoch}, {"destroyed_at_ms", now_ms}}.dump() + "\n";
  return KeyBackupError(env.AppendDurable(dir / kDestroyedEpochsFile, line, 0600));
}

Result<EpochShredReport> DestroyEpochKeyBackups(crypto::KeyProvider& kek,
                                                const fs::path& backups_dir, uint32_t epoch,
                                                int64_t now_ms, Env& env) {
  if (epoch == 0) return InvalidArgument("key backup: epoch 0 does not exist");
  const fs::path dir = backups_dir / kKeyBackupDir;
  // The date first, so that a restore refused later can say when.
  CUSTOS_RETURN_IF_ERROR(RecordEpochDestroyed(dir, epoch, now_ms, env));
  EpochShredReport report;
  // K_n before the files: once it is gone every copy of every key backup of the epoch is dead,
  // including the ones Custos does not manage.
  if (kek.SupportsKeyBackupKeys()) {
    CUSTOS_RETURN_IF_ERROR(KeyBackupError(kek.DestroyKeyBackupKey(epoch)));
    report.key_backup_key_destroyed = true;
  }
  for (const KeyBackupInfo& info : ListKeyBackups(dir)) {
    if (info.epoch != epoch) continue;
    CUSTOS_RETURN_IF_ERROR(ShredFile(env, info.path));
    ++report.key_backups_shredded;
  }
  if (report.key_backups_shredded > 0) CUSTOS_RETURN_IF_ERROR(KeyBackupError(env.SyncDir(dir)));
  return report;
}

}  // namespace custos::backup
