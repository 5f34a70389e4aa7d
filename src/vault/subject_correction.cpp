// Correction requests (issue 18 item 4; PIPL Art. 46): the values the customer proposes are
// checked and sealed when the request is opened (a password as its Argon2id hash, applied as
// it is), and applied at fulfilment through the validated update path (ApplyChanges, the path of
// CustomerService::Update). What changed is recorded by field name and a keyed hash of each old
// value — HMAC under the customer's own data key, so the log can show a value was replaced without
// holding a guessable digest of a phone number, and the hash becomes meaningless once the customer
// is crypto-shredded.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "vault/subject_report.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

constexpr std::string_view kValuesKind = "dsr";

// "phone (old hmac 3f2a...), email (old: none)": names and keyed hashes, never a value.
Result<std::string> ChangeSummary(const VaultState& m, const crypto::SecretBytes& dek,
                                  const FieldValues& before, const FieldValues& changes) {
  CUSTOS_ASSIGN_OR_RETURN(auto mac, crypto::Mac::New(m.keyring->suite(), dek));
  std::vector<std::string> parts;
  for (const auto& [name, value] : changes) {
    auto it = before.find(name);
    if (it == before.end()) {
      parts.push_back(fmt::format("{} (old: none)", name));
      continue;
    }
    const std::string message = fmt::format("dsr-correction\n{}\n{}", name, it->second);
    parts.push_back(fmt::format("{} (old hmac {})", name,
                                crypto::ToHex(mac->Compute(crypto::AsBytes(message)))));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace

Status SealProposedValues(VaultState& m, Scope& s, const store::SubjectRequestRow& row,
                          const FieldValues& proposed, Status& refusal) {
  if (proposed.empty()) {
    refusal = InvalidArgument("proposed: a correction request carries the values to correct");
    return Status::Ok();
  }
  Result<FieldValues> normalised = m.NormalizeCustomerFields(proposed, /*is_create=*/false);
  refusal = normalised.status();
  if (!refusal.ok()) return Status::Ok();
  CUSTOS_ASSIGN_OR_RETURN(crypto::SecretBytes dek, m.LoadDek(s.txn, row.customer_id));
  CUSTOS_ASSIGN_OR_RETURN(crypto::Bytes sealed,
                          m.keyring->SealRecord(dek, row.customer_id, kValuesKind, row.request_id,
                                                EncodeFields(*normalised)));
  CUSTOS_RETURN_IF_ERROR(s.txn.InsertSubjectRequestValues(
      store::SubjectRequestValuesRow{row.request_id, row.customer_id, std::move(sealed)}));
  return Status::Ok();
}

Result<Verdict> Correct(VaultState& m, Scope& s, const store::SubjectRequestRow& row,
                        Fulfilment& out) {
  CUSTOS_ASSIGN_OR_RETURN(auto values, s.txn.GetSubjectRequestValues(row.request_id));
  if (!values.has_value()) {
    return Verdict::Deny(FailedPrecondition("request: carries no proposed values"));
  }
  CUSTOS_ASSIGN_OR_RETURN(crypto::SecretBytes dek, m.LoadDek(s.txn, row.customer_id));
  CUSTOS_ASSIGN_OR_RETURN(
      crypto::SecretBytes plain,
      m.keyring->OpenRecord(dek, row.customer_id, kValuesKind, row.request_id, values->sealed));
  CUSTOS_ASSIGN_OR_RETURN(FieldValues proposed, DecodeFields(plain));
  // Checked again: the catalogue's rules may have changed since the request was opened. A
  // password is the exception: it was checked and hashed (Argon2id) when the request was
  // opened, so that the register never holds it in clear, and is applied as sealed — hashing
  // the hash again stored a password nobody knows (security review 39, F2).
  const std::vector<std::string> names = FieldNames(proposed);
  FieldValues hashed;
  for (auto it = proposed.begin(); it != proposed.end();) {
    const schema::FieldDef* def = m.config->FindField(it->first);
    const bool password = def != nullptr && def->type == schema::FieldType::kPassword;
    if (password && !it->second.empty()) {
      hashed.insert(proposed.extract(it++));
    } else {
      ++it;
    }
  }
  Result<FieldValues> normalised = m.NormalizeCustomerFields(proposed, /*is_create=*/false);
  if (!normalised.ok()) return Verdict::Deny(normalised.status(), names);
  normalised->merge(hashed);
  CUSTOS_ASSIGN_OR_RETURN(auto customer, s.txn.GetCustomer(row.customer_id));
  if (!customer.has_value()) return Verdict::Deny(NotFound("customer: destroyed or absent"));
  FieldValues before;
  Status whole;
  CUSTOS_RETURN_IF_ERROR(
      ApplyChanges(m, s, std::move(*customer), dek, *normalised, whole, &before));
  if (!whole.ok()) return Verdict::Deny(whole, names);
  CUSTOS_ASSIGN_OR_RETURN(std::string changed, ChangeSummary(m, dek, before, *normalised));
  out.detail = fmt::format("corrected: {}", fmt::join(names, ", "));
  CUSTOS_RETURN_IF_ERROR(s.txn.InsertSubjectRequestStep(store::SubjectRequestStepRow{
      row.request_id, "fulfilled", s.now_ms, s.ctx.actor, row.kind, changed}));
  CUSTOS_RETURN_IF_ERROR(s.txn.InsertSubjectRequestStep(store::SubjectRequestStepRow{
      row.request_id, "answered", s.now_ms, s.ctx.actor, "fulfilled", out.detail}));
  return Verdict::Allow(
      fmt::format("correction of customer {} applied: {}", row.customer_id, changed), names);
}

}  // namespace custos::vault
