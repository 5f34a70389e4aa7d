// Merkle proofs over the audit log (RFC 9162; the tree is in merkle.h, heads in tree_head.h):
// made from the log in a store, written and read as JSON, and checked offline against signed
// tree heads, without the vault.
//
// Inclusion proof, JSON form (members in this order when written; unknown members ignored
// when read; hashes in lowercase hex):
//   {"format":"custos-inclusion-proof/1","suite":"aes256gcm","hash":"sha256",
//    "seq":17,"leaf_index":16,"tree_size":250,
//    "entry":{...the entry as `custos audit export` writes it...},
//    "leaf_input":"<hex of CanonicalEntry(entry)>","leaf_hash":"<hex>",
//    "path":["<hex>",...]}
// leaf_index is seq - 1; path is PATH(leaf_index, D[tree_size]), the sibling nearest the
// leaf first. The entry is there so a reader sees what is proved: a checker re-encodes it
// (canonical.h) and requires exactly leaf_input.
//
// Consistency proof, JSON form:
//   {"format":"custos-consistency-proof/1","suite":"aes256gcm","hash":"sha256",
//    "first_size":100,"second_size":250,"path":["<hex>",...]}
// path is PROOF(first_size, D[second_size]); empty when the sizes are equal or first_size is 0.
//
// Thread safety: pure functions, and functions over a Store as the Store allows; the caller
// must not hold a transaction on `store`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "audit/merkle.h"
#include "audit/tree_head.h"
#include "core/status.h"
#include "crypto/primitives.h"
#include "store/store.h"

namespace custos::audit {

inline constexpr std::string_view kInclusionProofFormat = "custos-inclusion-proof/1";
inline constexpr std::string_view kConsistencyProofFormat = "custos-consistency-proof/1";

struct InclusionProof {
  crypto::Suite suite = crypto::Suite::kAes256Gcm;
  int64_t seq = 0;  // the entry; its leaf index is seq - 1
  int64_t tree_size = 0;
  store::AuditRow entry;
  crypto::Bytes leaf_input;  // CanonicalEntry(entry)
  crypto::Bytes leaf_hash;   // merkle::LeafHash(suite, leaf_input)
  std::vector<crypto::Bytes> path;
};

struct ConsistencyProof {
  crypto::Suite suite = crypto::Suite::kAes256Gcm;
  int64_t first_size = 0;
  int64_t second_size = 0;
  std::vector<crypto::Bytes> path;
};

// --- made from the log ---

// The leaf hashes of the log in `store`: leaf i is the entry with seq i + 1, leaf hash
// H(0x00 || CanonicalEntry(entry)). Reads pages of entries, each in a short transaction of its
// own (writers are not held up for a whole pass), and nothing else is kept.
// The source fails with DataLoss naming the seq when an entry in the range is missing, and
// Unavailable when the store cannot be read.
merkle::LeafSource LogLeaves(store::Store& store, crypto::Suite suite);

// Roots and proofs below read the store's Merkle nodes (tree_nodes.h): about log2(tree_size)
// nodes and fewer than 2 * 2^kMinStoredLevel entries each, every read a short transaction of
// its own; a part of the tree not built yet is computed from its entries instead (O(n)).
// They trust the stored nodes as a cache: AuditLog::Verify checks them against the entries,
// and a tampered node only makes a proof fail to check against an honest head.

// The signed head of the tree of the log's first `tree_size` entries, at `timestamp_ms`.
// DataLoss if an entry it reads is missing (always when the log is shorter than tree_size);
// Unavailable if the store cannot be read.
Result<SignedTreeHead> MakeTreeHead(store::Store& store, crypto::Suite suite,
                                    const crypto::SigningKey& key, int64_t tree_size,
                                    int64_t timestamp_ms);

// The inclusion proof of entry `seq` in the tree of the first `tree_size` entries.
// InvalidArgument unless 1 <= seq <= tree_size; DataLoss if an entry it reads is missing
// (always when the log is shorter than tree_size); Unavailable if the store cannot be read.
Result<InclusionProof> ProveInclusion(store::Store& store, crypto::Suite suite, int64_t seq,
                                      int64_t tree_size);

// The consistency proof between the trees of the first `first_size` and `second_size`
// entries. InvalidArgument unless 0 <= first_size <= second_size; DataLoss if an entry it
// reads is missing (always when 0 < first_size < second_size and the log is shorter than
// second_size); Unavailable if the store cannot be read.
Result<ConsistencyProof> ProveConsistency(store::Store& store, crypto::Suite suite,
                                          int64_t first_size, int64_t second_size);

// --- JSON (the forms above, no newline) ---

std::string InclusionProofJson(const InclusionProof& proof);
std::string ConsistencyProofJson(const ConsistencyProof& proof);
// InvalidArgument naming the member that is missing, of the wrong type or malformed.
Result<InclusionProof> ParseInclusionProofJson(std::string_view json);
Result<ConsistencyProof> ParseConsistencyProofJson(std::string_view json);
// The "format" member of a JSON document ("" when there is none or it is not JSON): tells a
// checker which of the documents above it holds.
std::string JsonFormatOf(std::string_view json);

// --- offline checks (what `custos audit check-proof` and scripts/check_audit_proof.py do) ---

// OK when: `head` is signed under `public_key`; proof and head are of the same suite and
// tree size; the entry re-encodes to leaf_input; leaf_hash is its leaf hash; and the path
// leads from leaf seq - 1 to head.root_hash (RFC 9162 2.1.3.2).
// InvalidArgument: the proof and head do not go together (sizes, suites) — ask for a proof
//   at the head's size; or the public key is malformed.
// DataLoss: a signature, the entry, the leaf hash or the path does not check (an entry
//   edited since the head was signed, a forged proof or head).
Status CheckInclusion(const InclusionProof& proof, const SignedTreeHead& head,
                      crypto::ByteView public_key);

// OK when both heads are signed under `public_key`, they match the proof's sizes and suite,
// and the path shows that `first` is a prefix of `second` (RFC 9162 2.1.4.2).
// InvalidArgument / DataLoss as for CheckInclusion (DataLoss: the log was rewritten or cut
// between the two heads, or a proof or head was forged).
Status CheckConsistency(const ConsistencyProof& proof, const SignedTreeHead& first,
                        const SignedTreeHead& second, crypto::ByteView public_key);

}  // namespace custos::audit
