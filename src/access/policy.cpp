// The decision engine. Rules are listed in policy.h; each step below is one of them, and each
// refusal says which rule refused so the DPO can read the audit log without the code.
#include "access/policy.h"

#include <algorithm>

#include <fmt/format.h>

#include "access/training.h"

namespace custos::access {
namespace {

constexpr std::string_view kApprovalRequest = "approval.request";

template <typename T, typename V>
bool Contains(const std::vector<T>& items, const V& v) {
  return std::find(items.begin(), items.end(), v) != items.end();
}

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out.empty() ? "none" : out;
}

// "post 'support_agent' (roles: customer_service)", naming who was asked about.
std::string WhoseGrants(const StaffFacts& staff, const std::vector<std::string>& roles) {
  if (staff.post.empty()) return fmt::format("staff '{}' (roles: {})", staff.staff_id, Join(roles));
  return fmt::format("post '{}' (roles: {})", staff.post, Join(roles));
}

Decision Deny(std::string reason) {
  Decision d;
  d.effect = Effect::kDeny;
  d.reason = std::move(reason);
  return d;
}

// Rule 1, shared by data and non-data actions.
bool CheckStaffAndPurpose(const schema::Config& config, const StaffFacts& staff,
                          std::string_view purpose, Decision& out) {
  if (staff.status != "active") {
    out = Deny(fmt::format("staff '{}' is {}, not active", staff.staff_id, staff.status));
    return false;
  }
  if (config.FindPurpose(purpose) == nullptr) {
    out = Deny(fmt::format("purpose '{}' is not in the purpose catalogue (P3.3a)", purpose));
    return false;
  }
  return true;
}

// Rule 2 for data: the best applicable grant, or a deny naming why none applied.
Decision DecideByRoles(const schema::Config& config, const StaffFacts& staff,
                       const std::vector<std::string>& roles, const DataRequest& request,
                       const Subject& subject) {
  Decision best;       // a deny; its reason is written at the end
  std::string lapsed;  // the training reason of a grant that would have applied
  // The grant that decided, and its training (the reason is written once, for it).
  const std::string* best_role = nullptr;
  size_t best_grant = 0;
  const schema::GrantDef* best_def = nullptr;
  TrainingStatus best_training;
  for (const std::string& role_name : roles) {
    const schema::RoleDef* role = config.FindRole(role_name);
    for (size_t i = 0; i < role->grants.size(); ++i) {
      const schema::GrantDef& g = role->grants[i];
      if (!Contains(g.actions, request.action) || !Contains(g.levels, subject.level) ||
          !Contains(g.purposes, request.purpose)) {
        continue;
      }
      const bool trained = subject.level == Level::kConfidential && !g.requires_training.empty();
      TrainingStatus t;
      if (trained) {
        t = EvaluateTraining(staff.training, g.requires_training, request.now_ms);
        if (!t.valid) {
          if (lapsed.empty()) lapsed = TrainingReason(g.requires_training, t);
          continue;
        }
      }
      const Effect effect =
          g.effect == schema::GrantEffect::kAllow ? Effect::kAllow : Effect::kMask;
      if (best.effect != Effect::kDeny &&
          !(effect == Effect::kAllow && best.effect == Effect::kMask)) {
        continue;  // keep the first grant of the strongest effect
      }
      best.effect = effect;
      best_role = &role_name;
      best_grant = i;
      best_def = trained ? &g : nullptr;
      best_training = t;
    }
  }
  if (best.effect != Effect::kDeny) {
    best.mask_rule = best.effect == Effect::kMask ? std::string(subject.mask_rule) : "";
    const std::string training =
        best_def != nullptr ? "; " + TrainingReason(best_def->requires_training, best_training)
                            : std::string();
    best.reason = fmt::format("role '{}' grant {} {} {} on {} for purpose '{}'{}", *best_role,
                              best_grant + 1, best.effect == Effect::kAllow ? "allows" : "masks",
                              request.action, LevelName(subject.level), request.purpose, training);
  } else {
    best.reason =
        lapsed.empty()
            ? fmt::format("no grant of {} covers {} on {} for purpose '{}'",
                          WhoseGrants(staff, roles), request.action, LevelName(subject.level),
                          request.purpose)
            : fmt::format("{}: confidential fields are refused until it is renewed (P5b)", lapsed);
  }
  return best;
}

// Rule 4: the customer's consent for the purpose (and for sensitive fields).
void ApplyConsent(const schema::Config& config, const DataRequest& request, const Subject& subject,
                  Decision& d) {
  if (request.consent == nullptr || d.effect == Effect::kDeny) return;
  const schema::PurposeDef* purpose = config.FindPurpose(request.purpose);
  if (purpose->legal_obligation) {
    d.reason +=
        fmt::format("; purpose '{}' is a legal obligation and needs no consent", request.purpose);
    return;
  }
  const consent::ConsentState& c = *request.consent;
  // PIPL Art. 44: a customer who restricted or objected to the processing is refused for
  // every purpose but a legal obligation (above) — the request itself runs under one.
  if (c.restricted_since_ms != 0) {
    d =
        Deny(fmt::format("customer restricted processing on {} ({}); only a legal obligation "
                         "may use the data (PIPL Art. 44)",
                         UtcDate(c.restricted_since_ms), c.restriction_rule));
    return;
  }
  if (!consent::UsePermitted(c, *purpose)) {
    auto it = c.purposes.find(request.purpose);
    if (it != c.purposes.end() && it->second.withdrawn_at_ms != 0) {
      d = Deny(fmt::format("customer withdrew consent to purpose '{}' on {} (P3.3a)",
                           request.purpose, UtcDate(it->second.withdrawn_at_ms)));
    } else {
      d = Deny(fmt::format("customer has not consented to purpose '{}' (P3.3a)", request.purpose));
    }
    return;
  }
  if (subject.pipl_sensitive && !c.sensitive) {
    d =
        Deny(fmt::format("field '{}' is sensitive personal information and the customer has not "
                         "given separate consent (PIPL Art. 29)",
                         subject.name));
  }
}

}  // namespace

std::string_view EffectName(Effect effect) {
  switch (effect) {
    case Effect::kAllow:
      return "allow";
    case Effect::kMask:
      return "mask";
    case Effect::kDeny:
      return "deny";
  }
  return "deny";
}

Subject FieldSubject(const schema::FieldDef& field) {
  return Subject{field.name, field.level, field.pipl_sensitive, field.mask};
}

std::vector<std::string> EffectiveRoles(const schema::Config& config, const StaffFacts& staff) {
  std::vector<std::string> out;
  if (const schema::PostDef* post = config.FindPost(staff.post)) out = post->roles;
  for (const std::string& r : staff.roles) {
    if (!Contains(out, r)) out.push_back(r);
  }
  std::erase_if(out, [&](const std::string& r) { return config.FindRole(r) == nullptr; });
  return out;
}

namespace {

// DecideData once the staff member and the purpose passed CheckStaffAndPurpose, with the
// staff member's effective roles.
Decision DecideForRoles(const schema::Config& config, const StaffFacts& staff,
                        const std::vector<std::string>& roles, const DataRequest& request,
                        const Subject& subject) {
  Decision d = DecideByRoles(config, staff, roles, request, subject);
  if (d.effect != Effect::kAllow) {
    for (const Grant& g : staff.break_glass) {
      if (g.Covers(subject.name, LevelName(subject.level), request.purpose)) {
        d = Decision{Effect::kAllow, "", g.Reason(), true};
        break;
      }
    }
  }
  ApplyConsent(config, request, subject, d);
  return d;
}

}  // namespace

Decision DecideData(const schema::Config& config, const StaffFacts& staff,
                    const DataRequest& request, const Subject& subject) {
  Decision d;
  if (!CheckStaffAndPurpose(config, staff, request.purpose, d)) return d;
  return DecideForRoles(config, staff, EffectiveRoles(config, staff), request, subject);
}

std::vector<Decision> DecideDataAll(const schema::Config& config, const StaffFacts& staff,
                                    const DataRequest& request,
                                    const std::vector<Subject>& subjects) {
  std::vector<Decision> out;
  out.reserve(subjects.size());
  // The staff member and the purpose, and the roles, are the same for every field.
  Decision refused;
  if (!CheckStaffAndPurpose(config, staff, request.purpose, refused)) {
    out.assign(subjects.size(), refused);
    return out;
  }
  const std::vector<std::string> roles = EffectiveRoles(config, staff);
  // A break-glass grant covers fields by name: every field decided on its own.
  const bool by_level = staff.break_glass.empty();
  struct Decided {
    Level level;
    std::string_view sensitive_name;  // empty for a field that is not PIPL-sensitive
    size_t index;                     // into `out`
  };
  std::vector<Decided> decided;
  for (const Subject& subject : subjects) {
    const std::string_view sensitive_name = subject.pipl_sensitive ? subject.name : "";
    auto same = std::find_if(decided.begin(), decided.end(), [&](const Decided& d) {
      return d.level == subject.level && d.sensitive_name == sensitive_name;
    });
    if (!by_level || same == decided.end()) {
      if (by_level) decided.push_back({subject.level, sensitive_name, out.size()});
      out.push_back(DecideForRoles(config, staff, roles, request, subject));
      continue;
    }
    Decision d = out[same->index];
    d.mask_rule = d.effect == Effect::kMask ? std::string(subject.mask_rule) : std::string();
    out.push_back(std::move(d));
  }
  return out;
}

Decision DecideAction(const schema::Config& config, const StaffFacts& staff,
                      std::string_view action, std::string_view purpose) {
  Decision d;
  if (purpose.empty()) {
    if (staff.status != "active") {
      return Deny(fmt::format("staff '{}' is {}, not active", staff.staff_id, staff.status));
    }
  } else if (!CheckStaffAndPurpose(config, staff, purpose, d)) {
    return d;
  }
  if (action == kApprovalRequest) {
    return Decision{Effect::kAllow, "",
                    "every active staff member may request an approval (dual control)", false};
  }
  const std::vector<std::string> roles = EffectiveRoles(config, staff);
  for (const std::string& role_name : roles) {
    const schema::RoleDef* role = config.FindRole(role_name);
    for (size_t i = 0; i < role->grants.size(); ++i) {
      const schema::GrantDef& g = role->grants[i];
      if (!g.levels.empty() || !Contains(g.actions, action)) continue;
      if (!g.purposes.empty() && !Contains(g.purposes, purpose)) continue;
      return Decision{Effect::kAllow, "",
                      fmt::format("role '{}' grant {} allows {}", role_name, i + 1, action), false};
    }
  }
  if (purpose.empty()) {
    return Deny(fmt::format("no grant of {} covers {}", WhoseGrants(staff, roles), action));
  }
  return Deny(fmt::format("no grant of {} covers {} for purpose '{}'", WhoseGrants(staff, roles),
                          action, purpose));
}

namespace {

// True when some allowing grant of these roles satisfies `pred`.
template <typename Pred>
bool AnyAllowingGrant(const schema::Config& config, const std::vector<std::string>& roles,
                      Pred pred) {
  for (const std::string& role_name : roles) {
    const schema::RoleDef* role = config.FindRole(role_name);
    if (role == nullptr) continue;
    for (const schema::GrantDef& g : role->grants) {
      if (g.effect == schema::GrantEffect::kAllow && pred(g)) return true;
    }
  }
  return false;
}

}  // namespace

bool CanReadConfidential(const schema::Config& config, const std::vector<std::string>& roles) {
  static constexpr std::string_view kReads[] = {"customer.read", "customer.search",
                                                "customer.list", "customer.export",
                                                "txn.read",      "note.read"};
  return AnyAllowingGrant(config, roles, [](const schema::GrantDef& g) {
    if (!Contains(g.levels, Level::kConfidential)) return false;
    return std::any_of(std::begin(kReads), std::end(kReads),
                       [&](std::string_view read) { return Contains(g.actions, read); });
  });
}

bool CanDecideApprovals(const schema::Config& config, const std::vector<std::string>& roles) {
  return AnyAllowingGrant(config, roles, [](const schema::GrantDef& g) {
    return Contains(g.actions, "approval.approve");
  });
}

bool NeedsDualControl(const schema::Config& config, const std::vector<std::string>& roles) {
  return CanReadConfidential(config, roles) || CanDecideApprovals(config, roles);
}

std::vector<FieldExplanation> ExplainRead(const schema::Config& config, const StaffFacts& staff,
                                          std::string_view purpose,
                                          const consent::ConsentState* consent, int64_t now_ms) {
  std::vector<FieldExplanation> out;
  for (const schema::FieldDef& f : config.fields) {
    if (f.type == schema::FieldType::kPassword) continue;
    const DataRequest request{"customer.read", purpose, consent, now_ms};
    out.push_back(
        {f.name, f.level, "customer.read", DecideData(config, staff, request, FieldSubject(f))});
  }
  for (const schema::RecordKindDef& r : config.records) {
    const std::string action = r.name == "transaction" ? "txn.read" : "note.read";
    const DataRequest request{action, purpose, consent, now_ms};
    out.push_back({r.name, r.level, action,
                   DecideData(config, staff, request, Subject{r.name, r.level, false, "full"})});
  }
  return out;
}

}  // namespace custos::access
