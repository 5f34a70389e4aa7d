// The one admission core; see admission.h for the steps and their guarantees.
#include "vault/admission.h"

#include <fmt/format.h>

#include "access/credentials.h"
#include "vault/authorize.h"
#include "vault/group_commit.h"
#include "vault/pending_token.h"
#include "vault/token_check.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using AuditEvents = std::vector<audit::AuditEvent>;

constexpr std::string_view kInvalidName = "(invalid)";
constexpr std::string_view kUnknownName = "(unknown)";

// Identity strings go into the audit log: a purpose must be a short printable token so that
// a hostile string cannot break the log's format.
bool PrintableToken(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u == 0x7f) return false;
  }
  return true;
}

// The context the operation asks for: the caller's, with the default purpose filled in.
Context Wanted(const VaultState& state, const Context& in, const Operation& op) {
  Context ctx = in;
  if (!ctx.purpose.empty() || op.basis == Basis::kSystem) return ctx;
  if (op.basis == Basis::kAdministration) {
    ctx.purpose = std::string(kAdministrationPurpose);
  } else if (!op.default_purpose.empty() &&
             state.config->FindPurpose(op.default_purpose) != nullptr) {
    ctx.purpose = std::string(op.default_purpose);
  }
  return ctx;
}

// A purpose the log may name: one of the catalogue or one the vault itself uses.
bool KnownPurpose(const VaultState& state, std::string_view purpose) {
  return purpose.empty() || purpose == kAdministrationPurpose || purpose == kLegalObligation ||
         purpose == kAuthenticationPurpose || state.config->FindPurpose(purpose) != nullptr;
}

// What the entries record: identity strings that are not valid are replaced by "(invalid)",
// and a purpose that is valid but neither the catalogue's nor the vault's by "(unknown)" — a
// caller's typed text (an ID number as a purpose) never reaches the log (issue 12 item 7). The
// vault's own context, Basis::kSystem, is recorded as given. An actor that is a valid id but no
// staff member is replaced after the lookup (Unknown below).
Context Recorded(const VaultState& state, const Context& wanted, const Operation& op) {
  Context ctx = wanted;
  if (op.basis == Basis::kSystem) return ctx;
  if (!access::ValidStaffId(ctx.actor)) ctx.actor = std::string(kInvalidName);
  if (!PrintableToken(ctx.purpose)) {
    ctx.purpose = std::string(kInvalidName);
  } else if (!KnownPurpose(state, ctx.purpose)) {
    ctx.purpose = std::string(kUnknownName);
  }
  return ctx;
}

// `ctx` with the actor recorded as "(unknown)" when no staff member has that id.
void ForgetUnknownActor(Context& ctx, bool staff_found) {
  if (!staff_found && ctx.actor != kInvalidName) ctx.actor = std::string(kUnknownName);
}

// Steps 3 and 4 of admission.h: why the actor may not go on (OK when they may).
Status Refusal(const VaultState& state, const Context& wanted, const Context& ctx,
               const Operation& op, const std::optional<store::StaffRow>& staff) {
  if (ctx.actor != wanted.actor) return Unauthenticated("actor: not a valid staff id");
  // The id is not echoed: a caller may have typed anything that passes as an id.
  if (!staff.has_value() || staff->status != "active") {
    return Unauthenticated("actor: no active staff account");
  }
  // Waits earned by failed logins apply to logins only: someone else's guesses must not stop
  // a staff member's work (issue 12, item 6).
  const bool for_purpose = op.basis == Basis::kPurpose;
  if (for_purpose && wanted.purpose.empty()) {
    return PermissionDenied(
        "purpose: required, none given; name one of the purpose catalogue "
        "(P3.3a)");
  }
  if (for_purpose &&
      (ctx.purpose != wanted.purpose || state.config->FindPurpose(ctx.purpose) == nullptr)) {
    return PermissionDenied("purpose: not in the purpose catalogue (P3.3a)");
  }
  if (for_purpose && state.config->dpo.RequiresPia("purpose") &&
      !state.config->FindPurpose(ctx.purpose)->legal_obligation &&
      !state.PurposeHasPia(ctx.purpose)) {
    return PermissionDenied(
        fmt::format("purpose: '{}' has no approved impact assessment in force (PIPL Art. 55; [dpo] "
                    "require_pia)",
                    ctx.purpose));
  }
  const schema::ActionInfo& info = schema::Info(op.action);
  if (!info.needs_grant || schema::Info(info.grant).data || op.body_decides_grant) {
    return Status::Ok();
  }
  if (!op.self.empty() && op.self == ctx.actor) return Status::Ok();
  const access::Decision d =
      access::DecideAction(*state.config, FactsOf(*staff), schema::ActionName(info.grant),
                           for_purpose ? std::string_view(ctx.purpose) : std::string_view());
  if (d.effect == access::Effect::kDeny) return PermissionDenied(d.reason);
  return Status::Ok();
}

audit::AuditEvent DenyEntry(const VaultState& state, const Context& ctx, const Operation& op,
                            const Status& refusal, std::vector<std::string> fields) {
  return state.DenyEvent(ctx, schema::ActionName(op.action), op.target, refusal, std::move(fields));
}

// The entries that record `v`: its further entries, then its own.
AuditEvents Entries(const VaultState& state, const Context& ctx, const Operation& op, Verdict& v) {
  AuditEvents out = std::move(v.before);
  if (!v.own_entry) return out;
  if (v.refusal.ok()) {
    out.push_back(state.Event(ctx, schema::ActionName(op.action),
                              v.target.empty() ? op.target : v.target, v.decision, v.reason,
                              std::move(v.fields)));
  } else {
    out.push_back(DenyEntry(state, ctx, op, v.refusal, v.fields.empty() ? op.fields : v.fields));
  }
  return out;
}

// Appends `events` to txn and commits; `result` when both succeed, else Unavailable.
Status RecordAndCommit(VaultState& state, store::Transaction& txn, const AuditEvents& events,
                       const Status& result) {
  // The entries and their signed tip (AuditLog::AppendAll), then the commit.
  Status st = state.audit->AppendAll(txn, events);
  if (!st.ok()) return Unavailable("audit log cannot be written: " + st.message());
  st = txn.Commit();
  if (!st.ok()) return Unavailable("audit log cannot be written: " + st.message());
  return result;
}

// Write's admission: begins the transaction and admits. A refusal is recorded as a deny entry
// (committed) and returned; on success the caller owns the open transaction.
struct Admitted {
  std::unique_ptr<store::Transaction> txn;
  Context ctx;  // what the entries record
  store::StaffRow actor;
  int64_t now_ms = 0;
};

Result<Admitted> AdmitWrite(VaultState& state, const Context& ctx_in, const Operation& op) {
  if (state.closed) return FailedPrecondition("vault is closed");
  const Context wanted = Wanted(state, ctx_in, op);
  Admitted a;
  a.ctx = Recorded(state, wanted, op);
  CUSTOS_ASSIGN_OR_RETURN(a.txn, state.store->Begin());
  if (op.basis == Basis::kSystem) {
    a.now_ms = state.Now();
    a.actor.staff_id = a.ctx.actor;
    return a;
  }
  std::optional<store::StaffRow> staff;
  if (a.ctx.actor == wanted.actor) {
    CUSTOS_ASSIGN_OR_RETURN(staff, a.txn->GetStaff(a.ctx.actor));
  }
  a.now_ms = state.Now();
  const Status refusal = Refusal(state, wanted, a.ctx, op, staff);
  ForgetUnknownActor(a.ctx, staff.has_value());
  if (!refusal.ok()) {
    return RecordAndCommit(state, *a.txn, {DenyEntry(state, a.ctx, op, refusal, op.fields)},
                           refusal);
  }
  a.actor = std::move(*staff);
  return a;
}

// Read's admission, for a step running in a group-commit batch: OK with the actor's cache
// entry, or the refusal to record as a deny entry and return.
struct BatchAdmission {
  Context ctx;                                           // what the entries record
  Status refusal;                                        // not OK: refused
  std::shared_ptr<const AccessCache::StaffEntry> staff;  // set when admitted
};

Result<BatchAdmission> AdmitRead(const VaultState& state, BatchScope& batch, const Context& ctx_in,
                                 const Operation& op) {
  const Context wanted = Wanted(state, ctx_in, op);
  BatchAdmission a;
  a.ctx = Recorded(state, wanted, op);
  std::shared_ptr<const AccessCache::StaffEntry> staff;
  if (a.ctx.actor == wanted.actor) {
    CUSTOS_ASSIGN_OR_RETURN(staff, batch.access.Staff(a.ctx.actor));
  }
  a.refusal = Refusal(state, wanted, a.ctx, op,
                      staff != nullptr ? staff->row : std::optional<store::StaffRow>());
  ForgetUnknownActor(a.ctx, staff != nullptr && staff->row.has_value());
  if (a.refusal.ok()) a.staff = std::move(staff);
  return a;
}

}  // namespace

Verdict Verdict::Allow(std::string reason, std::vector<std::string> fields) {
  Verdict v;
  v.reason = std::move(reason);
  v.fields = std::move(fields);
  return v;
}

Verdict Verdict::Deny(Status why, std::vector<std::string> fields) {
  Verdict v;
  v.refusal = std::move(why);
  v.decision = "deny";
  v.fields = std::move(fields);
  return v;
}

Verdict Verdict::Entries(std::vector<audit::AuditEvent> entries, Status refusal) {
  Verdict v;
  v.refusal = std::move(refusal);
  v.before = std::move(entries);
  v.own_entry = false;
  return v;
}

Result<access::StaffFacts> Scope::Facts(std::string_view customer_id) {
  if (cached_ != nullptr) return cached_->Facts(actor_.staff_id, customer_id, now_ms);
  return LoadStaffFacts(txn, actor_.staff_id, customer_id, now_ms);
}

audit::AuditEvent Scope::Event(schema::Action action, std::string_view target,
                               std::string_view decision, std::string_view reason,
                               std::vector<std::string> fields) const {
  return EventFor(ctx, schema::ActionName(action), target, decision, reason, std::move(fields));
}

namespace {

// The pending token an operation with `ctx` takes up: the thread's (pending_token.h) when
// the context names no actor, else none.
PendingToken* TokenFor(const Context& ctx) {
  return ctx.actor.empty() ? PendingTokenOfThisThread() : nullptr;
}

// The context with the actor the settled `token` named; Unauthenticated when it was refused.
// A token no operation settled yet is checked in a batch of its own first, as
// StaffService::Authenticate checks it (for the operations that are not reads).
Result<Context> WithTokenActor(VaultState& state, const Context& ctx, PendingToken& token) {
  if (!token.settled()) {
    token.MarkTried();
    const int64_t now = state.Now();
    const TokenProbe probe = ProbeToken(token.bearer());
    TokenVerdict verdict;
    CUSTOS_RETURN_IF_ERROR(state.reads->Run([&](BatchScope& batch) -> Result<AuditEvents> {
      CUSTOS_ASSIGN_OR_RETURN(
          verdict, CheckToken(state, batch, probe, ctx.request_id, ctx.channel, now, ctx.source));
      return verdict.deny;
    }));
    token.Settle(
        verdict.refusal.ok() ? Status::Ok() : Unauthenticated(std::string(kBadTokenMessage)),
        verdict.actor);
  }
  if (!token.outcome().ok()) return token.outcome();
  Context out = ctx;
  out.actor = token.actor();
  return out;
}

}  // namespace

Status Write(VaultState& state, const Context& ctx_in, const Operation& op, const Body& body) {
  PendingToken* token = TokenFor(ctx_in);
  Context with_actor;
  const Context* ctx = &ctx_in;
  if (token != nullptr) {
    if (state.closed) return FailedPrecondition("vault is closed");
    CUSTOS_ASSIGN_OR_RETURN(with_actor, WithTokenActor(state, ctx_in, *token));
    ctx = &with_actor;
  }
  CUSTOS_ASSIGN_OR_RETURN(Admitted a, AdmitWrite(state, *ctx, op));
  Scope scope(*a.txn, a.ctx, a.now_ms, a.actor, nullptr);
  CUSTOS_ASSIGN_OR_RETURN(Verdict verdict, body(scope));
  const Status result = verdict.refusal;
  return RecordAndCommit(state, *a.txn, Entries(state, a.ctx, op, verdict), result);
}

namespace {

// The reads whose entries may go to the audit journal: customer data only, never the log.
bool JournalledRead(schema::Action action) {
  switch (action) {
    case schema::Action::kCustomerRead:
    case schema::Action::kCustomerSearch:
    case schema::Action::kCustomerList:
    case schema::Action::kCustomerVerifyPassword:
    case schema::Action::kTxnRead:
    case schema::Action::kNoteRead:
      return true;
    default:
      return false;
  }
}

}  // namespace

Status Read(VaultState& state, const Context& ctx_in, const Operation& op, const Body& body) {
  if (state.closed) return FailedPrecondition("vault is closed");
  PendingToken* token = TokenFor(ctx_in);
  // The context admission sees: the caller's, or (with a pending token) a copy naming the
  // token's staff member once it is known.
  Context with_actor;
  const Context* ctx = &ctx_in;
  if (token != nullptr) {
    if (token->settled()) {
      CUSTOS_ASSIGN_OR_RETURN(with_actor, WithTokenActor(state, ctx_in, *token));
      token = nullptr;
    } else {
      with_actor = ctx_in;
    }
    ctx = &with_actor;
  }
  // A token not yet settled is checked in the read's own step (one batch per request): a
  // refused token records its auth.token entry and nothing else, as Authenticate would.
  TokenProbe probe;
  const int64_t token_now = token != nullptr ? state.Now() : 0;
  if (token != nullptr) {
    probe = ProbeToken(token->bearer());
    token->MarkTried();
  }
  Status result;
  TokenVerdict checked;
  // Reads of customer data may have their entries journalled ([audit] read_journal); a read of
  // the audit log itself (a query, a proof, a report) is batched, and its transaction sees the
  // journals folded.
  const bool may_journal = JournalledRead(op.action);
  CUSTOS_RETURN_IF_ERROR(state.reads->Run(
      [&](BatchScope& batch) -> Result<AuditEvents> {
        if (token != nullptr) {
          CUSTOS_ASSIGN_OR_RETURN(checked, CheckToken(state, batch, probe, ctx_in.request_id,
                                                      ctx_in.channel, token_now, ctx_in.source));
          if (!checked.refusal.ok()) {
            result = Unauthenticated(std::string(kBadTokenMessage));
            return checked.deny;
          }
          with_actor.actor = checked.actor;
        }
        // An accepted token's own entry (a new address, token_address.h) comes first.
        AuditEvents events = token != nullptr ? std::move(checked.deny) : AuditEvents{};
        // Once the token's address is written in the batch's transaction, a failure of the read
        // still appends that entry (SQLite keeps a failed step's writes in the transaction the
        // batch commits): the read's error is the answer, and no address is stored unrecorded.
        auto failed = [&](const Status& st) -> Result<AuditEvents> {
          if (events.empty()) return st;
          result = st;
          return std::move(events);
        };
        Result<BatchAdmission> admitted = AdmitRead(state, batch, *ctx, op);
        if (!admitted.ok()) return failed(admitted.status());
        BatchAdmission& a = *admitted;
        result = a.refusal;
        if (!result.ok()) {
          events.push_back(DenyEntry(state, a.ctx, op, result, op.fields));
          return events;
        }
        Scope scope(batch.txn, a.ctx, state.Now(), *a.staff->row, a.staff.get());
        Result<Verdict> read = body(scope);
        if (!read.ok()) return failed(read.status());
        Verdict& verdict = *read;
        result = verdict.refusal;
        AuditEvents entries = Entries(state, a.ctx, op, verdict);
        if (events.empty()) return entries;
        for (audit::AuditEvent& e : entries) events.push_back(std::move(e));
        return events;
      },
      may_journal));
  if (token != nullptr) {
    token->Settle(
        checked.refusal.ok() ? Status::Ok() : Unauthenticated(std::string(kBadTokenMessage)),
        checked.actor);
  }
  return result;
}

Result<Context> AdmitAndRecord(VaultState& state, const Context& ctx, const Operation& op,
                               std::string_view reason) {
  Context recorded;
  CUSTOS_RETURN_IF_ERROR(Write(state, ctx, op, [&](Scope& scope) -> Result<Verdict> {
    recorded = scope.ctx;
    return Verdict::Allow(std::string(reason));
  }));
  return recorded;
}

Status RecordRefusal(VaultState& state, const Context& ctx_in, const Operation& op,
                     const Status& why) {
  const Context ctx = Recorded(state, Wanted(state, ctx_in, op), op);
  auto txn = state.store->Begin();
  if (!txn.ok()) return Unavailable("audit log cannot be written: " + txn.status().message());
  return RecordAndCommit(state, **txn, {DenyEntry(state, ctx, op, why, op.fields)}, why);
}

Status CommitOutcome(VaultState& state, store::Transaction& txn, const Context& ctx,
                     const Operation& op, Verdict verdict) {
  const Status result = verdict.refusal;
  return RecordAndCommit(state, txn, Entries(state, ctx, op, verdict), result);
}

Status RecordOutcome(VaultState& state, const Context& ctx, const Operation& op, Verdict verdict) {
  auto txn = state.store->Begin();
  if (!txn.ok()) return Unavailable("audit log cannot be written: " + txn.status().message());
  return CommitOutcome(state, **txn, ctx, op, std::move(verdict));
}

}  // namespace custos::vault
