// The audit log's Merkle tree kept in the store. See tree_nodes.h.
#include "audit/tree_nodes.h"

#include <algorithm>
#include <bit>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include <fmt/core.h>

#include "audit/canonical.h"

namespace custos::audit {
namespace {

Status CannotRead(std::string_view what, const Status& cause) {
  return Unavailable(fmt::format("audit tree: {}: {}", what, cause.ToString()));
}

// The entries seq from..to (inclusive) read in `txn`, every one present.
Result<std::vector<store::AuditRow>> ReadEntries(store::Transaction& txn, int64_t from,
                                                 int64_t to) {
  if (to < from) return std::vector<store::AuditRow>();
  auto rows = txn.ReadAudit(from, static_cast<size_t>(to - from + 1));
  if (!rows.ok()) return CannotRead("read entries", rows.status());
  for (int64_t seq = from; seq <= to; ++seq) {
    const auto i = static_cast<size_t>(seq - from);
    if (i >= rows->size() || (*rows)[i].seq != seq) {
      return DataLoss(
          fmt::format("audit tree: entry {} is missing (deleted?): run custos audit verify", seq));
    }
  }
  return std::move(*rows);
}

// The stored roots of the perfect subtrees of the first `size` entries that are at least
// 2^kMinStoredLevel large, largest first; nullopt when one is not stored.
Result<std::optional<std::vector<crypto::Bytes>>> StoredStack(store::Transaction& txn,
                                                              int64_t size) {
  std::vector<crypto::Bytes> stack;
  int64_t pos = 0;
  for (int level = 62; level >= kMinStoredLevel; --level) {
    if (((size >> level) & 1) == 0) continue;
    pos += int64_t{1} << level;
    auto node = txn.GetAuditNode(pos, level);
    if (!node.ok()) return CannotRead("read a node", node.status());
    if (!node->has_value()) return std::optional<std::vector<crypto::Bytes>>();
    stack.push_back(std::move((*node)->hash));
  }
  return std::optional<std::vector<crypto::Bytes>>(std::move(stack));
}

}  // namespace

crypto::Bytes EntryLeafHash(crypto::Suite suite, const store::AuditRow& row) {
  return merkle::LeafHash(suite, CanonicalEntry(row));
}

Status CheckChain(crypto::Suite suite, const std::vector<store::AuditRow>& rows,
                  const store::AuditRow* before, const store::AuditRow* after) {
  const auto broken = [](int64_t seq, std::string_view what) {
    return DataLoss(fmt::format("audit entry {} {} (edited?): run custos audit verify", seq, what));
  };
  crypto::Bytes prev = before != nullptr ? before->hash : GenesisHash();
  for (const store::AuditRow& row : rows) {
    if (row.prev_hash != prev) return broken(row.seq, "does not follow the entry before it");
    if (EntryHash(suite, row) != row.hash) return broken(row.seq, "does not match its hash");
    prev = row.hash;
  }
  if (after != nullptr && !rows.empty() && after->prev_hash != prev) {
    return broken(after->seq, "does not follow the entry before it");
  }
  return Status::Ok();
}

Result<std::vector<store::AuditRow>> ReadChainedEntries(store::Transaction& txn,
                                                        crypto::Suite suite, int64_t from,
                                                        int64_t to) {
  if (to < from) return std::vector<store::AuditRow>();
  const int64_t first = std::max<int64_t>(1, from - 1);
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::AuditRow> rows, ReadEntries(txn, first, to));
  std::optional<store::AuditRow> before;
  if (first < from) {
    before = std::move(rows.front());
    rows.erase(rows.begin());
  }
  auto next = txn.ReadAudit(to + 1, 1);
  if (!next.ok()) return CannotRead("read entries", next.status());
  const store::AuditRow* after =
      !next->empty() && next->front().seq == to + 1 ? &next->front() : nullptr;
  CUSTOS_RETURN_IF_ERROR(CheckChain(suite, rows, before ? &*before : nullptr, after));
  return rows;
}

Result<std::optional<merkle::RootBuilder>> LoadFrontier(store::Transaction& txn,
                                                        crypto::Suite suite, int64_t log_size) {
  using Out = std::optional<merkle::RootBuilder>;
  auto built = txn.LastAuditNodeSize();
  if (!built.ok()) return CannotRead("read the last node", built.status());
  const int64_t stored_end = log_size - log_size % kMinStoredLeaves;
  if (*built != stored_end) return Out();
  CUSTOS_ASSIGN_OR_RETURN(std::optional<std::vector<crypto::Bytes>> stack,
                          StoredStack(txn, log_size));
  if (!stack.has_value()) return Out();
  // The entries after the last stored node make the small subtrees at the right edge.
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::AuditRow> tail,
                          ReadChainedEntries(txn, suite, stored_end + 1, log_size));
  merkle::RootBuilder small(suite);
  for (const store::AuditRow& row : tail) small.Add(EntryLeafHash(suite, row));
  for (const crypto::Bytes& h : small.stack()) stack->push_back(h);
  CUSTOS_ASSIGN_OR_RETURN(
      merkle::RootBuilder tree,
      merkle::RootBuilder::Resume(suite, static_cast<uint64_t>(log_size), std::move(*stack)));
  return Out(std::move(tree));
}

Result<int64_t> BuildTree(store::Store& store, crypto::Suite suite) {
  for (;;) {
    auto txn = store.Begin();
    if (!txn.ok()) return CannotRead("begin", txn.status());
    // The head first: on PostgreSQL it takes the audit lock, so no append runs meanwhile.
    auto head = (*txn)->GetAuditHead();
    if (!head.ok()) return CannotRead("read the head", head.status());
    const int64_t log_size = head->has_value() ? (*head)->seq : 0;
    const int64_t stored_end = log_size - log_size % kMinStoredLeaves;
    auto built = (*txn)->LastAuditNodeSize();
    if (!built.ok()) return CannotRead("read the last node", built.status());
    if (*built >= stored_end) return *built;  // complete (nodes beyond the log: Verify says)
    if (*built % kMinStoredLeaves != 0) {
      return DataLoss(fmt::format(
          "audit tree: a node ends at entry {}, which no stored node can (inserted?): run "
          "custos audit verify",
          *built));
    }
    CUSTOS_ASSIGN_OR_RETURN(std::optional<std::vector<crypto::Bytes>> stack,
                            StoredStack(**txn, *built));
    if (!stack.has_value()) {
      return DataLoss(fmt::format(
          "audit tree: a node of the tree of the first {} entries is missing (deleted?): run "
          "custos audit verify",
          *built));
    }
    CUSTOS_ASSIGN_OR_RETURN(
        merkle::RootBuilder tree,
        merkle::RootBuilder::Resume(suite, static_cast<uint64_t>(*built), std::move(*stack)));
    const int64_t end = std::min(stored_end, *built + kBuildChunk);
    CUSTOS_ASSIGN_OR_RETURN(std::vector<store::AuditRow> rows,
                            ReadChainedEntries(**txn, suite, *built + 1, end));
    std::vector<crypto::Bytes> leaves;
    leaves.reserve(rows.size());
    for (const store::AuditRow& row : rows) leaves.push_back(EntryLeafHash(suite, row));
    CUSTOS_RETURN_IF_ERROR(AddLeaves(**txn, leaves, tree));
    Status st = (*txn)->Commit();
    if (!st.ok()) return CannotRead("commit", st);
  }
}

Status AddLeaves(store::Transaction& txn, const std::vector<crypto::Bytes>& leaf_hashes,
                 merkle::RootBuilder& tree) {
  std::vector<store::AuditNodeRow> nodes;
  for (const crypto::Bytes& leaf : leaf_hashes) {
    const auto size = static_cast<int64_t>(tree.size()) + 1;  // the seq of this leaf's entry
    tree.Add(leaf, [&](int level, crypto::ByteView root) {
      if (level >= kMinStoredLevel) {
        nodes.push_back({size, level, crypto::Bytes(root.begin(), root.end())});
      }
    });
  }
  for (const store::AuditNodeRow& node : nodes) {
    Status st = txn.InsertAuditNode(node);
    if (!st.ok()) {
      return Unavailable(
          fmt::format("audit tree: store the node of level {} ending at entry {}: {}", node.level,
                      node.tree_size, st.ToString()));
    }
  }
  return Status::Ok();
}

namespace {

// What StoredNodes reads, shared by the copies of the source.
class NodeReader {
 public:
  NodeReader(store::Store& store, crypto::Suite suite, int64_t tree_size, merkle::LeafSource leaves)
      : store_(store), suite_(suite), tree_size_(tree_size), leaves_(std::move(leaves)) {}

  Result<crypto::Bytes> Node(int level, uint64_t index) {
    const uint64_t width = uint64_t{1} << level;
    const uint64_t begin = index * width;
    const uint64_t end = begin + width;  // leaves [begin, end): entries begin+1 .. end
    if (level < kMinStoredLevel) return FromBlock(begin, end);
    CUSTOS_ASSIGN_OR_RETURN(const uint64_t built, Built());
    if (end <= built) {
      CUSTOS_ASSIGN_OR_RETURN(std::optional<crypto::Bytes> stored, Stored(end, level));
      if (stored.has_value()) return std::move(*stored);
      // Missing (Verify names it): computed from its halves.
    } else if (begin >= built) {
      // Not built yet: one streamed pass over its entries.
      merkle::RootBuilder root(suite_);
      CUSTOS_RETURN_IF_ERROR(leaves_(begin, end, [&root](crypto::ByteView h) { root.Add(h); }));
      return root.Root();
    }
    CUSTOS_ASSIGN_OR_RETURN(crypto::Bytes left, Node(level - 1, index * 2));
    CUSTOS_ASSIGN_OR_RETURN(crypto::Bytes right, Node(level - 1, index * 2 + 1));
    return merkle::NodeHash(suite_, left, right);
  }

 private:
  Result<uint64_t> Built() {
    if (built_.has_value()) return *built_;
    auto txn = store_.Begin();
    if (!txn.ok()) return CannotRead("begin", txn.status());
    auto last = (*txn)->LastAuditNodeSize();
    if (!last.ok()) return CannotRead("read the last node", last.status());
    built_ = static_cast<uint64_t>(std::max<int64_t>(0, *last));
    return *built_;
  }

  Result<std::optional<crypto::Bytes>> Stored(uint64_t end, int level) {
    auto txn = store_.Begin();
    if (!txn.ok()) return CannotRead("begin", txn.status());
    auto node = (*txn)->GetAuditNode(static_cast<int64_t>(end), level);
    if (!node.ok()) return CannotRead("read a node", node.status());
    if (!node->has_value()) return std::optional<crypto::Bytes>();
    return std::optional<crypto::Bytes>(std::move((*node)->hash));
  }

  // The root of leaves [begin, end) inside one block of 2^kMinStoredLevel leaves, whose leaf
  // hashes are read once per request.
  Result<crypto::Bytes> FromBlock(uint64_t begin, uint64_t end) {
    const uint64_t block = begin >> kMinStoredLevel;
    const uint64_t first = block << kMinStoredLevel;
    auto it = blocks_.find(block);
    if (it == blocks_.end()) {
      const uint64_t last =
          std::min<uint64_t>(first + kMinStoredLeaves, static_cast<uint64_t>(tree_size_));
      std::vector<crypto::Bytes> hashes;
      CUSTOS_RETURN_IF_ERROR(leaves_(
          first, last, [&hashes](crypto::ByteView h) { hashes.emplace_back(h.begin(), h.end()); }));
      it = blocks_.emplace(block, std::move(hashes)).first;
    }
    const std::vector<crypto::Bytes>& hashes = it->second;
    if (end - first > hashes.size()) {
      return Internal(
          fmt::format("audit tree: leaves up to {} asked of a tree of {}", end, tree_size_));
    }
    merkle::RootBuilder root(suite_);
    for (uint64_t i = begin; i < end; ++i) root.Add(hashes[i - first]);
    return root.Root();
  }

  store::Store& store_;
  crypto::Suite suite_;
  int64_t tree_size_;
  merkle::LeafSource leaves_;
  std::optional<uint64_t> built_;
  std::map<uint64_t, std::vector<crypto::Bytes>> blocks_;
};

}  // namespace

merkle::NodeSource StoredNodes(store::Store& store, crypto::Suite suite, int64_t tree_size,
                               merkle::LeafSource leaves) {
  auto reader = std::make_shared<NodeReader>(store, suite, tree_size, std::move(leaves));
  return [reader](int level, uint64_t index) { return reader->Node(level, index); };
}

}  // namespace custos::audit
