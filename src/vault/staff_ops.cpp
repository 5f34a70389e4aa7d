// Staff and authentication (issue 3, P4a, P5b): logins and API tokens, staff accounts, TOTP
// enrolment, training records and dual-control approvals. Each call runs in one storage
// transaction with its audit entry; refusals are audited as "deny". Secrets (passwords,
// tokens, TOTP secrets and codes) never reach an audit entry or an error message.
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <optional>

#include "access/approval.h"
#include "access/credentials.h"
#include "access/lockout.h"
#include "access/token.h"
#include "access/training.h"
#include "access/totp.h"
#include "vault/access_cache.h"
#include "vault/admin_action.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

constexpr int64_t kMaxTokenTtlMs = 90LL * 24 * 3600 * 1000;
constexpr std::string_view kUnauthenticatedActor = "(unauthenticated)";

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

std::string StaffTarget(std::string_view id) {
  return access::ValidStaffId(id) ? fmt::format("staff:{}", id) : "staff:(invalid id)";
}

}  // namespace

// Begins the transaction of a staff operation: the admission core admits the actor (an
// active staff member, not locked out) for administration; the grant is decided by Permit,
// since for some operations it depends on what is read first.
static Result<Admitted> Admit(VaultState& impl, const Context& ctx, std::string_view action,
                              std::string_view target) {
  const std::optional<schema::Action> known = schema::ParseAction(action);
  if (!known.has_value()) return Internal(fmt::format("action '{}' is not in the catalogue", action));
  Operation op{*known, std::string(target), Basis::kAdministration};
  op.body_decides_grant = true;
  return BeginAdmitted(impl, ctx, op);
}

// OK if the admitted actor holds `permission`, or acts on their own account (`subject`) where
// that is allowed; otherwise the refusal is audited (committing the transaction) and returned.
static Status Permit(VaultState& impl, Admitted& a, std::string_view action,
                     std::string_view target, std::string_view permission,
                     std::string_view subject = {}, bool self_ok = false) {
  if (self_ok && subject == a.actor.staff_id) return Status::Ok();
  Status allowed = RequireAdminAction(impl, a.actor, permission);
  if (allowed.ok()) return allowed;
  return impl.DenyAndCommit(*a.txn, a.ctx, action, target, allowed);
}

// Admit + Permit for operations whose subject is known up front.
static Result<Admitted> AdmitFor(VaultState& impl, const Context& ctx, std::string_view action,
                                 std::string_view target, std::string_view permission,
                                 std::string_view subject = {}, bool self_ok = false) {
  CUSTOS_ASSIGN_OR_RETURN(Admitted a, Admit(impl, ctx, action, target));
  CUSTOS_RETURN_IF_ERROR(Permit(impl, a, action, target, permission, subject, self_ok));
  return a;
}

// Audits a refusal found after admission (bad input, not found) and returns it.
static Status DenyInput(VaultState& impl, Admitted& a, std::string_view action,
                        std::string_view target, const Status& why) {
  return impl.DenyAndCommit(*a.txn, a.ctx, action, target, why);
}

// --- authentication ---

Result<std::string> StaffService::Authenticate(std::string_view bearer_token,
                                        std::string_view request_id, Channel channel) {
  VaultState& impl = *state_;
  if (impl.closed) return FailedPrecondition("vault is closed");
  const int64_t now = impl.Now();
  Context ctx;
  ctx.actor = std::string(kUnauthenticatedActor);
  ctx.purpose = "authentication";
  ctx.channel = channel;
  ctx.request_id = Printable(request_id, 128) ? std::string(request_id) : "";
  std::string target = "token:(unknown)";
  Status refusal;
  crypto::Bytes hash;
  if (!access::LooksLikeToken(bearer_token)) {
    refusal = Unauthenticated("token: not a Custos API token");
  } else {
    hash = access::TokenHash(bearer_token);  // in the request's thread, not the batch's
  }
  // In a transaction shared with concurrent reads (group commit), from the access cache: a
  // revoked token, a disabled or locked account is refused on the very next request, since
  // every such change writes a new access epoch (access_cache.h); expiry and the end of a
  // lock-out are compared with the time of this request.
  CUSTOS_RETURN_IF_ERROR(impl.reads->Run([&](BatchScope& scope) -> Result<AuditEvents> {
    if (refusal.ok()) {
      CUSTOS_ASSIGN_OR_RETURN(auto token, scope.access.Token(hash));
      if (!token.has_value()) {
        refusal = Unauthenticated("token: unknown");
      } else {
        target = IdTarget("token", token->token_id);
        ctx.actor = token->staff_id;
        CUSTOS_ASSIGN_OR_RETURN(auto staff, scope.access.Staff(token->staff_id));
        if (token->revoked_at_ms != 0) {
          refusal = Unauthenticated("token: revoked");
        } else if (now >= token->expires_at_ms) {
          refusal = Unauthenticated("token: expired");
        } else if (!staff->row.has_value() || staff->row->status != "active") {
          refusal = Unauthenticated(fmt::format("staff '{}': not active", token->staff_id));
        } else if (staff->credential.has_value() && access::IsLocked(*staff->credential, now)) {
          refusal = Unauthenticated(fmt::format("staff '{}': account locked", token->staff_id));
        }
      }
    }
    // A valid token is not itself an access to customer data: the operation it
    // authenticates is audited with the actor, so a successful authentication adds no entry
    // of its own (one entry per request; issue 3 point 8). Refusals are audited.
    if (refusal.ok()) return AuditEvents{};
    return AuditEvents{impl.DenyEvent(ctx, "auth.token", target, refusal)};
  }));
  if (!refusal.ok()) return refusal;
  return ctx.actor;
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

// The lock-out limits of this vault's custos.toml ([access]).
access::LockoutPolicy LockoutOf(const schema::Config& config) {
  return access::LockoutPolicy{static_cast<int64_t>(config.access.max_failures),
                               static_cast<int64_t>(config.access.lockout_minutes) * 60 * 1000};
}

// The outcome of checking a login's password and code outside the write transaction.
struct LoginCheck {
  bool password_ok = false;
  bool totp_ok = false;
  bool totp_missing = false;  // required but not enrolled
  int64_t totp_step = -1;     // the step of the accepted code (-1: none)
};

}  // namespace

Result<IssuedToken> StaffService::IssueToken(std::string_view staff_id, std::string_view password,
                                      std::string_view totp_code, int64_t ttl_ms,
                                      std::string_view label, Channel channel) {
  VaultState& impl = *state_;
  if (impl.closed) return FailedPrecondition("vault is closed");
  Context ctx;
  ctx.actor = access::ValidStaffId(staff_id) ? std::string(staff_id) : "(invalid)";
  ctx.purpose = "authentication";
  ctx.channel = channel;
  const std::string target = StaffTarget(staff_id);
  if (ttl_ms <= 0 || ttl_ms > kMaxTokenTtlMs) {
    return impl.Refuse(ctx, "auth.login", target,
                       InvalidArgument("ttl: must be positive and at most 90 days"));
  }
  if (!label.empty() && !Printable(label, 64)) {
    return impl.Refuse(ctx, "auth.login", target,
                       InvalidArgument("label: at most 64 printable characters"));
  }
  const Status wrong = Unauthenticated("staff id, password or code is wrong");
  if (ctx.actor != staff_id) return impl.Refuse(ctx, "auth.login", target, wrong);

  // Phase 1 (read only, no lock held): Argon2id takes tens of milliseconds, too long to hold
  // the store's writer slot.
  std::optional<store::StaffRow> staff;
  std::optional<store::StaffCredentialRow> cred;
  {
    CUSTOS_ASSIGN_OR_RETURN(auto read, impl.store->Begin());
    CUSTOS_ASSIGN_OR_RETURN(staff, read->GetStaff(staff_id));
    CUSTOS_ASSIGN_OR_RETURN(cred, read->GetStaffCredential(staff_id));
  }
  LoginCheck check;
  if (staff.has_value() && cred.has_value()) {
    check.password_ok = access::PasswordMatches(password, cred->password_hash);
    const bool required = NeedsSecondFactor(impl, *staff);
    if (!cred->totp_sealed.empty()) {
      auto secret = access::OpenTotpSecret(impl.keyring->provider(), staff_id, cred->totp_sealed);
      check.totp_step =
          secret.ok() ? access::MatchTotpStep(*secret, totp_code, impl.Now()) : int64_t{-1};
      check.totp_ok = check.totp_step >= 0;
    } else {
      check.totp_ok = !required;
      check.totp_missing = required;
    }
  } else {
    // Spend the same time on an unknown id, so timing does not reveal which ids exist.
    access::PasswordMatches(password, access::HashStaffPassword("custos-dummy-password"));
  }

  // Phase 2: record the outcome against the current row (another login may have counted a
  // failure meanwhile).
  const int64_t now = impl.Now();
  CUSTOS_ASSIGN_OR_RETURN(auto txn, impl.store->Begin());
  CUSTOS_ASSIGN_OR_RETURN(staff, txn->GetStaff(staff_id));
  CUSTOS_ASSIGN_OR_RETURN(cred, txn->GetStaffCredential(staff_id));
  if (!staff.has_value() || !cred.has_value() || cred->password_hash.empty()) {
    return impl.DenyAndCommit(*txn, ctx, "auth.login", target, wrong);
  }
  if (staff->status != "active") {
    return impl.DenyAndCommit(*txn, ctx, "auth.login", target,
                              Unauthenticated("staff account is not active"));
  }
  if (access::IsLocked(*cred, now)) {
    return impl.DenyAndCommit(
        *txn, ctx, "auth.login", target,
        Unauthenticated(fmt::format("account locked after repeated failures for {} more minutes",
                                    (cred->locked_until_ms - now + 59999) / 60000)));
  }
  if (check.password_ok && check.totp_missing) {
    return impl.DenyAndCommit(
        *txn, ctx, "auth.login", target,
        FailedPrecondition("a TOTP second factor is required for these roles; ask an "
                           "administrator to enroll one (custos totp enroll)"));
  }
  // A code is good once (RFC 6238 section 5.2): a step at or before the last one accepted for
  // this staff member is a replay, refused and counted like a wrong code. The last step is
  // kept in the vault's metadata, written in this transaction.
  const std::string step_key = fmt::format("totp_last_step:{}", staff_id);
  bool replayed = false;
  if (check.totp_ok && check.totp_step >= 0) {
    CUSTOS_ASSIGN_OR_RETURN(std::optional<store::Bytes> last, txn->GetMeta(step_key));
    replayed = last.has_value() && check.totp_step <= DecodeStep(*last);
    if (replayed) check.totp_ok = false;
  }
  if (!check.password_ok || !check.totp_ok) {
    const access::LockoutPolicy policy = LockoutOf(*impl.config);
    const bool locked = access::RecordFailure(*cred, policy, now);
    CUSTOS_RETURN_IF_ERROR(txn->PutStaffCredential(*cred));
    CUSTOS_RETURN_IF_ERROR(NewAccessEpoch(*txn));
    const std::string what = !check.password_ok ? "wrong password"
                             : replayed             ? "TOTP code already used"
                                                    : "wrong TOTP code";
    CUSTOS_RETURN_IF_ERROR(impl.audit->Append(
        *txn, impl.Event(ctx, "auth.login", target, "deny",
                         fmt::format("{} (failure {} in a row)", what, cred->failed_attempts))));
    if (locked) {
      CUSTOS_RETURN_IF_ERROR(impl.audit->Append(
          *txn, impl.Event(ctx, "auth.lockout", target, "deny",
                           fmt::format("locked for {} minutes after {} failures",
                                       policy.lock_ms / 60000,
                                       cred->failed_attempts))));
    }
    Status st = txn->Commit();
    if (!st.ok()) return Unavailable("audit log cannot be written: " + st.message());
    return wrong;
  }
  if (check.totp_step >= 0) {
    CUSTOS_RETURN_IF_ERROR(txn->PutMeta(step_key, EncodeStep(check.totp_step)));
  }
  access::ClearFailures(*cred);
  cred->updated_at_ms = now;
  CUSTOS_RETURN_IF_ERROR(txn->PutStaffCredential(*cred));
  CUSTOS_RETURN_IF_ERROR(NewAccessEpoch(*txn));
  access::NewToken fresh = access::GenerateToken();
  store::ApiTokenRow row;
  row.token_id = NewId(now);
  row.staff_id = std::string(staff_id);
  row.secret_sha256 = fresh.secret_sha256;
  row.label = std::string(label);
  row.created_at_ms = now;
  row.expires_at_ms = now + ttl_ms;
  CUSTOS_RETURN_IF_ERROR(txn->InsertApiToken(row));
  CUSTOS_RETURN_IF_ERROR(NewAccessEpoch(*txn));
  CUSTOS_RETURN_IF_ERROR(impl.AuditAndCommit(
      *txn, impl.Event(ctx, "auth.login", IdTarget("token", row.token_id), "allow",
                       fmt::format("token issued, expires {} UTC{}",
                                   access::UtcDate(row.expires_at_ms),
                                   cred->totp_sealed.empty() ? "" : ", second factor checked"))));
  return IssuedToken{row.token_id, row.staff_id, std::move(fresh.secret), row.expires_at_ms};
}


// --- tokens ---

namespace {

std::string TokenState(const store::ApiTokenRow& row, int64_t now) {
  if (row.revoked_at_ms != 0) return "revoked";
  return now >= row.expires_at_ms ? "expired" : "active";
}

TokenView ToView(const store::ApiTokenRow& row, int64_t now) {
  return TokenView{row.token_id,      row.staff_id,      row.label,         row.created_at_ms,
                   row.expires_at_ms, row.revoked_at_ms, TokenState(row, now)};
}

}  // namespace

Status StaffService::RevokeToken(const Context& ctx, std::string_view token_id) {
  VaultState& impl = *state_;
  const std::string target = IdTarget("token", token_id);
  CUSTOS_ASSIGN_OR_RETURN(Admitted a, Admit(impl, ctx, "token.revoke", target));
  std::optional<store::ApiTokenRow> token;
  if (ValidCustomerId(token_id)) {
    CUSTOS_ASSIGN_OR_RETURN(token, a.txn->GetApiToken(token_id));
  }
  const std::string owner = token.has_value() ? token->staff_id : "";
  CUSTOS_RETURN_IF_ERROR(Permit(impl, a, "token.revoke", target, "staff.manage", owner, true));
  if (!token.has_value()) {
    return DenyInput(impl, a, "token.revoke", target, NotFound("token: no such token"));
  }
  CUSTOS_RETURN_IF_ERROR(a.txn->RevokeApiToken(token_id, impl.Now()));
  CUSTOS_RETURN_IF_ERROR(NewAccessEpoch(*a.txn));
  return impl.AuditAndCommit(
      *a.txn, impl.Event(a.ctx, "token.revoke", target, "allow",
                         fmt::format("token of staff '{}' revoked", token->staff_id)));
}

Result<std::vector<TokenView>> StaffService::ListTokens(const Context& ctx, std::string_view staff_id) {
  VaultState& impl = *state_;
  const std::string target = staff_id.empty() ? "staff:*" : StaffTarget(staff_id);
  CUSTOS_ASSIGN_OR_RETURN(Admitted a, AdmitFor(impl, ctx, "token.list", target, "staff.manage",
                                               staff_id, /*self_ok=*/true));
  CUSTOS_ASSIGN_OR_RETURN(auto rows, a.txn->ListApiTokens(staff_id));
  std::vector<TokenView> out;
  out.reserve(rows.size());
  for (const store::ApiTokenRow& row : rows) out.push_back(ToView(row, impl.Now()));
  CUSTOS_RETURN_IF_ERROR(impl.AuditAndCommit(
      *a.txn, impl.Event(a.ctx, "token.list", target, "allow",
                         fmt::format("{} tokens listed", out.size()))));
  return out;
}

// --- staff ---

namespace {

Status CheckStaffText(std::string_view what, std::string_view value, bool required) {
  if (value.empty() && !required) return Status::Ok();
  if (!Printable(value, 128)) {
    return InvalidArgument(fmt::format("{}: 1 to 128 printable characters", what));
  }
  return Status::Ok();
}

}  // namespace

Status StaffService::Create(const Context& ctx, const StaffSpec& spec) {
  VaultState& impl = *state_;
  const std::string target = StaffTarget(spec.staff_id);
  CUSTOS_ASSIGN_OR_RETURN(Admitted a,
                          AdmitFor(impl, ctx, "staff.create", target, "staff.manage"));
  Status bad;
  if (!access::ValidStaffId(spec.staff_id)) {
    bad = InvalidArgument("staff id: 1 to 64 of a-z, 0-9, '.', '_', '-', starting alphanumeric");
  } else if (spec.roles.empty()) {
    bad = InvalidArgument("roles: at least one role");
  }
  if (bad.ok()) bad = CheckStaffText("display name", spec.display_name, true);
  if (bad.ok()) bad = CheckStaffText("post", spec.post, true);
  if (bad.ok()) bad = CheckRoles(impl, spec.roles);
  if (bad.ok() && !spec.initial_password.empty()) {
    bad = access::CheckPasswordRules(spec.staff_id, spec.initial_password);
  }
  if (!bad.ok()) return DenyInput(impl, a, "staff.create", target, bad);
  const int64_t now = impl.Now();
  store::StaffRow row;
  row.staff_id = spec.staff_id;
  row.display_name = spec.display_name;
  row.post = spec.post;
  row.roles = JoinRoles(spec.roles);
  row.created_at_ms = now;
  Status inserted = a.txn->InsertStaff(row);
  if (inserted.code() == Code::kConflict) {
    return DenyInput(impl, a, "staff.create", target, Conflict("staff id: already exists"));
  }
  CUSTOS_RETURN_IF_ERROR(inserted);
  store::StaffCredentialRow cred;
  cred.staff_id = spec.staff_id;
  if (!spec.initial_password.empty()) {
    cred.password_hash = access::HashStaffPassword(spec.initial_password);
  }
  cred.updated_at_ms = now;
  CUSTOS_RETURN_IF_ERROR(a.txn->PutStaffCredential(cred));
  CUSTOS_RETURN_IF_ERROR(NewAccessEpoch(*a.txn));
  return impl.AuditAndCommit(
      *a.txn, impl.Event(a.ctx, "staff.create", target, "allow",
                         fmt::format("post '{}', roles {}{}", row.post, row.roles,
                                     spec.initial_password.empty() ? "" : ", password set")));
}

Status StaffService::Update(const Context& ctx, std::string_view staff_id,
                          const StaffChange& change) {
  VaultState& impl = *state_;
  const std::string target = StaffTarget(staff_id);
  CUSTOS_ASSIGN_OR_RETURN(Admitted a,
                          AdmitFor(impl, ctx, "staff.update", target, "staff.manage"));
  std::optional<store::StaffRow> row;
  if (access::ValidStaffId(staff_id)) {
    CUSTOS_ASSIGN_OR_RETURN(row, a.txn->GetStaff(staff_id));
  }
  if (!row.has_value()) {
    return DenyInput(impl, a, "staff.update", target, NotFound("staff id: no such staff"));
  }
  std::vector<std::string> changed;
  Status bad;
  if (change.display_name) {
    bad = CheckStaffText("display name", *change.display_name, true);
    row->display_name = *change.display_name;
    changed.push_back("display_name");
  }
  if (bad.ok() && change.post) {
    bad = CheckStaffText("post", *change.post, true);
    row->post = *change.post;
    changed.push_back("post");
  }
  if (bad.ok() && change.roles) {
    bad = change.roles->empty() ? InvalidArgument("roles: at least one role")
                                : CheckRoles(impl, *change.roles);
    row->roles = JoinRoles(*change.roles);
    changed.push_back("roles");
  }
  if (bad.ok() && change.status) {
    if (*change.status != "active" && *change.status != "disabled") {
      bad = InvalidArgument("status: must be active or disabled");
    }
    row->status = *change.status;
    changed.push_back("status");
  }
  if (bad.ok() && staff_id == a.actor.staff_id) {
    // An administrator must not lock themselves (and perhaps everyone) out.
    if (row->status != "active") bad = FailedPrecondition("staff: cannot disable yourself");
    if (bad.ok() && !RequireAdminAction(impl, *row, "staff.manage").ok()) {
      bad = FailedPrecondition("roles: cannot remove your own staff.manage");
    }
  }
  if (!bad.ok()) return DenyInput(impl, a, "staff.update", target, bad);
  CUSTOS_RETURN_IF_ERROR(a.txn->UpdateStaff(*row));
  CUSTOS_RETURN_IF_ERROR(NewAccessEpoch(*a.txn));
  return impl.AuditAndCommit(
      *a.txn, impl.Event(a.ctx, "staff.update", target, "allow",
                         fmt::format("post '{}', roles {}, status {}", row->post, row->roles,
                                     row->status),
                         changed));
}

Result<const schema::Config*> StaffService::ListRoles(const Context& ctx) {
  VaultState& impl = *state_;
  CUSTOS_ASSIGN_OR_RETURN(Admitted a, AdmitFor(impl, ctx, "role.list", "roles", "role.read"));
  // The entry is committed before the catalogue is handed out.
  CUSTOS_RETURN_IF_ERROR(impl.AuditAndCommit(
      *a.txn, impl.Event(a.ctx, "role.list", "roles", "allow",
                         fmt::format("{} roles, {} posts", impl.config->roles.size(),
                                     impl.config->posts.size()))));
  return impl.config.get();
}

Result<std::vector<StaffView>> StaffService::List(const Context& ctx) {
  VaultState& impl = *state_;
  CUSTOS_ASSIGN_OR_RETURN(Admitted a, Admit(impl, ctx, "staff.list", "staff:*"));
  if (!RequireAdminAction(impl, a.actor, "staff.manage").ok()) {
    CUSTOS_RETURN_IF_ERROR(Permit(impl, a, "staff.list", "staff:*", "role.read"));
  }
  CUSTOS_ASSIGN_OR_RETURN(auto rows, a.txn->ListStaff());
  std::vector<StaffView> out;
  const int64_t now = impl.Now();
  for (const store::StaffRow& row : rows) {
    StaffView v{row.staff_id, row.display_name, row.post, SplitRoles(row.roles), row.status,
                row.created_at_ms};
    CUSTOS_ASSIGN_OR_RETURN(auto cred, a.txn->GetStaffCredential(row.staff_id));
    if (cred.has_value()) {
      v.has_password = !cred->password_hash.empty();
      v.totp_enrolled = !cred->totp_sealed.empty();
      if (access::IsLocked(*cred, now)) v.locked_until_ms = cred->locked_until_ms;
    }
    out.push_back(std::move(v));
  }
  CUSTOS_RETURN_IF_ERROR(impl.AuditAndCommit(
      *a.txn, impl.Event(a.ctx, "staff.list", "staff:*", "allow",
                         fmt::format("{} staff listed", out.size()))));
  return out;
}

Status StaffService::SetPassword(const Context& ctx, std::string_view staff_id,
                          std::string_view new_password) {
  VaultState& impl = *state_;
  const std::string target = StaffTarget(staff_id);
  CUSTOS_ASSIGN_OR_RETURN(Admitted a, AdmitFor(impl, ctx, "staff.password", target,
                                               "staff.manage", staff_id, /*self_ok=*/true));
  std::optional<store::StaffRow> row;
  if (access::ValidStaffId(staff_id)) {
    CUSTOS_ASSIGN_OR_RETURN(row, a.txn->GetStaff(staff_id));
  }
  if (!row.has_value()) {
    return DenyInput(impl, a, "staff.password", target, NotFound("staff id: no such staff"));
  }
  Status rules = access::CheckPasswordRules(staff_id, new_password);
  if (!rules.ok()) return DenyInput(impl, a, "staff.password", target, rules);
  CUSTOS_ASSIGN_OR_RETURN(auto cred, a.txn->GetStaffCredential(staff_id));
  store::StaffCredentialRow updated = cred.value_or(store::StaffCredentialRow{});
  updated.staff_id = std::string(staff_id);
  updated.password_hash = access::HashStaffPassword(new_password);
  access::ClearFailures(updated);
  updated.updated_at_ms = impl.Now();
  CUSTOS_RETURN_IF_ERROR(a.txn->PutStaffCredential(updated));
  CUSTOS_RETURN_IF_ERROR(NewAccessEpoch(*a.txn));
  return impl.AuditAndCommit(*a.txn, impl.Event(a.ctx, "staff.password", target, "allow",
                                                "password set; lock-out cleared"));
}

Result<TotpEnrollment> StaffService::EnrollTotp(const Context& ctx, std::string_view staff_id) {
  VaultState& impl = *state_;
  const std::string target = StaffTarget(staff_id);
  CUSTOS_ASSIGN_OR_RETURN(Admitted a, AdmitFor(impl, ctx, "totp.enroll", target, "staff.manage",
                                               staff_id, /*self_ok=*/true));
  std::optional<store::StaffRow> row;
  if (access::ValidStaffId(staff_id)) {
    CUSTOS_ASSIGN_OR_RETURN(row, a.txn->GetStaff(staff_id));
  }
  if (!row.has_value()) {
    return DenyInput(impl, a, "totp.enroll", target, NotFound("staff id: no such staff"));
  }
  const crypto::SecretBytes secret = access::NewTotpSecret();
  CUSTOS_RETURN_IF_ERROR(impl.FollowKekVersion(*a.txn));
  CUSTOS_ASSIGN_OR_RETURN(crypto::Bytes sealed,
                          access::SealTotpSecret(impl.keyring->provider(), staff_id, secret));
  CUSTOS_ASSIGN_OR_RETURN(auto cred, a.txn->GetStaffCredential(staff_id));
  store::StaffCredentialRow updated = cred.value_or(store::StaffCredentialRow{});
  updated.staff_id = std::string(staff_id);
  updated.totp_sealed = std::move(sealed);
  updated.updated_at_ms = impl.Now();
  CUSTOS_RETURN_IF_ERROR(a.txn->PutStaffCredential(updated));
  CUSTOS_RETURN_IF_ERROR(NewAccessEpoch(*a.txn));
  CUSTOS_RETURN_IF_ERROR(impl.AuditAndCommit(
      *a.txn, impl.Event(a.ctx, "totp.enroll", target, "allow", "TOTP secret enrolled")));
  return TotpEnrollment{access::Base32(secret, /*lower_case=*/false),
                        access::OtpauthUri(staff_id, secret)};
}

// --- training (P5b) ---

Status StaffService::RecordTraining(const Context& ctx, const TrainingRecord& record) {
  VaultState& impl = *state_;
  const std::string target = StaffTarget(record.staff_id);
  CUSTOS_ASSIGN_OR_RETURN(Admitted a,
                          AdmitFor(impl, ctx, "training.record", target, "training.manage"));
  std::optional<store::StaffRow> row;
  if (access::ValidStaffId(record.staff_id)) {
    CUSTOS_ASSIGN_OR_RETURN(row, a.txn->GetStaff(record.staff_id));
  }
  Status bad;
  if (!row.has_value()) bad = NotFound("staff id: no such staff");
  if (bad.ok()) bad = CheckStaffText("course", record.course, true);
  if (bad.ok() && record.valid_until_ms <= record.completed_at_ms) {
    bad = InvalidArgument("valid_until: must be after the completion date");
  }
  if (!bad.ok()) return DenyInput(impl, a, "training.record", target, bad);
  store::TrainingRow t{record.staff_id, record.course, record.completed_at_ms,
                       record.valid_until_ms, a.actor.staff_id};
  Status inserted = a.txn->InsertTraining(t);
  if (inserted.code() == Code::kConflict) {
    return DenyInput(impl, a, "training.record", target,
                     Conflict("training: this completion is already recorded"));
  }
  CUSTOS_RETURN_IF_ERROR(inserted);
  CUSTOS_RETURN_IF_ERROR(NewAccessEpoch(*a.txn));
  return impl.AuditAndCommit(
      *a.txn, impl.Event(a.ctx, "training.record", target, "allow",
                         fmt::format("course '{}' completed {}, valid until {}", record.course,
                                     access::UtcDate(record.completed_at_ms),
                                     access::UtcDate(record.valid_until_ms))));
}

Result<std::vector<TrainingRecord>> StaffService::ListTraining(const Context& ctx,
                                                        std::string_view staff_id) {
  VaultState& impl = *state_;
  const std::string target = staff_id.empty() ? "staff:*" : StaffTarget(staff_id);
  CUSTOS_ASSIGN_OR_RETURN(Admitted a, AdmitFor(impl, ctx, "training.list", target,
                                               "training.read", staff_id, /*self_ok=*/true));
  CUSTOS_ASSIGN_OR_RETURN(auto rows, a.txn->ListTraining(staff_id));
  std::vector<TrainingRecord> out;
  out.reserve(rows.size());
  for (const store::TrainingRow& r : rows) {
    out.push_back(TrainingRecord{r.staff_id, r.course, r.completed_at_ms, r.valid_until_ms,
                                 r.recorded_by});
  }
  CUSTOS_RETURN_IF_ERROR(impl.AuditAndCommit(
      *a.txn, impl.Event(a.ctx, "training.list", target, "allow",
                         fmt::format("{} records listed", out.size()))));
  return out;
}

// --- approvals (dual control) ---

namespace {

std::string KindLabel(std::string_view kind) {
  return kind == access::kKindBreakGlass ? "break-glass" : std::string(kind);
}

ApprovalView ToView(const store::ApprovalRow& r, int64_t now) {
  return ApprovalView{r.approval_id,     r.kind,          r.requester, r.justification,
                      r.scope,           r.requested_at_ms, r.expires_at_ms, r.approver,
                      r.decided_at_ms,   access::EffectiveState(r, now)};
}

}  // namespace

// A destruction request for a saved retention plan (issue 6) names the plan and the hash of
// its content as it stands now; the run refuses a plan whose content differs.
static Status PlanScope(store::Transaction& txn, const ApprovalRequest& request,
                        access::ApprovalScope& scope) {
  if (request.kind != access::kKindDestruction) {
    return InvalidArgument("plan: only a destruction request names a retention plan");
  }
  std::optional<store::RetentionPlanRow> plan;
  if (ValidCustomerId(request.plan_id)) {
    CUSTOS_ASSIGN_OR_RETURN(plan, txn.GetRetentionPlan(request.plan_id));
  }
  if (!plan.has_value()) return NotFound("plan: no such retention plan");
  if (!request.plan_sha256.empty() && request.plan_sha256 != plan->content_sha256) {
    return InvalidArgument("plan_sha256: does not match the saved plan");
  }
  if (plan->state == "done") return FailedPrecondition("plan: already executed");
  scope.plan = plan->plan_id;
  scope.plan_sha256 = plan->content_sha256;
  return Status::Ok();
}

Result<std::string> ApprovalService::Request(const Context& ctx, const ApprovalRequest& request) {
  VaultState& impl = *state_;
  const int64_t now = impl.Now();
  const std::string id = NewId(now);
  const std::string target = IdTarget("approval", id);
  CUSTOS_ASSIGN_OR_RETURN(Admitted a,
                          AdmitFor(impl, ctx, "approval.request", target, "approval.request"));
  access::ApprovalScope scope{request.customers, request.fields, request.levels,
                              request.purpose, {}, {}};
  Status bad = access::CheckRequest(request.kind, request.justification, scope,
                                    request.duration_ms);
  if (bad.ok() && !Printable(request.justification, access::kMaxJustification)) {
    bad = InvalidArgument("justification: printable text only");
  }
  for (const std::string& c : scope.customers) {
    if (bad.ok() && !ValidCustomerId(c)) bad = InvalidArgument("scope 'customers': not a customer id");
  }
  for (const std::string& f : scope.fields) {
    if (bad.ok() && impl.config->FindField(f) == nullptr) {
      bad = InvalidArgument("scope 'fields': not in the field catalogue");
    }
  }
  if (bad.ok() && !scope.purpose.empty() && impl.config->FindPurpose(scope.purpose) == nullptr) {
    bad = InvalidArgument("scope 'purpose': not in the purpose catalogue (P3.3a)");
  }
  if (bad.ok() && !request.plan_id.empty()) {
    bad = PlanScope(*a.txn, request, scope);
  }
  if (!bad.ok()) return DenyInput(impl, a, "approval.request", target, bad);
  store::ApprovalRow row;
  row.approval_id = id;
  row.kind = request.kind;
  row.requester = a.actor.staff_id;
  row.justification = request.justification;
  row.scope = access::ScopeToJson(scope);
  row.requested_at_ms = now;
  row.expires_at_ms = now + request.duration_ms;
  row.state = std::string(access::kStateRequested);
  CUSTOS_RETURN_IF_ERROR(a.txn->InsertApproval(row));
  CUSTOS_RETURN_IF_ERROR(NewAccessEpoch(*a.txn));
  CUSTOS_RETURN_IF_ERROR(impl.AuditAndCommit(
      *a.txn, impl.Event(a.ctx, "approval.request", target, "allow",
                         fmt::format("{} requested for {} customers until {} UTC",
                                     KindLabel(row.kind), scope.customers.size(),
                                     access::UtcDate(row.expires_at_ms)),
                         scope.fields)));
  return id;
}

namespace {

Status Decide(VaultState& impl, const Context& ctx, std::string_view approval_id, bool approve) {
  const std::string action = approve ? "approval.approve" : "approval.reject";
  const std::string target = IdTarget("approval", approval_id);
  CUSTOS_ASSIGN_OR_RETURN(Admitted a, AdmitFor(impl, ctx, action, target, "approval.approve"));
  std::optional<store::ApprovalRow> row;
  if (ValidCustomerId(approval_id)) {
    CUSTOS_ASSIGN_OR_RETURN(row, a.txn->GetApproval(approval_id));
  }
  const int64_t now = impl.Now();
  Status bad;
  if (!row.has_value()) {
    bad = NotFound("approval: no such request");
  } else if (row->requester == a.actor.staff_id) {
    bad = PermissionDenied("dual control: a request cannot be decided by its requester");
  } else if (access::EffectiveState(*row, now) != access::kStateRequested) {
    bad = FailedPrecondition(fmt::format("approval: already {}",
                                         access::EffectiveState(*row, now)));
  }
  if (!bad.ok()) return DenyInput(impl, a, action, target, bad);
  row->approver = a.actor.staff_id;
  row->decided_at_ms = now;
  row->state = std::string(approve ? access::kStateApproved : access::kStateRejected);
  CUSTOS_RETURN_IF_ERROR(a.txn->UpdateApproval(*row));
  CUSTOS_RETURN_IF_ERROR(NewAccessEpoch(*a.txn));
  return impl.AuditAndCommit(
      *a.txn,
      impl.Event(a.ctx, action, target, "allow",
                 fmt::format("{} grant {} for '{}' {} by '{}', in force until {} UTC",
                             KindLabel(row->kind), row->approval_id, row->requester,
                             approve ? "approved" : "rejected", row->approver,
                             access::UtcDate(row->expires_at_ms))));
}

}  // namespace

Status ApprovalService::Approve(const Context& ctx, std::string_view approval_id) {
  return Decide(*state_, ctx, approval_id, true);
}

Status ApprovalService::Reject(const Context& ctx, std::string_view approval_id) {
  return Decide(*state_, ctx, approval_id, false);
}

Result<std::vector<ApprovalView>> ApprovalService::List(const Context& ctx,
                                                       std::string_view requester,
                                                       std::string_view state) {
  VaultState& impl = *state_;
  const std::string target = requester.empty() ? "approval:*" : StaffTarget(requester);
  CUSTOS_ASSIGN_OR_RETURN(Admitted a, AdmitFor(impl, ctx, "approval.list", target,
                                               "approval.read", requester, /*self_ok=*/true));
  // "expired" is computed: ask the store for the rows that may have expired.
  const bool want_expired = state == access::kStateExpired;
  CUSTOS_ASSIGN_OR_RETURN(auto rows, a.txn->ListApprovals(requester, want_expired ? "" : state));
  const int64_t now = impl.Now();
  std::vector<ApprovalView> out;
  for (const store::ApprovalRow& r : rows) {
    ApprovalView v = ToView(r, now);
    if (!state.empty() && v.state != state) continue;
    out.push_back(std::move(v));
  }
  CUSTOS_RETURN_IF_ERROR(impl.AuditAndCommit(
      *a.txn, impl.Event(a.ctx, "approval.list", target, "allow",
                         fmt::format("{} approvals listed", out.size()))));
  return out;
}

}  // namespace custos::vault
