// The closed vocabularies of custos.toml: field types, categories, validator names, mask
// rules, record kinds, actions and grant effects. A configuration may use only the names
// listed here, so a typo is an error at load time instead of a silently unvalidated or
// unmasked field.
//
// The schema component only names validators and masks; `core` implements the validators and
// `access` the masks, each looking its rule up by these names. Adding a name here without an
// implementation there is a bug the vault reports when it opens.
//
// Thread safety: constants and pure functions only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace custos::schema {

// What kind of value a field holds. Decides intake parsing and, for kPassword, that the value
// is stored only as an Argon2id hash (P2.2 names account passwords confidential).
enum class FieldType : uint8_t {
  kString,    // "string": a short line of text (a name)
  kText,      // "text": free text (an address, interests)
  kDate,      // "date": YYYY-MM-DD
  kEnum,      // "enum": one of a fixed set, given by its validator (gender)
  kIdCard,    // "id_card": 居民身份证号码
  kMobile,    // "mobile": a mainland mobile number
  kEmail,     // "email"
  kPassword,  // "password": hashed, never shown, never searchable
  kBankCard,  // "bank_card": a payment card or bank account number
  kNumber,    // "number": a decimal number
};

inline constexpr std::array<std::string_view, 10> kFieldTypeNames = {
    "string", "text",  "date",     "enum",      "id_card",
    "mobile", "email", "password", "bank_card", "number"};

// "string", "text", ...; the inverse of ParseFieldType.
constexpr std::string_view FieldTypeName(FieldType type) {
  return kFieldTypeNames[static_cast<uint8_t>(type)];
}

// The FieldType named `name`, or nullopt if `name` is not in kFieldTypeNames.
constexpr std::optional<FieldType> ParseFieldType(std::string_view name) {
  for (size_t i = 0; i < kFieldTypeNames.size(); ++i) {
    if (kFieldTypeNames[i] == name) return static_cast<FieldType>(i);
  }
  return std::nullopt;
}

// The groups of P2.1 (identity, contact, needs analysis) plus the two kinds of confidential
// information P2.2 and PIPL Art. 28 single out (credentials, financial accounts).
inline constexpr std::array<std::string_view, 6> kCategories = {
    "identity", "contact", "credential", "financial", "needs", "other"};

// Intake validators (P3.1c). Implemented in core; looked up by name.
inline constexpr std::array<std::string_view, 8> kValidatorNames = {
    "none", "text", "gb11643", "cn_mobile", "email", "date", "gender", "bank_card"};

// Masking rules applied when a role sees a field masked. Implemented in access.
inline constexpr std::array<std::string_view, 8> kMaskRules = {
    "none", "full", "mobile", "id_card", "name", "email", "address", "bank_card"};

// Records kept about a customer besides the profile; each must be classified in [records].
inline constexpr std::array<std::string_view, 2> kRecordKinds = {"transaction", "note"};

// The events a retention period is counted from (docs/retention.md). Customer-level events
// (a customer's profile, consent evidence): collection (the customer was created),
// last_activity (the latest of creation, profile update, transaction, note, consent entry),
// last_transaction (the latest transaction, or collection when there is none). Per record:
// transaction_completed (a transaction row), note_created (a note), entry_written (an audit
// entry).
inline constexpr std::array<std::string_view, 8> kRetentionEvents = {
    "collection",         "last_activity",         "last_transaction", "account_closure",
    "consent_withdrawal", "transaction_completed", "note_created",     "entry_written"};
// Events of the customer as a whole. account_closure and consent_withdrawal may not have
// happened (an open account, a purpose still consented): then nothing counted from them is
// due, and a floor counted from them is not reached.
inline constexpr std::array<std::string_view, 5> kCustomerEvents = {
    "collection", "last_activity", "last_transaction", "account_closure", "consent_withdrawal"};

// What a data subject may ask of us (PIPL Art. 44-48; docs/subject_requests.md): to know
// and see (access, Art. 44-45), to get a copy (copy, Art. 45), to have it moved to another
// handler (portability, Art. 45), to have it corrected or completed (correction, Art. 46),
// deleted (deletion, Art. 47), its processing limited or refused (restriction, Art. 44), and
// to have the rules of processing explained (explanation, Art. 48).
inline constexpr std::array<std::string_view, 7> kSubjectRequestKinds = {
    "access", "copy", "portability", "correction", "deletion", "restriction", "explanation"};
// How the requester of a data-subject request was verified to be the customer (issue 18): in
// person with an identity document, logged in to their own account, called back on the
// contact details on record, a video check of an identity document, a notarised letter.
inline constexpr std::array<std::string_view, 5> kVerificationMethods = {
    "in_person_id_document", "authenticated_account", "callback_on_record", "video_id_check",
    "notarised_letter"};
// How a data-subject request ends.
inline constexpr std::array<std::string_view, 3> kSubjectRequestOutcomes = {"fulfilled", "refused",
                                                                            "withdrawn"};

// Key-encryption suites, key providers, store backends and SQLite synchronous modes accepted
// in [keys] and [store].
inline constexpr std::array<std::string_view, 2> kSuites = {"aes256gcm", "sm4gcm"};
inline constexpr std::array<std::string_view, 3> kKeyProviders = {"keyfile", "passphrase",
                                                                  "pkcs11"};
inline constexpr std::array<std::string_view, 2> kStoreBackends = {"sqlite", "postgres"};
inline constexpr std::array<std::string_view, 2> kSynchronousModes = {"normal", "full"};

// The actions a role's grant may name: schema/actions.h (the action catalogue).
// What a grant gives: the value ("allow") or its masked form ("mask", reads only).
inline constexpr std::array<std::string_view, 2> kGrantEffects = {"allow", "mask"};

// De-identification profiles (issue 16; deid/transform.h and deid/hierarchy.h implement them).
inline constexpr std::array<std::string_view, 7> kDeidTransforms = {
    "drop", "keep", "pseudonymise", "generalise", "suppress", "top_bottom", "round"};
inline constexpr std::array<std::string_view, 6> kDeidHierarchies = {
    "birth_date", "region", "gender", "amount", "date", "category"};
inline constexpr std::array<std::string_view, 3> kDeidDiversity = {"none", "distinct", "entropy"};
inline constexpr std::array<std::string_view, 2> kDeidPopulations = {"consented", "anonymised"};
// Values a release derives (GB 11643: the ID number's region, birth year, gender; the region an
// address names; the customer's id, for pseudonyms; the customer's transactions as aggregates:
// their number, the sum of their amounts and the month of the latest).
inline constexpr std::array<std::string_view, 8> kDeidDerivedFields = {
    "customer_id",    "id_region", "id_birth_year", "id_gender",
    "address_region", "txn_count", "txn_sum",       "txn_last_month"};
// The fields of a transaction a release may write as rows (transaction_fields).
inline constexpr std::array<std::string_view, 5> kDeidTransactionFields = {
    "occurred_at", "product", "amount", "currency", "payment_method"};

// True if `name` is one of `names`.
template <size_t N>
constexpr bool IsOneOf(std::string_view name, const std::array<std::string_view, N>& names) {
  for (std::string_view n : names) {
    if (n == name) return true;
  }
  return false;
}

}  // namespace custos::schema
