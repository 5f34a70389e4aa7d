// The replay of a consent ledger into the current state, and the P3.3a rule on top of it.
#include <fmt/core.h>

#include <algorithm>

#include "consent/consent.h"
#include "store/consent_facts.h"

namespace custos::consent {

std::string_view ActionName(Action action) {
  return action == Action::kGrant ? "grant" : "withdraw";
}

std::string_view ScopeName(Scope scope) {
  switch (scope) {
    case Scope::kPurpose:
      return "purpose";
    case Scope::kSensitive:
      return "sensitive";
    case Scope::kThirdParty:
      return "third_party";
    case Scope::kShare:
      return "share";
  }
  return "purpose";
}

Result<Action> ParseAction(std::string_view name) {
  if (name == "grant") return Action::kGrant;
  if (name == "withdraw") return Action::kWithdraw;
  return InvalidArgument("action: must be one of grant, withdraw");
}

Result<Scope> ParseScope(std::string_view name) {
  if (name == "purpose") return Scope::kPurpose;
  if (name == "sensitive") return Scope::kSensitive;
  if (name == "third_party") return Scope::kThirdParty;
  if (name == "share") return Scope::kShare;
  return InvalidArgument("scope: must be one of purpose, sensitive, third_party, share");
}

bool ConsentState::Grants(std::string_view purpose) const {
  auto it = purposes.find(purpose);
  return it != purposes.end() && it->second.granted;
}

std::string PartnerTarget(std::string_view partner_id) {
  return fmt::format("partner:{}", partner_id);
}

std::string CategoryTarget(std::string_view category) {
  return fmt::format("category:{}", category);
}

bool ConsentState::SharesWith(std::string_view partner_id, std::string_view category,
                              int64_t partner_added_at_ms, const std::set<int64_t>* notices) const {
  auto told = [&](const ScopeConsent& grant) {
    return grant.granted && (notices == nullptr || notices->contains(grant.notice_version));
  };
  if (auto it = shares.find(PartnerTarget(partner_id)); it != shares.end() && told(it->second)) {
    return true;
  }
  if (category.empty()) return false;
  auto it = shares.find(CategoryTarget(category));
  return it != shares.end() && told(it->second) && it->second.granted_at_ms >= partner_added_at_ms;
}

bool UsePermitted(const ConsentState& state, const schema::PurposeDef& purpose) {
  return purpose.legal_obligation || state.Grants(purpose.name);
}

namespace {

void Apply(ScopeConsent& scope, Action action, const store::ConsentFact& entry) {
  if (action == Action::kGrant) {
    scope.granted = true;
    scope.notice_version = entry.notice_version;
    scope.granted_at_ms = entry.recorded_at_ms;
    scope.withdrawn_at_ms = 0;
  } else {
    scope.granted = false;
    scope.withdrawn_at_ms = entry.recorded_at_ms;
  }
}

// The replay of one customer's entries (sorted by seq here).
Result<ConsentState> ReplayFacts(std::string_view customer_id,
                                 std::vector<store::ConsentFact> entries) {
  std::sort(entries.begin(), entries.end(),
            [](const store::ConsentFact& a, const store::ConsentFact& b) { return a.seq < b.seq; });
  ConsentState state;
  state.customer_id = std::string(customer_id);
  for (const store::ConsentFact& entry : entries) {
    // The ledger is written only through Record: an unknown action or scope is a broken
    // invariant, never user input.
    Result<Action> action = ParseAction(entry.action);
    Result<Scope> scope = ParseScope(entry.scope);
    if (!action.ok() || !scope.ok()) {
      return Internal(
          fmt::format("consent: ledger entry {} has an unknown action or scope", entry.seq));
    }
    switch (*scope) {
      case Scope::kPurpose:
        Apply(state.purposes[entry.purpose], *action, entry);
        break;
      case Scope::kSensitive:
        Apply(state.sensitive_detail, *action, entry);
        break;
      case Scope::kThirdParty:
        Apply(state.third_party_detail, *action, entry);
        break;
      case Scope::kShare:
        Apply(state.shares[entry.purpose], *action, entry);
        break;
    }
    state.last_seq = entry.seq;
  }
  state.sensitive = state.sensitive_detail.granted;
  state.third_party = state.third_party_detail.granted;
  return state;
}

}  // namespace

Result<ConsentState> Replay(std::string_view customer_id, std::vector<store::ConsentRow> rows) {
  std::vector<store::ConsentFact> entries;
  entries.reserve(rows.size());
  for (store::ConsentRow& row : rows) {
    // The store returns only this customer's entries; anything else is a broken invariant.
    if (row.customer_id != customer_id) {
      return Internal(fmt::format("consent: ledger entry {} belongs to another customer", row.seq));
    }
    entries.push_back(store::ConsentFact{row.seq, std::move(row.action), std::move(row.scope),
                                         std::move(row.purpose), row.notice_version,
                                         row.recorded_at_ms});
  }
  return ReplayFacts(customer_id, std::move(entries));
}

Result<ConsentState> Current(store::Transaction& txn, std::string_view customer_id) {
  // The entries without their channel, evidence and actor, which the state does not hold.
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::ConsentFact> entries,
                          store::ListConsentFacts(txn, customer_id));
  CUSTOS_ASSIGN_OR_RETURN(ConsentState state, ReplayFacts(customer_id, std::move(entries)));
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::RestrictionRow> restrictions,
                          txn.ListRestrictions(customer_id));
  if (!restrictions.empty()) {
    state.restricted_since_ms = restrictions.front().placed_at_ms;
    state.restriction_rule = restrictions.front().rule;
  }
  return state;
}

}  // namespace custos::consent
