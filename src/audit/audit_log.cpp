// Appending to the audit chain and sealing its head. Verification is in verify.cpp.
#include "audit/audit_log.h"

#include <chrono>
#include <string_view>

#include <fmt/core.h>

#include "audit/canonical.h"
#include "audit/head_file.h"

namespace custos::audit {
namespace {

bool HasControlChar(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

// Messages name the event field and the rule, never the value (it may be hostile input).
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

std::string JoinFields(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += fields[i];
  }
  return out;
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
  return std::unique_ptr<AuditLog>(new AuditLog(options));
}

int64_t AuditLog::Now() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status AuditLog::Append(store::Transaction& txn, const AuditEvent& event) const {
  return AppendAndReturn(txn, event).status();
}

Result<store::AuditRow> AuditLog::AppendAndReturn(store::Transaction& txn,
                                                  const AuditEvent& event) const {
  CUSTOS_RETURN_IF_ERROR(ValidateEvent(event));
  if (options_.signing_key == nullptr) {
    return FailedPrecondition("audit log opened without a signing key: it can only verify");
  }
  auto head = txn.GetAuditHead();
  if (!head.ok()) return CannotWrite("read head", head.status());

  store::AuditRow row;
  row.seq = head->has_value() ? (*head)->seq + 1 : 1;
  row.prev_hash = head->has_value() ? (*head)->hash : GenesisHash();
  row.ts_ms = Now();
  row.actor = event.actor;
  row.action = event.action;
  row.target = event.target;
  row.purpose = event.purpose;
  row.channel = event.channel;
  row.decision = event.decision;
  row.reason = event.reason;
  row.fields = JoinFields(event.fields);
  row.request_id = event.request_id;
  row.hash = EntryHash(options_.suite, row);

  Status st = txn.AppendAudit(row);
  if (!st.ok()) return CannotWrite(fmt::format("append entry {}", row.seq), st);
  if (row.seq % options_.checkpoint_every == 0) {
    st = txn.InsertCheckpoint(SignCheckpoint(*options_.signing_key, row.seq, row.hash, row.ts_ms));
    if (!st.ok()) return CannotWrite(fmt::format("checkpoint entry {}", row.seq), st);
  }
  return row;
}

Status AuditLog::SealHead(store::Store& store) const {
  if (options_.signing_key == nullptr) {
    return FailedPrecondition("audit log opened without a signing key: cannot seal the head");
  }
  std::lock_guard<std::mutex> lock(seal_mu_);
  auto txn = store.Begin();
  if (!txn.ok()) return CannotWrite("begin seal", txn.status());
  auto head = (*txn)->GetAuditHead();
  if (!head.ok()) return CannotWrite("read head", head.status());

  SignedHead sealed;
  sealed.suite = options_.suite;
  if (!head->has_value()) {
    // An empty log is sealed too: a later head file at seq 0 still shows nothing was cut.
    sealed.ts_ms = Now();
    sealed.hash = GenesisHash();
    sealed.signature = options_.signing_key->Sign(CheckpointMessage(0, sealed.hash));
    txn->reset();
    return WriteHeadFile(options_.head_file, sealed);
  }
  const store::AuditRow& last = **head;
  auto checkpoints = (*txn)->ListCheckpoints();
  if (!checkpoints.ok()) return CannotWrite("list checkpoints", checkpoints.status());
  store::CheckpointRow cp;
  if (!checkpoints->empty() && checkpoints->back().seq == last.seq) {
    cp = checkpoints->back();
    if (cp.hash != last.hash) {
      return DataLoss(fmt::format(
          "audit checkpoint at entry {} records another hash than the entry: run audit verify",
          last.seq));
    }
    txn->reset();
  } else {
    cp = SignCheckpoint(*options_.signing_key, last.seq, last.hash, Now());
    Status st = (*txn)->InsertCheckpoint(cp);
    if (st.ok()) st = (*txn)->Commit();
    if (!st.ok()) return CannotWrite(fmt::format("checkpoint entry {}", last.seq), st);
    txn->reset();
  }
  sealed.seq = cp.seq;
  sealed.ts_ms = cp.ts_ms;
  sealed.hash = cp.hash;
  sealed.signature = cp.signature;
  return WriteHeadFile(options_.head_file, sealed);
}

}  // namespace custos::audit
