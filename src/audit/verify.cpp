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

namespace custos::audit {
namespace {

constexpr size_t kPageSize = 10000;
// How far from its place a moved entry is recognised (only computed once something is wrong).
constexpr int64_t kMoveWindow = 8;

// A signed "(seq, hash)": a checkpoint row or the head file.
struct Statement {
  int64_t seq = 0;
  crypto::Bytes hash;
  crypto::Bytes signature;
  bool from_head = false;
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

  // Statements that precede every entry: only the head of a sealed empty log (seq 0).
  Status CheckLeadingStatements() {
    while (!failed_ && next_ < statements_.size() && statements_[next_].seq <= 0) {
      const Statement& st = statements_[next_++];
      if (st.seq < 0 || !st.from_head) {
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
    const Statement* beyond = &statements_[next_];
    for (size_t i = next_; i < statements_.size(); ++i) {
      if (statements_[i].from_head) beyond = &statements_[i];
    }
    const std::string what = beyond->from_head ? "head file" : "checkpoint";
    Status sig = Signature(*beyond);
    if (sig.code() == Code::kInvalidArgument) return sig;
    if (!sig.ok()) {
      Fail(last + 1, fmt::format("a {} names entry {} beyond the end of the log ({}) and its "
                                 "signature does not verify (forged?)",
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
    return crypto::VerifySignature(suite_, public_key_, CheckpointMessage(st.seq, st.hash),
                                   st.signature);
  }

  Status CheckStatement(const Statement& st, const crypto::Bytes& entry_hash) {
    const std::string what = st.from_head ? std::string("the head file")
                                          : fmt::format("the checkpoint at entry {}", st.seq);
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

std::vector<Statement> MergeStatements(const std::vector<store::CheckpointRow>& checkpoints,
                                       const std::optional<SignedHead>& head) {
  std::vector<Statement> out;
  out.reserve(checkpoints.size() + 1);
  for (const auto& cp : checkpoints) out.push_back({cp.seq, cp.hash, cp.signature, false});
  if (head.has_value()) out.push_back({head->seq, head->hash, head->signature, true});
  std::stable_sort(out.begin(), out.end(),
                   [](const Statement& a, const Statement& b) { return a.seq < b.seq; });
  return out;
}

}  // namespace

Result<VerifyReport> AuditLog::Verify(store::Store& store, const VerifyOptions& options) const {
  // Head file first: it is written only after its checkpoint commits, so everything it
  // names is already in the store when the entries are read below.
  std::optional<SignedHead> head;
  std::string head_problem;
  auto head_read = ReadHeadFile(options_.head_file);
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

  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::CheckpointRow> checkpoints, ReadCheckpoints(store));
  VerifyReport report;
  report.checkpoints = static_cast<int64_t>(checkpoints.size());
  Lookup lookup = [&store](int64_t seq) -> Result<std::optional<store::AuditRow>> {
    CUSTOS_ASSIGN_OR_RETURN(auto rows, ReadPage(store, seq, 1));
    if (rows.empty()) return std::optional<store::AuditRow>();
    return std::optional<store::AuditRow>(std::move(rows.front()));
  };
  ChainCheck check(options_.suite, options_.public_key, MergeStatements(checkpoints, head),
                   std::move(lookup));
  checkpoints.clear();
  CUSTOS_RETURN_IF_ERROR(check.CheckLeadingStatements());

  // After the first problem the walk only counts entries.
  for (int64_t from = 1;;) {
    CUSTOS_ASSIGN_OR_RETURN(std::vector<store::AuditRow> page, ReadPage(store, from, kPageSize));
    for (const store::AuditRow& row : page) {
      ++report.entries;
      if (!check.failed()) CUSTOS_RETURN_IF_ERROR(check.Check(row));
    }
    if (page.size() < kPageSize) break;
    from = page.back().seq + 1;
  }
  CUSTOS_RETURN_IF_ERROR(check.CheckRemainingStatements());
  if (!head_problem.empty()) check.Fail(check.last_vouched() + 1, head_problem);
  if (!head.has_value() && options.require_head && report.entries > 0) {
    check.Fail(check.last_vouched() + 1,
               fmt::format("head file {} is missing (deleted?): nothing outside the database "
                           "shows the log was not cut after entry {}",
                           options_.head_file.filename().string(), check.last_vouched()));
  }
  report.ok = !check.failed();
  report.first_bad_seq = check.failed() ? check.first_bad() : 0;
  report.problem = check.problem();
  return report;
}

}  // namespace custos::audit
