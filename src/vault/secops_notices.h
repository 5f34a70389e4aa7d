// Internal to the vault: the PIPL Art. 57 notices of an incident (secops_notices.cpp), drafted
// from its assessment, the rules that raised its alerts and the containment and recovery steps.
// Thread safety: a pure function.
#pragma once

#include <string>
#include <vector>

#include "vault/secops.h"

namespace custos::vault {

struct Art57Facts {
  IncidentView incident;
  ImpactAssessment impact;
  std::vector<std::string> rules;     // of the alerts it took up
  std::vector<std::string> measures;  // the contain and recover steps' details
  std::string contact;
};

// Four drafts, in this order: authority zh, authority en, individuals zh, individuals en. Each
// states (Art. 57) the categories of personal information concerned, the cause, the possible
// harm, the measures taken, what individuals can do and the contact; the authority's also the
// number of individuals and the fields concerned. No customer's value or id.
std::vector<Art57Notice> DraftArt57Notices(const Art57Facts& facts);

}  // namespace custos::vault
