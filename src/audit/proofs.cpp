// Merkle proofs over the audit log: made from a store, JSON, offline checks. See proofs.h.
#include "audit/proofs.h"

#include <algorithm>
#include <optional>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "audit/canonical.h"
#include "audit/export.h"
#include "audit/internal/json_members.h"
#include "audit/tree_nodes.h"

namespace custos::audit {
namespace {

constexpr size_t kProofPageSize = 10000;

Status CannotRead(int64_t seq, const Status& cause) {
  return Unavailable(fmt::format("audit log: reading entries from {}: {}", seq, cause.ToString()));
}

Status Missing(int64_t seq, int64_t last) {
  return DataLoss(fmt::format(
      "audit entry {} is missing (deleted, or the log is shorter than {} entries): run audit "
      "verify",
      seq, last));
}

// The entries [from, from + n) of the log, checking that none is missing and that they are the
// chain's (CheckChain, with the entries on either side).
Result<std::vector<store::AuditRow>> ReadPage(store::Store& store, crypto::Suite suite,
                                              int64_t from, size_t n, int64_t last) {
  const int64_t first = std::max<int64_t>(1, from - 1);
  std::vector<store::AuditRow> page;
  {
    auto txn = store.Begin();
    if (!txn.ok()) return CannotRead(from, txn.status());
    auto rows = (*txn)->ReadAudit(first, n + 2 + static_cast<size_t>(from - first) - 1);
    if (!rows.ok()) return CannotRead(from, rows.status());
    page = std::move(*rows);
  }
  std::optional<store::AuditRow> before;
  if (first < from && !page.empty() && page.front().seq == first) {
    before = std::move(page.front());
    page.erase(page.begin());
  }
  std::optional<store::AuditRow> after;
  if (page.size() > n) {
    if (page[n].seq == from + static_cast<int64_t>(n)) after = std::move(page[n]);
    page.resize(n);
  }
  for (size_t i = 0; i < n; ++i) {
    const int64_t want = from + static_cast<int64_t>(i);
    if (i >= page.size() || page[i].seq != want) return Missing(want, last);
  }
  if (first < from && !before.has_value()) return Missing(first, last);
  CUSTOS_RETURN_IF_ERROR(
      CheckChain(suite, page, before ? &*before : nullptr, after ? &*after : nullptr));
  return page;
}

nlohmann::ordered_json HashList(const std::vector<crypto::Bytes>& hashes) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const crypto::Bytes& h : hashes) list.push_back(crypto::ToHex(h));
  return list;
}

// The members every proof starts with: format, suite, hash.
Result<crypto::Suite> ReadSuite(const internal::JsonMembers& m, std::string_view format) {
  CUSTOS_RETURN_IF_ERROR(m.RequireObject());
  CUSTOS_RETURN_IF_ERROR(m.Expect("format", format));
  CUSTOS_ASSIGN_OR_RETURN(std::string name, m.String("suite"));
  Result<crypto::Suite> suite = crypto::ParseSuite(name);
  if (!suite.ok()) return m.Bad("suite", "must be aes256gcm or sm4gcm");
  CUSTOS_RETURN_IF_ERROR(m.Expect("hash", TreeHashName(*suite)));
  return *suite;
}

Result<std::vector<crypto::Bytes>> ReadPath(const internal::JsonMembers& m, crypto::Suite suite) {
  CUSTOS_ASSIGN_OR_RETURN(const nlohmann::json* list, m.Get("path"));
  if (!list->is_array()) return m.Bad("path", "must be an array of hex hashes");
  std::vector<crypto::Bytes> path;
  for (const nlohmann::json& item : *list) {
    if (!item.is_string()) return m.Bad("path", "must be an array of hex hashes");
    Result<crypto::Bytes> h = crypto::FromHex(item.get<std::string>());
    if (!h.ok() || h->size() != crypto::HashSize(suite)) {
      return m.Bad("path", "every hash must be 32 bytes of hex");
    }
    path.push_back(std::move(*h));
  }
  return path;
}

// The entry as EntryJson writes it, back into a row.
Result<store::AuditRow> ReadEntry(const nlohmann::json& doc) {
  const internal::JsonMembers m(doc, "inclusion proof entry");
  CUSTOS_RETURN_IF_ERROR(m.RequireObject());
  store::AuditRow row;
  CUSTOS_ASSIGN_OR_RETURN(row.seq, m.Count("seq"));
  CUSTOS_ASSIGN_OR_RETURN(row.ts_ms, m.Count("ts_ms"));
  const std::pair<std::string_view, std::string*> strings[] = {
      {"actor", &row.actor},     {"action", &row.action},        {"target", &row.target},
      {"purpose", &row.purpose}, {"channel", &row.channel},      {"decision", &row.decision},
      {"reason", &row.reason},   {"request_id", &row.request_id}};
  for (const auto& [name, out] : strings) {
    CUSTOS_ASSIGN_OR_RETURN(*out, m.String(name));
  }
  CUSTOS_ASSIGN_OR_RETURN(const nlohmann::json* fields, m.Get("fields"));
  if (!fields->is_array()) return m.Bad("fields", "must be an array of names");
  for (const nlohmann::json& f : *fields) {
    if (!f.is_string()) return m.Bad("fields", "must be an array of names");
    if (!row.fields.empty()) row.fields.push_back(',');
    row.fields += f.get<std::string>();
  }
  CUSTOS_ASSIGN_OR_RETURN(row.prev_hash, m.Hex("prev_hash"));
  CUSTOS_ASSIGN_OR_RETURN(row.hash, m.Hex("hash"));
  return row;
}

bool Same(crypto::ByteView a, crypto::ByteView b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace

merkle::LeafSource LogLeaves(store::Store& store, crypto::Suite suite) {
  return [&store, suite](uint64_t begin, uint64_t end, const merkle::LeafSink& sink) -> Status {
    const auto last = static_cast<int64_t>(end);  // leaf end - 1 is the entry with seq end
    for (auto from = static_cast<int64_t>(begin) + 1; from <= last;) {
      const size_t n = std::min<uint64_t>(kProofPageSize, static_cast<uint64_t>(last - from + 1));
      CUSTOS_ASSIGN_OR_RETURN(std::vector<store::AuditRow> page,
                              ReadPage(store, suite, from, n, last));
      for (const store::AuditRow& row : page) sink(EntryLeafHash(suite, row));
      from += static_cast<int64_t>(n);
    }
    return Status::Ok();
  };
}

Result<SignedTreeHead> MakeTreeHead(store::Store& store, crypto::Suite suite,
                                    const crypto::SigningKey& key, int64_t tree_size,
                                    int64_t timestamp_ms) {
  if (tree_size < 0) return InvalidArgument("tree head: the size must not be negative");
  CUSTOS_ASSIGN_OR_RETURN(
      crypto::Bytes root,
      merkle::RootFromNodes(suite, static_cast<uint64_t>(tree_size),
                            StoredNodes(store, suite, tree_size, LogLeaves(store, suite))));
  return SignTreeHead(suite, key, tree_size, timestamp_ms, root);
}

Result<InclusionProof> ProveInclusion(store::Store& store, crypto::Suite suite, int64_t seq,
                                      int64_t tree_size) {
  if (seq < 1 || seq > tree_size) {
    return InvalidArgument(fmt::format(
        "inclusion proof: entry {} is not in a tree of the first {} entries", seq, tree_size));
  }
  InclusionProof proof;
  proof.suite = suite;
  proof.seq = seq;
  proof.tree_size = tree_size;
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::AuditRow> entry,
                          ReadPage(store, suite, seq, 1, tree_size));
  proof.entry = std::move(entry.front());
  proof.leaf_input = CanonicalEntry(proof.entry);
  proof.leaf_hash = merkle::LeafHash(suite, proof.leaf_input);
  CUSTOS_ASSIGN_OR_RETURN(
      proof.path, merkle::InclusionProofFromNodes(
                      suite, static_cast<uint64_t>(seq - 1), static_cast<uint64_t>(tree_size),
                      StoredNodes(store, suite, tree_size, LogLeaves(store, suite))));
  return proof;
}

Result<ConsistencyProof> ProveConsistency(store::Store& store, crypto::Suite suite,
                                          int64_t first_size, int64_t second_size) {
  if (first_size < 0 || first_size > second_size) {
    return InvalidArgument(fmt::format(
        "consistency proof: sizes {} and {}: need 0 <= first <= second", first_size, second_size));
  }
  ConsistencyProof proof;
  proof.suite = suite;
  proof.first_size = first_size;
  proof.second_size = second_size;
  CUSTOS_ASSIGN_OR_RETURN(
      proof.path, merkle::ConsistencyProofFromNodes(
                      suite, static_cast<uint64_t>(first_size), static_cast<uint64_t>(second_size),
                      StoredNodes(store, suite, second_size, LogLeaves(store, suite))));
  return proof;
}

std::string InclusionProofJson(const InclusionProof& proof) {
  nlohmann::ordered_json j;
  j["format"] = std::string(kInclusionProofFormat);
  j["suite"] = std::string(crypto::SuiteName(proof.suite));
  j["hash"] = std::string(TreeHashName(proof.suite));
  j["seq"] = proof.seq;
  j["leaf_index"] = proof.seq - 1;
  j["tree_size"] = proof.tree_size;
  j["entry"] = nlohmann::ordered_json::parse(EntryJson(proof.entry));
  j["leaf_input"] = crypto::ToHex(proof.leaf_input);
  j["leaf_hash"] = crypto::ToHex(proof.leaf_hash);
  j["path"] = HashList(proof.path);
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string ConsistencyProofJson(const ConsistencyProof& proof) {
  nlohmann::ordered_json j;
  j["format"] = std::string(kConsistencyProofFormat);
  j["suite"] = std::string(crypto::SuiteName(proof.suite));
  j["hash"] = std::string(TreeHashName(proof.suite));
  j["first_size"] = proof.first_size;
  j["second_size"] = proof.second_size;
  j["path"] = HashList(proof.path);
  return j.dump();
}

Result<InclusionProof> ParseInclusionProofJson(std::string_view json) {
  constexpr std::string_view kWhat = "inclusion proof";
  CUSTOS_ASSIGN_OR_RETURN(nlohmann::json doc, internal::ParseJson(json, kWhat));
  const internal::JsonMembers m(doc, kWhat);
  InclusionProof proof;
  CUSTOS_ASSIGN_OR_RETURN(proof.suite, ReadSuite(m, kInclusionProofFormat));
  CUSTOS_ASSIGN_OR_RETURN(proof.seq, m.Count("seq"));
  CUSTOS_ASSIGN_OR_RETURN(int64_t leaf_index, m.Count("leaf_index"));
  CUSTOS_ASSIGN_OR_RETURN(proof.tree_size, m.Count("tree_size"));
  if (proof.seq < 1 || leaf_index != proof.seq - 1) {
    return m.Bad("leaf_index", "must be seq - 1 (and seq at least 1)");
  }
  CUSTOS_ASSIGN_OR_RETURN(const nlohmann::json* entry, m.Get("entry"));
  CUSTOS_ASSIGN_OR_RETURN(proof.entry, ReadEntry(*entry));
  if (proof.entry.seq != proof.seq) return m.Bad("entry", "its seq is not the proof's");
  CUSTOS_ASSIGN_OR_RETURN(proof.leaf_input, m.Hex("leaf_input"));
  CUSTOS_ASSIGN_OR_RETURN(proof.leaf_hash, m.Hex("leaf_hash"));
  CUSTOS_ASSIGN_OR_RETURN(proof.path, ReadPath(m, proof.suite));
  return proof;
}

Result<ConsistencyProof> ParseConsistencyProofJson(std::string_view json) {
  constexpr std::string_view kWhat = "consistency proof";
  CUSTOS_ASSIGN_OR_RETURN(nlohmann::json doc, internal::ParseJson(json, kWhat));
  const internal::JsonMembers m(doc, kWhat);
  ConsistencyProof proof;
  CUSTOS_ASSIGN_OR_RETURN(proof.suite, ReadSuite(m, kConsistencyProofFormat));
  CUSTOS_ASSIGN_OR_RETURN(proof.first_size, m.Count("first_size"));
  CUSTOS_ASSIGN_OR_RETURN(proof.second_size, m.Count("second_size"));
  CUSTOS_ASSIGN_OR_RETURN(proof.path, ReadPath(m, proof.suite));
  return proof;
}

std::string JsonFormatOf(std::string_view json) {
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return "";
  auto it = doc.find("format");
  if (it == doc.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

Status CheckInclusion(const InclusionProof& proof, const SignedTreeHead& head,
                      crypto::ByteView public_key) {
  CUSTOS_RETURN_IF_ERROR(VerifyTreeHead(head, public_key));
  if (proof.suite != head.suite) {
    return InvalidArgument("inclusion proof: the proof and the head are of different suites");
  }
  if (proof.tree_size != head.tree_size) {
    return InvalidArgument(fmt::format(
        "inclusion proof: the proof is for a tree of {} entries, the head for {}: ask for the "
        "proof with --size {}",
        proof.tree_size, head.tree_size, head.tree_size));
  }
  if (proof.seq < 1 || proof.entry.seq != proof.seq) {
    return DataLoss(fmt::format("inclusion proof: the entry is not entry {}", proof.seq));
  }
  if (!Same(CanonicalEntry(proof.entry), proof.leaf_input)) {
    return DataLoss(fmt::format(
        "inclusion proof: entry {} as shown does not encode to the proof's leaf_input", proof.seq));
  }
  if (!Same(merkle::LeafHash(proof.suite, proof.leaf_input), proof.leaf_hash)) {
    return DataLoss(fmt::format(
        "inclusion proof: leaf_hash of entry {} is not the hash of its leaf_input", proof.seq));
  }
  Status st = merkle::VerifyInclusion(proof.suite, static_cast<uint64_t>(proof.seq - 1),
                                      static_cast<uint64_t>(proof.tree_size), proof.leaf_hash,
                                      proof.path, head.root_hash);
  if (!st.ok()) {
    return DataLoss(fmt::format("entry {} is not in the signed tree of {} entries as shown ({})",
                                proof.seq, head.tree_size, st.message()));
  }
  return Status::Ok();
}

Status CheckConsistency(const ConsistencyProof& proof, const SignedTreeHead& first,
                        const SignedTreeHead& second, crypto::ByteView public_key) {
  CUSTOS_RETURN_IF_ERROR(VerifyTreeHead(first, public_key));
  CUSTOS_RETURN_IF_ERROR(VerifyTreeHead(second, public_key));
  if (proof.suite != first.suite || proof.suite != second.suite) {
    return InvalidArgument("consistency proof: the proof and the heads are of different suites");
  }
  if (proof.first_size != first.tree_size || proof.second_size != second.tree_size) {
    return InvalidArgument(fmt::format(
        "consistency proof: the proof is from {} to {} entries, the heads are of {} and {}: ask "
        "for the proof with --from {} --to {}",
        proof.first_size, proof.second_size, first.tree_size, second.tree_size, first.tree_size,
        second.tree_size));
  }
  Status st = merkle::VerifyConsistency(proof.suite, static_cast<uint64_t>(proof.first_size),
                                        static_cast<uint64_t>(proof.second_size), first.root_hash,
                                        second.root_hash, proof.path);
  if (!st.ok()) {
    return DataLoss(fmt::format(
        "the signed tree of {} entries is not a prefix of the signed tree of {} entries: the log "
        "was rewritten or cut between them, or a proof or head is forged ({})",
        proof.first_size, proof.second_size, st.message()));
  }
  return Status::Ok();
}

}  // namespace custos::audit
