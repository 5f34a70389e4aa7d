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
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/level.h"
#include "core/status.h"
#include "vault/context.h"
#include "vault/record_codec.h"

namespace custos::store {
struct AuditRow;
}  // namespace custos::store

namespace custos::audit {
class JournalSkip;
struct JournalCheck;
struct QuarantineReport;
struct VerifyReport;
struct SignedTreeHead;
struct InclusionProof;
struct ConsistencyProof;
}  // namespace custos::audit

namespace custos::vault {

struct VaultState;

// What a DPO asks of the log (AuditService::Query, Follow). Every member set narrows the
// answer; unset members select everything. Values are checked before anything is read:
// InvalidArgument names the member (as the HTTP parameter: customer_id, actor, action,
// decision, purpose, from, to, cursor, limit), never the value given.
struct AuditQuery {
  std::string customer_id;         // entries whose target is this customer ("customer:<id>")
  std::string target;              // entries with exactly this target ("import:<id>"); not with
                                   // customer_id
  std::string actor;               // a staff id, "system", or "(unknown)" / "(invalid)"
  std::string action;              // a name of the action catalogue ("customer.read")
  std::string decision;            // "allow", "deny" or "mask"
  std::string purpose;             // a purpose of the catalogue or the vault's own, or "(unknown)"
  std::optional<int64_t> from_ms;  // entries at or after this time (ms since the epoch, UTC)
  std::optional<int64_t> to_ms;    // entries before this time
  std::string cursor;              // next_cursor of the previous page; empty: the first page
  int64_t limit = 100;             // entries per page, 1 to kMaxAuditPage
  // Only among the newest `within_last` entries committed when the first page is admitted (0:
  // the whole log): GET /v1/audit/entries' "tail", filtered in the store.
  int64_t within_last = 0;
};

inline constexpr int64_t kMaxAuditPage = 1000;

struct AuditPage {
  std::vector<store::AuditRow> entries;  // in seq order
  // Empty when the query has no further entries; otherwise pass it as AuditQuery::cursor.
  std::string next_cursor;
};

// A time bound of an audit query as the CLI (--since, --until) and the API (from, to) take
// it: "YYYY-MM-DD" (midnight UTC starting that day; with `end_of_day`, midnight ending it, so
// that "--until 2026-03-31" includes the 31st) or an ISO 8601 date-time with "Z" or an offset
// ("2026-03-31T12:00:00+08:00", the exact instant). Milliseconds since the epoch.
// InvalidArgument "<param>: must be YYYY-MM-DD or an ISO 8601 date-time", "<param>: not a
// real date ...", "<param>: a date-time needs Z or an offset"; the text is never echoed.
// With `zone` (an IANA name: the company's, [server] time_zone), a bare date is that zone's
// day instead — its local midnight, and with `end_of_day` the next day's — as the DPO's period
// tools read it (reports, consent coverage, self-assessment, evidence; docs/dpo.md).
Result<int64_t> ParseAuditTime(std::string_view param, std::string_view text, bool end_of_day,
                               std::string_view zone = "UTC");

// The audit journals of the vault (AuditService::Journals; SQLite's read journal, docs/audit.md).
struct JournalsReport {
  std::vector<audit::JournalCheck> journals;  // in the journal directory, in name order
  std::vector<std::string> quarantined;       // ids of the files set aside in its quarantine/
};

// Receives each followed entry; an error stops Follow and is returned.
using AuditSink = std::function<Status(const store::AuditRow&)>;

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

  // --- the read journal's files (audit_journals.cpp; docs/audit.md, "A damaged journal") ---
  // Every audit journal and its state — held by a live process, records folded and waiting,
  // damaged — and the journals in quarantine. Admitted under audit.read, recorded as
  // "audit.journals" (the reason counts them and names damaged ones). A damaged journal
  // blocks every write of the log; this operation's own entry passes over it (audit::JournalSkip).
  // Refusals of admission (recorded). Unavailable: the store or the directory cannot be read.
  Result<JournalsReport> Journals(const Context& ctx);

  // `custos audit quarantine-journal ID` (P4: responding to an incident): sets damaged journal
  // `id` aside so the log can be written again. Its authentic records before the damage are
  // folded into the log; "audit.journal.quarantine" records the journal, the damaged record,
  // the records folded, the bytes set aside and the file's SHA-256 (never contents); after the
  // commit the file is moved into the journal directory's quarantine/ as the incident's
  // evidence. Admitted under incident.manage (the security administrator).
  // Refusals (recorded as deny entries): admission's; InvalidArgument (not a journal id: the
  // entry's target is then "journal:(invalid id)");
  // NotFound (no such journal); FailedPrecondition (a live process holds it: stop it first;
  // or it is not damaged: a fold takes it). Running it again after a crash finishes the move.
  // Unavailable: the store or a file cannot be read or written.
  Result<audit::QuarantineReport> QuarantineJournal(const Context& ctx, std::string_view id);
  // For the commands that report or quarantine damaged journals (custos doctor, audit journals,
  // audit quarantine-journal): while the result lives, this thread's writes of the log — the
  // token's authentication, the command, the seal at Close — pass over the journals damaged
  // now; every other thread still fails on them. Unavailable: the journals cannot be read.
  Result<std::unique_ptr<audit::JournalSkip>> PassOverDamagedJournals();

  // --- queries for the DPO (issue 13 item 5; audit_query.cpp) ---
  // One page of the entries `query` selects, in seq order, read through the indexes of the
  // store (no scan of the log for an equality filter). The first page fixes the query's end:
  // the entries committed when it is admitted; later pages (query.cursor) answer from that
  // same set, so paging loses and repeats nothing while the log grows. Admitted as a read
  // under audit.read and recorded as "audit.query" (target the customer when one is named,
  // "audit" otherwise; the reason names the filters used and the page, never their values);
  // the page is read after that entry is durable, outside the batch.
  // InvalidArgument (recorded as a deny entry): a member is malformed (see AuditQuery).
  // Refusals of admission (recorded). Unavailable: the store cannot be read or written.
  Result<AuditPage> Query(const Context& ctx, const AuditQuery& query);

  // Streams the entries `filter` selects (its cursor and limit are ignored) with seq >
  // after_seq (nullopt: from the log's end at admission), as they are appended: reads the
  // store by seq every `poll_ms` milliseconds and hands each entry to `sink`, in seq order,
  // until `stop()` returns true (checked between polls, at least every poll_ms) or the sink
  // fails. Admitted once, under audit.read, recorded as "audit.follow".
  // OK when stopped; the sink's error; InvalidArgument / refusals as Query; Unavailable.
  Status Follow(const Context& ctx, const AuditQuery& filter, std::optional<int64_t> after_seq,
                const AuditSink& sink, const std::function<bool()>& stop, int64_t poll_ms = 250);

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
