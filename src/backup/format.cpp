#include "backup/format.h"

#include <fmt/core.h>
#include <zstd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

namespace custos::backup::internal {
namespace {

using crypto::Bytes;
using crypto::ByteView;
using nlohmann::json;

constexpr uint8_t kNull = 0, kInt = 1, kText = 2, kBlob = 3;
constexpr int kZstdLevel = 3;

void PutBe(Bytes& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

uint64_t GetBe(ByteView in, size_t pos, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | in[pos + static_cast<size_t>(i)];
  return v;
}

void PutLengthPrefixed(Bytes& out, uint8_t tag, const uint8_t* data, size_t n) {
  out.push_back(tag);
  PutBe(out, n, 4);
  out.insert(out.end(), data, data + n);
}

Bytes Joined(std::initializer_list<std::string_view> parts) {
  Bytes out;
  bool first = true;
  for (std::string_view p : parts) {
    if (!first) out.push_back(0);
    first = false;
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

}  // namespace

void EncodeRow(const store::Row& row, Bytes& out) {
  for (const store::Value& v : row) {
    if (const auto* i = std::get_if<int64_t>(&v)) {
      out.push_back(kInt);
      PutBe(out, static_cast<uint64_t>(*i), 8);
    } else if (const auto* t = std::get_if<std::string>(&v)) {
      PutLengthPrefixed(out, kText, reinterpret_cast<const uint8_t*>(t->data()), t->size());
    } else if (const auto* b = std::get_if<Bytes>(&v)) {
      PutLengthPrefixed(out, kBlob, b->data(), b->size());
    } else {
      out.push_back(kNull);
    }
  }
}

Result<std::vector<store::Row>> DecodeRows(const store::TableSpec& table, ByteView data) {
  const auto corrupt = [&] {
    return DataLoss(fmt::format("backup: chunk of table {}: rows are malformed", table.name));
  };
  std::vector<store::Row> rows;
  size_t pos = 0;
  while (pos < data.size()) {
    store::Row row;
    row.reserve(table.columns.size());
    for (size_t c = 0; c < table.columns.size(); ++c) {
      if (pos >= data.size()) return corrupt();
      const uint8_t tag = data[pos++];
      if (tag == kNull) {
        row.emplace_back(std::monostate{});
      } else if (tag == kInt) {
        if (data.size() - pos < 8) return corrupt();
        row.emplace_back(static_cast<int64_t>(GetBe(data, pos, 8)));
        pos += 8;
      } else if (tag == kText || tag == kBlob) {
        if (data.size() - pos < 4) return corrupt();
        const size_t n = GetBe(data, pos, 4);
        pos += 4;
        if (data.size() - pos < n) return corrupt();
        const auto* p = data.data() + pos;
        if (tag == kText) {
          row.emplace_back(std::string(reinterpret_cast<const char*>(p), n));
        } else {
          row.emplace_back(Bytes(p, p + n));
        }
        pos += n;
      } else {
        return corrupt();
      }
    }
    CUSTOS_RETURN_IF_ERROR(store::CheckRow(table, row));
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<Bytes> Compress(ByteView plain) {
  Bytes out(ZSTD_compressBound(plain.size()));
  const size_t n = ZSTD_compress(out.data(), out.size(), plain.data(), plain.size(), kZstdLevel);
  if (ZSTD_isError(n)) return Internal("backup: zstd compression failed");
  out.resize(n);
  return out;
}

Result<Bytes> Decompress(ByteView packed, uint64_t max_size) {
  const unsigned long long size = ZSTD_getFrameContentSize(packed.data(), packed.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > max_size) {
    return DataLoss("backup: chunk is not a zstd frame of the recorded size");
  }
  Bytes out(size);
  const size_t n = ZSTD_decompress(out.data(), out.size(), packed.data(), packed.size());
  if (ZSTD_isError(n) || n != size) return DataLoss("backup: chunk does not decompress");
  return out;
}

Bytes BackupKeyAad(std::string_view backup_id) {
  return Joined({"custos/backup-key/v1", backup_id});
}

Bytes ChunkAad(std::string_view backup_id, int64_t index, std::string_view table) {
  return Joined({"custos/backup-chunk/v1", backup_id, std::to_string(index), table});
}

Bytes KeySectionAad(std::string_view backup_id, int64_t generation) {
  return Joined({"custos/backup-keys/v1", backup_id, std::to_string(generation)});
}

namespace {

std::string_view Chars(ByteView bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// The Env's message names the file and the step; the prefix says whose file it is.
Status BackupError(const Status& st) {
  return st.ok() ? st : Status(st.code(), "backup: " + st.message());
}

}  // namespace

Status WriteFileDurable(Env& env, const std::filesystem::path& path, ByteView bytes) {
  return BackupError(env.WriteFileDurable(path, Chars(bytes), 0600));
}

Status SyncDir(Env& env, const std::filesystem::path& dir) { return BackupError(env.SyncDir(dir)); }

Status ReplaceFileDurable(Env& env, const std::filesystem::path& path, ByteView bytes) {
  return BackupError(env.WriteFileAtomic(path, Chars(bytes), 0600));
}

Result<Bytes> ReadWholeFile(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return NotFound(fmt::format("backup: {} is missing", path.string()));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Unavailable(fmt::format("backup: cannot read {}", path.string()));
  Bytes out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Unavailable(fmt::format("backup: cannot read {}", path.string()));
  return out;
}

namespace {

json SignedJson(const Manifest& m) {
  json chunks = json::array();
  for (const ChunkEntry& c : m.chunks) {
    chunks.push_back({{"file", c.file},
                      {"table", c.table},
                      {"rows", c.rows},
                      {"plain_bytes", c.plain_bytes},
                      {"sha256", c.sha256}});
  }
  json j = {{"format", m.format},
            {"backup_id", m.backup_id},
            {"vault_id", m.vault_id},
            {"backend", m.backend},
            {"schema_version", m.schema_version},
            {"created_at_ms", m.created_at_ms},
            {"suite", m.suite},
            {"kek_provider", m.kek_provider},
            {"kek_salt", m.kek_salt_hex},
            {"wrapped_backup_key", m.wrapped_backup_key_hex},
            {"signing_public_key", m.signing_public_key_hex},
            {"columns", m.columns},
            {"row_counts", m.row_counts},
            {"chunks", chunks},
            {"key_section",
             {{"file", m.keys.file},
              {"generation", m.keys.generation},
              {"rows", m.keys.rows},
              {"plain_bytes", m.keys.plain_bytes},
              {"sha256", m.keys.sha256},
              {"forgotten", m.keys.forgotten}}},
            {"audit_head", {{"seq", m.audit_head_seq}, {"hash", m.audit_head_hash_hex}}},
            {"checkpoint",
             {{"seq", m.checkpoint_seq},
              {"ts_ms", m.checkpoint_ts_ms},
              {"hash", m.checkpoint_hash_hex},
              {"signature", m.checkpoint_signature_hex}}},
            {"config_toml", m.config_toml}};
  // Only format 2 has it: format 1 manifests keep the signed text they always had.
  if (m.format == kFormatKeySide) j["key_backup"] = m.key_backup;
  if (m.ledger_head_seq > 0) {
    j["ledger_head"] = {
        {"seq", m.ledger_head_seq}, {"hash", m.ledger_head_hash}, {"sig", m.ledger_head_sig_hex}};
  }
  return j;
}

}  // namespace

std::string SignedText(const Manifest& m) {
  return "custos/backup-manifest/v1\n" + SignedJson(m).dump();
}

std::string ManifestJson(const Manifest& m) {
  json j = SignedJson(m);
  j["signature"] = m.signature_hex;
  return j.dump(1) + "\n";
}

Result<Manifest> ParseManifest(std::string_view text) {
  try {
    const json j = json::parse(text);
    Manifest m;
    m.format = j.at("format").get<std::string>();
    if (m.format != kFormat && m.format != kFormatKeySide) {
      return DataLoss("backup: manifest: unknown format");
    }
    if (m.format == kFormatKeySide) m.key_backup = j.at("key_backup").get<std::string>();
    m.backup_id = j.at("backup_id").get<std::string>();
    m.vault_id = j.at("vault_id").get<std::string>();
    m.backend = j.at("backend").get<std::string>();
    m.schema_version = j.at("schema_version").get<int>();
    m.created_at_ms = j.at("created_at_ms").get<int64_t>();
    m.suite = j.at("suite").get<std::string>();
    m.kek_provider = j.at("kek_provider").get<std::string>();
    m.kek_salt_hex = j.at("kek_salt").get<std::string>();
    m.wrapped_backup_key_hex = j.at("wrapped_backup_key").get<std::string>();
    m.signing_public_key_hex = j.at("signing_public_key").get<std::string>();
    m.columns = j.at("columns").get<std::map<std::string, std::vector<std::string>>>();
    m.row_counts = j.at("row_counts").get<std::map<std::string, int64_t>>();
    for (const json& c : j.at("chunks")) {
      m.chunks.push_back({c.at("file").get<std::string>(), c.at("table").get<std::string>(),
                          c.at("rows").get<int64_t>(), c.at("plain_bytes").get<int64_t>(),
                          c.at("sha256").get<std::string>()});
    }
    const json& k = j.at("key_section");
    m.keys = {k.at("file").get<std::string>(),   k.at("generation").get<int64_t>(),
              k.at("rows").get<int64_t>(),       k.at("plain_bytes").get<int64_t>(),
              k.at("sha256").get<std::string>(), k.at("forgotten").get<int64_t>()};
    m.audit_head_seq = j.at("audit_head").at("seq").get<int64_t>();
    m.audit_head_hash_hex = j.at("audit_head").at("hash").get<std::string>();
    const json& cp = j.at("checkpoint");
    m.checkpoint_seq = cp.at("seq").get<int64_t>();
    m.checkpoint_ts_ms = cp.at("ts_ms").get<int64_t>();
    m.checkpoint_hash_hex = cp.at("hash").get<std::string>();
    m.checkpoint_signature_hex = cp.at("signature").get<std::string>();
    m.config_toml = j.at("config_toml").get<std::string>();
    m.signature_hex = j.at("signature").get<std::string>();
    if (j.contains("ledger_head")) {
      const json& h = j.at("ledger_head");
      m.ledger_head_seq = h.at("seq").get<int64_t>();
      m.ledger_head_hash = h.at("hash").get<std::string>();
      m.ledger_head_sig_hex = h.at("sig").get<std::string>();
      if (m.ledger_head_seq <= 0) {
        return DataLoss("backup: manifest: a ledger head without entries");
      }
    }
    for (const ChunkEntry& c : m.chunks) {
      // File names come from an untrusted file: no path may leave the backup directory.
      if (c.file.find('/') != std::string::npos || c.file.starts_with(".")) {
        return DataLoss("backup: manifest: a chunk file name is not a plain name");
      }
    }
    if (m.key_backup.find('/') != std::string::npos || m.key_backup.starts_with(".")) {
      return DataLoss("backup: manifest: the key backup name is not a plain name");
    }
    if (m.keys.file.find('/') != std::string::npos || m.keys.file.starts_with(".")) {
      return DataLoss("backup: manifest: the key section file name is not a plain name");
    }
    return m;
  } catch (const json::exception&) {
    return DataLoss("backup: manifest is not well-formed JSON of the backup format");
  }
}

void SignManifest(Manifest& m, const crypto::SigningKey& key) {
  const std::string text = SignedText(m);
  m.signature_hex = crypto::ToHex(key.Sign(crypto::AsBytes(text)));
}

Status CheckManifestSignature(const Manifest& m, ByteView expected_key) {
  CUSTOS_ASSIGN_OR_RETURN(crypto::Suite suite, crypto::ParseSuite(m.suite));
  CUSTOS_ASSIGN_OR_RETURN(Bytes public_key, crypto::FromHex(m.signing_public_key_hex));
  if (!expected_key.empty() &&
      !std::equal(public_key.begin(), public_key.end(), expected_key.begin(), expected_key.end())) {
    return DataLoss("backup: manifest is signed by another vault's checkpoint key");
  }
  CUSTOS_ASSIGN_OR_RETURN(Bytes signature, crypto::FromHex(m.signature_hex));
  const std::string text = SignedText(m);
  if (!crypto::VerifySignature(suite, public_key, crypto::AsBytes(text), signature).ok()) {
    return DataLoss("backup: manifest signature does not verify (altered manifest?)");
  }
  return Status::Ok();
}

}  // namespace custos::backup::internal
