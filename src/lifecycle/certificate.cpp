#include "lifecycle/certificate.h"

#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>

namespace custos::lifecycle {
namespace {

using Json = nlohmann::json;

Json Counts(const std::vector<store::DestructionRow>& items) {
  std::map<std::string, int64_t> counts = {{"customer", 0}, {"transaction", 0}, {"note", 0}};
  for (const store::DestructionRow& e : items) ++counts[e.kind];
  return Json(counts);
}

// The members a certificate must have, with their JSON type.
struct Member {
  const char* name;
  Json::value_t type;
};
constexpr Member kMembers[] = {{"format", Json::value_t::string},
                               {"vault_id", Json::value_t::string},
                               {"suite", Json::value_t::string},
                               {"run_id", Json::value_t::string},
                               {"plan", Json::value_t::object},
                               {"rules", Json::value_t::object},
                               {"method", Json::value_t::string},
                               {"approvals", Json::value_t::array},
                               {"run_by", Json::value_t::string},
                               {"started_at_ms", Json::value_t::number_integer},
                               {"finished_at_ms", Json::value_t::number_integer},
                               {"counts", Json::value_t::object},
                               {"id_hash", Json::value_t::string},
                               {"items", Json::value_t::array},
                               {"public_key", Json::value_t::string},
                               {"signature", Json::value_t::string}};

bool HasType(const Json& v, Json::value_t type) {
  if (type == Json::value_t::number_integer) return v.is_number_integer();
  return v.type() == type;
}

}  // namespace

std::string SignCertificate(const CertificateFacts& f, const crypto::SigningKey& key) {
  Json j = Json::object();
  j["format"] = kCertificateFormat;
  j["vault_id"] = f.vault_id;
  j["suite"] = crypto::SuiteName(f.suite);
  j["run_id"] = f.run_id;
  j["plan"] = {{"id", f.plan_id}, {"sha256", f.plan_sha256}};
  j["rules"] = Json::parse(f.rules_json.empty() ? "{}" : f.rules_json);
  j["method"] = f.method;
  Json approvals = Json::array();
  for (const CertificateApproval& a : f.approvals) {
    approvals.push_back({{"id", a.approval_id},
                         {"requester", a.requester},
                         {"approver", a.approver},
                         {"decided_at_ms", a.decided_at_ms}});
  }
  j["approvals"] = std::move(approvals);
  j["run_by"] = f.run_by;
  j["started_at_ms"] = f.started_at_ms;
  j["finished_at_ms"] = f.finished_at_ms;
  j["counts"] = Counts(f.items);
  j["id_hash"] = "HMAC-SHA256(lifecycle.id_salt, id)";
  Json items = Json::array();
  for (const store::DestructionRow& e : f.items) {
    items.push_back({{"seq", e.seq}, {"kind", e.kind}, {"id_hash", e.id_hash}});
  }
  j["items"] = std::move(items);
  if (f.backups_complete_by_ms != 0) {
    j["backups"] = {{"complete_by_ms", f.backups_complete_by_ms}, {"epochs", f.backups_epochs}};
  }
  j["public_key"] = crypto::ToHex(key.PublicKeyBytes());
  const std::string signed_text = j.dump();
  j["signature"] = crypto::ToHex(key.Sign(crypto::AsBytes(signed_text)));
  return j.dump(2) + "\n";
}

Result<CertificateCheck> VerifyCertificate(std::string_view text,
                                           std::string_view expected_public_key_hex) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument("certificate: not a JSON object");
  }
  for (const Member& m : kMembers) {
    if (!j.contains(m.name) || !HasType(j[m.name], m.type)) {
      return InvalidArgument(
          fmt::format("certificate: member '{}' is missing or of the wrong "
                      "type",
                      m.name));
    }
  }
  if (j["format"] != kCertificateFormat) {
    return InvalidArgument("certificate: 'format' is not custos-destruction-certificate/1");
  }
  std::vector<store::DestructionRow> items;
  for (const Json& item : j["items"]) {
    if (!item.is_object() || !item.contains("kind") || !item["kind"].is_string() ||
        !item.contains("id_hash") || !item["id_hash"].is_string()) {
      return InvalidArgument("certificate: member 'items': each needs a kind and an id_hash");
    }
    items.push_back({0, 0, "", item["kind"].get<std::string>(), ""});
  }
  if (Counts(items) != j["counts"]) {
    return InvalidArgument("certificate: member 'counts' disagrees with 'items'");
  }
  CertificateCheck check;
  if (j.contains("backups")) {
    const Json& b = j["backups"];
    if (!b.is_object() || !b.contains("complete_by_ms") ||
        !b["complete_by_ms"].is_number_integer() || !b.contains("epochs") ||
        !b["epochs"].is_array()) {
      return InvalidArgument(
          "certificate: member 'backups' needs an integer complete_by_ms and an array epochs");
    }
    check.backups_complete_by_ms = b["complete_by_ms"].get<int64_t>();
    for (const Json& e : b["epochs"]) {
      if (!e.is_number_unsigned() || e.get<uint64_t>() == 0 || e.get<uint64_t>() > UINT32_MAX) {
        return InvalidArgument("certificate: member 'backups': each epoch is a positive integer");
      }
      check.backups_epochs.push_back(e.get<uint32_t>());
    }
  }
  Result<crypto::Suite> suite = crypto::ParseSuite(j["suite"].get<std::string>());
  if (!suite.ok()) return InvalidArgument("certificate: member 'suite' is not a known suite");
  const std::string key_hex = j["public_key"].get<std::string>();
  if (!expected_public_key_hex.empty() && key_hex != expected_public_key_hex) {
    return DataLoss("certificate: signed by another key than the vault's");
  }
  Result<crypto::Bytes> key = crypto::FromHex(key_hex);
  Result<crypto::Bytes> signature = crypto::FromHex(j["signature"].get<std::string>());
  if (!key.ok() || !signature.ok()) {
    return InvalidArgument("certificate: 'public_key' and 'signature' must be hex");
  }
  j.erase("signature");
  const std::string signed_text = j.dump();
  Status verified = crypto::VerifySignature(*suite, *key, crypto::AsBytes(signed_text), *signature);
  if (!verified.ok()) {
    return DataLoss(
        "certificate: the signature does not verify (the certificate was altered "
        "or not signed by this key)");
  }
  check.run_id = j["run_id"].get<std::string>();
  check.finished_at_ms = j["finished_at_ms"].get<int64_t>();
  check.plan_id = j["plan"].value("id", "");
  // A profile destroyed without its consent evidence is a customer destroyed.
  check.customers =
      j["counts"].value("customer", int64_t{0}) + j["counts"].value("profile", int64_t{0});
  check.transactions = j["counts"].value("transaction", int64_t{0});
  check.notes = j["counts"].value("note", int64_t{0});
  check.public_key_hex = key_hex;
  return check;
}

}  // namespace custos::lifecycle
