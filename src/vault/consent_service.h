// ConsentService: privacy notices and each customer's consent ledger (P3.1a, P3.3a; PIPL
// Art. 13-17, 29; docs/consent.md).
// Every call is admitted by the admission core (admission.h) and audited, and fails with the
// codes every service call shares (vault.h) besides those named at each call.
// Thread safety: safe for concurrent use, like the Vault that made it.
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

// --- consent and notices: value types (issue 3, P3.1a, P3.3a; docs/consent.md) ---

// The consent a customer gives when their data is collected (P3.1a). A customer cannot be
// created without it: at least one purpose the notice lists (legal obligations need none).
struct CollectionConsent {
  int64_t notice_version = 0;         // the privacy notice the customer was shown
  std::vector<std::string> purposes;  // purposes granted
  bool sensitive = false;             // separate consent for PIPL-sensitive fields (Art. 29)
  bool third_party = false;           // separate consent to provision to others (Art. 23)
  // Separate consents to sharing with a named partner or a category (Art. 23; issue 17):
  // "partner:ID" (a registered partner) or "category:NAME" ([sharing] categories).
  std::vector<std::string> shares;
  std::string evidence_ref;  // opaque id of the evidence (signed form, ...), never PII
};

// A privacy notice to publish. version 0: the next one; effective_at_ms 0: now.
struct NoticeSpec {
  int64_t version = 0;
  std::string text;
  std::vector<std::string> purposes;
  int64_t effective_at_ms = 0;
  // The recipients ("partner:ID") and partner categories
  // ("category:NAME") the notice names: sharing consents under it may grant only these.
  std::vector<std::string> shares;
};

struct NoticeView {
  int64_t version = 0;
  std::string text_sha256;  // hex
  std::string text;
  std::vector<std::string> purposes;
  int64_t effective_at_ms = 0;
  int64_t published_at_ms = 0;
  std::string publisher;
  std::vector<std::string> shares;  // the recipients and categories it names (NoticeSpec)
};

// One change of a customer's consent, as the customer asked for it.
struct ConsentRequest {
  std::string action = "grant";   // "grant" or "withdraw"
  std::string scope = "purpose";  // "purpose", "sensitive", "third_party" or "share"
  // For scope "purpose": the purpose; for "share" (issue 17): "partner:ID" (a registered
  // partner) or "category:NAME" (of [sharing] categories).
  std::string purpose;
  int64_t notice_version = 0;  // required for a grant
  std::string channel;         // how the customer told us; empty: the context's channel
  std::string evidence_ref;    // opaque id, never personal data
};

struct ConsentEntryView {
  int64_t seq = 0;
  std::string action;
  std::string scope;
  std::string purpose;
  int64_t notice_version = 0;
  std::string channel;
  std::string evidence_ref;
  int64_t recorded_at_ms = 0;
  std::string actor;
};

// A customer's consent ledger and what it adds up to now.
struct ConsentsView {
  std::string customer_id;
  std::vector<ConsentEntryView> entries;      // seq order, every grant and withdrawal
  std::vector<std::string> granted_purposes;  // currently granted, catalogue order
  bool sensitive = false;
  bool third_party = false;
  std::vector<std::string> shares;  // sharing consents granted now: "partner:ID", "category:N"
};

class ConsentService {
 public:
  // Made by Vault::Open; borrows the vault's state, which outlives it.
  explicit ConsentService(VaultState& state) : state_(&state) {}

  // --- consent and notices (issue 3, P3.1a, P3.3a; src/vault/consents.cpp) ---
  // Every call is audited. Authorisation, until the policy engine is wired: an active staff
  // actor and a catalogue purpose (actions notice.manage, notice.read, consent.record,
  // consent.read). Consent changes take effect on the next request: nothing is cached.

  // Publishes a privacy notice (consent::PublishNotice's rules: catalogue purposes, growing
  // versions, no backdating, well-formed share targets; a partner may be registered later,
  // a sharing grant needs it registered).
  // InvalidArgument naming the rule; Conflict if the version was taken meanwhile.
  Result<NoticeView> PublishNotice(const Context& ctx, const NoticeSpec& spec);
  // Every published notice in version order.
  Result<std::vector<NoticeView>> ListNotices(const Context& ctx);
  // Appends a grant or withdrawal to the customer's consent ledger; returns its seq.
  // InvalidArgument naming the rule (consent::Record); NotFound if the customer does not exist.
  Result<int64_t> Record(const Context& ctx, std::string_view customer_id,
                         const ConsentRequest& request);
  // The customer's ledger and current consent. NotFound if the customer does not exist.
  Result<ConsentsView> List(const Context& ctx, std::string_view customer_id);

 private:
  VaultState* state_;
};

}  // namespace custos::vault
