// Consent: what each customer has agreed to, and the privacy notices they were shown
// (policy P3.1a, P3.3a; PIPL Art. 13-17, 23, 29; docs/consent.md).
//
// The consent ledger is append-only (store.h, ConsentRow): every grant and every withdrawal is
// a new entry, never an edit. A customer's current consent is the replay of the ledger in seq
// order where the latest entry for each (scope, purpose) wins. Three scopes:
//   purpose      one per purpose of the catalogue that needs consent (not legal obligations);
//   sensitive    separate consent to process PIPL-sensitive fields (Art. 29);
//   third_party  separate consent to provide data to other parties (Art. 23);
//   share        separate consent to sharing with one named partner ("partner:ID") or with a
//                category of partners the notice names ("category:NAME", one of [sharing]
//                categories), issue 17, docs/sharing.md.
// Nothing is cached across calls: Current() reads the ledger inside the caller's transaction,
// so a withdrawal takes effect on the next request.
//
// These functions work at store level inside a transaction the caller (the vault) owns; they
// neither authorise nor audit — the vault does both. Messages name fields and rules, never
// values: evidence references and notice texts are not echoed.
//
// Thread safety: stateless free functions; a ConsentState is a plain value.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "schema/config.h"
#include "store/store.h"

namespace custos::consent {

enum class Action { kGrant, kWithdraw };
enum class Scope { kPurpose, kSensitive, kThirdParty, kShare };

std::string_view ActionName(Action action);  // "grant", "withdraw"
std::string_view ScopeName(Scope scope);     // "purpose", "sensitive", "third_party", "share"
// InvalidArgument naming the accepted words otherwise.
Result<Action> ParseAction(std::string_view name);
Result<Scope> ParseScope(std::string_view name);

// The latest ledger entry of one (scope, purpose).
struct ScopeConsent {
  bool granted = false;
  int64_t notice_version = 0;   // the notice of the latest grant (kept after a withdrawal)
  int64_t granted_at_ms = 0;    // time of the latest grant; 0 if never granted
  int64_t withdrawn_at_ms = 0;  // time of the withdrawal when the latest entry is one; else 0
};

// A customer's consent now: the replay of the ledger.
struct ConsentState {
  std::string customer_id;
  std::map<std::string, ScopeConsent, std::less<>> purposes;  // only purposes with an entry
  bool sensitive = false;    // PIPL Art. 29 separate consent, currently granted
  bool third_party = false;  // PIPL Art. 23 separate consent, currently granted
  ScopeConsent sensitive_detail;
  ScopeConsent third_party_detail;
  // Sharing consents (scope share) by their target ("partner:ID", "category:NAME").
  std::map<std::string, ScopeConsent, std::less<>> shares;
  int64_t last_seq = 0;  // the ledger's highest seq (0: no entry)
  // A restriction of processing in force (PIPL Art. 44, 47; store.h RestrictionRow): the
  // earliest one's time and rule; 0 / empty when none. Read with the ledger by Current.
  int64_t restricted_since_ms = 0;
  std::string restriction_rule;

  // true when the latest entry for `purpose` is a grant. A purpose the catalogue marks
  // legal_obligation is not consent-based: use UsePermitted for the full rule.
  bool Grants(std::string_view purpose) const;
  // true when the customer currently consents to sharing with partner `partner_id`, named or
  // through its `category` (empty: the partner is in no category). PIPL Art. 23: the person is
  // told the recipient, so a category grant covers only a partner registered at or before the
  // grant (`partner_added_at_ms`); a partner registered later needs a grant given since.
  // `notices`, when given, are the notice versions a covering grant may have been given under:
  // a share counts only a grant whose notice listed the agreement's purposes (PIPL Art. 23: the
  // person is told the recipient's purposes), so a grant under any other notice covers nothing.
  bool SharesWith(std::string_view partner_id, std::string_view category,
                  int64_t partner_added_at_ms, const std::set<int64_t>* notices = nullptr) const;
};

// The target of a sharing consent: "partner:ID" or "category:NAME".
std::string PartnerTarget(std::string_view partner_id);
std::string CategoryTarget(std::string_view category);

// The rule of P3.3a for one purpose: true when the purpose is a legal obligation (needs no
// consent) or the customer currently grants it.
bool UsePermitted(const ConsentState& state, const schema::PurposeDef& purpose);

// Replays ledger entries (any order; sorted by seq here). Entries of other customers or with
// unknown actions/scopes are a broken invariant of the store: Internal.
Result<ConsentState> Replay(std::string_view customer_id, std::vector<store::ConsentRow> rows);

// Reads the customer's ledger in `txn` and replays it, with the restrictions of processing in
// force. A customer without entries yields an empty state (nothing granted). Failure: the
// store's error.
Result<ConsentState> Current(store::Transaction& txn, std::string_view customer_id);

// --- privacy notices ---

// What a DPO publishes; the version is assigned (latest + 1) unless given.
struct NoticeDraft {
  int64_t version = 0;                // 0: the next version
  std::string text;                   // the notice as shown to customers (UTF-8, at most 256 KiB)
  std::vector<std::string> purposes;  // catalogue purposes the notice lists
  int64_t effective_at_ms = 0;        // 0: now
  // The recipients and partner categories the notice names ("partner:ID", "category:NAME"):
  // the only sharing consents a customer shown this notice can give (PIPL Art. 23).
  std::vector<std::string> shares;
};

// The text of config/notice-v1.md (Chinese and English), compiled in: what `custos init`
// publishes as version 1, listing the catalogue's purposes that need consent.
std::string_view ShippedNoticeText();

// The purposes a stored notice lists.
std::vector<std::string> NoticePurposes(const store::NoticeRow& notice);

// Validates `draft` against the catalogue and the notices already published, then inserts it.
// Rules (each an InvalidArgument naming it): non-empty valid UTF-8 text of at most 256 KiB; at
// least one purpose, each in the catalogue, none twice; a given version greater than every
// published one (versions only grow); an effective date not before the start of the current
// UTC day nor before the latest notice's effective date; each share target well formed
// (CheckShareTarget), none twice. Success: the row as stored (with the text's SHA-256), its
// share targets stored beside it. Conflict if another writer took the version meanwhile; else
// the store's error.
Result<store::NoticeRow> PublishNotice(store::Transaction& txn, const schema::Config& config,
                                       const NoticeDraft& draft, std::string_view publisher,
                                       int64_t now_ms);

// The notice of that version. InvalidArgument "notice_version: ..." when none was published
// (or version <= 0); else the store's error.
Result<store::NoticeRow> LoadNotice(store::Transaction& txn, int64_t version);

// A sharing consent's target, well formed: "partner:ID" (an id as partners have:
// [a-z0-9][a-z0-9._-]{1,63}) or "category:NAME" of [sharing] categories. InvalidArgument
// naming `field` and the rule otherwise. Whether the partner exists is the vault's check.
Status CheckShareTarget(const schema::Config& config, std::string_view target,
                        std::string_view field = "purpose");

// --- recording consent ---

// One change a customer makes: a grant or a withdrawal of one scope (and purpose).
struct ConsentChange {
  Action action = Action::kGrant;
  Scope scope = Scope::kPurpose;
  std::string purpose;         // required for Scope::kPurpose and kShare (its target)
  int64_t notice_version = 0;  // required for a grant; optional (0) for a withdrawal
  std::string channel;         // how the customer told us: "form", "api", "cli", "import", ...
  std::string evidence_ref;    // opaque id of the evidence (CheckEvidenceRef)
};

// InvalidArgument unless `ref` is an opaque id: 1-128 characters of A-Z a-z 0-9 . _ : / -,
// with no run of 11 or more digits (which could be a phone, ID or card number).
Status CheckEvidenceRef(std::string_view ref);
// A fresh opaque evidence id for consent recorded without one: "<origin>:" and 16 random
// letters a-p (four bits each; never digits, so it never holds the run of 11 or more digits
// CheckEvidenceRef refuses, as about 1.6 % of hex ids did). `origin` is 1-32 letters a-z
// naming where the consent was taken ("cli"); the result passes CheckEvidenceRef.
std::string NewEvidenceRef(std::string_view origin);
// InvalidArgument unless `channel` is 1-32 characters of a-z 0-9 _ -.
Status CheckChannel(std::string_view channel);

// Validates `change` and appends it as the customer's next ledger entry. Rules (each an
// InvalidArgument naming it): the purpose is in the catalogue and is not a legal obligation
// (those need no consent, so none can be given or withdrawn); sensitive and third_party take
// no purpose; a grant names a published notice that is already effective and, for a purpose,
// lists it, for a sharing target, names it; a withdrawal's notice, if given, exists; channel and
// evidence as above. The caller checks that the customer exists. Success: the entry as appended.
// Conflict if a concurrent writer appended the same seq (retry); else the store's error.
Result<store::ConsentRow> Record(store::Transaction& txn, const schema::Config& config,
                                 std::string_view customer_id, const ConsentChange& change,
                                 std::string_view actor, int64_t now_ms);

// The consent given when the customer's data is collected (P3.1a): a customer cannot exist
// without it.
struct Collection {
  int64_t notice_version = 0;
  std::vector<std::string> purposes;  // granted; at least one consent-needing purpose
  bool sensitive = false;
  bool third_party = false;
  // Sharing consents given at collection (issue 17): "partner:ID" or "category:NAME".
  std::vector<std::string> shares;
  std::string channel;
  std::string evidence_ref;
};

// Checks `collection` against `notice` (the version it names) without touching the store, so
// a bulk import checks once and appends per row. Rules (each an InvalidArgument naming it):
// the notice is effective at now_ms; at least one purpose; each purpose in the catalogue, not
// a legal obligation, listed by the notice, not given twice; each sharing target well formed
// and among `notice_shares` (the targets the notice names, Transaction::ListNoticeShares);
// channel and evidence as above.
Status CheckCollection(const schema::Config& config, const store::NoticeRow& notice,
                       const std::vector<std::string>& notice_shares, const Collection& collection,
                       int64_t now_ms);

// The ledger entries of a new customer's collection consent: seq 1.. in the order purposes,
// sensitive, third_party. No validation (CheckCollection does it).
std::vector<store::ConsentRow> CollectionEntries(std::string_view customer_id,
                                                 const Collection& collection,
                                                 std::string_view actor, int64_t now_ms);

// LoadNotice + CheckCollection + AppendConsent of every CollectionEntries row, for a customer
// created in the same transaction (its ledger is empty). Failure: as those; on failure the
// caller drops the transaction (nothing of the customer is written).
Status RecordCollection(store::Transaction& txn, const schema::Config& config,
                        std::string_view customer_id, const Collection& collection,
                        std::string_view actor, int64_t now_ms);

}  // namespace custos::consent
