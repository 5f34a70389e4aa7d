// Reading and atomically replacing the audit head file. See head_file.h.
#include "audit/head_file.h"

#include <string>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "audit/canonical.h"

namespace custos::audit {
namespace {

constexpr const char* kFormat = "custos-audit-head/1";
constexpr const char* kMacTipFormat = "custos-audit-tip-mac/1";

// The fields both lines share; `tag` names the signature or MAC field.
nlohmann::ordered_json HeadFields(const char* format, const SignedHead& head, const char* tag) {
  nlohmann::ordered_json j;
  j["format"] = format;
  j["suite"] = std::string(crypto::SuiteName(head.suite));
  j["seq"] = head.seq;
  j["ts_ms"] = head.ts_ms;
  j["hash"] = crypto::ToHex(head.hash);
  j[tag] = crypto::ToHex(head.signature);
  return j;
}

// The head in `text` when its format is `format` and its tag field is `tag`.
Result<SignedHead> ParseHead(std::string_view text, const char* format, const char* tag) {
  const Status malformed = DataLoss("audit head file is not a well-formed head line (edited?)");
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return malformed;
  try {
    if (j.at("format").get<std::string>() != format) return malformed;
    auto suite = crypto::ParseSuite(j.at("suite").get<std::string>());
    auto hash = crypto::FromHex(j.at("hash").get<std::string>());
    auto sig = crypto::FromHex(j.at(tag).get<std::string>());
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

std::string EncodeHead(const SignedHead& head) {
  return HeadFields(kFormat, head, "signature").dump() + "\n";
}

Result<SignedHead> DecodeHead(std::string_view text) {
  return ParseHead(text, kFormat, "signature");
}

std::string EncodeMacTip(const SignedHead& head) {
  return HeadFields(kMacTipFormat, head, "mac").dump() + "\n";
}

Result<StoredTip> DecodeTip(std::string_view text) {
  if (auto signed_tip = ParseHead(text, kFormat, "signature"); signed_tip.ok()) {
    return StoredTip{std::move(*signed_tip), false};
  }
  auto mac_tip = ParseHead(text, kMacTipFormat, "mac");
  if (!mac_tip.ok()) return DataLoss("audit log: the tip is not a well-formed tip line (edited?)");
  return StoredTip{std::move(*mac_tip), true};
}

Status VerifyHead(const SignedHead& head, crypto::Suite suite, crypto::ByteView public_key) {
  if (head.suite != suite) return DataLoss("names another suite than the vault (replaced?)");
  Status st = crypto::VerifySignature(suite, public_key, CheckpointMessage(head.seq, head.hash),
                                      head.signature);
  if (st.code() == Code::kInvalidArgument) return st;
  if (!st.ok()) return DataLoss("signature does not verify (forged or altered)");
  return Status::Ok();
}

namespace {

// The step and the path come from the Env's message; the prefix says which file it is.
Status HeadFileError(const Status& st) {
  return Status(st.code(), "audit head file " + st.message());
}

}  // namespace

Status WriteHeadFile(const std::filesystem::path& path, const SignedHead& head, Env& env) {
  // The Env's temporary name is the process's own: two processes sharing a vault directory
  // (two imports, two servers on one PostgreSQL vault) never touch each other's.
  Status st = env.WriteFileAtomic(path, EncodeHead(head), 0644);
  return st.ok() ? st : HeadFileError(st);
}

Status CreateHeadFile(const std::filesystem::path& path, const SignedHead& head, Env& env) {
  Status st = env.CreateFileAtomic(path, EncodeHead(head), 0644);
  return st.ok() ? st : HeadFileError(st);
}

Result<std::optional<SignedHead>> ReadHeadFile(const std::filesystem::path& path, Env& env) {
  Result<std::string> text = env.ReadFile(path);
  if (text.status().code() == Code::kNotFound) return std::optional<SignedHead>();
  if (!text.ok()) return HeadFileError(text.status());
  CUSTOS_ASSIGN_OR_RETURN(SignedHead head, DecodeHead(*text));
  return std::optional<SignedHead>(std::move(head));
}

}  // namespace custos::audit
