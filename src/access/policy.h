// Policy: the decision engine of P3.2b — who may do what, on which classification level, for
// which purpose — combined with the training gate (P5b), break-glass grants (dual control) and
// the customer's consent (P3.3a, PIPL Art. 13, 29). docs/access.md explains the rules.
//
// Pure: every function decides from the values it is given (the Config's [roles] and [posts],
// the staff facts the vault read in its transaction, the customer's consent state, the time)
// and neither reads the store nor audits. The vault asks before each operation, records the
// decision's effect and reason in the audit log, and decrypts only what was allowed or masked.
//
// Rules, in order, for a data action (customer.*, txn.*, note.*) on one field or record:
//   1. the staff member must be active, and the purpose in the catalogue;
//   2. roles: the post's roles plus those given in person. A grant applies when it names the
//      action, the level and the purpose. "allow" beats "mask". On the confidential level a
//      grant applies only while its requires_training course is valid at `now` (P5b);
//   3. break-glass: if no grant allows, an approved grant in force that covers the field (or
//      its level) and the purpose allows, flagged as break-glass;
//   4. consent (when the request carries the customer's state): the purpose must be a legal
//      obligation or currently granted; a PIPL-sensitive field also needs the separate
//      sensitive consent unless the purpose is a legal obligation; a customer under a
//      restriction of processing (PIPL Art. 44, a data-subject request) is refused for every
//      purpose but a legal obligation;
//   otherwise deny. Non-data actions (staff.manage, audit.read, ...) use rules 1 and 2 without
//   levels; approval.request is open to every active staff member.
//
// Thread safety: free functions over immutable values; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "access/approval.h"
#include "consent/consent.h"
#include "core/level.h"
#include "schema/config.h"
#include "store/store.h"

namespace custos::access {

enum class Effect : uint8_t { kAllow, kMask, kDeny };

// "allow", "mask", "deny" (as written in audit entries).
std::string_view EffectName(Effect effect);

struct Decision {
  Effect effect = Effect::kDeny;
  std::string mask_rule;  // kMask: the field's rule (schema::kMaskRules); else empty
  // One English sentence naming role, grant, purpose, level and rule; never a value.
  std::string reason;
  bool break_glass = false;  // allowed by a break-glass grant (flagged in the audit log)
};

// What the vault knows about the staff member making the request.
struct StaffFacts {
  std::string staff_id;
  std::string post;
  std::vector<std::string> roles;  // given in person, besides the post's
  std::string status = "active";
  std::vector<store::TrainingRow> training;  // the staff member's records
  std::vector<Grant> break_glass;  // approved grants in force for the customer in question
};

// A data request. `consent` is the customer's current state; nullptr skips rule 4 (used when
// no customer exists yet: creation records the consent given at collection in the same call).
struct DataRequest {
  std::string_view action;
  std::string_view purpose;
  const consent::ConsentState* consent = nullptr;
  int64_t now_ms = 0;
};

// The thing decided on: a field of the catalogue, or a record kind / note at its level.
struct Subject {
  std::string_view name;  // "phone", "transaction", "note"
  Level level = Level::kConfidential;
  bool pipl_sensitive = false;
  std::string_view mask_rule = "full";
};

Subject FieldSubject(const schema::FieldDef& field);

// The names of the staff member's roles: the post's (if the post is declared), then the
// personal ones not already listed. Names not declared in [roles] are kept out.
std::vector<std::string> EffectiveRoles(const schema::Config& config, const StaffFacts& staff);

// The decision for one field or record. Always a Decision (deny with its reason by default).
Decision DecideData(const schema::Config& config, const StaffFacts& staff,
                    const DataRequest& request, const Subject& subject);

// DecideData for each subject, in order, for one request: the same decisions, computed once per
// level (and per field for PIPL-sensitive fields, whose consent refusal names the field) when
// the staff member holds no break-glass grant, since nothing else in a decision depends on
// which field of a level it is but the mask rule, which is the field's own.
std::vector<Decision> DecideDataAll(const schema::Config& config, const StaffFacts& staff,
                                    const DataRequest& request,
                                    const std::vector<Subject>& subjects);

// The decision for a non-data action (kActions minus kDataActions) for `purpose`. An empty
// purpose is an action not made for a purpose (staff administration, login): only grants that
// list no purposes apply.
Decision DecideAction(const schema::Config& config, const StaffFacts& staff,
                      std::string_view action, std::string_view purpose);

// True when some grant of these roles shows confidential data unmasked: such staff must log
// in with a second factor (P4a).
bool CanReadConfidential(const schema::Config& config, const std::vector<std::string>& roles);

// True when some grant of these roles allows approval.approve: such staff decide other
// people's dual-control requests, so giving the role is itself dual-controlled.
bool CanDecideApprovals(const schema::Config& config, const std::vector<std::string>& roles);

// A role whose holder reads confidential fields unmasked or decides approvals: giving it
// needs a role_grant, and resetting a holder's password or second factor a credential_reset
// (docs/access.md, "Dual control over access").
bool NeedsDualControl(const schema::Config& config, const std::vector<std::string>& roles);

// One line of `access explain`.
struct FieldExplanation {
  std::string name;  // field name, or "transaction" / "note"
  Level level = Level::kGeneral;
  std::string action;  // customer.read, txn.read, note.read
  Decision decision;
};

// What the staff member would get reading the customer for `purpose`: every catalogue field
// (customer.read; password fields are never shown and are left out), then each record kind
// (txn.read, note.read at the kind's level).
std::vector<FieldExplanation> ExplainRead(const schema::Config& config, const StaffFacts& staff,
                                          std::string_view purpose,
                                          const consent::ConsentState* consent, int64_t now_ms);

}  // namespace custos::access
