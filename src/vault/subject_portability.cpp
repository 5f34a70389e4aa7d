// Portability (issue 18 item 3; PIPL Art. 45 ¶3; docs/subject_requests.md, "Portability"):
// the customer's data as JSON and CSV in a documented schema, packaged in a zip whose entries
// are encrypted with AES-256 (WinZip AE-2, libzip) under a one-time passphrase — generated
// here, handed to the staff member once, never stored or logged — plus a manifest of every
// file's SHA-256, signed with the vault's signing key (the key that signs audit checkpoints
// and destruction certificates).
#include <fmt/format.h>
#include <zip.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "crypto/digest.h"
#include "lifecycle/plan.h"
#include "vault/subject_report.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using Json = nlohmann::ordered_json;

// Crockford's base32 alphabet (no i, l, o, u): 32 symbols, so a random byte's low five bits
// pick one without bias.
constexpr std::string_view kPassphraseAlphabet = "0123456789abcdefghjkmnpqrstvwxyz";
constexpr size_t kPassphraseGroups = 6;
constexpr size_t kPassphraseGroupLength = 4;  // 6 x 4 symbols x 5 bits = 120 bits

std::string NewPassphrase() {
  const crypto::SecretBytes random =
      crypto::RandomSecret(kPassphraseGroups * kPassphraseGroupLength);
  std::string out;
  for (size_t i = 0; i < random.size(); ++i) {
    if (i > 0 && i % kPassphraseGroupLength == 0) out += '-';
    out += kPassphraseAlphabet[random[i] & 31U];
  }
  return out;
}

// One CSV cell, RFC 4180: always quoted, a quote doubled.
std::string Cell(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string CsvText(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

// A CSV table: the header `columns`, then one line per row (CRLF line ends, RFC 4180).
std::string Csv(std::initializer_list<const char*> columns,
                const std::vector<std::vector<std::string>>& rows) {
  std::string out;
  for (const char* c : columns) out += (out.empty() ? "" : ",") + Cell(c);
  out += "\r\n";
  for (const auto& row : rows) {
    std::string line;
    for (const std::string& cell : row) line += (line.empty() ? "" : ",") + Cell(cell);
    out += line + "\r\n";
  }
  return out;
}

// customer.json (custos.portability/1) from the access report's document.
Json PortableJson(const Json& report) {
  Json profile = Json::array();
  for (const Json& f : report["fields"]) {
    profile.push_back({{"field", f["name"]},
                       {"label", f["label"]},
                       {"category", f["category"]},
                       {"value", f["value"]}});
  }
  Json consents = Json::array();
  for (const Json& c : report["consent"]["history"]) {
    consents.push_back({{"seq", c["seq"]},
                        {"action", c["action"]},
                        {"scope", c["scope"]},
                        {"purpose", c["purpose"]},
                        {"notice_version", c["notice_version"]},
                        {"channel", c["channel"]},
                        {"recorded_at", c["recorded_at"]}});
  }
  Json doc;
  doc["schema"] = "custos.portability/1";
  doc["request_id"] = report["request"]["request_id"];
  doc["produced_at"] = report["request"]["produced_at"];
  doc["customer"] = report["customer"];
  doc["profile"] = std::move(profile);
  doc["transactions"] = report["transactions"];
  doc["notes"] = report["notes"];
  doc["consents"] = std::move(consents);
  return doc;
}

std::vector<FulfilmentFile> PortableFiles(const Json& doc) {
  std::vector<std::vector<std::string>> profile;
  for (const Json& f : doc["profile"]) {
    profile.push_back({CsvText(f["field"]), CsvText(f["label"]), CsvText(f["value"])});
  }
  std::vector<std::vector<std::string>> txns;
  for (const Json& t : doc["transactions"]) {
    for (const auto& [field, value] : t["fields"].items()) {
      txns.push_back({CsvText(t["txn_id"]), CsvText(t["created_at"]), CsvText(t["source"]), field,
                      CsvText(value)});
    }
  }
  std::vector<std::vector<std::string>> notes;
  for (const Json& n : doc["notes"]) {
    notes.push_back({CsvText(n["note_id"]), CsvText(n["created_at"]), CsvText(n["source"]),
                     CsvText(n["text"])});
  }
  std::vector<std::vector<std::string>> consents;
  for (const Json& c : doc["consents"]) {
    consents.push_back({CsvText(c["seq"]), CsvText(c["action"]), CsvText(c["scope"]),
                        CsvText(c["purpose"]), CsvText(c["notice_version"]), CsvText(c["channel"]),
                        CsvText(c["recorded_at"])});
  }
  return {
      {"customer.json", doc.dump(2) + "\n"},
      {"profile.csv", Csv({"field", "label", "value"}, profile)},
      {"transactions.csv", Csv({"txn_id", "created_at", "source", "field", "value"}, txns)},
      {"notes.csv", Csv({"note_id", "created_at", "source", "text"}, notes)},
      {"consents.csv",
       Csv({"seq", "action", "scope", "purpose", "notice_version", "channel", "recorded_at"},
           consents)},
  };
}

struct ZipSourceFree {
  void operator()(zip_source_t* s) const { zip_source_free(s); }
};

Status ZipError(std::string_view what, zip_error_t* error) {
  return Internal(fmt::format("portability package: {}: {}", what, zip_error_strerror(error)));
}

// The zip of `files`, each entry encrypted with AES-256 under `passphrase`, built in memory.
Result<std::string> EncryptedZip(const std::vector<FulfilmentFile>& files,
                                 const std::string& passphrase) {
  if (zip_encryption_method_supported(ZIP_EM_AES_256, 1) == 0) {
    return FailedPrecondition("portability package: this libzip cannot encrypt with AES-256");
  }
  zip_error_t error;
  zip_error_init(&error);
  std::unique_ptr<zip_source_t, ZipSourceFree> buffer(
      zip_source_buffer_create(nullptr, 0, 0, &error));
  if (buffer == nullptr) return ZipError("buffer", &error);
  zip_t* archive = zip_open_from_source(buffer.get(), ZIP_TRUNCATE, &error);
  if (archive == nullptr) return ZipError("open", &error);
  zip_source_keep(buffer.get());  // kept past zip_close, which writes the archive into it
  for (const FulfilmentFile& f : files) {
    zip_source_t* entry = zip_source_buffer(archive, f.content.data(), f.content.size(), 0);
    const zip_int64_t index =
        entry == nullptr ? -1 : zip_file_add(archive, f.name.c_str(), entry, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      if (entry != nullptr) zip_source_free(entry);
      Status st =
          Internal(fmt::format("portability package: add {}: {}", f.name, zip_strerror(archive)));
      zip_discard(archive);
      return st;
    }
    if (zip_file_set_encryption(archive, static_cast<zip_uint64_t>(index), ZIP_EM_AES_256,
                                passphrase.c_str()) != 0) {
      Status st = Internal(
          fmt::format("portability package: encrypt {}: {}", f.name, zip_strerror(archive)));
      zip_discard(archive);
      return st;
    }
  }
  if (zip_close(archive) != 0) {
    Status st = Internal(fmt::format("portability package: write: {}", zip_strerror(archive)));
    zip_discard(archive);
    return st;
  }
  zip_source_t* src = buffer.get();
  if (zip_source_open(src) != 0) return ZipError("reopen", zip_source_error(src));
  std::string out;
  if (zip_source_seek(src, 0, SEEK_END) == 0) {
    const zip_int64_t size = zip_source_tell(src);
    if (size >= 0 && zip_source_seek(src, 0, SEEK_SET) == 0) {
      out.resize(static_cast<size_t>(size));
      const zip_int64_t read = zip_source_read(src, out.data(), out.size());
      if (read != size) out.clear();
    }
  }
  zip_source_close(src);
  if (out.empty()) return Internal("portability package: could not read the written archive");
  return out;
}

}  // namespace

Result<PortabilityPackage> RenderPortability(const VaultState& m, const ReportSources& sources) {
  CUSTOS_ASSIGN_OR_RETURN(SubjectReport report, RenderReport(m, sources));
  const Json doc = PortableJson(Json::parse(report.json));
  const std::vector<FulfilmentFile> files = PortableFiles(doc);
  PortabilityPackage out;
  out.passphrase = NewPassphrase();
  CUSTOS_ASSIGN_OR_RETURN(out.zip, EncryptedZip(files, out.passphrase));

  Json listed = Json::array();
  for (const FulfilmentFile& f : files) {
    listed.push_back(
        {{"name", f.name}, {"bytes", f.content.size()}, {"sha256", crypto::Sha256Hex(f.content)}});
  }
  CUSTOS_ASSIGN_OR_RETURN(crypto::Suite suite, crypto::ParseSuite(m.config->keys.suite));
  Json manifest;
  manifest["format"] = "custos.portability_manifest/1";
  manifest["request_id"] = sources.request.request_id;
  manifest["customer_id"] = sources.customer.customer_id;
  manifest["produced_at"] = IsoOfMs(sources.produced_at_ms);
  manifest["schema"] = "custos.portability/1";
  manifest["package"] = {{"name", "portability.zip"},
                         {"bytes", out.zip.size()},
                         {"sha256", crypto::Sha256Hex(out.zip)},
                         {"encryption", "AES-256 (WinZip AE-2), one-time passphrase"}};
  manifest["files"] = std::move(listed);
  manifest["signature"] = {{"algorithm", suite == crypto::Suite::kSm4Gcm ? "SM2 (SM3)" : "Ed25519"},
                           {"public_key", crypto::ToHex(m.signing_key->PublicKeyBytes())},
                           {"file", "manifest.sig"},
                           {"signs", "the bytes of manifest.json"}};
  out.manifest = manifest.dump(2) + "\n";
  out.signature = crypto::ToHex(m.signing_key->Sign(crypto::AsBytes(out.manifest))) + "\n";
  return out;
}

}  // namespace custos::vault
