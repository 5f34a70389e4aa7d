// custos audit head|prove|consistency|check-proof: the audit log's Merkle proofs (issue 13;
// docs/audit.md, "Merkle proofs: how an outside auditor checks them").
//
// head, prove and consistency go through the vault (admitted and audited under audit.read)
// and always print one JSON document on standard output, in the forms of audit/tree_head.h
// and audit/proofs.h, to be saved and handed to an auditor. check-proof opens no vault: it
// reads those documents and a public key from files, as an auditor without access would.
#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>

#include "audit/proofs.h"
#include "audit/tree_head.h"
#include "cli/app.h"

namespace custos::cli {
namespace {

Result<std::string> ReadWholeFile(std::string_view flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(fmt::format("{} {}: cannot be read", flag, path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Result<audit::SignedTreeHead> ReadHead(std::string_view flag, const std::string& path) {
  CUSTOS_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(flag, path));
  Result<audit::SignedTreeHead> head = audit::ParseTreeHeadJson(text);
  if (!head.ok()) {
    return InvalidArgument(fmt::format("{} {}: {}", flag, path, head.status().message()));
  }
  return head;
}

// The public key in hex (what a head's "public_key" holds), surrounding blanks ignored.
Result<crypto::Bytes> ReadPublicKey(const std::string& path) {
  CUSTOS_ASSIGN_OR_RETURN(std::string text, ReadWholeFile("--public-key", path));
  const size_t b = text.find_first_not_of(" \t\r\n");
  const size_t e = text.find_last_not_of(" \t\r\n");
  const std::string hex = b == std::string::npos ? "" : text.substr(b, e - b + 1);
  Result<crypto::Bytes> key = crypto::FromHex(hex);
  if (!key.ok() || key->empty()) {
    return InvalidArgument(
        fmt::format("--public-key {}: expected the key in hex, as a tree head's public_key", path));
  }
  return key;
}

struct CheckFlags {
  std::string proof;
  std::string head;
  std::string old_head;
  std::string public_key;
};

// Runs check-proof; the exit code.
int CheckProof(const Globals& g, const CheckFlags& f) {
  const Output out = g.out();
  Result<std::string> text = ReadWholeFile("--proof", f.proof);
  if (!text.ok()) return out.Fail(text.status());
  Result<audit::SignedTreeHead> head = ReadHead("--head", f.head);
  if (!head.ok()) return out.Fail(head.status());
  std::optional<audit::SignedTreeHead> old_head;
  if (!f.old_head.empty()) {
    Result<audit::SignedTreeHead> h = ReadHead("--old-head", f.old_head);
    if (!h.ok()) return out.Fail(h.status());
    old_head = std::move(*h);
  }
  crypto::Bytes key = head->public_key;
  const bool key_from_file = !f.public_key.empty();
  if (key_from_file) {
    Result<crypto::Bytes> k = ReadPublicKey(f.public_key);
    if (!k.ok()) return out.Fail(k.status());
    key = std::move(*k);
  } else if (old_head.has_value() && old_head->public_key != head->public_key) {
    return out.Fail(InvalidArgument(
        "the two heads name different public keys: pass the vault's key with --public-key"));
  }
  const std::string format = audit::JsonFormatOf(*text);
  nlohmann::json doc = {{"ok", true},
                        {"tree_size", head->tree_size},
                        {"root_hash", crypto::ToHex(head->root_hash)},
                        {"timestamp_ms", head->timestamp_ms},
                        {"public_key", crypto::ToHex(key)},
                        {"public_key_from", key_from_file ? "file" : "head"}};
  std::string human;
  if (format == audit::kInclusionProofFormat) {
    if (old_head.has_value()) {
      return out.Fail(InvalidArgument("--old-head: only for a consistency proof"));
    }
    Result<audit::InclusionProof> proof = audit::ParseInclusionProofJson(*text);
    if (!proof.ok()) return out.Fail(proof.status());
    Status st = audit::CheckInclusion(*proof, *head, key);
    if (!st.ok()) return out.Fail(st);
    doc["proof"] = "inclusion";
    doc["seq"] = proof->seq;
    human = fmt::format("inclusion proof OK: entry {} is in the signed tree of {} entries",
                        proof->seq, head->tree_size);
  } else if (format == audit::kConsistencyProofFormat) {
    if (!old_head.has_value()) {
      return out.Fail(InvalidArgument(
          "--old-head: a consistency proof is checked against two heads (--old-head for the "
          "first size, --head for the second)"));
    }
    Result<audit::ConsistencyProof> proof = audit::ParseConsistencyProofJson(*text);
    if (!proof.ok()) return out.Fail(proof.status());
    Status st = audit::CheckConsistency(*proof, *old_head, *head, key);
    if (!st.ok()) return out.Fail(st);
    doc["proof"] = "consistency";
    doc["first_size"] = proof->first_size;
    doc["first_root_hash"] = crypto::ToHex(old_head->root_hash);
    human = fmt::format(
        "consistency proof OK: the signed tree of {} entries is a prefix of the signed tree of "
        "{} entries",
        proof->first_size, proof->second_size);
  } else {
    return out.Fail(InvalidArgument(
        fmt::format("--proof {}: not a Custos proof (expected format {} or {})", f.proof,
                    audit::kInclusionProofFormat, audit::kConsistencyProofFormat)));
  }
  if (!key_from_file) {
    human +=
        "\nnote: the signature was checked with the public key the head itself names; compare it "
        "with the vault's key you hold, or pass --public-key";
  }
  out.Print(doc, human);
  return kExitOk;
}

}  // namespace

void AddAuditProofCommands(CLI::App& audit, Globals& g, Action& action) {
  auto* head = audit.add_subcommand(
      "head", "the signed Merkle tree head of the log (JSON), for an auditor to keep");
  head->callback([&g, &action] {
    action = [&g] {
      return WithVault(g, [&](vault::Vault& v) {
        auto sth = v.audit().TreeHead(g.MakeContext());
        if (!sth.ok()) return g.out().Fail(sth.status());
        std::cout << audit::TreeHeadJson(*sth) << '\n';
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* prove = audit.add_subcommand(
      "prove", "inclusion proof of an entry in the tree of the first SIZE entries (JSON)");
  auto seq = std::make_shared<int64_t>(0);
  auto size = std::make_shared<int64_t>(0);
  prove->add_option("--seq", *seq, "the entry's seq")->required();
  auto* size_opt =
      prove->add_option("--size", *size, "tree size, e.g. a head's tree_size (default: current)");
  prove->callback([&g, &action, seq, size, size_opt] {
    const bool sized = size_opt->count() > 0;
    action = [&g, seq, size, sized] {
      return WithVault(g, [&](vault::Vault& v) {
        auto proof = v.audit().ProveInclusion(g.MakeContext(), *seq,
                                              sized ? std::optional<int64_t>(*size) : std::nullopt);
        if (!proof.ok()) return g.out().Fail(proof.status());
        std::cout << audit::InclusionProofJson(*proof) << '\n';
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* consistency = audit.add_subcommand(
      "consistency", "consistency proof that the tree of TO entries extends that of FROM (JSON)");
  auto from = std::make_shared<int64_t>(0);
  auto to = std::make_shared<int64_t>(0);
  consistency->add_option("--from", *from, "the earlier tree size (an old head's)")->required();
  consistency->add_option("--to", *to, "the later tree size (a newer head's)")->required();
  consistency->callback([&g, &action, from, to] {
    action = [&g, from, to] {
      return WithVault(g, [&](vault::Vault& v) {
        auto proof = v.audit().ProveConsistency(g.MakeContext(), *from, *to);
        if (!proof.ok()) return g.out().Fail(proof.status());
        std::cout << audit::ConsistencyProofJson(*proof) << '\n';
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* check = audit.add_subcommand(
      "check-proof", "check a proof against signed heads offline, without the vault");
  auto flags = std::make_shared<CheckFlags>();
  check->add_option("--proof", flags->proof, "the proof (audit prove / audit consistency)")
      ->required();
  check->add_option("--head", flags->head, "the signed head of the proof's (second) tree size")
      ->required();
  check->add_option("--old-head", flags->old_head,
                    "for a consistency proof: the signed head of the first size");
  check->add_option("--public-key", flags->public_key,
                    "the vault's audit public key in hex (default: the key the head names)");
  check->callback([&g, &action, flags] { action = [&g, flags] { return CheckProof(g, *flags); }; });
}

}  // namespace custos::cli
