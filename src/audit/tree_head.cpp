// Signed tree heads and their JSON form. See tree_head.h.
#include "audit/tree_head.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "audit/canonical.h"
#include "audit/internal/json_members.h"

namespace custos::audit {

std::string_view TreeHashName(crypto::Suite suite) {
  return suite == crypto::Suite::kAes256Gcm ? "sha256" : "sm3";
}

SignedTreeHead SignTreeHead(crypto::Suite suite, const crypto::SigningKey& key, int64_t tree_size,
                            int64_t timestamp_ms, crypto::ByteView root_hash) {
  SignedTreeHead head;
  head.suite = suite;
  head.tree_size = tree_size;
  head.timestamp_ms = timestamp_ms;
  head.root_hash.assign(root_hash.begin(), root_hash.end());
  head.public_key = key.PublicKeyBytes();
  head.signature = key.Sign(TreeHeadMessage(suite, tree_size, timestamp_ms, root_hash));
  return head;
}

Status VerifyTreeHead(const SignedTreeHead& head, crypto::ByteView public_key) {
  Status st = crypto::VerifySignature(
      head.suite, public_key,
      TreeHeadMessage(head.suite, head.tree_size, head.timestamp_ms, head.root_hash),
      head.signature);
  if (st.code() == Code::kDataLoss) {
    return DataLoss(fmt::format(
        "tree head of {} entries: the signature does not verify under this public key (forged, "
        "altered, or another vault's head)",
        head.tree_size));
  }
  return st;
}

std::string TreeHeadJson(const SignedTreeHead& head) {
  nlohmann::ordered_json j;
  j["format"] = std::string(kTreeHeadFormat);
  j["suite"] = std::string(crypto::SuiteName(head.suite));
  j["hash"] = std::string(TreeHashName(head.suite));
  j["tree_size"] = head.tree_size;
  j["timestamp_ms"] = head.timestamp_ms;
  j["root_hash"] = crypto::ToHex(head.root_hash);
  j["public_key"] = crypto::ToHex(head.public_key);
  j["signature"] = crypto::ToHex(head.signature);
  return j.dump();
}

Result<SignedTreeHead> ParseTreeHeadJson(std::string_view json) {
  constexpr std::string_view kWhat = "tree head";
  CUSTOS_ASSIGN_OR_RETURN(nlohmann::json doc, internal::ParseJson(json, kWhat));
  const internal::JsonMembers m(doc, kWhat);
  CUSTOS_RETURN_IF_ERROR(m.RequireObject());
  CUSTOS_RETURN_IF_ERROR(m.Expect("format", kTreeHeadFormat));
  SignedTreeHead head;
  CUSTOS_ASSIGN_OR_RETURN(std::string suite, m.String("suite"));
  Result<crypto::Suite> parsed = crypto::ParseSuite(suite);
  if (!parsed.ok()) return m.Bad("suite", "must be aes256gcm or sm4gcm");
  head.suite = *parsed;
  CUSTOS_RETURN_IF_ERROR(m.Expect("hash", TreeHashName(head.suite)));
  CUSTOS_ASSIGN_OR_RETURN(head.tree_size, m.Count("tree_size"));
  CUSTOS_ASSIGN_OR_RETURN(head.timestamp_ms, m.Count("timestamp_ms"));
  CUSTOS_ASSIGN_OR_RETURN(head.root_hash, m.Hex("root_hash"));
  if (head.root_hash.size() != crypto::HashSize(head.suite)) {
    return m.Bad("root_hash", "must be 32 bytes");
  }
  CUSTOS_ASSIGN_OR_RETURN(head.public_key, m.Hex("public_key"));
  CUSTOS_ASSIGN_OR_RETURN(head.signature, m.Hex("signature"));
  return head;
}

}  // namespace custos::audit
