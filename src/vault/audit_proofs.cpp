// The audit log's Merkle proofs as admitted operations (audit_service.h, issue 13): a signed
// tree head, inclusion and consistency proofs. Each is a read of the admission core whose
// body only checks the sizes asked for against the log's current size (one row read); the
// pass over the entries runs after the entry recording the request is durable, outside any
// transaction, so a proof over millions of entries never holds up a batch of reads.
#include <fmt/format.h>

#include "audit/proofs.h"
#include "audit/tree_head.h"
#include "vault/admission.h"
#include "vault/audit_service.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using schema::Action;

constexpr std::string_view kAuditTarget = "audit";

// The entries committed before this request (its own entry comes later).
Result<int64_t> CurrentSize(Scope& s) {
  CUSTOS_ASSIGN_OR_RETURN(std::optional<store::AuditRow> head, s.txn.GetAuditHead());
  return head.has_value() ? head->seq : 0;
}

}  // namespace

Result<audit::SignedTreeHead> AuditService::TreeHead(const Context& ctx) {
  VaultState& m = *state_;
  const Operation op{Action::kAuditHead, std::string(kAuditTarget)};
  int64_t size = 0;
  int64_t now = 0;
  CUSTOS_RETURN_IF_ERROR(Read(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(size, CurrentSize(s));
    now = s.now_ms;
    return Verdict::Allow(fmt::format("signed tree head of {} entries", size));
  }));
  return audit::MakeTreeHead(*m.store, m.audit->options().suite, *m.signing_key, size, now);
}

Result<audit::InclusionProof> AuditService::ProveInclusion(const Context& ctx, int64_t seq,
                                                           std::optional<int64_t> tree_size) {
  VaultState& m = *state_;
  const Operation op{Action::kAuditProve, std::string(kAuditTarget)};
  int64_t size = 0;
  CUSTOS_RETURN_IF_ERROR(Read(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(const int64_t current, CurrentSize(s));
    size = tree_size.value_or(current);
    if (size < 1 || size > current) {
      return Verdict::Deny(InvalidArgument(fmt::format(
          "size: the log has {} entries; a tree size must be 1 to {}", current, current)));
    }
    if (seq < 1 || seq > size) {
      return Verdict::Deny(
          InvalidArgument(fmt::format("seq: must be 1 to the tree size ({})", size)));
    }
    return Verdict::Allow(
        fmt::format("inclusion proof of entry {} in the tree of {} entries", seq, size));
  }));
  return audit::ProveInclusion(*m.store, m.audit->options().suite, seq, size);
}

Result<audit::ConsistencyProof> AuditService::ProveConsistency(const Context& ctx,
                                                               int64_t first_size,
                                                               int64_t second_size) {
  VaultState& m = *state_;
  const Operation op{Action::kAuditConsistency, std::string(kAuditTarget)};
  CUSTOS_RETURN_IF_ERROR(Read(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(const int64_t current, CurrentSize(s));
    if (second_size < 0 || second_size > current) {
      return Verdict::Deny(InvalidArgument(fmt::format(
          "to: the log has {} entries; the second size must be 0 to {}", current, current)));
    }
    if (first_size < 0 || first_size > second_size) {
      return Verdict::Deny(
          InvalidArgument(fmt::format("from: must be 0 to the second size ({})", second_size)));
    }
    return Verdict::Allow(
        fmt::format("consistency proof from {} to {} entries", first_size, second_size));
  }));
  return audit::ProveConsistency(*m.store, m.audit->options().suite, first_size, second_size);
}

}  // namespace custos::vault
