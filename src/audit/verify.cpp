// Verifying the audit chain against its signed checkpoints and head file. See audit_log.h.
//
// The walk reads the head file first, then the checkpoints, then the entries page by page,
// each read in a short transaction of its own so writers are not blocked for the whole walk.
// That order keeps the walk consistent with concurrent appends: the head file is only
// written after its checkpoint commits, and the log only grows.
#include <algorithm>
#include <functional>
#include <optional>

#include <fmt/core.h>

#include "audit/audit_log.h"
#include "audit/canonical.h"
#include "audit/head_file.h"
#include "audit/tree_nodes.h"
#include "core/env.h"

namespace custos::audit {
namespace {

constexpr size_t kPageSize = 10000;
// How far from its place a moved entry is recognised (only computed once something is wrong).
constexpr int64_t kMoveWindow = 8;

// A signed "(seq, hash)": a checkpoint row, the signed tip, the head file or a witness.
struct Statement {
  int64_t seq = 0;
  crypto::Bytes hash;
  crypto::Bytes signature;
  // "" for a checkpoint; else "signed tip", "head file" or the witness's name.
  std::string name;
  bool external = false;   // kept outside the database (head file, witness)
  bool witness = false;    // a witness (backup manifest, witness file)
  bool presigned = false;  // its signature was checked elsewhere (a manifest's)
};

using Lookup = std::function<Result<std::optional<store::AuditRow>>(int64_t seq)>;

// Walks the entries in seq order, stopping at the first problem.
class ChainCheck {
 public:
  ChainCheck(crypto::Suite suite, crypto::ByteView public_key, std::vector<Statement> statements,
             Lookup lookup)
      : suite_(suite),
        public_key_(public_key),
        statements_(std::move(statements)),
        lookup_(std::move(lookup)),
        prev_(GenesisHash()),
        prev2_(GenesisHash()) {}

  bool failed() const { return failed_; }
  int64_t first_bad() const { return first_bad_; }
  const std::string& problem() const { return problem_; }
  int64_t last_vouched() const { return last_vouched_; }
  int64_t last_seq() const { return expected_ - 1; }
  const crypto::Bytes& last_hash() const { return prev_; }

  // Statements that precede every entry: only the head of a sealed empty log (seq 0).
  Status CheckLeadingStatements() {
    while (!failed_ && next_ < statements_.size() && statements_[next_].seq <= 0) {
      const Statement& st = statements_[next_++];
      if (st.seq < 0 || st.name.empty()) {
        Fail(1, fmt::format("a checkpoint names entry {}, which cannot exist (inserted?)", st.seq));
        break;
      }
      CUSTOS_RETURN_IF_ERROR(CheckStatement(st, GenesisHash()));
    }
    return Status::Ok();
  }

  // Checks the next entry. InvalidArgument only for a malformed public key.
  Status Check(const store::AuditRow& row) {
    const int64_t s = expected_;
    if (row.seq != s) {
      if (row.seq > s) {
        Fail(s, fmt::format("entry {} is missing (deleted?): the log goes from entry {} to {}", s,
                            s - 1, row.seq));
      } else {
        Fail(s, fmt::format("entry {} appears again after entry {} (inserted or duplicated?)",
                            row.seq, s - 1));
      }
      return Status::Ok();
    }
    if (row.hash.size() != prev_.size() || row.prev_hash.size() != prev_.size()) {
      Fail(s, fmt::format("entry {}: malformed hash (edited?)", s));
      return Status::Ok();
    }
    const bool link_ok = row.prev_hash == prev_;
    const bool content_ok = EntryHash(suite_, row) == row.hash;
    if (!link_ok || !content_ok) return Diagnose(row, link_ok, content_ok);
    prev2_ = std::move(prev_);
    prev_ = row.hash;
    ++expected_;
    while (!failed_ && next_ < statements_.size() && statements_[next_].seq == s) {
      CUSTOS_RETURN_IF_ERROR(CheckStatement(statements_[next_++], row.hash));
    }
    return Status::Ok();
  }

  // After the last entry: signed statements beyond it show a cut tail.
  Status CheckRemainingStatements() {
    if (failed_ || next_ >= statements_.size()) return Status::Ok();
    const int64_t last = last_seq();
    // The most telling statement beyond the end: outside the database, else in it.
    const Statement* beyond = &statements_[next_];
    for (size_t i = next_; i < statements_.size(); ++i) {
      if (statements_[i].external || (!beyond->external && !statements_[i].name.empty())) {
        beyond = &statements_[i];
      }
    }
    const std::string what = beyond->name.empty() ? "checkpoint" : beyond->name;
    Status sig = Signature(*beyond);
    if (sig.code() == Code::kInvalidArgument) return sig;
    if (!sig.ok()) {
      Fail(last + 1, fmt::format("a {} names entry {} beyond the end of the log ({}) and its "
                                 "signature does not verify (forged?)",
                                 what, beyond->seq, last));
    } else if (beyond->witness) {
      Fail(last + 1, fmt::format("witness {} holds head at seq {}, the log ends at {}: rollback "
                                 "or cut",
                                 what, beyond->seq, last));
    } else {
      Fail(last + 1, fmt::format("log truncated: {} records entry {}, log ends at {}", what,
                                 beyond->seq, last));
    }
    return Status::Ok();
  }

  void Fail(int64_t first_bad, std::string problem) {
    if (failed_) return;
    failed_ = true;
    first_bad_ = first_bad;
    problem_ = std::move(problem);
  }

 private:
  Status Signature(const Statement& st) const {
    if (st.presigned) return Status::Ok();
    return crypto::VerifySignature(suite_, public_key_, CheckpointMessage(st.seq, st.hash),
                                   st.signature);
  }

  Status CheckStatement(const Statement& st, const crypto::Bytes& entry_hash) {
    const std::string what = st.name.empty() ? fmt::format("the checkpoint at entry {}", st.seq)
                             : st.witness    ? "witness " + st.name
                                             : "the " + st.name;
    Status sig = Signature(st);
    if (sig.code() == Code::kInvalidArgument) return sig;
    const int64_t from = last_vouched_ + 1;
    if (!sig.ok()) {
      Fail(from, fmt::format("{}: signature does not verify (forged or altered)", what));
    } else if (st.hash != entry_hash) {
      Fail(from, fmt::format("entries {}..{} were rewritten: {} signs another hash for entry {} "
                             "(chain recomputed without the signing key?)",
                             from, st.seq, what, st.seq));
    } else {
      last_vouched_ = std::max(last_vouched_, st.seq);
    }
    return Status::Ok();
  }

  // The seq near row.seq at which row's stored hash was computed, if any: the entry was moved.
  std::optional<int64_t> OriginalSeq(const store::AuditRow& row) const {
    store::AuditRow probe = row;
    for (int64_t d = 1; d <= kMoveWindow; ++d) {
      for (int64_t candidate : {row.seq - d, row.seq + d}) {
        if (candidate < 1) continue;
        probe.seq = candidate;
        if (EntryHash(suite_, probe) == row.hash) return candidate;
      }
    }
    return std::nullopt;
  }

  Status Diagnose(const store::AuditRow& row, bool link_ok, bool content_ok) {
    const int64_t s = row.seq;
    if (!link_ok && s >= 2 && row.prev_hash == prev2_) {
      Fail(s - 1,
           fmt::format("entry {} was inserted: entry {} links to entry {}", s - 1, s, s - 2));
      return Status::Ok();
    }
    if (!link_ok && content_ok) {
      if (s == 1) {
        Fail(1, "entry 1: does not link to the start of the chain (edited?)");
      } else {
        Fail(s - 1, fmt::format("entry {}: its hash is not the one entry {} recorded "
                                "(entry {} edited and rehashed?)",
                                s - 1, s, s - 1));
      }
      return Status::Ok();
    }
    if (std::optional<int64_t> moved = OriginalSeq(row)) return Moved(row, *moved);
    if (link_ok) {
      Fail(s, fmt::format("entry {}: hash does not match its contents (edited?)", s));
    } else {
      Fail(s, fmt::format("entry {}: neither its hash nor its link to entry {} match (edited?)", s,
                          s - 1));
    }
    return Status::Ok();
  }

  // Entry s holds what was written as entry m.
  Status Moved(const store::AuditRow& row, int64_t m) {
    const int64_t s = row.seq;
    if (m < s) {
      Fail(s, fmt::format("entry {} holds what was written as entry {} (reordered, or an entry "
                          "inserted before it and the rest renumbered)",
                          s, m));
      return Status::Ok();
    }
    CUSTOS_ASSIGN_OR_RETURN(std::optional<store::AuditRow> other, lookup_(m));
    bool swapped = false;
    if (other.has_value() && other->seq == m) {
      other->seq = s;
      swapped = EntryHash(suite_, *other) == other->hash;
    }
    if (swapped) {
      Fail(s, fmt::format("entries {} and {} were swapped (reordered)", s, m));
    } else {
      Fail(s, fmt::format("entry {} holds what was written as entry {} (entries deleted and the "
                          "rest renumbered, or reordered)",
                          s, m));
    }
    return Status::Ok();
  }

  crypto::Suite suite_;
  crypto::ByteView public_key_;
  std::vector<Statement> statements_;  // sorted by seq; checkpoints before the head file
  size_t next_ = 0;
  Lookup lookup_;
  int64_t expected_ = 1;
  crypto::Bytes prev_;   // hash of entry expected_-1
  crypto::Bytes prev2_;  // hash of entry expected_-2
  int64_t last_vouched_ = 0;
  bool failed_ = false;
  int64_t first_bad_ = 0;
  std::string problem_;
};

Status ReadFailed(std::string_view what, const Status& cause) {
  return Unavailable(fmt::format("audit verify: cannot read {}: {}", what, cause.ToString()));
}

// Recomputes the Merkle tree from the entries as the walk hands them over and compares every
// node of at least kMinStoredLevel it completes with the stored one (tree_nodes.h), reading
// the stored nodes in the order the entries complete them, in pages. Stored nodes must be
// exactly those the entries complete, up to where the build has reached.
class TreeCheck {
 public:
  TreeCheck(store::Store& store, crypto::Suite suite)
      : store_(store), suite_(suite), tree_(suite) {}

  bool failed() const { return !problem_.empty(); }
  const std::string& problem() const { return problem_; }
  int64_t first_bad() const { return first_bad_; }
  int64_t nodes() const { return nodes_; }
  // The entries the stored tree covers (its last node's end).
  int64_t built() const { return built_; }

  // The next entry, in seq order (after the chain check accepted it).
  Status Add(const store::AuditRow& row) {
    if (failed()) return Status::Ok();
    expected_.clear();
    tree_.Add(EntryLeafHash(suite_, row), [this, &row](int level, crypto::ByteView root) {
      if (level >= kMinStoredLevel) {
        expected_.push_back({row.seq, level, crypto::Bytes(root.begin(), root.end())});
      }
    });
    for (const store::AuditNodeRow& want : expected_) {
      CUSTOS_RETURN_IF_ERROR(Match(want));
      if (failed()) break;
    }
    return Status::Ok();
  }

  // After the last entry the walk read (log_size): a stored node beyond it is named, unless
  // the log grew meanwhile.
  Status Finish(int64_t log_size) {
    if (failed()) return Status::Ok();
    CUSTOS_ASSIGN_OR_RETURN(const store::AuditNodeRow* next, Peek());
    if (next == nullptr) return Status::Ok();
    if (next->tree_size > log_size) {
      CUSTOS_ASSIGN_OR_RETURN(int64_t now, LogSize());
      if (now >= next->tree_size) return Status::Ok();  // appended during the walk
    }
    Unexpected(*next, log_size);
    return Status::Ok();
  }

 private:
  static bool Before(const store::AuditNodeRow& a, const store::AuditNodeRow& b) {
    return a.tree_size < b.tree_size || (a.tree_size == b.tree_size && a.level < b.level);
  }
  static std::string Describe(const store::AuditNodeRow& n) {
    const int64_t width = n.level >= 0 && n.level < 63 ? int64_t{1} << n.level : 0;
    return fmt::format("the Merkle tree node of level {} over entries {}..{}", n.level,
                       n.tree_size - width + 1, n.tree_size);
  }

  Status Match(const store::AuditNodeRow& want) {
    CUSTOS_ASSIGN_OR_RETURN(const store::AuditNodeRow* stored, Peek());
    if (stored != nullptr && Before(*stored, want)) {
      Unexpected(*stored, want.tree_size);
      return Status::Ok();
    }
    if (stored == nullptr || Before(want, *stored)) {
      // Not stored: the build has not reached it, unless a later node is stored.
      if (!missing_.has_value()) missing_ = want;
      return Status::Ok();
    }
    if (missing_.has_value()) {
      Fail(*missing_, fmt::format("{} is missing (deleted?) while later nodes are stored",
                                  Describe(*missing_)));
      return Status::Ok();
    }
    if (stored->hash != want.hash) {
      Fail(want, fmt::format("{} does not match the entries (edited?)", Describe(want)));
      return Status::Ok();
    }
    ++nodes_;
    built_ = want.tree_size;
    ++next_;
    return Status::Ok();
  }

  void Unexpected(const store::AuditNodeRow& n, int64_t log_size) {
    std::string why = n.tree_size > log_size
                          ? fmt::format("lies beyond the end of the log ({} entries)", log_size)
                          : "is not one the entries complete (inserted?)";
    first_bad_ = std::clamp<int64_t>(n.tree_size, 1, std::max<int64_t>(1, log_size));
    problem_ = fmt::format("a Merkle tree node of level {} ending at entry {} {}", n.level,
                           n.tree_size, why);
  }

  void Fail(const store::AuditNodeRow& n, std::string problem) {
    const int64_t width = int64_t{1} << n.level;
    first_bad_ = n.tree_size - width + 1;
    problem_ = std::move(problem);
  }

  // The next stored node not yet matched, nullptr when there is none.
  Result<const store::AuditNodeRow*> Peek() {
    if (next_ < page_.size()) return &page_[next_];
    if (exhausted_) return nullptr;
    int64_t after_size = 0;
    int64_t after_level = -1;
    if (!page_.empty()) {
      after_size = page_.back().tree_size;
      after_level = page_.back().level;
    }
    auto txn = store_.Begin();
    if (!txn.ok()) return ReadFailed("the Merkle tree", txn.status());
    auto rows = (*txn)->ReadAuditNodes(after_size, after_level, kPageSize);
    if (!rows.ok()) return ReadFailed("the Merkle tree", rows.status());
    page_ = std::move(*rows);
    next_ = 0;
    if (page_.size() < kPageSize) exhausted_ = true;
    if (page_.empty()) return nullptr;
    return &page_[0];
  }

  Result<int64_t> LogSize() {
    auto txn = store_.Begin();
    if (!txn.ok()) return ReadFailed("entries", txn.status());
    auto head = (*txn)->GetAuditHead();
    if (!head.ok()) return ReadFailed("entries", head.status());
    return head->has_value() ? (*head)->seq : 0;
  }

  store::Store& store_;
  crypto::Suite suite_;
  merkle::RootBuilder tree_;
  std::vector<store::AuditNodeRow> expected_;
  std::vector<store::AuditNodeRow> page_;
  size_t next_ = 0;
  bool exhausted_ = false;
  std::optional<store::AuditNodeRow> missing_;
  int64_t nodes_ = 0;
  int64_t built_ = 0;
  int64_t first_bad_ = 0;
  std::string problem_;
};

Result<std::vector<store::CheckpointRow>> ReadCheckpoints(store::Store& store) {
  auto txn = store.Begin();
  if (!txn.ok()) return ReadFailed("checkpoints", txn.status());
  auto rows = (*txn)->ListCheckpoints();
  if (!rows.ok()) return ReadFailed("checkpoints", rows.status());
  return std::move(*rows);
}

Result<std::vector<store::AuditRow>> ReadPage(store::Store& store, int64_t from, size_t limit) {
  auto txn = store.Begin();
  if (!txn.ok()) return ReadFailed("entries", txn.status());
  auto rows = (*txn)->ReadAudit(from, limit);
  if (!rows.ok()) return ReadFailed("entries", rows.status());
  return std::move(*rows);
}

// The tip (signed or MAC) and the last entry, read in one transaction.
struct TipAndLast {
  std::optional<StoredTip> tip;
  bool tip_malformed = false;
  int64_t last_seq = 0;
};

Result<TipAndLast> ReadTip(store::Store& store) {
  auto txn = store.Begin();
  if (!txn.ok()) return ReadFailed("the signed tip", txn.status());
  auto stored = (*txn)->GetMeta(kTipMetaKey);
  if (!stored.ok()) return ReadFailed("the signed tip", stored.status());
  auto last = (*txn)->GetAuditHead();
  if (!last.ok()) return ReadFailed("entries", last.status());
  TipAndLast out;
  out.last_seq = last->has_value() ? (*last)->seq : 0;
  if (stored->has_value()) {
    auto tip = DecodeTip(std::string((*stored)->begin(), (*stored)->end()));
    if (tip.ok()) {
      out.tip = std::move(*tip);
    } else {
      out.tip_malformed = true;
    }
  }
  return out;
}

// The heads of the witness file, one per line; a torn last line (a crash while appending) is
// skipped. NotFound-free: a missing file is an empty list plus a problem when required.
struct WitnessLines {
  std::vector<Witness> heads;
  std::string problem;
};

Result<WitnessLines> ReadWitnessFile(const std::filesystem::path& path) {
  WitnessLines out;
  Result<std::string> text = Env::Default().ReadFile(path);
  if (text.status().code() == Code::kNotFound) {
    out.problem =
        fmt::format("witness file {} is missing (removed or not mounted?)", path.string());
    return out;
  }
  if (!text.ok()) return ReadFailed("the witness file", text.status());
  size_t line_no = 0;
  for (size_t pos = 0; pos < text->size();) {
    size_t end = text->find('\n', pos);
    const bool torn = end == std::string::npos;
    if (torn) end = text->size();
    ++line_no;
    const std::string_view line(text->data() + pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    auto head = DecodeHead(line);
    if (!head.ok()) {
      if (torn) break;  // a crash while appending: the line never completed
      out.problem =
          fmt::format("witness file {} line {} is malformed (edited?)", path.string(), line_no);
      return out;
    }
    out.heads.push_back(
        {fmt::format("file {} line {}", path.string(), line_no), std::move(*head), false});
  }
  return out;
}

std::vector<Statement> MergeStatements(const std::vector<store::CheckpointRow>& checkpoints,
                                       const std::optional<SignedHead>& head,
                                       const std::optional<StoredTip>& tip,
                                       const std::vector<Witness>& witnesses) {
  std::vector<Statement> out;
  out.reserve(checkpoints.size() + 2 + witnesses.size());
  for (const auto& cp : checkpoints) out.push_back({cp.seq, cp.hash, cp.signature, ""});
  // A MAC tip comes here only once its MAC verified (presigned); a signature is checked in
  // the walk.
  if (tip.has_value()) {
    out.push_back({tip->head.seq, tip->head.hash, tip->head.signature,
                   tip->mac ? "MAC tip" : "signed tip", false, false, tip->mac});
  }
  if (head.has_value()) {
    out.push_back({head->seq, head->hash, head->signature, "head file", /*external=*/true});
  }
  for (const Witness& w : witnesses) {
    out.push_back({w.head.seq, w.head.hash, w.head.signature, w.name, true, true, w.verified});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Statement& a, const Statement& b) { return a.seq < b.seq; });
  return out;
}

}  // namespace

Result<VerifyReport> AuditLog::Verify(store::Store& store, const VerifyOptions& options) const {
  // Head file and witnesses first: each is written only after its entries commit, so
  // everything they name is already in the store when the entries are read below.
  VerifyReport report;
  std::optional<SignedHead> head;
  std::string head_problem;
  auto head_read = options.use_head_file ? ReadHeadFile(options_.head_file)
                                         : Result<std::optional<SignedHead>>(std::nullopt);
  if (head_read.ok()) {
    head = std::move(*head_read);
  } else if (head_read.status().code() == Code::kDataLoss) {
    head_problem = "head file is malformed (edited or damaged?)";
  } else {
    return head_read.status();
  }
  if (head.has_value() && head->suite != options_.suite) {
    head_problem = "head file names another suite than the vault (replaced?)";
    head.reset();
  }
  if (head.has_value()) report.witnesses_used.push_back("head file");
  std::vector<Witness> witnesses = options.witnesses;
  std::string witness_problem;
  if (!options_.witness_file.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(WitnessLines lines, ReadWitnessFile(options_.witness_file));
    witness_problem = std::move(lines.problem);
    if (witness_problem.empty()) {
      report.witnesses_used.push_back(fmt::format(
          "witness file {} ({} heads)", options_.witness_file.string(), lines.heads.size()));
    }
    for (Witness& w : lines.heads) witnesses.push_back(std::move(w));
  }
  for (const Witness& w : options.witnesses) report.witnesses_used.push_back(w.name);

  CUSTOS_ASSIGN_OR_RETURN(TipAndLast before, ReadTip(store));
  if (before.tip.has_value()) {
    report.witnesses_used.insert(report.witnesses_used.begin(),
                                 before.tip->mac ? "MAC tip" : "signed tip");
  }
  // A MAC tip vouches like a signed one once its MAC verifies (only with the vault's key);
  // one that does not verify is reported after the walk.
  std::optional<StoredTip> tip_statement;
  std::string tip_problem;
  if (before.tip.has_value()) {
    Status st = before.tip->mac ? VerifyTip(*before.tip) : Status::Ok();
    if (st.ok()) {
      tip_statement = before.tip;
    } else if (tip_mac_ != nullptr) {
      tip_problem = "the MAC tip " + st.message();
    }
  }
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::CheckpointRow> checkpoints, ReadCheckpoints(store));
  report.checkpoints = static_cast<int64_t>(checkpoints.size());
  Lookup lookup = [&store](int64_t seq) -> Result<std::optional<store::AuditRow>> {
    CUSTOS_ASSIGN_OR_RETURN(auto rows, ReadPage(store, seq, 1));
    if (rows.empty()) return std::optional<store::AuditRow>();
    return std::optional<store::AuditRow>(std::move(rows.front()));
  };
  ChainCheck check(options_.suite, options_.public_key,
                   MergeStatements(checkpoints, head, tip_statement, witnesses), std::move(lookup));
  checkpoints.clear();
  witnesses.clear();
  CUSTOS_RETURN_IF_ERROR(check.CheckLeadingStatements());

  // After the first problem the walk only counts entries.
  TreeCheck tree(store, options_.suite);
  auto walk = [&](int64_t from) -> Status {
    for (;;) {
      CUSTOS_ASSIGN_OR_RETURN(std::vector<store::AuditRow> page, ReadPage(store, from, kPageSize));
      for (const store::AuditRow& row : page) {
        ++report.entries;
        if (!check.failed()) CUSTOS_RETURN_IF_ERROR(check.Check(row));
        if (!check.failed()) CUSTOS_RETURN_IF_ERROR(tree.Add(row));
      }
      if (page.size() < kPageSize) return Status::Ok();
      from = page.back().seq + 1;
    }
  };
  CUSTOS_RETURN_IF_ERROR(walk(1));
  CUSTOS_RETURN_IF_ERROR(check.CheckRemainingStatements());

  // Every entry must be signed (AppendAll signs each transaction's tip): the tip, read with
  // the last entry in one transaction, must sign the last entry. Entries appended during the
  // walk are walked too, so a concurrent writer is no false alarm.
  if (!check.failed() && before.tip_malformed) {
    check.Fail(check.last_vouched() + 1, "the signed tip is malformed (edited?)");
  }
  if (!check.failed() && !tip_problem.empty()) {
    check.Fail(check.last_vouched() + 1, tip_problem);
  }
  if (!check.failed() && check.last_vouched() < check.last_seq()) {
    CUSTOS_ASSIGN_OR_RETURN(TipAndLast after, ReadTip(store));
    if (after.last_seq > check.last_seq()) CUSTOS_RETURN_IF_ERROR(walk(check.last_seq() + 1));
    const int64_t last = check.last_seq();
    if (!check.failed()) {
      bool signs_last = false;
      if (after.tip.has_value() && after.tip->head.seq == last &&
          after.tip->head.hash == check.last_hash()) {
        Status sig = VerifyTip(*after.tip);
        if (sig.code() == Code::kInvalidArgument) return sig;
        signs_last = sig.ok();
        if (!sig.ok() && after.tip->mac) tip_problem = sig.message();
      }
      if (!signs_last) {
        const int64_t from = check.last_vouched() + 1;
        check.Fail(from, !tip_problem.empty()
                             ? fmt::format("entries {}..{} are not signed: the tip {}", from, last,
                                           tip_problem)
                         : after.tip.has_value()
                             ? fmt::format("entries {}..{} are not signed: the signed tip "
                                           "records entry {} (appended without the signing "
                                           "key?)",
                                           from, last, after.tip->head.seq)
                             : fmt::format("entries {}..{} are not signed: no signed tip is "
                                           "stored (removed, or appended without the signing "
                                           "key?)",
                                           from, last));
      }
    }
  }
  if (!head_problem.empty()) check.Fail(check.last_vouched() + 1, head_problem);
  if (!witness_problem.empty()) check.Fail(check.last_vouched() + 1, witness_problem);
  if (!head.has_value() && options.require_head && report.entries > 0) {
    check.Fail(check.last_vouched() + 1,
               fmt::format("head file {} is missing (deleted?): nothing outside the database "
                           "shows the log was not cut after entry {}",
                           options_.head_file.filename().string(), check.last_vouched()));
  }
  // The Merkle nodes last: a broken chain or a missing head says more about what happened.
  if (!check.failed()) CUSTOS_RETURN_IF_ERROR(tree.Finish(check.last_seq()));
  if (tree.failed()) check.Fail(tree.first_bad(), tree.problem());
  report.tree_nodes = tree.nodes();
  report.tree_built = tree.built();
  report.ok = !check.failed();
  report.first_bad_seq = check.failed() ? check.first_bad() : 0;
  report.problem = check.problem();
  return report;
}

}  // namespace custos::audit
