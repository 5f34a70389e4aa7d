// AuditService: reading and verifying the audit log (P3.2c, P5, P6). Every call is admitted
// (audit.read / audit.verify) and is itself audited. Thread safety: safe for concurrent use.
//
// Merkle proofs (issue 13; audit/proofs.h, docs/audit.md): a signed tree head, inclusion and
// consistency proofs, under the audit.read grant (audited as audit.head, audit.prove,
// audit.consistency). Each is admitted through a read of the admission core whose entry
// records the sizes asked for; the work (a pass over the entries, O(n) hashing and
// O(log n) memory, outside any storage transaction) starts only once that entry is durable.
// "The current size" is the number of entries committed when the request was admitted: the
// request's own entry comes after it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/level.h"
#include "core/status.h"
#include "vault/context.h"
#include "vault/record_codec.h"

namespace custos::audit {
struct VerifyReport;
struct SignedTreeHead;
struct InclusionProof;
struct ConsistencyProof;
}  // namespace custos::audit

namespace custos::vault {

struct VaultState;

class AuditService {
 public:
  // Made by Vault::Open; borrows the vault's state, which outlives it.
  explicit AuditService(VaultState& state) : state_(&state) {}

  // --- audit (P3.2c) ---
  Result<audit::VerifyReport> Verify(const Context& ctx);
  Status Export(const Context& ctx, std::ostream& out_jsonl);
  Status Tail(const Context& ctx, size_t n, std::ostream& out_jsonl);

  // `custos audit reseal` (issue 13): recovery from a genuine loss of the audit head file,
  // under dual control. Verifies the log without the head file (chain, checkpoints, signed
  // tip, witness file, backup manifests); then, admitted under audit.verify, uses the actor's
  // approved audit_reseal request (another staff member approved it; it is marked "used"),
  // records "audit.reseal" naming it, and signs the log's head into a new head file
  // (AuditLog::Reseal). Returns the seq of the new head.
  // FailedPrecondition: the log does not verify without the head file (the message names the
  //   problem: a reseal never blesses tampering), or (recorded as a deny entry) the actor has
  //   no approved audit_reseal request in force.
  // Unavailable: the store or a file cannot be read or written.
  Result<int64_t> Reseal(const Context& ctx);

  // --- Merkle proofs (issue 13; audit_proofs.cpp) ---
  // The signed tree head of the log at its current size, timestamped with the request's time.
  // Refusals (recorded as deny entries): those of admission. DataLoss if an entry is missing;
  // Unavailable if the store cannot be read or the entry cannot be written.
  Result<audit::SignedTreeHead> TreeHead(const Context& ctx);
  // The inclusion proof of entry `seq` in the tree of the first `tree_size` entries (the
  // current size when nullopt). InvalidArgument (recorded as a deny entry) unless
  // 1 <= seq <= tree_size <= the current size; otherwise as TreeHead.
  Result<audit::InclusionProof> ProveInclusion(const Context& ctx, int64_t seq,
                                               std::optional<int64_t> tree_size);
  // The consistency proof between the trees of the first `first_size` and `second_size`
  // entries. InvalidArgument (recorded as a deny entry) unless
  // 0 <= first_size <= second_size <= the current size; otherwise as TreeHead.
  Result<audit::ConsistencyProof> ProveConsistency(const Context& ctx, int64_t first_size,
                                                   int64_t second_size);

 private:
  VaultState* state_;
};

}  // namespace custos::vault
