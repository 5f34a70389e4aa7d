// StaffService: staff accounts, authentication (passwords, TOTP, tokens, login waits), training
// records, and the access policy as a staff member sees it (P3.2b, P4a, P5b; docs/access.md).
// Every call is admitted by the admission core (admission.h) and audited, and fails with the
// codes every service call shares (vault.h) besides those named at each call.
// No password, token or TOTP secret is ever in an entry, a message or a log.
// Thread safety: safe for concurrent use.
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
#include "vault/service_gauges.h"

namespace custos::schema {
struct Config;
}

namespace custos::vault {

struct VaultState;

// --- staff and authentication: value types (issue 3, P4a, P5b; see docs/access.md) ---

struct StaffSpec {
  std::string staff_id;  // 1-64 of [a-z0-9._-]
  std::string display_name;
  std::string post;                // 岗位, e.g. "support_agent"
  std::vector<std::string> roles;  // role names from custos.toml
  std::string initial_password;    // empty: no password (the account logs in by token only)
};

// Fields left empty are unchanged.
struct StaffChange {
  std::optional<std::string> display_name;
  std::optional<std::string> post;
  std::optional<std::vector<std::string>> roles;
  std::optional<std::string> status;  // "active" or "disabled"
};

struct StaffView {
  std::string staff_id;
  std::string display_name;
  std::string post;
  std::vector<std::string> roles;
  std::string status;
  int64_t created_at_ms = 0;
  bool has_password = false;
  bool totp_enrolled = false;
  int64_t locked_until_ms = 0;  // 0 when not locked
};

// The signed-in staff member as they see themselves (StaffService::Self; GET /v1/me).
struct SelfView {
  StaffView staff;
  std::vector<std::string> actions;   // every action the roles grant, sorted, no duplicates
  std::vector<std::string> purposes;  // declared by the roles' data grants, catalogue order
  bool any_purpose = false;           // a grant names no purpose (non-data: any purpose)
  // purpose -> the searchable fields the roles may search by under it (customer.search
  // allowed and the field not masked: docs/security.md "No search on what one sees masked"),
  // in catalogue order; purposes with none are left out.
  std::vector<std::pair<std::string, std::vector<std::string>>> search_fields;
};

// A token as issued: the secret is shown here once and never again.
struct IssuedToken {
  std::string token_id;
  std::string staff_id;
  std::string secret;  // "cst_..."
  int64_t expires_at_ms = 0;
};

struct TokenView {
  std::string token_id;
  std::string staff_id;
  std::string label;
  int64_t created_at_ms = 0;
  int64_t expires_at_ms = 0;
  int64_t revoked_at_ms = 0;
  std::string state;  // "active", "expired", "revoked"
};

// A login (StaffService::Login): the staff id, the password, the current TOTP code when a
// second factor is enrolled or required (by the roles or by `second_factor_required`), and
// optionally a new password to set in the same step (required after an administrator's reset).
struct LoginRequest {
  std::string staff_id;
  std::string password;
  std::string totp_code;
  std::string new_password;  // empty: keep the password
  int64_t ttl_ms = 0;        // (0, 90 days]
  std::string label;         // the device; at most 64 printable characters
  // The caller demands a second factor whatever the roles (the web console's sign-in): a
  // staff member with no enrolled TOTP factor is refused (FailedPrecondition, after the
  // password matched) as one whose roles read confidential data is.
  bool second_factor_required = false;
};

// Shown once at enrolment, for the staff member's authenticator app.
struct TotpEnrollment {
  std::string secret_base32;
  std::string otpauth_uri;
};

struct TrainingRecord {
  std::string staff_id;
  std::string course;
  int64_t completed_at_ms = 0;
  int64_t valid_until_ms = 0;
  std::string recorded_by;  // filled in by the vault
};

// One line of `custos access explain` (StaffService::ExplainAccess).
struct AccessExplanation {
  std::string name;  // a field of the catalogue, or "transaction" / "note"
  Level level = Level::kGeneral;
  std::string action;     // customer.read, txn.read, note.read
  std::string effect;     // "allow", "mask", "deny"
  std::string mask_rule;  // for "mask"
  std::string reason;
  bool break_glass = false;
};

class StaffService {
 public:
  // Made by Vault::Open; borrows the vault's state, which outlives it.
  explicit StaffService(VaultState& state) : state_(&state) {}

  // --- staff and authentication (issue 3, P4a, P5b; src/vault/staff_ops.cpp) ---
  // Every call below is audited (never a password, token or TOTP secret). Calls taking a
  // Context are operations of the admission core (admission.h): an active actor whose roles
  // grant the named action (waits earned by failed logins slow logins only, never an
  // authenticated caller); "self" marks calls a staff member may also make about their own
  // account. Refusals are audited as "deny": Unauthenticated (unknown /
  // inactive actor), PermissionDenied (no grant).

  // Resolves a bearer token ("cst_" + base32 of 32 random bytes) to an active staff id.
  // Unauthenticated "invalid or expired token" for every refusal (malformed, unknown,
  // expired, revoked token; disabled staff): the precise reason is only in the audit entry
  // ("auth.token", deny, never the token); a success is not audited (the operation it
  // authenticates is). Failed logins do not stop tokens. Fast path: SHA-256 lookup, no Argon2.
  // The HTTP edge's audited-read routes do not call this: they hand the token to the read
  // (vault/pending_token.h), which makes the same check (token_check.h) in its own batch.
  // `source`: the client's address (the HTTP edge's peer; empty on the CLI), for the rule
  // token_new_address (token_address.h).
  Result<std::string> Authenticate(std::string_view bearer_token, std::string_view request_id,
                                   Channel channel = Channel::kApi, std::string_view source = {});
  // Login (issue 3, P4a; issue 12 items 5 and 6): password, plus the current TOTP code when
  // the staff member has enrolled one or a role requires it (roles that can read confidential
  // fields). ctx.channel and ctx.source (the client's address; empty for the CLI) say where
  // the attempt comes from; ctx.actor is ignored.
  // Every failed check answers the same Unauthenticated "staff id, password or code is
  // wrong" — unknown id, wrong password or code, disabled account, account without a
  // password — after exactly one Argon2id run; the audit entry keeps the precise reason.
  // ResourceExhausted, before any password check, while a wait earned by failed logins runs
  // for the staff id or the source address ([access] max_failures / address_max_failures:
  // 1 s doubling up to lockout_minutes), or when login_concurrency checks already run;
  // `retry_after_ms`, if given, is then set. No token is revoked by failed logins.
  // After the right password (and code): FailedPrecondition when a required second factor
  // is not enrolled (EnrollTotpAtLogin), or when an administrator set the password and
  // `new_password` is missing ("password change required"); a new password is checked like
  // any (CheckPasswordRules, and it must differ), stored, and the token issued.
  // InvalidArgument on a bad ttl or label.
  Result<IssuedToken> Login(const Context& ctx, const LoginRequest& request,
                            int64_t* retry_after_ms = nullptr);
  // Login as above with Context{channel}, no source address and no new password.
  Result<IssuedToken> IssueToken(std::string_view staff_id, std::string_view password,
                                 std::string_view totp_code, int64_t ttl_ms, std::string_view label,
                                 Channel channel = Channel::kApi);
  // The owner's own first enrolment of a second factor, proved by the password (a staff
  // member whose roles require TOTP cannot log in without one; an administrator only resets
  // it): the same limits, checks and answers as Login, then FailedPrecondition if a factor is
  // already enrolled. Returns the new secret once; no token (log in with a code next).
  Result<TotpEnrollment> EnrollTotpAtLogin(const Context& ctx, std::string_view staff_id,
                                           std::string_view password,
                                           int64_t* retry_after_ms = nullptr);
  // staff.manage or self. NotFound if the token does not exist (or is another's, for self).
  Status RevokeToken(const Context& ctx, std::string_view token_id);
  // staff.manage or self; every staff member's tokens when staff_id is empty (staff.manage).
  Result<std::vector<TokenView>> ListTokens(const Context& ctx, std::string_view staff_id);

  // staff.manage. Conflict if the id exists; InvalidArgument naming the bad field or rule,
  // or the pair of roles separation of duties forbids (custos.toml [access]); a role that
  // reads confidential fields unmasked or decides approvals needs an approved role_grant for
  // the new id
  // (FailedPrecondition without one; the grant is used up). The creator is recorded: an
  // account cannot approve what its creator requested (ApprovalService::Approve).
  Status Create(const Context& ctx, const StaffSpec& spec);
  // staff.manage. NotFound if absent. Nobody changes their own roles or post
  // (PermissionDenied) or disables themselves; separation of duties and dual control as for
  // Create. A change of roles, post or status revokes every live token of the staff member.
  Status Update(const Context& ctx, std::string_view staff_id, const StaffChange& change);
  // staff.manage or role.read.
  Result<std::vector<StaffView>> List(const Context& ctx);
  // Self only (no grant needed, audited "staff.list" on the actor's own id): the actor's
  // account, the actions their roles grant and the purposes those grants name, as the console
  // needs to choose a workspace (src/vault/staff_self.cpp). Unauthenticated for an unknown or
  // inactive actor.
  Result<SelfView> Self(const Context& ctx);
  // staff.manage (an administrator's reset), or self with the current password
  // (PermissionDenied when wrong or missing). Clears the login waits. A reset revokes the
  // staff member's live tokens and forces a change: their next login must give a new
  // password (Login, FailedPrecondition "password change required" without one). An account
  // without a password (the init administrator's, token only) sets its first one itself only
  // through the CLI (Channel::kCli: on the vault host, with the vault's files and key);
  // PermissionDenied over the API (docs/decisions.md). Resetting another account that reads
  // confidential fields unmasked or decides approvals uses up an approved credential_reset of
  // the actor's naming it (FailedPrecondition without one; nothing changes).
  Status SetPassword(const Context& ctx, std::string_view staff_id, std::string_view new_password,
                     std::string_view current_password = {});
  // Self only: an administrator never sees another person's secret (PermissionDenied; they
  // reset it with ResetTotp). Re-enrolling one's own enrolled factor needs a current code
  // (PermissionDenied otherwise). Replaces any earlier secret; returns the new one once.
  Result<TotpEnrollment> EnrollTotp(const Context& ctx, std::string_view staff_id,
                                    std::string_view current_code = {});
  // staff.manage, never for oneself (PermissionDenied: one's own factor is re-enrolled with a
  // current code). Removes the staff member's second factor; the owner enrols a new one with
  // their password (EnrollTotpAtLogin). Revokes their live tokens. NotFound if absent;
  // FailedPrecondition when no factor is enrolled, or, for an account that reads confidential
  // fields unmasked or decides approvals, without an approved credential_reset of the actor's
  // naming it (used up by the reset).
  Status ResetTotp(const Context& ctx, std::string_view staff_id);

  // training.manage, never for oneself (PermissionDenied). NotFound for an unknown staff id;
  // InvalidArgument if completed_at is before 2000 or in the future, or valid_until is not
  // after it or more than ten years after it.
  Status RecordTraining(const Context& ctx, const TrainingRecord& record);
  // training.read or self; everyone's when staff_id is empty (training.read).
  Result<std::vector<TrainingRecord>> ListTraining(const Context& ctx, std::string_view staff_id);

  // --- access policy (issue 3, P3.2b; src/vault/explain.cpp) ---
  // The role and post catalogue of custos.toml (not customer data), for actors whose roles
  // grant role.read; audited "role.list". Success: the vault's configuration, to read its
  // `roles` and `posts` (owned by the vault, valid while it is open). PermissionDenied
  // without role.read; Unauthenticated for an unknown or inactive actor.
  Result<const schema::Config*> ListRoles(const Context& ctx);

  // What `staff_id` would see of the customer for `purpose`, per field and record kind:
  // allow, mask or deny, and why (the engine's reasons; never a value). Allowed to the staff
  // member about themselves and to roles granting role.read. Audited "access.explain".
  // InvalidArgument for a bad customer id or an unknown purpose; NotFound for an unknown staff
  // member or customer; PermissionDenied without role.read.
  Result<std::vector<AccessExplanation>> ExplainAccess(const Context& ctx,
                                                       std::string_view staff_id,
                                                       std::string_view purpose,
                                                       std::string_view customer_id);

  // Admits a read of the server's metrics (no customer data) for actors whose roles grant
  // service.metrics, audited "service.metrics", and reads the key and backup ages with their
  // alerts (service_gauges.h; src/vault/service_gauges.cpp). PermissionDenied without the
  // grant; Unavailable: the store failed.
  Result<ServiceGauges> Metrics(const Context& ctx);

 private:
  VaultState* state_;
};

}  // namespace custos::vault
