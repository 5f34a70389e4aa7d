// The audit log's Merkle tree (merkle.h) kept in the store, so that a root, an inclusion proof
// or a consistency proof at any size reads O(log n) stored nodes instead of every entry.
//
// What is stored. A perfect subtree of 2^level leaves that starts at a multiple of 2^level
// (an aligned subtree, RFC 9162 2.1.1: every left child of the tree is one) never changes once
// its entries exist. Each such subtree of at least 2^kMinStoredLevel leaves is stored in table
// audit_tree as (tree_size, level, hash): tree_size is the size at which it completed (its last
// entry's seq). Smaller subtrees are computed from the entries: a request reads at most two
// runs of fewer than 2^kMinStoredLevel entries (around the proved leaf and at the tree's right
// edge) besides about log2(n) nodes.
//
// Who writes. AuditLog::AppendAll stores the nodes its entries complete in the same transaction
// as the entries (at most 2^-kMinStoredLevel * 2 nodes per entry: a group-commit batch of 64
// entries writes about 4, a lone write one every 16 appends on average), when the stored tree
// reaches the log's end. A log from before the tree (migration kAuditTreeMigration), or one
// whose nodes stopped short, is completed by BuildTree (run when a vault opens): resumable,
// in transactions of kBuildChunk entries. Until it is complete, requests compute the missing
// parts from the entries (correct, only slower) and appends store no nodes.
//
// Trust. The nodes are a cache of the entries: AuditLog::Verify recomputes every one from the
// entries and names a node that differs ("edited?"), is missing or lies beyond the log. A
// tampered node can only make an honest proof fail to check, never make a false one pass: an
// auditor checks proofs against a head it holds.
//
// Thread safety: functions are thread-safe; they use the store's own transactions (the caller
// holds none on it, except for the functions taking a Transaction).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "audit/merkle.h"
#include "core/status.h"
#include "crypto/primitives.h"
#include "store/store.h"

namespace custos::audit {

// Subtrees of 2^5 = 32 leaves and more are stored.
inline constexpr int kMinStoredLevel = 5;
inline constexpr int64_t kMinStoredLeaves = int64_t{1} << kMinStoredLevel;
// BuildTree hashes this many entries per transaction (tens of milliseconds of the writer).
inline constexpr int64_t kBuildChunk = 4096;

// The leaf hash of an entry: H(0x00 || CanonicalEntry(row)).
crypto::Bytes EntryLeafHash(crypto::Suite suite, const store::AuditRow& row);

// Checks entries `rows` (consecutive seqs) against the hash chain before their leaves are hashed
// into a node, a root or a proof: each one's hash must be EntryHash of its contents and its
// prev_hash the hash of the one before; `before` (the entry before the first: null for entry 1,
// whose prev_hash is GenesisHash) and `after` (the entry after the last, null when there is none)
// must link to them. DataLoss naming the first entry that does not ("edited?"): an entry edited
// in the store is never signed into a tree head or proved (a review had `audit head` sign, and
// `audit prove` prove, an entry whose actor was rewritten). An entry rewritten with every hash
// after it, to the log's end, breaks the tip instead (AuditLog::CheckTip, `audit verify`).
Status CheckChain(crypto::Suite suite, const std::vector<store::AuditRow>& rows,
                  const store::AuditRow* before, const store::AuditRow* after);

// The entries seq from..to (inclusive) read in `txn`, every one present and checked by
// CheckChain with its neighbours (read too). DataLoss: one is missing or does not check.
Result<std::vector<store::AuditRow>> ReadChainedEntries(store::Transaction& txn,
                                                        crypto::Suite suite, int64_t from,
                                                        int64_t to);

// The tree of the log's first `log_size` entries as a builder ready to take the next entry,
// read in `txn`: the stored nodes of its perfect subtrees (one per set bit of log_size of at
// least kMinStoredLevel) and the entries after the last stored node.
// nullopt: the stored tree does not end at the log's last multiple of 2^kMinStoredLevel (not
// built yet, a node missing, or nodes beyond the log): the caller stores no nodes.
// Unavailable: the store failed. DataLoss: an entry it needs is missing.
Result<std::optional<merkle::RootBuilder>> LoadFrontier(store::Transaction& txn,
                                                        crypto::Suite suite, int64_t log_size);

// Adds the leaves (entries tree.size() + 1, ...) to `tree`, storing in `txn` every node of at
// least kMinStoredLevel they complete. Unavailable: a node could not be written (the caller
// drops txn).
Status AddLeaves(store::Transaction& txn, const std::vector<crypto::Bytes>& leaf_hashes,
                 merkle::RootBuilder& tree);

// Builds the nodes the stored tree lacks up to the log's last multiple of 2^kMinStoredLevel,
// kBuildChunk entries per transaction (each commits its nodes: interrupted, it resumes where it
// stopped). Success: the number of entries the stored tree covers (0 for a log too short).
// DataLoss: a stored node the build starts from is missing, or an entry is missing; Verify
// names what is wrong. Unavailable: the store failed.
Result<int64_t> BuildTree(store::Store& store, crypto::Suite suite);

// The roots of aligned subtrees of the first `tree_size` entries (which must exist): stored
// nodes where they are, else computed from the leaves `leaves` hands out (blocks of
// 2^kMinStoredLevel, or a streamed pass over a part not built yet). Each node read is a short
// transaction of its own. The source must not outlive `store`. Failure: Unavailable (the
// store), or the leaf source's (DataLoss: an entry missing).
merkle::NodeSource StoredNodes(store::Store& store, crypto::Suite suite, int64_t tree_size,
                               merkle::LeafSource leaves);

}  // namespace custos::audit
