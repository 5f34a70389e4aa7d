// SubjectRequestService: the register of data-subject requests (PIPL Art. 44-50;
// docs/subject_requests.md).
// Every call is admitted by the admission core (admission.h) and audited, and fails with the
// codes every service call shares (vault.h) besides those named at each call.
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

namespace custos::vault {

struct VaultState;

// --- data-subject requests: value types (PIPL Art. 44-50; docs/subject_requests.md) ---

// How long the company takes at most to answer a data-subject request: 15 calendar days from
// opening. GB/T 35273-2020 §8.7 asks for an answer within 15 working days; counting calendar
// days is the stricter reading, so a request is never answered later than the standard allows.
inline constexpr int64_t kSubjectRequestAnswerMs = 15LL * 24 * 3600 * 1000;

// A request a customer made. kind: one of schema::kSubjectRequestKinds; reference: a ticket
// or case reference (3 to 200 printable bytes, no personal data).
struct SubjectRequestSpec {
  std::string customer_id;
  std::string kind;
  std::string reference;
};

struct SubjectRequestView {
  std::string request_id;
  std::string customer_id;
  std::string kind;
  std::string reference;
  std::string opened_by;
  int64_t opened_at_ms = 0;
  int64_t due_at_ms = 0;     // opened_at_ms + kSubjectRequestAnswerMs
  std::string closed_by;     // empty while open
  int64_t closed_at_ms = 0;  // 0 while open
  std::string outcome;       // schema::kSubjectRequestOutcomes; empty while open
  bool overdue = false;      // open, and the vault's time was past due_at_ms when read
};

class SubjectRequestService {
 public:
  // Made by Vault::Open; borrows the vault's state, which outlives it.
  explicit SubjectRequestService(VaultState& state) : state_(&state) {}

  // --- data-subject requests (PIPL Art. 44-50; src/vault/subject_requests.cpp) ---
  // The register only: who asked for what, when it is due and how it ended (fulfilment is a
  // later issue). An open request other than "deletion" holds the customer's destruction back
  // (docs/subject_requests.md). Audited like holds ("dsr.open", "dsr.close", "dsr.list": ids,
  // kind, outcome, counts and the reference, never a customer value); the purpose defaults to
  // "legal_obligation". Refusals are audited "deny": Unauthenticated, PermissionDenied (no
  // grant of dsr.manage / dsr.read), InvalidArgument naming the field and the rule, NotFound.

  // dsr.manage. Registers a request of an existing customer, due kSubjectRequestAnswerMs after
  // the vault's time now; returns it as stored (open). InvalidArgument for a bad customer id,
  // a kind outside schema::kSubjectRequestKinds, a reference that is not 3 to 200 printable
  // bytes; NotFound for an absent customer (nothing is written).
  Result<SubjectRequestView> Open(const Context& ctx, const SubjectRequestSpec& spec);
  // dsr.manage. Closes an open request with an outcome of schema::kSubjectRequestOutcomes.
  // InvalidArgument for another outcome; NotFound if no such request is open (absent, or
  // already closed: a request closes once).
  Status Close(const Context& ctx, std::string_view request_id, std::string_view outcome);
  // dsr.read. Requests naming `customer_id` (every customer's when empty), only open ones when
  // `open_only`, oldest first; at most the first 10,000 (narrow by customer or to open ones
  // to see the rest; the audit entry says when the list was cut). InvalidArgument for a bad
  // customer id (an unknown but well-formed one lists nothing).
  Result<std::vector<SubjectRequestView>> List(const Context& ctx, std::string_view customer_id,
                                               bool open_only);

 private:
  VaultState* state_;
};

}  // namespace custos::vault
