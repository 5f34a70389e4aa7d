// Appending to the audit chain and sealing its head. Verification is in verify.cpp.
#include "audit/audit_log.h"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <fstream>
#include <iterator>
#include <optional>
#include <string_view>

#include <fmt/core.h>

#include "audit/canonical.h"
#include "audit/head_file.h"
#include "audit/tree_nodes.h"
#include "core/env.h"

namespace custos::audit {
namespace {

bool HasControlChar(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

// Every store failure while auditing means "cannot audit": the caller fails closed.
Status CannotWrite(std::string_view step, const Status& cause) {
  return Unavailable(fmt::format("audit log: {}: {}", step, cause.ToString()));
}

store::CheckpointRow SignCheckpoint(const crypto::SigningKey& key, int64_t seq,
                                    const crypto::Bytes& hash, int64_t ts_ms) {
  store::CheckpointRow cp;
  cp.seq = seq;
  cp.ts_ms = ts_ms;
  cp.hash = hash;
  cp.signature = key.Sign(CheckpointMessage(seq, hash));
  return cp;
}

}  // namespace

Status ValidateEvent(const AuditEvent& e) {
  const std::pair<std::string_view, const std::string*> strings[] = {
      {"actor", &e.actor},     {"action", &e.action},        {"target", &e.target},
      {"purpose", &e.purpose}, {"channel", &e.channel},      {"decision", &e.decision},
      {"reason", &e.reason},   {"request_id", &e.request_id}};
  for (const auto& [name, value] : strings) {
    if (HasControlChar(*value)) {
      return InvalidArgument(fmt::format("audit event {}: contains a control character", name));
    }
  }
  if (e.decision != "allow" && e.decision != "deny" && e.decision != "mask") {
    return InvalidArgument("audit event decision: must be allow, deny or mask");
  }
  for (size_t i = 0; i < e.fields.size(); ++i) {
    const std::string& f = e.fields[i];
    if (f.empty() || f.find(',') != std::string::npos || HasControlChar(f)) {
      return InvalidArgument(fmt::format(
          "audit event fields[{}]: a field name must be non-empty, without ',' or control "
          "characters (entries hold field names, never values)",
          i));
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const AuditOptions& options) {
  if (options.checkpoint_every == 0) {
    return InvalidArgument("audit checkpoint_every: must be at least 1");
  }
  if (options.public_key.empty()) return InvalidArgument("audit public_key: must not be empty");
  if (options.head_file.empty()) return InvalidArgument("audit head_file: must not be empty");
  if (options.signing_key != nullptr &&
      options.signing_key->PublicKeyBytes() != options.public_key) {
    return InvalidArgument("audit signing_key: does not match public_key");
  }
  auto log = std::unique_ptr<AuditLog>(new AuditLog(options));
  if (options.signing_key != nullptr) {
    // The tip MAC's key: HMAC(private key, label), a PRF output no other use shares.
    CUSTOS_ASSIGN_OR_RETURN(
        auto prf, crypto::Mac::New(options.suite, options.signing_key->PrivateKeyBytes()));
    constexpr std::string_view kLabel = "custos-audit-tip-mac/1 key";
    crypto::Bytes derived = prf->Compute(
        crypto::ByteView(reinterpret_cast<const uint8_t*>(kLabel.data()), kLabel.size()));
    const crypto::SecretBytes key(derived.begin(), derived.end());
    Botan::secure_scrub_memory(derived.data(), derived.size());
    CUSTOS_ASSIGN_OR_RETURN(log->tip_mac_, crypto::Mac::New(options.suite, key));
    constexpr std::string_view kJournalLabel = "custos-audit-journal-mac/1 key";
    crypto::Bytes journal = prf->Compute(crypto::ByteView(
        reinterpret_cast<const uint8_t*>(kJournalLabel.data()), kJournalLabel.size()));
    log->journal_key_.assign(journal.begin(), journal.end());
    Botan::secure_scrub_memory(journal.data(), journal.size());
    CUSTOS_ASSIGN_OR_RETURN(log->journal_mac_, crypto::Mac::New(options.suite, log->journal_key_));
  }
  return log;
}

int64_t AuditLog::Now() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

std::string AsText(const crypto::Bytes& bytes) { return std::string(bytes.begin(), bytes.end()); }

SignedHead SignHead(crypto::Suite suite, const crypto::SigningKey& key, int64_t seq,
                    const crypto::Bytes& hash, int64_t ts_ms) {
  SignedHead head;
  head.suite = suite;
  head.seq = seq;
  head.ts_ms = ts_ms;
  head.hash = hash;
  head.signature = key.Sign(CheckpointMessage(seq, hash));
  return head;
}

Status PutTip(store::Transaction& txn, const std::string& encoded) {
  const crypto::Bytes bytes(encoded.begin(), encoded.end());
  Status st = txn.PutMeta(kTipMetaKey, bytes);
  return st.ok() ? st : CannotWrite("write the signed tip", st);
}

}  // namespace

std::string AuditLog::MakeTip(int64_t seq, const crypto::Bytes& hash, int64_t ts_ms) const {
  const int64_t last = last_signed_tip_ms_.load(std::memory_order_relaxed);
  const bool sign = tip_mac_ == nullptr || options_.signed_tip_every_ms <= 0 ||
                    last == std::numeric_limits<int64_t>::min() || ts_ms < last ||
                    ts_ms - last >= options_.signed_tip_every_ms;
  if (sign) {
    last_signed_tip_ms_.store(ts_ms, std::memory_order_relaxed);
    return EncodeHead(SignHead(options_.suite, *options_.signing_key, seq, hash, ts_ms));
  }
  SignedHead tip;
  tip.suite = options_.suite;
  tip.seq = seq;
  tip.ts_ms = ts_ms;
  tip.hash = hash;
  tip.signature = tip_mac_->Compute(CheckpointMessage(seq, hash));
  return EncodeMacTip(tip);
}

Status AuditLog::VerifyTip(const StoredTip& tip) const {
  if (!tip.mac) return VerifyHead(tip.head, options_.suite, options_.public_key);
  if (tip.head.suite != options_.suite) {
    return DataLoss("names another suite than the vault (replaced?)");
  }
  if (tip_mac_ == nullptr) {
    return DataLoss("is a MAC only the vault's key can check (verify with the vault unlocked)");
  }
  if (!tip_mac_->Verify(CheckpointMessage(tip.head.seq, tip.head.hash), tip.head.signature)) {
    return DataLoss("MAC does not verify (forged or altered)");
  }
  return Status::Ok();
}

Status AuditLog::CheckTip(store::Transaction& txn,
                          const std::optional<store::AuditRow>& last) const {
  auto stored = txn.GetMeta(kTipMetaKey);
  if (!stored.ok()) return CannotWrite("read the signed tip", stored.status());
  const int64_t last_seq = last.has_value() ? last->seq : 0;
  if (!stored->has_value()) {
    if (!last.has_value()) return Status::Ok();
    // A vault from before signed tips: its last entry carries a signed checkpoint when the
    // vault was closed cleanly (SealHead). The first append then stores a tip.
    auto checkpoints = txn.ListCheckpoints();
    if (!checkpoints.ok()) return CannotWrite("list checkpoints", checkpoints.status());
    if (!checkpoints->empty() && checkpoints->back().seq == last_seq &&
        checkpoints->back().hash == last->hash &&
        crypto::VerifySignature(options_.suite, options_.public_key,
                                CheckpointMessage(last_seq, last->hash),
                                checkpoints->back().signature)
            .ok()) {
      return Status::Ok();
    }
    return DataLoss(fmt::format(
        "audit log: no signed tip is stored but the log ends at entry {} (tip removed?): run "
        "custos audit verify",
        last_seq));
  }
  const std::string text = AsText(**stored);
  // The tip this log last wrote or checked is neither parsed nor verified again.
  SignedHead known;
  bool is_known = false;
  {
    std::lock_guard<std::mutex> lock(tip_mu_);
    // Known only while it reaches the high-water mark: a tip this log wrote before it saw
    // another process's later entries may be put back after they were cut.
    if (text == known_tip_.text && known_tip_.seq >= high_water_.seq) {
      is_known = true;
      known.seq = known_tip_.seq;
      known.hash = known_tip_.hash;
    }
  }
  Result<StoredTip> stored_tip = StoredTip{};
  if (!is_known) {
    stored_tip = DecodeTip(text);
    if (!stored_tip.ok()) return DataLoss("audit log: the signed tip is malformed (edited?)");
    Status st = VerifyTip(*stored_tip);
    if (!st.ok()) return Status(st.code(), "audit log: the signed tip " + st.message());
  }
  const SignedHead* tip = is_known ? &known : &stored_tip->head;
  const crypto::Bytes last_hash = last.has_value() ? last->hash : GenesisHash();
  if (tip->seq < last_seq) {
    return DataLoss(fmt::format(
        "audit log: entries {}..{} are not signed (added without the signing key?): run "
        "custos audit verify",
        tip->seq + 1, last_seq));
  }
  if (tip->seq > last_seq) {
    return DataLoss(fmt::format(
        "audit log truncated: the signed tip records entry {}, the log ends at {}: run custos "
        "audit verify",
        tip->seq, last_seq));
  }
  if (tip->hash != last_hash) {
    return DataLoss(fmt::format(
        "audit log: entry {} is not the one the signed tip signs (rewritten?): run custos audit "
        "verify",
        last_seq));
  }
  if (!is_known) CUSTOS_RETURN_IF_ERROR(CheckHighWater(txn, last_seq, last_hash));
  RememberTip(text, tip->seq, tip->hash);
  return Status::Ok();
}

void AuditLog::ObserveCommitted(store::Store& store) const {
  auto txn = store.BeginRead();
  if (!txn.ok()) return;
  auto head = (*txn)->GetAuditHead();
  auto stored = (*txn)->GetMeta(kTipMetaKey);
  if (!head.ok() || !head->has_value() || !stored.ok() || !stored->has_value()) return;
  auto tip = DecodeTip(AsText(**stored));
  // Only an authentic tip over the log's end is a committed end; anything else is for the
  // next writer's CheckTip to refuse.
  if (!tip.ok() || !VerifyTip(*tip).ok() || tip->head.seq != (*head)->seq ||
      tip->head.hash != (*head)->hash) {
    return;
  }
  std::lock_guard<std::mutex> lock(tip_mu_);
  if ((*head)->seq <= high_water_.seq) return;
  high_water_.seq = (*head)->seq;
  high_water_.hash = (*head)->hash;
}

Status AuditLog::CheckHighWater(store::Transaction& txn, int64_t last_seq,
                                const crypto::Bytes& last_hash) const {
  int64_t seen_seq = 0;
  crypto::Bytes seen_hash;
  {
    std::lock_guard<std::mutex> lock(tip_mu_);
    seen_seq = high_water_.seq;
    seen_hash = high_water_.hash;
  }
  if (seen_seq == 0) return Status::Ok();
  if (seen_seq > last_seq) {
    return DataLoss(fmt::format(
        "audit log cut back: this process saw it reach entry {}, it now ends at {} under an "
        "earlier tip (entries removed and an old tip put back?): run custos audit verify",
        seen_seq, last_seq));
  }
  crypto::Bytes at_seen = last_hash;
  if (seen_seq < last_seq) {
    auto rows = txn.ReadAudit(seen_seq, 1);
    if (!rows.ok()) return CannotWrite("read an entry", rows.status());
    at_seen = rows->empty() || rows->front().seq != seen_seq ? crypto::Bytes{} : rows->front().hash;
  }
  if (at_seen != seen_hash) {
    return DataLoss(fmt::format(
        "audit log: entry {} is not the one this process saw (rewritten, with the entries after "
        "it?): run custos audit verify",
        seen_seq));
  }
  return Status::Ok();
}

void AuditLog::RememberTip(std::string text, int64_t seq, const crypto::Bytes& hash) const {
  std::lock_guard<std::mutex> lock(tip_mu_);
  known_tip_.text = std::move(text);
  known_tip_.seq = seq;
  known_tip_.hash = hash;
}

Result<std::optional<merkle::RootBuilder>> AuditLog::TreeFrontier(
    store::Transaction& txn, const std::optional<store::AuditRow>& head) const {
  const int64_t size = head.has_value() ? head->seq : 0;
  {
    std::lock_guard<std::mutex> lock(tree_mu_);
    if (tree_cache_.has_value() && tree_cache_->size == size &&
        tree_cache_->last_hash == (head.has_value() ? head->hash : GenesisHash())) {
      return std::optional<merkle::RootBuilder>(tree_cache_->tree);
    }
  }
  auto loaded = LoadFrontier(txn, options_.suite, size);
  // An entry missing under the tree: tampering Verify names. The append itself does not
  // depend on the tree, so it goes on without storing nodes.
  if (loaded.status().code() == Code::kDataLoss) return std::optional<merkle::RootBuilder>();
  if (!loaded.ok()) return CannotWrite("read the Merkle tree", loaded.status());
  return std::move(*loaded);
}

Status AuditLog::IndexKeys(store::Transaction& txn, int64_t head_seq, int64_t keys_batch) const {
  // Every keys_batch entries: the query keys of a batch are written in key order, so the few
  // pages the keys of staff ids, actions, decisions and purposes grow at are written once a
  // batch rather than once a commit (docs/decisions.md, "The audit query keys are written in
  // batches").
  constexpr size_t kKeysMaxBatch = 16384;  // a restored or copied log catches up in steps
  const int64_t min_tail = std::max<int64_t>(keys_batch, 1);
  const size_t most = min_tail >= kKeysBatch ? kKeysMaxBatch : static_cast<size_t>(min_tail);
  // The state row is read in txn each time (one small row): a count kept in memory could run
  // ahead of a rolled-back append.
  auto indexed = txn.IndexAuditKeys(head_seq, min_tail, most);
  if (!indexed.ok()) return CannotWrite("index the query keys", indexed.status());
  return Status::Ok();
}

Status AuditLog::Append(store::Transaction& txn, const AuditEvent& event) const {
  return AppendAndReturn(txn, event).status();
}

Status AuditLog::AppendAll(store::Transaction& txn, const std::vector<AuditEvent>& events,
                           int64_t keys_batch) const {
  for (const AuditEvent& e : events) CUSTOS_RETURN_IF_ERROR(ValidateEvent(e));
  if (events.empty()) return Status::Ok();
  if (options_.signing_key == nullptr) {
    return FailedPrecondition("audit log opened without a signing key: it can only verify");
  }
  if (!options_.journal_dir.empty()) {
    FoldReport report;
    std::vector<std::filesystem::path> closed;  // removed by the next FoldJournals
    CUSTOS_RETURN_IF_ERROR(
        FoldJournalsInto(txn, std::numeric_limits<size_t>::max(), report, closed, closed));
  }
  return AppendRows(txn, events, keys_batch);
}

Status AuditLog::AppendRows(store::Transaction& txn, const std::vector<AuditEvent>& events,
                            int64_t keys_batch) const {
  auto head = txn.GetAuditHead();
  if (!head.ok()) return CannotWrite("read head", head.status());
  CUSTOS_RETURN_IF_ERROR(CheckTip(txn, *head));
  CUSTOS_ASSIGN_OR_RETURN(std::optional<merkle::RootBuilder> tree, TreeFrontier(txn, *head));
  int64_t seq = head->has_value() ? (*head)->seq : 0;
  crypto::Bytes prev = head->has_value() ? (*head)->hash : GenesisHash();
  int64_t ts_ms = 0;
  // One row, refilled for each entry: its strings keep their buffers (a bulk import appends
  // thousands of entries per transaction).
  store::AuditRow row;
  std::vector<crypto::Bytes> leaves;
  if (tree.has_value()) leaves.reserve(events.size());
  for (const AuditEvent& event : events) {
    row.seq = ++seq;
    row.prev_hash = std::move(prev);
    row.ts_ms = event.ts_ms != 0 ? event.ts_ms : Now();
    row.actor = event.actor;
    row.action = event.action;
    row.target = event.target;
    row.purpose = event.purpose;
    row.channel = event.channel;
    row.decision = event.decision;
    row.reason = event.reason;
    JoinFieldsInto(event.fields, row.fields);
    row.request_id = event.request_id;
    row.hash = EntryHash(options_.suite, row);

    Status st = txn.AppendAudit(row);
    if (!st.ok()) return CannotWrite(fmt::format("append entry {}", row.seq), st);
    if (row.seq % options_.checkpoint_every == 0) {
      st =
          txn.InsertCheckpoint(SignCheckpoint(*options_.signing_key, row.seq, row.hash, row.ts_ms));
      if (!st.ok()) return CannotWrite(fmt::format("checkpoint entry {}", row.seq), st);
    }
    if (tree.has_value()) leaves.push_back(EntryLeafHash(options_.suite, row));
    prev = std::move(row.hash);
    ts_ms = row.ts_ms;
  }
  // The batch's tip, signed or MACed in the same transaction: no committed entry is
  // unauthenticated.
  const std::string tip = MakeTip(seq, prev, ts_ms);
  CUSTOS_RETURN_IF_ERROR(PutTip(txn, tip));
  CUSTOS_RETURN_IF_ERROR(IndexKeys(txn, seq, keys_batch));
  if (tree.has_value()) {
    CUSTOS_RETURN_IF_ERROR(AddLeaves(txn, leaves, *tree));
    // Kept for the next append; if txn is dropped instead, the log's end no longer matches.
    std::lock_guard<std::mutex> lock(tree_mu_);
    tree_cache_ = TreeCache{seq, prev, std::move(*tree)};
  }
  RememberTip(tip, seq, prev);
  return Status::Ok();
}

Result<store::AuditRow> AuditLog::AppendAndReturn(store::Transaction& txn,
                                                  const AuditEvent& event) const {
  CUSTOS_RETURN_IF_ERROR(AppendAll(txn, {event}));
  auto head = txn.GetAuditHead();
  if (!head.ok()) return CannotWrite("read head", head.status());
  if (!head->has_value()) return CannotWrite("read head", Unavailable("no entry"));
  return std::move(**head);
}

Result<SignedHead> AuditLog::SignHeadInStore(store::Store& store) const {
  auto txn = store.Begin();
  if (!txn.ok()) return CannotWrite("begin seal", txn.status());
  auto head = (*txn)->GetAuditHead();
  if (!head.ok()) return CannotWrite("read head", head.status());
  const int64_t seq = head->has_value() ? (*head)->seq : 0;
  const crypto::Bytes hash = head->has_value() ? (*head)->hash : GenesisHash();
  const int64_t ts_ms = Now();
  SignedHead signed_head = SignHead(options_.suite, *options_.signing_key, seq, hash, ts_ms);
  last_signed_tip_ms_.store(ts_ms, std::memory_order_relaxed);
  const std::string tip = EncodeHead(signed_head);
  CUSTOS_RETURN_IF_ERROR(PutTip(**txn, tip));
  if (seq > 0) {
    auto checkpoints = (*txn)->ListCheckpoints();
    if (!checkpoints.ok()) return CannotWrite("list checkpoints", checkpoints.status());
    if (checkpoints->empty() || checkpoints->back().seq != seq) {
      Status st = (*txn)->InsertCheckpoint(
          SignCheckpoint(*options_.signing_key, seq, hash, signed_head.ts_ms));
      if (!st.ok()) return CannotWrite(fmt::format("checkpoint entry {}", seq), st);
    } else if (checkpoints->back().hash != hash) {
      // Reseal after tampering: the stale checkpoint stays as evidence; Verify reports it.
      return DataLoss(fmt::format(
          "audit checkpoint at entry {} records another hash than the entry: run audit verify",
          seq));
    }
  }
  Status st = (*txn)->Commit();
  if (!st.ok()) return CannotWrite("commit seal", st);
  RememberTip(tip, seq, hash);
  return signed_head;
}

Status AuditLog::PublishHead(const SignedHead& head, bool create) const {
  CUSTOS_RETURN_IF_ERROR(create ? CreateHeadFile(options_.head_file, head)
                                : WriteHeadFile(options_.head_file, head));
  if (options_.witness_file.empty()) return Status::Ok();
  Status st = Env::Default().AppendDurable(options_.witness_file, EncodeHead(head), 0644);
  if (!st.ok()) return Status(st.code(), "audit witness file " + st.message());
  return Status::Ok();
}

Status AuditLog::CreateHead(store::Store& store) const {
  if (options_.signing_key == nullptr) {
    return FailedPrecondition("audit log opened without a signing key: cannot create the head");
  }
  std::lock_guard<std::mutex> lock(seal_mu_);
  if (Env::Default().FileExists(options_.head_file)) {
    return Conflict(fmt::format("audit head file {} exists already", options_.head_file.string()));
  }
  CUSTOS_ASSIGN_OR_RETURN(SignedHead head, SignHeadInStore(store));
  return PublishHead(head, /*create=*/true);
}

Status AuditLog::Reseal(store::Store& store) const {
  if (options_.signing_key == nullptr) {
    return FailedPrecondition("audit log opened without a signing key: cannot reseal");
  }
  std::lock_guard<std::mutex> lock(seal_mu_);
  CUSTOS_ASSIGN_OR_RETURN(SignedHead head, SignHeadInStore(store));
  return PublishHead(head, /*create=*/false);
}

namespace {

// A witness line longer than this is not a head (a head line is about 250 characters).
constexpr size_t kMaxWitnessLine = 65536;

// The furthest head the audit key signed in the witness file: heads only move forward, so it is
// its last line that is one. Lines after it that are not one (junk, a line of another key, a
// torn line a crash left, a line of any length) are passed over: they can neither stop a seal
// nor turn its check off, and Verify fails on them (naming the line), so `audit verify` and the
// doctor report them. nullopt when the file is missing or holds no such line. Reads the file
// backwards from its end, a block at a time, only as far as that line; a line over
// kMaxWitnessLine is passed over without being held whole (its bytes are dropped block by
// block until its start), so memory stays within a block and kMaxWitnessLine. DataLoss when there
// is no such head and a line over kMaxWitnessLine was passed over (not a head; edited?);
// Unavailable when the file cannot be read.
Result<std::optional<SignedHead>> LastSignedWitnessHead(const std::filesystem::path& path,
                                                        crypto::Suite suite,
                                                        crypto::ByteView public_key) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec) && !ec) return std::optional<SignedHead>();
    return Unavailable(fmt::format("audit witness file {}: cannot be read", path.string()));
  }
  constexpr std::streamoff kBlock = 16384;
  std::streamoff pos = in.tellg();
  std::string tail;  // the bytes from `pos` to the end of the lines not looked at yet
  // Dropping the bytes read until a newline: first what follows the last newline (it never
  // completed: a crash), later the rest of a line found over-long.
  bool dropping = true;
  size_t dropped = 0;      // bytes of the line being dropped
  bool over_long = false;  // a line over kMaxWitnessLine was passed over
  while (pos > 0) {
    const std::streamoff from = std::max<std::streamoff>(0, pos - kBlock);
    std::string block(static_cast<size_t>(pos - from), '\0');
    in.seekg(from);
    if (!in.read(block.data(), static_cast<std::streamsize>(block.size()))) {
      return Unavailable(fmt::format("audit witness file {}: cannot be read", path.string()));
    }
    pos = from;
    if (dropping) {
      const size_t newline = block.rfind('\n');
      dropped += newline == std::string::npos ? block.size() : block.size() - newline - 1;
      if (dropped > kMaxWitnessLine) over_long = true;
      if (newline == std::string::npos) continue;
      block.resize(newline + 1);
      tail = std::move(block);
      dropping = false;
      dropped = 0;
    } else {
      tail.insert(0, block);
    }
    // `tail` ends on a newline: take its lines from the last, each once it is whole.
    while (!tail.empty()) {
      const size_t end = tail.size() - 1;
      const size_t before = end == 0 ? std::string::npos : tail.rfind('\n', end - 1);
      if (before == std::string::npos && pos > 0) break;  // it starts in an earlier block
      const size_t begin = before == std::string::npos ? 0 : before + 1;
      if (end - begin > kMaxWitnessLine) {
        over_long = true;
      } else {
        auto head = DecodeHead(std::string_view(tail).substr(begin, end - begin));
        if (head.ok() && head->suite == suite && VerifyHead(*head, suite, public_key).ok()) {
          return std::optional<SignedHead>(*std::move(head));
        }
      }
      tail.resize(begin);
    }
    if (tail.size() > kMaxWitnessLine + 1) {  // a line too long to be a head: passed over
      over_long = true;
      dropping = true;
      dropped = tail.size();
      tail.clear();
    }
  }
  if (over_long) {
    return DataLoss(fmt::format(
        "audit witness file {}: a line of more than {} bytes, not a head (edited?): not sealed; "
        "run custos audit verify",
        path.string(), kMaxWitnessLine));
  }
  return std::optional<SignedHead>();
}

}  // namespace

Status AuditLog::CheckLastWitness(store::Transaction& txn, int64_t last_seq) const {
  if (options_.witness_file.empty()) return Status::Ok();
  CUSTOS_ASSIGN_OR_RETURN(
      const std::optional<SignedHead> witness,
      LastSignedWitnessHead(options_.witness_file, options_.suite, options_.public_key));
  if (!witness.has_value()) return Status::Ok();
  const std::string name = options_.witness_file.string();
  if (witness->seq > last_seq) {
    return DataLoss(fmt::format(
        "witness file {} holds head at seq {}, the log ends at {}: rollback or cut, not sealed "
        "(a restored copy must name a witness file of its own): run custos audit verify",
        name, witness->seq, last_seq));
  }
  if (witness->seq == 0) return Status::Ok();
  auto rows = txn.ReadAudit(witness->seq, 1);
  if (!rows.ok()) return CannotWrite("read an entry", rows.status());
  if (rows->empty() || rows->front().seq != witness->seq || rows->front().hash != witness->hash) {
    return DataLoss(fmt::format(
        "witness file {} signs another entry {} than the log holds (rewritten or rolled back?), "
        "not sealed: run custos audit verify",
        name, witness->seq));
  }
  return Status::Ok();
}

Status AuditLog::SealHead(store::Store& store) const {
  if (options_.signing_key == nullptr) {
    return FailedPrecondition("audit log opened without a signing key: cannot seal the head");
  }
  std::lock_guard<std::mutex> lock(seal_mu_);
  const std::string file = options_.head_file.filename().string();
  CUSTOS_ASSIGN_OR_RETURN(std::optional<SignedHead> old, ReadHeadFile(options_.head_file));
  if (!old.has_value()) {
    return FailedPrecondition(fmt::format(
        "audit head file {} is missing: heads only move forward, so a lost head is restored "
        "only by `custos audit reseal` (dual control); run custos audit verify first",
        options_.head_file.string()));
  }
  if (Status st = VerifyHead(*old, options_.suite, options_.public_key); !st.ok()) {
    return Status(st.code(), fmt::format("audit head file {}: {}", file, st.message()));
  }

  auto txn = store.Begin();
  if (!txn.ok()) return CannotWrite("begin seal", txn.status());
  auto head = (*txn)->GetAuditHead();
  if (!head.ok()) return CannotWrite("read head", head.status());
  CUSTOS_RETURN_IF_ERROR(CheckTip(**txn, *head));
  const int64_t last_seq = head->has_value() ? (*head)->seq : 0;
  if (last_seq < old->seq) {
    return DataLoss(
        fmt::format("audit log truncated: head file {} records entry {}, the log "
                    "ends at {}: run custos audit verify",
                    file, old->seq, last_seq));
  }
  CUSTOS_RETURN_IF_ERROR(CheckLastWitness(**txn, last_seq));
  // The log must extend the signed head: the same hash at its seq, then an intact chain.
  crypto::Bytes prev = GenesisHash();
  int64_t from = old->seq;
  if (old->seq == 0) {
    if (old->hash != prev) {
      return DataLoss(
          fmt::format("audit head file {}: seq 0 with another hash than the start "
                      "of the chain (forged?)",
                      file));
    }
    from = 1;
  }
  int64_t expected = from;
  constexpr size_t kPage = 10000;
  while (expected <= last_seq) {
    auto rows = (*txn)->ReadAudit(expected, kPage);
    if (!rows.ok()) return CannotWrite("read entries", rows.status());
    if (rows->empty()) break;
    for (const store::AuditRow& row : *rows) {
      if (row.seq != expected) {
        return DataLoss(
            fmt::format("the audit log diverges from the signed head at entry {} "
                        "(missing or renumbered): run custos audit verify",
                        expected));
      }
      if (row.seq == old->seq) {
        if (row.hash != old->hash) {
          return DataLoss(fmt::format(
              "the audit log diverges from the signed head at or before entry {}: head file "
              "{} signs another hash for it (rewritten?): run custos audit verify",
              row.seq, file));
        }
      } else if (row.prev_hash != prev || EntryHash(options_.suite, row) != row.hash) {
        return DataLoss(
            fmt::format("the audit log diverges from the signed head at entry {} "
                        "(edited, inserted or rehashed?): run custos audit verify",
                        row.seq));
      }
      prev = row.hash;
      ++expected;
    }
  }
  if (expected <= last_seq) {
    return DataLoss(
        fmt::format("the audit log diverges from the signed head at entry {} "
                    "(missing?): run custos audit verify",
                    expected));
  }
  if (last_seq == old->seq) return Status::Ok();  // nothing new: the head stands

  const store::AuditRow& last = **head;
  auto checkpoints = (*txn)->ListCheckpoints();
  if (!checkpoints.ok()) return CannotWrite("list checkpoints", checkpoints.status());
  store::CheckpointRow cp;
  const bool have_checkpoint = !checkpoints->empty() && checkpoints->back().seq == last.seq;
  if (have_checkpoint) {
    cp = checkpoints->back();
    if (cp.hash != last.hash) {
      return DataLoss(fmt::format(
          "audit checkpoint at entry {} records another hash than the entry: run audit verify",
          last.seq));
    }
  } else {
    cp = SignCheckpoint(*options_.signing_key, last.seq, last.hash, Now());
  }
  SignedHead sealed;
  sealed.suite = options_.suite;
  sealed.seq = cp.seq;
  sealed.ts_ms = cp.ts_ms;
  sealed.hash = cp.hash;
  sealed.signature = cp.signature;
  // A sealed log's tip is signed too (the checkpoint's signature over the same statement), so
  // a closed vault holds no MAC tip: the public key alone verifies it at rest.
  const std::string tip = EncodeHead(sealed);
  Status st = have_checkpoint ? Status::Ok() : (*txn)->InsertCheckpoint(cp);
  if (st.ok()) st = (*txn)->PutMeta(kTipMetaKey, crypto::Bytes(tip.begin(), tip.end()));
  if (st.ok()) st = (*txn)->Commit();
  if (!st.ok()) return CannotWrite(fmt::format("checkpoint entry {}", last.seq), st);
  txn->reset();
  RememberTip(tip, sealed.seq, sealed.hash);
  return PublishHead(sealed, /*create=*/false);
}

}  // namespace custos::audit
