// Signed tree heads: "the Merkle tree (merkle.h) of the log's first tree_size entries had
// root root_hash at timestamp_ms", signed with the audit signing key (Ed25519 for aes256gcm,
// SM2 with SM3 for sm4gcm; the key of the checkpoints). A head is what an auditor keeps, what
// a proof (proofs.h) is checked against, and what heads-only-move-forward and the witnesses
// seal and compare.
//
// The signature covers TreeHeadMessage (canonical.h):
//   "custos/tree-head/v1" || suite (u8: 1 aes256gcm, 2 sm4gcm) || tree_size (i64 BE)
//   || timestamp_ms (i64 BE) || u32 BE length of root_hash || root_hash
//
// JSON form (one object; members in this order when written, any order and unknown members
// ignored when read; hashes, keys and signatures in lowercase hex):
//   {"format":"custos-tree-head/1","suite":"aes256gcm","hash":"sha256","tree_size":250,
//    "timestamp_ms":1760000000000,"root_hash":"<64 hex>","public_key":"<hex>",
//    "signature":"<hex>"}
// "hash" names the tree's hash (sha256 or sm3) for checkers that do not know the suites.
// "public_key" is the key the vault signs with, as a convenience: a checker must compare it
// with the key it obtained on its own (docs/audit.md), or the signature proves nothing.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "crypto/primitives.h"

namespace custos::audit {

inline constexpr std::string_view kTreeHeadFormat = "custos-tree-head/1";

struct SignedTreeHead {
  crypto::Suite suite = crypto::Suite::kAes256Gcm;
  int64_t tree_size = 0;
  int64_t timestamp_ms = 0;
  crypto::Bytes root_hash;
  crypto::Bytes public_key;
  crypto::Bytes signature;  // over TreeHeadMessage(suite, tree_size, timestamp_ms, root_hash)
};

// "sha256" or "sm3": the name of the suite's hash in the JSON forms.
std::string_view TreeHashName(crypto::Suite suite);

// Signs (tree_size, timestamp_ms, root_hash) with `key` (of `suite`).
SignedTreeHead SignTreeHead(crypto::Suite suite, const crypto::SigningKey& key, int64_t tree_size,
                            int64_t timestamp_ms, crypto::ByteView root_hash);

// OK if head.signature is the signature of its message under `public_key`.
// DataLoss: it is not (forged or altered head, or another vault's key).
// InvalidArgument: the public key is malformed.
Status VerifyTreeHead(const SignedTreeHead& head, crypto::ByteView public_key);

// The JSON form above (no newline).
std::string TreeHeadJson(const SignedTreeHead& head);
// Reads the JSON form. InvalidArgument naming the member that is missing, of the wrong type
// or malformed (a format other than custos-tree-head/1, a hash name that is not the suite's,
// a negative size). Says nothing about the signature: VerifyTreeHead.
Result<SignedTreeHead> ParseTreeHeadJson(std::string_view json);

}  // namespace custos::audit
