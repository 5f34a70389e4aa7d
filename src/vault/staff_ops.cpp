// Staff and authentication (issue 3, P4a, P5b; issue 12): logins and API tokens, staff
// accounts, TOTP enrolment and training records. Every operation taking a Context is a body of
// the admission core (admission.h): it runs in one storage transaction with its audit entry,
// refusals are recorded as "deny". Login and token checks come before any actor exists and
// record their own entries. Secrets (passwords, tokens, TOTP secrets and codes) never reach
// an audit entry or an error message.
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <optional>

#include "access/approval.h"
#include "access/credentials.h"
#include "access/lockout.h"
#include "access/token.h"
#include "access/totp.h"
#include "access/training.h"
#include "vault/access_cache.h"
#include "vault/admin_action.h"
#include "vault/admission.h"
#include "vault/staff_rules.h"
#include "vault/text_helpers.h"
#include "vault/token_address.h"
#include "vault/token_check.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using schema::Action;

constexpr int64_t kMaxTokenTtlMs = 90LL * 24 * 3600 * 1000;
constexpr std::string_view kUnauthenticatedActor = "(unauthenticated)";
// The one answer to every failed login (issue 12, item 6); refused tokens: kBadTokenMessage.
constexpr std::string_view kWrongLogin = "staff id, password or code is wrong";

bool Printable(std::string_view s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u != 0x7f;
  });
}

std::string JoinRoles(const std::vector<std::string>& roles) {
  return fmt::format("{}", fmt::join(roles, ","));
}

}  // namespace

TokenProbe ProbeToken(std::string_view bearer_token) {
  TokenProbe probe;
  if (!access::LooksLikeToken(bearer_token)) {
    probe.malformed = Unauthenticated("token: not a Custos API token");
  } else {
    probe.hash = access::TokenHash(bearer_token);
  }
  return probe;
}

Result<TokenVerdict> CheckToken(const VaultState& state, BatchScope& scope, const TokenProbe& probe,
                                std::string_view request_id, Channel channel, int64_t now_ms,
                                std::string_view source) {
  Context ctx;
  ctx.actor = std::string(kUnauthenticatedActor);
  ctx.purpose = "authentication";
  ctx.channel = channel;
  ctx.request_id = Printable(request_id, 128) ? std::string(request_id) : "";
  std::string target = "token:(unknown)";
  std::string token_id;
  TokenVerdict verdict;
  verdict.refusal = probe.malformed;
  // From the access cache: a revoked token or a disabled account is refused on the very next
  // request, since every such change writes a new access epoch (access_cache.h); expiry is
  // compared with the time of this request. Failed logins do not stop tokens (waits apply to
  // logins only).
  if (verdict.refusal.ok()) {
    CUSTOS_ASSIGN_OR_RETURN(auto token, scope.access.Token(probe.hash));
    if (!token.has_value()) {
      verdict.refusal = Unauthenticated("token: unknown");
    } else {
      target = IdTarget("token", token->token_id);
      token_id = token->token_id;
      ctx.actor = token->staff_id;
      CUSTOS_ASSIGN_OR_RETURN(auto staff, scope.access.Staff(token->staff_id));
      if (token->revoked_at_ms != 0) {
        verdict.refusal = Unauthenticated("token: revoked");
      } else if (now_ms >= token->expires_at_ms) {
        verdict.refusal = Unauthenticated("token: expired");
      } else if (!staff->row.has_value() || staff->row->status != "active") {
        verdict.refusal = Unauthenticated(fmt::format("staff '{}': not active", token->staff_id));
      }
    }
  }
  // A valid token is not itself an access to customer data: the operation it authenticates is
  // audited with the actor, so a successful authentication adds no entry of its own (one
  // entry per request; issue 3 point 8). Refusals are audited.
  if (verdict.refusal.ok()) {
    // ...except the first use of the token from an address (token_address.h): once per token
    // and address, never per request.
    ctx.source = std::string(source);
    CUSTOS_ASSIGN_OR_RETURN(auto noted,
                            NoteTokenAddress(state.token_addresses, scope.txn, ctx, token_id));
    if (noted.has_value()) verdict.deny.push_back(std::move(*noted));
    verdict.actor = std::move(ctx.actor);
  } else {
    verdict.deny.push_back(state.DenyEvent(ctx, "auth.token", target, verdict.refusal));
  }
  return verdict;
}

// --- authentication ---

Result<std::string> StaffService::Authenticate(std::string_view bearer_token,
                                               std::string_view request_id, Channel channel,
                                               std::string_view source) {
  VaultState& impl = *state_;
  if (impl.closed) return FailedPrecondition("vault is closed");
  const int64_t now = impl.Now();
  // The hash in the request's thread, not the batch's. The precise reason of a refusal goes
  // to the audit entry only: the answer is the same for every bad token, so it tells a holder
  // of a stolen or guessed token nothing (issue 12, item 6).
  const TokenProbe probe = ProbeToken(bearer_token);
  TokenVerdict verdict;
  CUSTOS_RETURN_IF_ERROR(impl.reads->Run([&](BatchScope& scope) -> Result<AuditEvents> {
    CUSTOS_ASSIGN_OR_RETURN(verdict,
                            CheckToken(impl, scope, probe, request_id, channel, now, source));
    return verdict.deny;
  }));
  if (!verdict.refusal.ok()) return Unauthenticated(std::string(kBadTokenMessage));
  return verdict.actor;
}

namespace {

// The last accepted TOTP step as stored: 8 bytes, big-endian.
store::Bytes EncodeStep(int64_t step) {
  store::Bytes out(8);
  for (size_t i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(step >> (56 - 8 * i));
  return out;
}

int64_t DecodeStep(const store::Bytes& bytes) {
  // Unreadable: every step counts as used, refusing rather than allowing a replay.
  if (bytes.size() != 8) return std::numeric_limits<int64_t>::max();
  uint64_t v = 0;
  for (uint8_t b : bytes) v = (v << 8) | b;
  return static_cast<int64_t>(v);
}

// The login limits of this vault's custos.toml ([access]): per staff id and per address.
access::LockoutPolicy AccountLimits(const schema::Config& config) {
  return access::LockoutPolicy{static_cast<int64_t>(config.access.max_failures),
                               static_cast<int64_t>(config.access.lockout_minutes) * 60 * 1000};
}
access::LockoutPolicy AddressLimits(const schema::Config& config) {
  return access::LockoutPolicy{static_cast<int64_t>(config.access.address_max_failures),
                               static_cast<int64_t>(config.access.lockout_minutes) * 60 * 1000};
}

std::string IdKey(std::string_view staff_id) { return fmt::format("id:{}", staff_id); }
// An IPv6 client counts by its /64 network (access::AddressGroup).
std::string AddressKey(std::string_view source) {
  return fmt::format("addr:{}", access::AddressGroup(source));
}

// Vault metadata marking a password an administrator set: the next login must change it.
std::string ResetKey(std::string_view staff_id) {
  return fmt::format("password_reset:{}", staff_id);
}

Result<bool> ChangeRequired(store::Transaction& txn, std::string_view staff_id) {
  CUSTOS_ASSIGN_OR_RETURN(std::optional<store::Bytes> mark, txn.GetMeta(ResetKey(staff_id)));
  return mark.has_value() && !mark->empty();
}

Status MarkReset(store::Transaction& txn, std::string_view staff_id, bool reset) {
  static constexpr uint8_t kSet = 1;
  return txn.PutMeta(ResetKey(staff_id), reset ? store::ByteView(&kSet, 1) : store::ByteView());
}

// The outcome of checking a login's password and code outside the write transaction.
struct LoginCheck {
  std::string checked_hash;  // the stored hash the password was checked against ("": none)
  bool password_ok = false;
  bool totp_ok = false;
  bool totp_missing = false;  // required but not enrolled
  int64_t totp_step = -1;     // the step of the accepted code (-1: none)
  std::string new_hash;       // the new password's hash, when one was given and may be set
  Status new_password_bad;    // why the new password may not be set (checked after the old)
};

// The key of a login's per-id waits: the staff id typed, whether or not an account has it
// (a guesser must not tell them apart by who waits).
std::string LimitId(std::string_view staff_id) {
  return IdKey(access::ValidStaffId(staff_id) ? staff_id : "(invalid)");
}

// The context of a login: no actor is authenticated yet; the staff id typed stands in for
// it when it names a staff member, "(unknown)" when it is a valid id that names nobody and
// "(invalid)" otherwise — a caller's typed text (an ID number typed as a staff id) never
// reaches the log (issue 12 item 7). Unavailable when the staff table cannot be read.
Result<Context> LoginContext(VaultState& impl, const Context& in, std::string_view staff_id) {
  Context ctx;
  ctx.actor = "(invalid)";
  if (access::ValidStaffId(staff_id)) {
    CUSTOS_ASSIGN_OR_RETURN(auto read, impl.store->Begin());
    CUSTOS_ASSIGN_OR_RETURN(std::optional<store::StaffRow> staff, read->GetStaff(staff_id));
    ctx.actor = staff.has_value() ? std::string(staff_id) : "(unknown)";
  }
  ctx.purpose = "authentication";
  ctx.channel = in.channel;
  ctx.request_id = Printable(in.request_id, 128) ? in.request_id : "";
  ctx.source = Printable(in.source, 64) ? in.source : "";
  return ctx;
}

std::string WaitMessage(int64_t wait_ms) {
  return fmt::format("login: too many failed attempts; try again in {} s", (wait_ms + 999) / 1000);
}

// Step 1 of a login (no password checked yet): a wait earned by failed logins of the staff
// id or of the source address, counted in this process's memory, refuses the attempt
// (ResourceExhausted, audited once per wait); so does a full set of concurrent password
// checks (not audited: nothing was tried). OK: a check slot is taken. On the CLI — a new
// process each time, run on the vault host by someone who can read its files — the count
// stored in an existing account's row stands in for the memory. A server never reads it:
// after a restart an existing id would wait while an unknown one would not, telling which
// ids exist; the server's own memory counts both alike.
Status AdmitAttempt(VaultState& impl, const Context& ctx, const Operation& op,
                    std::string_view staff_id, int64_t* retry_after_ms) {
  const int64_t now = impl.Now();
  LoginLimiter::Wait by_address;
  if (!ctx.source.empty()) by_address = impl.login_limits.Check(AddressKey(ctx.source), now);
  const LoginLimiter::Wait by_id = impl.login_limits.Check(LimitId(staff_id), now);
  int64_t stored_wait = 0;
  // A refusal from memory needs no read.
  if (ctx.channel == Channel::kCli && by_address.ms == 0 && by_id.ms == 0 &&
      access::ValidStaffId(staff_id)) {
    CUSTOS_ASSIGN_OR_RETURN(auto read, impl.store->Begin());
    CUSTOS_ASSIGN_OR_RETURN(auto cred, read->GetStaffCredential(staff_id));
    if (cred.has_value() && access::IsLocked(*cred, now)) stored_wait = cred->locked_until_ms - now;
  }
  const int64_t wait = std::max({by_address.ms, by_id.ms, stored_wait});
  if (wait > 0) {
    if (retry_after_ms != nullptr) *retry_after_ms = wait;
    Status refusal = ResourceExhausted(WaitMessage(wait));
    // Once per wait (a flood of refused attempts must not flood the log); the CLI, whose
    // waits are the stored ones, records each.
    if (by_address.first || by_id.first || by_id.ms == 0) {
      return RecordRefusal(impl, ctx, op, refusal);
    }
    return refusal;
  }
  if (!impl.login_limits.TryBeginCheck(impl.config->access.login_concurrency)) {
    if (retry_after_ms != nullptr) *retry_after_ms = 1000;
    return ResourceExhausted("login: too many logins at once; try again in 1 s");
  }
  return Status::Ok();
}

// Step 2 (read only, no lock held; Argon2id takes tens of milliseconds, too long to hold the
// store's writer slot): exactly one Argon2id run whether or not the staff id exists and has
// a password, so timing does not tell them apart; a second only to hash a new password after
// the old one matched. Gives back the check slot AdmitAttempt took.
Result<LoginCheck> CheckLogin(VaultState& impl, std::string_view staff_id,
                              std::string_view password, std::string_view totp_code,
                              std::string_view new_password, bool second_factor_required) {
  struct Slot {
    LoginLimiter& limits;
    ~Slot() { limits.EndCheck(); }
  } slot{impl.login_limits};
  std::optional<store::StaffRow> staff;
  std::optional<store::StaffCredentialRow> cred;
  if (access::ValidStaffId(staff_id)) {
    CUSTOS_ASSIGN_OR_RETURN(auto read, impl.store->Begin());
    CUSTOS_ASSIGN_OR_RETURN(staff, read->GetStaff(staff_id));
    CUSTOS_ASSIGN_OR_RETURN(cred, read->GetStaffCredential(staff_id));
  }
  LoginCheck check;
  const bool real = staff.has_value() && cred.has_value() && !cred->password_hash.empty();
  if (real) check.checked_hash = cred->password_hash;
  const bool matches =
      access::PasswordMatches(password, real ? check.checked_hash : access::DummyPasswordHash());
  check.password_ok = real && matches;
  if (!real) return check;
  const bool required = second_factor_required || NeedsSecondFactor(impl, *staff);
  if (!cred->totp_sealed.empty()) {
    auto secret = access::OpenTotpSecret(impl.keyring->provider(), staff_id, cred->totp_sealed);
    check.totp_step =
        secret.ok() ? access::MatchTotpStep(*secret, totp_code, impl.Now()) : int64_t{-1};
    check.totp_ok = check.totp_step >= 0;
  } else {
    check.totp_ok = !required;
    check.totp_missing = required;
  }
  if (check.password_ok && !new_password.empty()) {
    check.new_password_bad = access::CheckPasswordRules(staff_id, new_password);
    if (check.new_password_bad.ok() && new_password == password) {
      check.new_password_bad = InvalidArgument("new_password: must differ from the current one");
    }
    if (check.new_password_bad.ok()) check.new_hash = access::HashStaffPassword(new_password);
  }
  return check;
}

// Why a login that presented these credentials fails, for the audit entry only (the answer
// is the same for all); empty when the password and code are right.
std::string FailureReason(const std::optional<store::StaffRow>& staff,
                          const std::optional<store::StaffCredentialRow>& cred,
                          const LoginCheck& check, bool replayed, bool code_needed) {
  if (!staff.has_value() || !cred.has_value()) return "unknown staff id";
  if (cred->password_hash.empty()) return "the account has no password (token only)";
  if (cred->password_hash != check.checked_hash) return "password changed meanwhile";
  if (!check.password_ok) return "wrong password";
  if (staff->status != "active") return "account disabled";
  if (!code_needed || check.totp_missing) return "";
  if (replayed) return "TOTP code already used";
  if (!check.totp_ok) return "wrong TOTP code";
  return "";
}

// A failed login: counted for the staff id and the source address in memory, and in the
// stored row of an existing account, in `txn`, with its "auth.login" deny entry (and
// "auth.lockout" when the waits begin); answers `wrong`, whatever the reason.
Status RecordLoginFailure(VaultState& impl, store::Transaction& txn, const Context& ctx,
                          const Operation& op, std::string_view staff_id,
                          std::optional<store::StaffCredentialRow>& cred, const std::string& reason,
                          const Status& wrong, int64_t now) {
  const access::LockoutPolicy limits = AccountLimits(*impl.config);
  impl.login_limits.RecordFailure(LimitId(staff_id), limits, now);
  if (!ctx.source.empty()) {
    impl.login_limits.RecordFailure(AddressKey(ctx.source), AddressLimits(*impl.config), now);
  }
  AuditEvents entries;
  int64_t failures = 0;
  bool waits_begin = false;
  if (cred.has_value()) {
    waits_begin = access::RecordFailure(*cred, limits, now);
    failures = cred->failed_attempts;
    CUSTOS_RETURN_IF_ERROR(txn.PutStaffCredential(*cred));
    CUSTOS_RETURN_IF_ERROR(NewAccessEpoch(txn));
  }
  entries.push_back(
      EventFor(ctx, "auth.login", op.target, "deny",
               failures > 0 ? fmt::format("{} (failure {} in a row)", reason, failures) : reason));
  if (waits_begin) {
    entries.push_back(EventFor(
        ctx, "auth.lockout", op.target, "deny",
        fmt::format("further logins wait 1 s, doubling up to {} minutes, after {} failures",
                    limits.lock_ms / 60000, failures)));
  }
  return CommitOutcome(impl, txn, ctx, op, Verdict::Entries(std::move(entries), wrong));
}

// A good login: failures cleared, the code's step kept, a new password stored (ending an
// administrator's reset), the token stored, in `txn`, committed with the "auth.login" allow
// entry naming the token.
Result<IssuedToken> RecordLoginSuccess(VaultState& impl, store::Transaction& txn,
                                       const Context& ctx, const Operation& op,
                                       store::StaffCredentialRow& cred, const LoginCheck& check,
                                       std::string_view label, int64_t ttl_ms, int64_t now) {
  if (check.totp_step >= 0) {
    CUSTOS_RETURN_IF_ERROR(
        txn.PutMeta(fmt::format("totp_last_step:{}", cred.staff_id), EncodeStep(check.totp_step)));
  }
  access::ClearFailures(cred);
  cred.updated_at_ms = now;
  if (!check.new_hash.empty()) {
    cred.password_hash = check.new_hash;
    CUSTOS_RETURN_IF_ERROR(MarkReset(txn, cred.staff_id, false));
  }
  CUSTOS_RETURN_IF_ERROR(txn.PutStaffCredential(cred));
  CUSTOS_RETURN_IF_ERROR(NewAccessEpoch(txn));
  access::NewToken fresh = access::GenerateToken();
  store::ApiTokenRow row;
  row.token_id = NewId(now);
  row.staff_id = cred.staff_id;
  row.secret_sha256 = fresh.secret_sha256;
  row.label = std::string(label);
  row.created_at_ms = now;
  row.expires_at_ms = now + ttl_ms;
  CUSTOS_RETURN_IF_ERROR(txn.InsertApiToken(row));
  // The address the token is issued to: its first (token_address.h).
  CUSTOS_RETURN_IF_ERROR(RecordIssuingAddress(txn, row.token_id, ctx.source));
  CUSTOS_RETURN_IF_ERROR(NewAccessEpoch(txn));
  impl.login_limits.Clear(IdKey(cred.staff_id));
  Verdict v = Verdict::Allow(
      fmt::format("token issued, expires {} UTC{}{}{}", access::UtcDate(row.expires_at_ms),
                  cred.totp_sealed.empty() ? "" : ", second factor checked",
                  check.new_hash.empty() ? "" : ", password changed (current password checked)",
                  // The address is the staff member's, kept for the "new address" rule of
                  // security operations (src/ops/rules.h); LoginContext made it printable.
                  ctx.source.empty() ? "" : "; from address " + ctx.source));
  v.target = IdTarget("token", row.token_id);
  CUSTOS_RETURN_IF_ERROR(CommitOutcome(impl, txn, ctx, op, std::move(v)));
  return IssuedToken{row.token_id, row.staff_id, std::move(fresh.secret), row.expires_at_ms};
}

// Steps 1 and 2 of Login and EnrollTotpAtLogin, then the write transaction with the rows
// read afresh (another login may have counted a failure meanwhile). A failure is recorded
// and answered here; otherwise the caller finishes in `txn` with the checked rows.
// `code_needed`: an enrolled or required TOTP code is part of the proof (a login; not the
// enrolment of a first factor, which answers for an enrolled one itself).
// `second_factor_required`: LoginRequest's, the caller demands a factor whatever the roles.
struct Attempted {
  std::unique_ptr<store::Transaction> txn;
  std::optional<store::StaffRow> staff;
  std::optional<store::StaffCredentialRow> cred;
  LoginCheck check;
  int64_t now = 0;
};

Result<Attempted> Attempt(VaultState& impl, const Context& ctx, const Operation& op,
                          std::string_view staff_id, std::string_view password,
                          std::string_view totp_code, std::string_view new_password,
                          bool code_needed, bool second_factor_required, int64_t* retry_after_ms) {
  CUSTOS_RETURN_IF_ERROR(AdmitAttempt(impl, ctx, op, staff_id, retry_after_ms));
  Attempted a;
  CUSTOS_ASSIGN_OR_RETURN(a.check, CheckLogin(impl, staff_id, password, totp_code, new_password,
                                              second_factor_required));
  a.now = impl.Now();
  CUSTOS_ASSIGN_OR_RETURN(a.txn, impl.store->Begin());
  if (access::ValidStaffId(staff_id)) {
    CUSTOS_ASSIGN_OR_RETURN(a.staff, a.txn->GetStaff(staff_id));
    CUSTOS_ASSIGN_OR_RETURN(a.cred, a.txn->GetStaffCredential(staff_id));
  }
  // A code is good once (RFC 6238 section 5.2): a step at or before the last one accepted for
  // this staff member is a replay, refused and counted like a wrong code. The last step is
  // kept in the vault's metadata, written in the login's transaction.
  bool replayed = false;
  if (a.check.totp_ok && a.check.totp_step >= 0) {
    CUSTOS_ASSIGN_OR_RETURN(std::optional<store::Bytes> last,
                            a.txn->GetMeta(fmt::format("totp_last_step:{}", staff_id)));
    replayed = last.has_value() && a.check.totp_step <= DecodeStep(*last);
  }
  const std::string reason = FailureReason(a.staff, a.cred, a.check, replayed, code_needed);
  if (!reason.empty()) {
    return RecordLoginFailure(impl, *a.txn, ctx, op, staff_id, a.cred, reason,
                              Unauthenticated(std::string(kWrongLogin)), a.now);
  }
  return a;
}

}  // namespace

Result<IssuedToken> StaffService::IssueToken(std::string_view staff_id, std::string_view password,
                                             std::string_view totp_code, int64_t ttl_ms,
                                             std::string_view label, Channel channel) {
  Context ctx;
  ctx.channel = channel;
  LoginRequest request{
      std::string(staff_id), std::string(password), std::string(totp_code), "", ttl_ms,
      std::string(label)};
  return Login(ctx, request);
}

// "auth.login" authenticates by password and code, not by admission: its refusals before the
// check are recorded by RecordRefusal, its outcome by CommitOutcome in the transaction that
// counts the failure or stores the token.
Result<IssuedToken> StaffService::Login(const Context& in, const LoginRequest& request,
                                        int64_t* retry_after_ms) {
  VaultState& impl = *state_;
  if (impl.closed) return FailedPrecondition("vault is closed");
  CUSTOS_ASSIGN_OR_RETURN(const Context ctx, LoginContext(impl, in, request.staff_id));
  const Operation op{Action::kAuthLogin, "staff:" + ctx.actor};
  if (request.ttl_ms <= 0 || request.ttl_ms > kMaxTokenTtlMs) {
    return RecordRefusal(impl, ctx, op,
                         InvalidArgument("ttl: must be positive and at most 90 days"));
  }
  if (!request.label.empty() && !Printable(request.label, 64)) {
    return RecordRefusal(impl, ctx, op, InvalidArgument("label: at most 64 printable characters"));
  }
  CUSTOS_ASSIGN_OR_RETURN(
      Attempted a, Attempt(impl, ctx, op, request.staff_id, request.password, request.totp_code,
                           request.new_password,
                           /*code_needed=*/true, request.second_factor_required, retry_after_ms));
  // The password (and code) are right: what remains is told as it is.
  if (a.check.totp_missing) {
    return CommitOutcome(
        impl, *a.txn, ctx, op,
        Verdict::Deny(FailedPrecondition(
            fmt::format("totp: a second factor is required {} and none is enrolled; enrol "
                        "one with your password (POST /v1/totp/enrollment, custos token "
                        "issue --enroll-totp, or the web console's sign-in page), then log "
                        "in with its code",
                        request.second_factor_required ? "for this sign-in" : "for these roles"))));
  }
  CUSTOS_ASSIGN_OR_RETURN(bool change_required, ChangeRequired(*a.txn, request.staff_id));
  if (!a.check.new_password_bad.ok()) {
    return CommitOutcome(impl, *a.txn, ctx, op, Verdict::Deny(a.check.new_password_bad));
  }
  if (change_required && a.check.new_hash.empty()) {
    return CommitOutcome(
        impl, *a.txn, ctx, op,
        Verdict::Deny(FailedPrecondition(
            "password change required: an administrator set this password; log in again "
            "giving a new password (new_password; custos token issue --new-password)")));
  }
  return RecordLoginSuccess(impl, *a.txn, ctx, op, *a.cred, a.check, request.label, request.ttl_ms,
                            a.now);
}

Result<TotpEnrollment> StaffService::EnrollTotpAtLogin(const Context& in, std::string_view staff_id,
                                                       std::string_view password,
                                                       int64_t* retry_after_ms) {
  VaultState& impl = *state_;
  if (impl.closed) return FailedPrecondition("vault is closed");
  CUSTOS_ASSIGN_OR_RETURN(const Context ctx, LoginContext(impl, in, staff_id));
  const Operation op{Action::kTotpEnroll, "staff:" + ctx.actor};
  CUSTOS_ASSIGN_OR_RETURN(Attempted a, Attempt(impl, ctx, op, staff_id, password, "", "",
                                               /*code_needed=*/false,
                                               /*second_factor_required=*/false, retry_after_ms));
  if (!a.cred->totp_sealed.empty()) {
    return CommitOutcome(impl, *a.txn, ctx, op,
                         Verdict::Deny(FailedPrecondition(
                             "totp: a second factor is already enrolled; re-enrol it with a "
                             "current code, or ask an administrator to reset it")));
  }
  const crypto::SecretBytes secret = access::NewTotpSecret();
  CUSTOS_RETURN_IF_ERROR(impl.FollowKekVersion(*a.txn));
  CUSTOS_ASSIGN_OR_RETURN(crypto::Bytes sealed,
                          access::SealTotpSecret(impl.keyring->provider(), staff_id, secret));
  a.cred->totp_sealed = std::move(sealed);
  access::ClearFailures(*a.cred);
  a.cred->updated_at_ms = a.now;
  CUSTOS_RETURN_IF_ERROR(a.txn->PutStaffCredential(*a.cred));
  CUSTOS_RETURN_IF_ERROR(NewAccessEpoch(*a.txn));
  impl.login_limits.Clear(IdKey(staff_id));
  CUSTOS_RETURN_IF_ERROR(
      CommitOutcome(impl, *a.txn, ctx, op,
                    Verdict::Allow("TOTP secret enrolled by its owner (password checked)")));
  return TotpEnrollment{access::Base32(secret, /*lower_case=*/false),
                        access::OtpauthUri(staff_id, secret)};
}

// --- tokens ---

namespace {

std::string TokenState(const store::ApiTokenRow& row, int64_t now) {
  if (row.revoked_at_ms != 0) return "revoked";
  return now >= row.expires_at_ms ? "expired" : "active";
}

TokenView ToView(const store::ApiTokenRow& row, int64_t now) {
  return TokenView{row.token_id,      row.staff_id,      row.label,           row.created_at_ms,
                   row.expires_at_ms, row.revoked_at_ms, TokenState(row, now)};
}

Operation AdminOp(Action action, std::string target, std::string_view self = {}) {
  Operation op{action, std::move(target), Basis::kAdministration};
  op.self = self;
  return op;
}

// The staff row `staff_id` names, or the NotFound refusal to record.
Result<std::optional<store::StaffRow>> FindStaff(store::Transaction& txn,
                                                 std::string_view staff_id) {
  if (!access::ValidStaffId(staff_id)) return std::optional<store::StaffRow>{};
  return txn.GetStaff(staff_id);
}

Verdict NoSuchStaff() { return Verdict::Deny(NotFound("staff id: no such staff")); }

}  // namespace

Status StaffService::RevokeToken(const Context& ctx, std::string_view token_id) {
  VaultState& impl = *state_;
  Operation op = AdminOp(Action::kTokenRevoke, IdTarget("token", token_id));
  op.body_decides_grant = true;  // staff.manage, or the token's owner
  return Write(impl, ctx, op, [&](Scope& s) -> Result<Verdict> {
    std::optional<store::ApiTokenRow> token;
    if (ValidCustomerId(token_id)) {
      CUSTOS_ASSIGN_OR_RETURN(token, s.txn.GetApiToken(token_id));
    }
    const bool own = token.has_value() && token->staff_id == s.actor().staff_id;
    if (!own) {
      Status allowed = RequireAdminAction(impl, s.actor(), "staff.manage");
      if (!allowed.ok()) return Verdict::Deny(allowed);
    }
    if (!token.has_value()) return Verdict::Deny(NotFound("token: no such token"));
    CUSTOS_RETURN_IF_ERROR(s.txn.RevokeApiToken(token_id, s.now_ms));
    CUSTOS_RETURN_IF_ERROR(NewAccessEpoch(s.txn));
    return Verdict::Allow(fmt::format("token of staff '{}' revoked", token->staff_id));
  });
}

Result<std::vector<TokenView>> StaffService::ListTokens(const Context& ctx,
                                                        std::string_view staff_id) {
  VaultState& impl = *state_;
  const std::string target = staff_id.empty() ? "staff:*" : StaffTarget(staff_id);
  std::vector<TokenView> out;
  CUSTOS_RETURN_IF_ERROR(Read(impl, ctx, AdminOp(Action::kTokenList, target, staff_id),
                              [&](Scope& s) -> Result<Verdict> {
                                out.clear();
                                CUSTOS_ASSIGN_OR_RETURN(auto rows, s.txn.ListApiTokens(staff_id));
                                for (const auto& row : rows) out.push_back(ToView(row, s.now_ms));
                                return Verdict::Allow(fmt::format("{} tokens listed", out.size()));
                              }));
  return out;
}

// --- staff ---

namespace {

// Display names, posts and courses: printable, no line breaks, no bidirectional overrides
// (U+202A-U+202E, U+2066-U+2069), which would make a name read differently in a listing or
// the audit log.
Status CheckStaffText(std::string_view what, std::string_view value, bool required) {
  if (value.empty() && !required) return Status::Ok();
  if (!Printable(value, 128)) {
    return InvalidArgument(fmt::format("{}: 1 to 128 printable characters", what));
  }
  for (std::string_view bidi :
       {"\xE2\x80\xAA", "\xE2\x80\xAB", "\xE2\x80\xAC", "\xE2\x80\xAD", "\xE2\x80\xAE",
        "\xE2\x81\xA6", "\xE2\x81\xA7", "\xE2\x81\xA8", "\xE2\x81\xA9"}) {
    if (value.find(bidi) != std::string_view::npos) {
      return InvalidArgument(fmt::format("{}: no bidirectional override characters", what));
    }
  }
  return Status::Ok();
}

Status CheckSpec(const VaultState& impl, const StaffSpec& spec) {
  if (!access::ValidStaffId(spec.staff_id)) {
    return InvalidArgument("staff id: 1 to 64 of a-z, 0-9, '.', '_', '-', starting alphanumeric");
  }
  if (spec.roles.empty()) return InvalidArgument("roles: at least one role");
  CUSTOS_RETURN_IF_ERROR(CheckStaffText("display name", spec.display_name, true));
  CUSTOS_RETURN_IF_ERROR(CheckStaffText("post", spec.post, true));
  CUSTOS_RETURN_IF_ERROR(CheckRoles(impl, spec.roles));
  if (!spec.initial_password.empty()) {
    CUSTOS_RETURN_IF_ERROR(access::CheckPasswordRules(spec.staff_id, spec.initial_password));
  }
  return Status::Ok();
}

// Separation of duties and dual control for an account's new roles (issue 12): the roles may
// be held together, and any role that reads confidential fields unmasked and is new to the
// account needs an approved role_grant of the actor's, used up here. `granted`:
// its id, if one was used.
Result<Verdict> CheckGrant(const VaultState& impl, Scope& s, const store::StaffRow* before,
                           const store::StaffRow& after, std::string& granted) {
  Status sod = CheckSeparation(*impl.config, after);
  if (!sod.ok()) return Verdict::Deny(sod, {"roles"});
  const std::vector<std::string> gained = DualControlRolesGained(*impl.config, before, after);
  if (gained.empty()) return Verdict::Allow("");
  Result<std::string> used =
      UseRoleGrant(s.txn, after.staff_id, gained, s.actor().staff_id, s.now_ms);
  if (!used.ok() && used.status().code() == Code::kFailedPrecondition) {
    return Verdict::Deny(used.status(), {"roles"});
  }
  CUSTOS_RETURN_IF_ERROR(used.status());
  granted = *used;
  return Verdict::Allow("");
}

std::string GrantNote(const std::string& granted) {
  return granted.empty() ? "" : fmt::format(", dual control: role grant {}", granted);
}

// Dual control over another's credentials: resetting the password or second factor of an
// account that reads confidential fields unmasked or decides approvals uses up an approved
// credential_reset of the actor's naming it; one administrator alone could otherwise take the
// account over. `used`: its id, if one was needed. The verdict refuses when none is in force.
Result<Verdict> CheckCredentialReset(const VaultState& impl, Scope& s,
                                     const store::StaffRow& target, std::string& used) {
  used.clear();
  if (!HoldsDualControlRole(*impl.config, target)) return Verdict::Allow("");
  Result<std::string> reset =
      UseCredentialReset(s.txn, target.staff_id, s.actor().staff_id, s.now_ms);
  if (!reset.ok() && reset.status().code() == Code::kFailedPrecondition) {
    return Verdict::Deny(reset.status());
  }
  CUSTOS_RETURN_IF_ERROR(reset.status());
  used = *reset;
  return Verdict::Allow("");
}

std::string ResetNote(const std::string& used) {
  return used.empty() ? "" : fmt::format("; dual control: credential reset {}", used);
}

}  // namespace

Status StaffService::Create(const Context& ctx, const StaffSpec& spec) {
  VaultState& impl = *state_;
  const Status bad = CheckSpec(impl, spec);
  // Argon2id is slow: hashed before the write transaction.
  const std::string hash = bad.ok() && !spec.initial_password.empty()
                               ? access::HashStaffPassword(spec.initial_password)
                               : std::string();
  const Operation op = AdminOp(Action::kStaffCreate, StaffTarget(spec.staff_id));
  return Write(impl, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (!bad.ok()) return Verdict::Deny(bad);
    store::StaffRow row;
    row.staff_id = spec.staff_id;
    row.display_name = spec.display_name;
    row.post = spec.post;
    row.roles = JoinRoles(spec.roles);
    row.created_at_ms = s.now_ms;
    std::string granted;
    CUSTOS_ASSIGN_OR_RETURN(Verdict grant, CheckGrant(impl, s, nullptr, row, granted));
    if (!grant.refusal.ok()) return grant;
    Status inserted = s.txn.InsertStaff(row);
    if (inserted.code() == Code::kConflict) {
      return Verdict::Deny(Conflict("staff id: already exists"));
    }
    CUSTOS_RETURN_IF_ERROR(inserted);
    store::StaffCredentialRow cred;
    cred.staff_id = spec.staff_id;
    cred.password_hash = hash;
    cred.updated_at_ms = s.now_ms;
    CUSTOS_RETURN_IF_ERROR(s.txn.PutStaffCredential(cred));
    CUSTOS_RETURN_IF_ERROR(RecordCreated(s.txn, spec.staff_id, s.actor().staff_id));
    // An initial password is known to whoever set it: changed at the first login, as a reset.
    if (!hash.empty()) CUSTOS_RETURN_IF_ERROR(MarkReset(s.txn, spec.staff_id, true));
    CUSTOS_RETURN_IF_ERROR(NewAccessEpoch(s.txn));
    return Verdict::Allow(fmt::format("post '{}', roles {}{}{}", row.post, row.roles,
                                      hash.empty() ? ""
                                                   : ", initial password set (to be changed "
                                                     "at the first login)",
                                      GrantNote(granted)));
  });
}

namespace {

// Applies `change` to `row`; InvalidArgument naming the first bad field. `changed`: the
// names of the fields the change sets.
Status ApplyChange(const VaultState& impl, const StaffChange& change, store::StaffRow& row,
                   std::vector<std::string>& changed) {
  if (change.display_name) {
    CUSTOS_RETURN_IF_ERROR(CheckStaffText("display name", *change.display_name, true));
    row.display_name = *change.display_name;
    changed.push_back("display_name");
  }
  if (change.post) {
    CUSTOS_RETURN_IF_ERROR(CheckStaffText("post", *change.post, true));
    row.post = *change.post;
    changed.push_back("post");
  }
  if (change.roles) {
    if (change.roles->empty()) return InvalidArgument("roles: at least one role");
    CUSTOS_RETURN_IF_ERROR(CheckRoles(impl, *change.roles));
    row.roles = JoinRoles(*change.roles);
    changed.push_back("roles");
  }
  if (change.status) {
    if (*change.status != "active" && *change.status != "disabled") {
      return InvalidArgument("status: must be active or disabled");
    }
    row.status = *change.status;
    changed.push_back("status");
  }
  return Status::Ok();
}

}  // namespace

Status StaffService::Update(const Context& ctx, std::string_view staff_id,
                            const StaffChange& change) {
  VaultState& impl = *state_;
  const Operation op = AdminOp(Action::kStaffUpdate, StaffTarget(staff_id));
  return Write(impl, ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(std::optional<store::StaffRow> before, FindStaff(s.txn, staff_id));
    if (!before.has_value()) return NoSuchStaff();
    store::StaffRow row = *before;
    std::vector<std::string> changed;
    Status bad = ApplyChange(impl, change, row, changed);
    if (!bad.ok()) return Verdict::Deny(bad, changed);
    const bool grants = row.roles != before->roles || row.post != before->post;
    if (staff_id == s.actor().staff_id) {
      // Nobody changes what they themselves may do, nor locks themselves out.
      if (grants) {
        return Verdict::Deny(PermissionDenied("staff: nobody changes their own roles or post"),
                             changed);
      }
      if (row.status != "active") {
        return Verdict::Deny(FailedPrecondition("staff: cannot disable yourself"), changed);
      }
    }
    std::string granted;
    CUSTOS_ASSIGN_OR_RETURN(Verdict grant, CheckGrant(impl, s, &*before, row, granted));
    if (!grant.refusal.ok()) return Verdict::Deny(grant.refusal, changed);
    CUSTOS_RETURN_IF_ERROR(s.txn.UpdateStaff(row));
    CUSTOS_RETURN_IF_ERROR(RecordChanged(s.txn, staff_id, s.actor().staff_id));
    // A token proves who someone is, not what they may do: a change of roles, post or status
    // ends every token issued before it (they were issued under the old grants).
    size_t revoked = 0;
    if (grants || row.status != before->status) {
      CUSTOS_ASSIGN_OR_RETURN(revoked, RevokeLiveTokens(s.txn, staff_id, s.now_ms));
    }
    CUSTOS_RETURN_IF_ERROR(NewAccessEpoch(s.txn));
    return Verdict::Allow(fmt::format("post '{}', roles {}, status {}; {} tokens revoked{}",
                                      row.post, row.roles, row.status, revoked, GrantNote(granted)),
                          changed);
  });
}

Result<const schema::Config*> StaffService::ListRoles(const Context& ctx) {
  VaultState& impl = *state_;
  // The entry is durable before the catalogue is handed out.
  CUSTOS_RETURN_IF_ERROR(
      Read(impl, ctx, AdminOp(Action::kRoleList, "roles"), [&](Scope&) -> Result<Verdict> {
        return Verdict::Allow(fmt::format("{} roles, {} posts", impl.config->roles.size(),
                                          impl.config->posts.size()));
      }));
  return impl.config.get();
}

Result<std::vector<StaffView>> StaffService::List(const Context& ctx) {
  VaultState& impl = *state_;
  Operation op = AdminOp(Action::kStaffList, "staff:*");
  op.body_decides_grant = true;  // staff.manage or role.read
  std::vector<StaffView> out;
  CUSTOS_RETURN_IF_ERROR(Read(impl, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (!RequireAdminAction(impl, s.actor(), "staff.manage").ok()) {
      Status allowed = RequireAdminAction(impl, s.actor(), "role.read");
      if (!allowed.ok()) return Verdict::Deny(allowed);
    }
    out.clear();
    CUSTOS_ASSIGN_OR_RETURN(auto rows, s.txn.ListStaff());
    for (const store::StaffRow& row : rows) {
      StaffView v{row.staff_id,          row.display_name, row.post,
                  SplitRoles(row.roles), row.status,       row.created_at_ms};
      CUSTOS_ASSIGN_OR_RETURN(auto cred, s.txn.GetStaffCredential(row.staff_id));
      if (cred.has_value()) {
        v.has_password = !cred->password_hash.empty();
        v.totp_enrolled = !cred->totp_sealed.empty();
        if (access::IsLocked(*cred, s.now_ms)) v.locked_until_ms = cred->locked_until_ms;
      }
      out.push_back(std::move(v));
    }
    return Verdict::Allow(fmt::format("{} staff listed", out.size()));
  }));
  return out;
}

namespace {

// The stored password hash of `staff_id` (empty when none), read in its own transaction.
Result<std::string> StoredPasswordHash(VaultState& impl, std::string_view staff_id) {
  if (!access::ValidStaffId(staff_id)) return std::string();
  CUSTOS_ASSIGN_OR_RETURN(auto read, impl.store->Begin());
  CUSTOS_ASSIGN_OR_RETURN(auto cred, read->GetStaffCredential(staff_id));
  return cred.has_value() ? cred->password_hash : std::string();
}

}  // namespace

Status StaffService::SetPassword(const Context& ctx, std::string_view staff_id,
                                 std::string_view new_password, std::string_view current_password) {
  VaultState& impl = *state_;
  if (impl.closed) return FailedPrecondition("vault is closed");
  // One's own password is changed only with the current one (a stolen token is not enough);
  // Argon2id runs before the write transaction, and the body checks the hash is unchanged.
  const bool self = staff_id == ctx.actor;
  std::string checked_hash;
  Status proof;
  if (self) {
    CUSTOS_ASSIGN_OR_RETURN(checked_hash, StoredPasswordHash(impl, staff_id));
    if (!checked_hash.empty() && !access::PasswordMatches(current_password, checked_hash)) {
      proof = PermissionDenied("current_password: wrong or missing");
    } else if (checked_hash.empty() && ctx.channel != Channel::kCli) {
      // An account without a password (the init administrator's) has nothing to prove but
      // its token; its first password is set on the vault host, by someone who can open the
      // vault's files and key (docs/decisions.md), never by a token alone.
      proof = PermissionDenied(
          "password: an account without a password sets its first one with `custos staff "
          "passwd` on the vault host, not with a token over the API");
    }
  }
  Status rules = access::CheckPasswordRules(staff_id, new_password);
  const std::string hash = rules.ok() && proof.ok() ? access::HashStaffPassword(new_password) : "";
  const Operation op = AdminOp(Action::kStaffPassword, StaffTarget(staff_id), staff_id);
  return Write(impl, ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(std::optional<store::StaffRow> row, FindStaff(s.txn, staff_id));
    if (!row.has_value()) return NoSuchStaff();
    if (!proof.ok()) return Verdict::Deny(proof);
    if (!rules.ok()) return Verdict::Deny(rules);
    std::string reset_by;
    if (!self) {
      CUSTOS_ASSIGN_OR_RETURN(Verdict dual, CheckCredentialReset(impl, s, *row, reset_by));
      if (!dual.refusal.ok()) return dual;
    }
    CUSTOS_ASSIGN_OR_RETURN(auto cred, s.txn.GetStaffCredential(staff_id));
    store::StaffCredentialRow updated = cred.value_or(store::StaffCredentialRow{});
    if (self && updated.password_hash != checked_hash) {
      return Verdict::Deny(Conflict("password: changed meanwhile; try again"));
    }
    updated.staff_id = std::string(staff_id);
    updated.password_hash = hash;
    access::ClearFailures(updated);
    updated.updated_at_ms = s.now_ms;
    CUSTOS_RETURN_IF_ERROR(s.txn.PutStaffCredential(updated));
    CUSTOS_RETURN_IF_ERROR(RecordChanged(s.txn, staff_id, s.actor().staff_id));
    // A password someone else set is known to them: it must be changed at the next login,
    // and the sessions of whoever held the account before end now.
    CUSTOS_RETURN_IF_ERROR(MarkReset(s.txn, staff_id, !self));
    // One's own first password (an account `custos init` made): its init token, which init
    // printed to whoever ran it, ends too; the account logs in with its password from now on.
    const bool first = self && checked_hash.empty();
    size_t revoked = 0;
    if (!self || first) {
      CUSTOS_ASSIGN_OR_RETURN(revoked, RevokeLiveTokens(s.txn, staff_id, s.now_ms));
    }
    CUSTOS_RETURN_IF_ERROR(NewAccessEpoch(s.txn));
    impl.login_limits.Clear(IdKey(staff_id));
    if (first) {
      return Verdict::Allow(
          fmt::format("own first password set; {} tokens revoked (the init token)", revoked));
    }
    return Verdict::Allow(
        self ? "own password changed (current password checked)"
             : fmt::format("password reset by an administrator: to be changed at the next login; "
                           "login waits cleared; {} tokens revoked{}",
                           revoked, ResetNote(reset_by)));
  });
}

namespace {

// Re-enrolling one's own second factor needs a current code of the enrolled one (a stolen
// token is not enough). OK when no factor is enrolled yet.
Status ProveCurrentCode(const VaultState& impl, Scope& s, std::string_view staff_id,
                        const std::optional<store::StaffCredentialRow>& cred,
                        std::string_view code) {
  if (!cred.has_value() || cred->totp_sealed.empty()) return Status::Ok();
  auto secret = access::OpenTotpSecret(impl.keyring->provider(), staff_id, cred->totp_sealed);
  if (secret.ok() && access::MatchTotpStep(*secret, code, s.now_ms) >= 0) return Status::Ok();
  return PermissionDenied("current_code: a current code of the enrolled second factor is needed");
}

}  // namespace

Result<TotpEnrollment> StaffService::EnrollTotp(const Context& ctx, std::string_view staff_id,
                                                std::string_view current_code) {
  VaultState& impl = *state_;
  const crypto::SecretBytes secret = access::NewTotpSecret();
  const Operation op = AdminOp(Action::kTotpEnroll, StaffTarget(staff_id), staff_id);
  CUSTOS_RETURN_IF_ERROR(Write(impl, ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(std::optional<store::StaffRow> row, FindStaff(s.txn, staff_id));
    if (!row.has_value()) return NoSuchStaff();
    // An administrator never sees another person's secret: they reset it (ResetTotp), and
    // the owner enrols a new one with their password (EnrollTotpAtLogin).
    if (staff_id != s.actor().staff_id) {
      return Verdict::Deny(PermissionDenied(
          "totp: nobody enrols another person's second factor; reset it (custos totp reset, "
          "DELETE /v1/staff/{id}/totp) and its owner enrols a new one with their password"));
    }
    CUSTOS_ASSIGN_OR_RETURN(auto cred, s.txn.GetStaffCredential(staff_id));
    Status proof = ProveCurrentCode(impl, s, staff_id, cred, current_code);
    if (!proof.ok()) return Verdict::Deny(proof);
    CUSTOS_RETURN_IF_ERROR(impl.FollowKekVersion(s.txn));
    CUSTOS_ASSIGN_OR_RETURN(crypto::Bytes sealed,
                            access::SealTotpSecret(impl.keyring->provider(), staff_id, secret));
    store::StaffCredentialRow updated = cred.value_or(store::StaffCredentialRow{});
    updated.staff_id = std::string(staff_id);
    updated.totp_sealed = std::move(sealed);
    updated.updated_at_ms = s.now_ms;
    CUSTOS_RETURN_IF_ERROR(s.txn.PutStaffCredential(updated));
    CUSTOS_RETURN_IF_ERROR(RecordChanged(s.txn, staff_id, s.actor().staff_id));
    CUSTOS_RETURN_IF_ERROR(NewAccessEpoch(s.txn));
    return Verdict::Allow("TOTP secret enrolled");
  }));
  return TotpEnrollment{access::Base32(secret, /*lower_case=*/false),
                        access::OtpauthUri(staff_id, secret)};
}

Status StaffService::ResetTotp(const Context& ctx, std::string_view staff_id) {
  VaultState& impl = *state_;
  const Operation op = AdminOp(Action::kTotpReset, StaffTarget(staff_id));
  return Write(impl, ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(std::optional<store::StaffRow> row, FindStaff(s.txn, staff_id));
    if (!row.has_value()) return NoSuchStaff();
    if (staff_id == s.actor().staff_id) {
      return Verdict::Deny(PermissionDenied(
          "totp: nobody resets their own second factor; re-enrol it with a current code"));
    }
    CUSTOS_ASSIGN_OR_RETURN(auto cred, s.txn.GetStaffCredential(staff_id));
    if (!cred.has_value() || cred->totp_sealed.empty()) {
      return Verdict::Deny(FailedPrecondition("totp: no second factor is enrolled"));
    }
    std::string reset_by;
    CUSTOS_ASSIGN_OR_RETURN(Verdict dual, CheckCredentialReset(impl, s, *row, reset_by));
    if (!dual.refusal.ok()) return dual;
    cred->totp_sealed.clear();
    cred->updated_at_ms = s.now_ms;
    CUSTOS_RETURN_IF_ERROR(s.txn.PutStaffCredential(*cred));
    CUSTOS_RETURN_IF_ERROR(RecordChanged(s.txn, staff_id, s.actor().staff_id));
    CUSTOS_ASSIGN_OR_RETURN(size_t revoked, RevokeLiveTokens(s.txn, staff_id, s.now_ms));
    CUSTOS_RETURN_IF_ERROR(NewAccessEpoch(s.txn));
    return Verdict::Allow(fmt::format(
        "second factor removed; its owner enrols a new one with their password; {} tokens "
        "revoked{}",
        revoked, ResetNote(reset_by)));
  });
}

// --- training (P5b) ---

namespace {

constexpr int64_t kDayMs = 24LL * 3600 * 1000;
constexpr int64_t kEarliestTrainingMs = 946684800000LL;  // 2000-01-01
constexpr int64_t kMaxTrainingValidityMs = int64_t{10} * 366 * kDayMs;

// A training record's dates: completed on or after 2000-01-01 and not in the future (a day's
// grace for time zones), valid for at most ten years after.
Status CheckTrainingDates(const TrainingRecord& r, int64_t now_ms) {
  if (r.completed_at_ms < kEarliestTrainingMs || r.completed_at_ms > now_ms + kDayMs) {
    return InvalidArgument("completed_at: must be between 2000-01-01 and today");
  }
  if (r.valid_until_ms <= r.completed_at_ms) {
    return InvalidArgument("valid_until: must be after the completion date");
  }
  if (r.valid_until_ms - r.completed_at_ms > kMaxTrainingValidityMs) {
    return InvalidArgument("valid_until: at most ten years after the completion date");
  }
  return Status::Ok();
}

}  // namespace

Status StaffService::RecordTraining(const Context& ctx, const TrainingRecord& record) {
  VaultState& impl = *state_;
  const Operation op = AdminOp(Action::kTrainingRecord, StaffTarget(record.staff_id));
  return Write(impl, ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(auto row, FindStaff(s.txn, record.staff_id));
    if (!row.has_value()) return NoSuchStaff();
    // The training gate (P5b) is what lets a trained role see confidential fields: nobody
    // vouches for their own.
    if (record.staff_id == s.actor().staff_id) {
      return Verdict::Deny(PermissionDenied("training: nobody records their own training"));
    }
    Status bad = CheckStaffText("course", record.course, true);
    if (bad.ok()) bad = CheckTrainingDates(record, s.now_ms);
    if (!bad.ok()) return Verdict::Deny(bad);
    store::TrainingRow t{record.staff_id, record.course, record.completed_at_ms,
                         record.valid_until_ms, s.actor().staff_id};
    Status inserted = s.txn.InsertTraining(t);
    if (inserted.code() == Code::kConflict) {
      return Verdict::Deny(Conflict("training: this completion is already recorded"));
    }
    CUSTOS_RETURN_IF_ERROR(inserted);
    CUSTOS_RETURN_IF_ERROR(RecordChanged(s.txn, record.staff_id, s.actor().staff_id));
    CUSTOS_RETURN_IF_ERROR(NewAccessEpoch(s.txn));
    return Verdict::Allow(fmt::format("course '{}' completed {}, valid until {}", record.course,
                                      access::UtcDate(record.completed_at_ms),
                                      access::UtcDate(record.valid_until_ms)));
  });
}

Result<std::vector<TrainingRecord>> StaffService::ListTraining(const Context& ctx,
                                                               std::string_view staff_id) {
  VaultState& impl = *state_;
  const std::string target = staff_id.empty() ? "staff:*" : StaffTarget(staff_id);
  std::vector<TrainingRecord> out;
  const Operation op = AdminOp(Action::kTrainingList, target, staff_id);
  CUSTOS_RETURN_IF_ERROR(Read(impl, ctx, op, [&](Scope& s) -> Result<Verdict> {
    out.clear();
    CUSTOS_ASSIGN_OR_RETURN(auto rows, s.txn.ListTraining(staff_id));
    for (const store::TrainingRow& r : rows) {
      out.push_back(
          TrainingRecord{r.staff_id, r.course, r.completed_at_ms, r.valid_until_ms, r.recorded_by});
    }
    return Verdict::Allow(fmt::format("{} records listed", out.size()));
  }));
  return out;
}

}  // namespace custos::vault
