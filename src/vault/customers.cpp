// Customers: create, read, update, find, list (P3.1, P3.2). Every path audits first.
#include <fmt/format.h>

#include <algorithm>

#include "core/names.h"
#include "core/validators.h"
#include "crypto/primitives.h"
#include "vault/admission.h"
#include "vault/authorize.h"
#include "vault/consent_intake.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

constexpr size_t kMaxFindResults = 1000;
constexpr size_t kMaxListPage = 1000;

using schema::Action;

// The verdict of a read: allow or mask, with what each field showed.
Verdict ShownVerdict(const std::vector<FieldDecision>& decided) {
  Verdict v = Verdict::Allow(AuditReason(decided), AuditFields(decided));
  v.decision = AuditDecision(decided);
  return v;
}

// The view of a customer: each field decided, as it may be seen (masked where masked).
CustomerView ViewOf(const store::CustomerRow& row, const std::vector<FieldDecision>& decided,
                    FieldValues& opened) {
  CustomerView view;
  view.customer_id = row.customer_id;
  view.created_at_ms = row.created_at_ms;
  view.updated_at_ms = row.updated_at_ms;
  view.source = row.source;
  for (const FieldDecision& d : decided) {
    auto it = opened.find(d.field->name);
    if (it == opened.end() || d.decision.effect == access::Effect::kDeny) continue;
    view.fields.emplace(d.field->name, vault::Shown(d.decision, std::move(it->second)));
  }
  return view;
}

// PermissionDenied naming the first refused field and the rule (never a value).
Status FieldDenial(const FieldDecision& d) {
  return PermissionDenied(fmt::format("field '{}': {}", d.field->name, d.decision.reason));
}

bool ValidSource(std::string_view s) {
  if (s.empty() || s.size() > 200) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e) return false;
  }
  return true;
}

}  // namespace

Result<std::string> StoreNewCustomer(VaultState& m, Scope& s, const FieldValues& normalised,
                                     std::string_view source,
                                     const consent::Collection& collection) {
  store::CustomerRow row;
  row.customer_id = NewId(s.now_ms);
  row.created_at_ms = s.now_ms;
  row.updated_at_ms = s.now_ms;
  row.source = std::string(source);
  row.schema_version = m.config->schema_version;
  const crypto::SecretBytes dek = m.keyring->NewDek();
  CUSTOS_ASSIGN_OR_RETURN(VaultState::Sealed sealed,
                          m.SealCustomer(row.customer_id, dek, normalised));
  row.envelopes = std::move(sealed.envelopes);
  // An epoch rotation by another process since this one opened changes the epoch.
  CUSTOS_RETURN_IF_ERROR(m.FollowWrapEpoch(s.txn));
  CUSTOS_ASSIGN_OR_RETURN(store::WrappedKeyRow key, m.WrapDek(row.customer_id, dek));
  CUSTOS_RETURN_IF_ERROR(s.txn.InsertCustomer(row));
  CUSTOS_RETURN_IF_ERROR(s.txn.PutWrappedKey(key));
  CUSTOS_RETURN_IF_ERROR(s.txn.PutIndexEntries(row.customer_id, sealed.index));
  CUSTOS_RETURN_IF_ERROR(
      AppendCollection(s.txn, row.customer_id, collection, s.ctx.actor, s.now_ms));
  return row.customer_id;
}

Result<std::string> CustomerService::Create(const Context& ctx, const FieldValues& fields,
                                            std::string_view source,
                                            const CollectionConsent& consent) {
  VaultState& m = *state_;
  // Validation first, outside the write lock (Argon2id is slow); a refusal is audited below.
  Result<FieldValues> normalised = m.NormalizeCustomerFields(fields, /*is_create=*/true);
  const Status bad_source =
      ValidSource(source) ? Status::Ok()
                          : InvalidArgument("source: must be 1-200 printable ASCII characters");
  const Operation op{Action::kCustomerCreate, "customer:new"};
  std::string created;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    const Status& invalid = !normalised.ok() ? normalised.status() : bad_source;
    if (!invalid.ok()) return Verdict::Deny(invalid, FieldNames(fields));
    // P3.1a: no record without the consent given at collection, checked before any write.
    const consent::Collection collection =
        ToCollection(consent, ConsentChannel(source, s.ctx), consent.evidence_ref);
    if (Status bad = CheckCollectionIn(s.txn, *m.config, collection, s.now_ms); !bad.ok()) {
      if (bad.code() != Code::kInvalidArgument) return bad;
      return Verdict::Deny(bad, FieldNames(fields));
    }
    // P3.2b: every field written needs customer.create on its level for this purpose, and the
    // consent given with this very call must cover the purpose (and sensitive fields, P3.3a).
    CUSTOS_ASSIGN_OR_RETURN(access::StaffFacts staff, s.Facts(""));
    const consent::ConsentState given =
        CollectionState(consent.purposes, consent.sensitive, consent.third_party);
    const std::vector<FieldDecision> decided =
        DecideFields(*m.config, staff,
                     access::DataRequest{ActionName(op.action), s.ctx.purpose, &given, s.now_ms},
                     FieldNames(*normalised));
    if (const FieldDecision* denied = FirstDenied(decided)) {
      return Verdict::Deny(FieldDenial(*denied), FieldNames(*normalised));
    }
    CUSTOS_ASSIGN_OR_RETURN(created, StoreNewCustomer(m, s, *normalised, source, collection));
    Verdict v =
        Verdict::Allow(fmt::format("source {}; {}; {}{}", source, DescribeCollection(collection),
                                   AuditReason(decided), IntakeFlags(*m.config, *normalised)),
                       FieldNames(*normalised));
    v.target = CustomerTarget(created);
    return v;
  }));
  return created;
}

Result<CustomerView> CustomerService::Get(const Context& ctx, std::string_view customer_id,
                                          const std::vector<std::string>& fields) {
  VaultState& m = *state_;
  // Which fields will be returned: the selection, or every readable field.
  std::vector<std::string> selected;
  Status bad_selection;
  if (!ValidCustomerId(customer_id)) bad_selection = BadCustomerId();
  for (const std::string& name : fields) {
    const schema::FieldDef* def = m.config->FindField(name);
    if (def == nullptr) {
      bad_selection = InvalidArgument(
          fmt::format("field {}: not in the field catalogue", core::QuotedName(name)));
    } else if (def->type == schema::FieldType::kPassword) {
      bad_selection = InvalidArgument(
          fmt::format("field '{}': a password is stored only as a hash and cannot be read", name));
    }
    if (!bad_selection.ok()) break;
    selected.push_back(name);
  }
  if (fields.empty()) {
    for (const schema::FieldDef& def : m.config->fields) {
      if (def.type != schema::FieldType::kPassword) selected.push_back(def.name);
    }
  }
  // Authorise, read and audit in a transaction shared with concurrent reads (group commit);
  // the body records what it decided, and nothing is decrypted before its entry is durable.
  const Operation op{Action::kCustomerRead, CustomerTarget(customer_id)};
  std::optional<store::CustomerRow> row;
  std::optional<store::WrappedKeyRow> key;
  std::vector<FieldDecision> decided;
  CUSTOS_RETURN_IF_ERROR(Read(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (!bad_selection.ok()) return Verdict::Deny(bad_selection, selected);
    CUSTOS_ASSIGN_OR_RETURN(auto found, s.txn.GetCustomerWithKey(customer_id));
    if (!found.has_value()) return Verdict::Deny(NotFound("customer not found"), selected);
    row = std::move(found->row);
    key = std::move(found->key);
    if (!key.has_value()) {
      return Verdict::Deny(NotFound("customer not found (data key destroyed)"), selected);
    }
    // P3.2b / P5b / P3.3a, per field: role, training, break-glass, then the customer's
    // consent (read now, never cached: a withdrawal takes effect on the next request).
    CUSTOS_ASSIGN_OR_RETURN(const access::StaffFacts staff, s.Facts(customer_id));
    CUSTOS_ASSIGN_OR_RETURN(consent::ConsentState consent, consent::Current(s.txn, customer_id));
    decided = DecideFields(
        *m.config, staff,
        access::DataRequest{ActionName(op.action), s.ctx.purpose, &consent, s.now_ms}, selected);
    // Fields asked for by name are all-or-nothing; the default view leaves out what is denied.
    const FieldDecision* denied = FirstDenied(decided);
    if (denied != nullptr && (!fields.empty() || AuditDecision(decided) == "deny")) {
      return Verdict::Deny(FieldDenial(*denied), selected);
    }
    return ShownVerdict(decided);
  }));
  // No audit, no data: the entry is committed before anything is decrypted.
  CUSTOS_ASSIGN_OR_RETURN(crypto::SecretBytes dek, m.UnwrapDek(customer_id, key->wrapped_dek));
  // Decrypt only the levels that hold something shown.
  store::CustomerRow shown_levels = *row;
  std::erase_if(shown_levels.envelopes, [&](const store::Envelope& e) {
    return std::none_of(decided.begin(), decided.end(), [&](const FieldDecision& d) {
      return d.field->level == e.level && d.decision.effect != access::Effect::kDeny;
    });
  });
  CUSTOS_ASSIGN_OR_RETURN(FieldValues all, m.OpenCustomer(shown_levels, dek));
  return ViewOf(*row, decided, all);
}

Status ApplyChanges(VaultState& m, Scope& s, store::CustomerRow row, const crypto::SecretBytes& dek,
                    const FieldValues& normalised, Status& refusal, FieldValues* before) {
  CUSTOS_ASSIGN_OR_RETURN(FieldValues merged, m.OpenCustomer(row, dek));
  if (before != nullptr) *before = merged;
  for (const auto& [name, value] : normalised) {
    if (value.empty()) {
      merged.erase(name);
    } else {
      merged.insert_or_assign(name, value);
    }
  }
  refusal = m.CheckRequired(merged);
  if (refusal.ok()) refusal = m.CheckIdentityConsistency(merged);
  if (!refusal.ok()) return Status::Ok();
  CUSTOS_ASSIGN_OR_RETURN(VaultState::Sealed sealed, m.SealCustomer(row.customer_id, dek, merged));
  row.envelopes = std::move(sealed.envelopes);
  row.updated_at_ms = s.now_ms;
  row.schema_version = m.config->schema_version;
  // Searchable fields that were removed lose their tokens (an empty token list for the field).
  for (const auto& [name, value] : normalised) {
    const schema::FieldDef* def = m.config->FindField(name);
    if (value.empty() && def != nullptr && def->searchable) {
      sealed.index.push_back(store::IndexEntry{name, {}});
    }
  }
  CUSTOS_RETURN_IF_ERROR(s.txn.UpdateCustomer(row));
  CUSTOS_RETURN_IF_ERROR(s.txn.PutIndexEntries(row.customer_id, sealed.index));
  return Status::Ok();
}

Status CustomerService::Update(const Context& ctx, std::string_view customer_id,
                               const FieldValues& changes) {
  VaultState& m = *state_;
  Result<FieldValues> normalised = m.NormalizeCustomerFields(changes, /*is_create=*/false);
  Status invalid = normalised.status();
  if (invalid.ok() && !ValidCustomerId(customer_id)) invalid = BadCustomerId();
  if (invalid.ok() && changes.empty()) invalid = InvalidArgument("no field to update");
  const Operation op{Action::kCustomerUpdate, CustomerTarget(customer_id)};
  return Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (!invalid.ok()) return Verdict::Deny(invalid, FieldNames(changes));
    CUSTOS_ASSIGN_OR_RETURN(std::optional<store::CustomerRow> row, s.txn.GetCustomer(customer_id));
    if (!row.has_value()) return Verdict::Deny(NotFound("customer not found"), FieldNames(changes));
    // Each changed field needs customer.update on its level, and the customer's consent.
    CUSTOS_ASSIGN_OR_RETURN(const access::StaffFacts staff, s.Facts(customer_id));
    CUSTOS_ASSIGN_OR_RETURN(consent::ConsentState consent, consent::Current(s.txn, customer_id));
    const std::vector<FieldDecision> decided =
        DecideFields(*m.config, staff,
                     access::DataRequest{ActionName(op.action), s.ctx.purpose, &consent, s.now_ms},
                     FieldNames(*normalised));
    if (const FieldDecision* denied = FirstDenied(decided)) {
      return Verdict::Deny(FieldDenial(*denied), FieldNames(changes));
    }
    CUSTOS_ASSIGN_OR_RETURN(crypto::SecretBytes dek, m.LoadDek(s.txn, customer_id));
    Status whole;
    CUSTOS_RETURN_IF_ERROR(ApplyChanges(m, s, std::move(*row), dek, *normalised, whole));
    if (!whole.ok()) return Verdict::Deny(whole, FieldNames(changes));
    return Verdict::Allow("", FieldNames(changes));
  });
}

namespace {

// Counts one search of `field` against the actor's hourly limit: an allowed verdict (empty
// refusal) to go on with, or the refusal, with a security.alert entry before it the first time.
Result<Verdict> CountSearch(VaultState& m, Scope& s, const std::string& field,
                            const std::vector<std::string>& names) {
  const uint32_t limit = m.config->access.search_limit_per_hour;
  const SearchLimiter::Outcome counted = m.search_limits.Count(s.ctx.actor, field, limit, s.now_ms);
  if (counted.allowed) return Verdict::Allow("");
  Verdict v = Verdict::Deny(
      PermissionDenied(fmt::format("field '{}': search limit reached ({} searches in the last "
                                   "hour); try again later or ask a security administrator",
                                   field, limit)),
      names);
  if (counted.alert) {
    v.before.push_back(s.Event(
        Action::kSecurityAlert, fmt::format("field:{}", field), "deny",
        fmt::format("search limit reached: {} searches of field '{}' in the last hour; further "
                    "searches refused until the hour has passed",
                    limit, field),
        names));
  }
  return v;
}

// The searched value normalised by the field's validator into `normalised`; InvalidArgument
// naming the field when it is not in the catalogue, not searchable, or the value is invalid.
Status NormaliseSearch(const schema::FieldDef* def, std::string_view field, std::string_view value,
                       std::string& normalised) {
  if (def == nullptr) {
    return InvalidArgument(
        fmt::format("field {}: not in the field catalogue", core::QuotedName(field)));
  }
  if (!def->searchable) return InvalidArgument(fmt::format("field '{}': not searchable", field));
  const core::Validator* v = core::FindValidator(def->validator);
  Result<std::string> norm =
      v != nullptr ? v->normalize(value) : Result<std::string>(Internal("no validator"));
  if (!norm.ok()) {
    return InvalidArgument(fmt::format("field '{}': {}", field, norm.status().message()));
  }
  normalised = std::move(norm).value();
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::string>> CustomerService::Find(const Context& ctx, std::string_view field,
                                                       std::string_view value) {
  VaultState& m = *state_;
  const schema::FieldDef* def = m.config->FindField(field);
  std::string normalised;
  const Status invalid = NormaliseSearch(def, field, value, normalised);
  const std::vector<std::string> names =
      def != nullptr ? std::vector<std::string>{def->name} : std::vector<std::string>{};
  if (m.closed) return FailedPrecondition("vault is closed");
  // The blind-index token is computed here, in the request's thread, not in the shared batch.
  crypto::Bytes token;
  if (invalid.ok()) {
    CUSTOS_ASSIGN_OR_RETURN(token, m.keyring->BlindIndex(def->name, normalised));
  }
  const Operation op{Action::kCustomerSearch,
                     def != nullptr ? fmt::format("field:{}", def->name) : "field:(unknown)"};
  std::vector<std::string> ids;
  CUSTOS_RETURN_IF_ERROR(Read(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (!invalid.ok()) return Verdict::Deny(invalid, names);
    // Searching by a field uses it: customer.search on the field's level (P3.2b).
    CUSTOS_ASSIGN_OR_RETURN(const access::StaffFacts staff, s.Facts(""));
    const access::DataRequest by_role{ActionName(op.action), s.ctx.purpose, nullptr, s.now_ms};
    const access::Decision decision =
        access::DecideData(*m.config, staff, by_role, access::FieldSubject(*def));
    if (decision.effect == access::Effect::kDeny) {
      return Verdict::Deny(
          PermissionDenied(fmt::format("field '{}': {}", def->name, decision.reason)), names);
    }
    // A match confirms the value searched for: searching a field one sees masked would
    // reveal it (a few hundred searches recover an ID number's masked digits). Issue 12 (3).
    if (decision.effect == access::Effect::kMask) {
      return Verdict::Deny(PermissionDenied(fmt::format(
                               "field '{}': searching needs the field unmasked, and this role "
                               "sees it masked for this purpose",
                               def->name)),
                           names);
    }
    CUSTOS_ASSIGN_OR_RETURN(Verdict limited, CountSearch(m, s, def->name, names));
    if (!limited.refusal.ok()) return limited;
    CUSTOS_ASSIGN_OR_RETURN(std::vector<std::string> matches,
                            s.txn.FindByIndex(def->name, token, kMaxFindResults));
    // P3.3a: a customer who has not consented to the purpose (or withdrew) is not found for
    // it. Consent is read now, never cached.
    ids.clear();
    for (const std::string& id : matches) {
      CUSTOS_ASSIGN_OR_RETURN(consent::ConsentState consent, consent::Current(s.txn, id));
      access::DataRequest with_consent = by_role;
      with_consent.consent = &consent;
      const access::Decision d =
          access::DecideData(*m.config, staff, with_consent, access::FieldSubject(*def));
      if (d.effect != access::Effect::kDeny) ids.push_back(id);
    }
    Verdict v =
        Verdict::Allow(fmt::format("{}; {} match(es), {} withheld by consent", decision.reason,
                                   ids.size(), matches.size() - ids.size()),
                       names);
    v.decision = std::string(access::EffectName(decision.effect));
    // A search that finds a honey record touches it (issue 20): the entry naming it is what
    // the honey_record rule sees (docs/security_operations.md). Other results are not named.
    for (const std::string& id : ids) {
      CUSTOS_ASSIGN_OR_RETURN(bool honey, s.txn.IsHoneyRecord(id));
      if (honey) {
        v.before.push_back(s.Event(
            Action::kSecurityAlert, CustomerTarget(id), "allow",
            fmt::format("customer.search on field {} found this customer", def->name), names));
      }
    }
    return v;
  }));
  return ids;
}

Result<CustomerPage> CustomerService::List(const Context& ctx, std::string_view after_id,
                                           size_t limit) {
  VaultState& m = *state_;
  limit = std::clamp<size_t>(limit, 1, kMaxListPage);
  // A list shows the general-level fields only (contact data, P2.2).
  std::vector<std::string> shown;
  for (const schema::FieldDef& def : m.config->fields) {
    if (def.level == Level::kGeneral && def.type != schema::FieldType::kPassword) {
      shown.push_back(def.name);
    }
  }
  const Operation op{Action::kCustomerList, "customers"};
  std::vector<store::CustomerRow> rows;
  std::vector<crypto::Bytes> wrapped;
  std::vector<std::vector<FieldDecision>> decided;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(const access::StaffFacts staff, s.Facts(""));
    // The role first (without a customer's consent): a role that may see none of the listed
    // fields is refused the list as a whole.
    const access::DataRequest by_role{ActionName(op.action), s.ctx.purpose, nullptr, s.now_ms};
    const std::vector<FieldDecision> role = DecideFields(*m.config, staff, by_role, shown);
    if (AuditDecision(role) == "deny") {
      return Verdict::Deny(
          role.empty() ? PermissionDenied("no field to list") : FieldDenial(*FirstDenied(role)),
          shown);
    }
    CUSTOS_ASSIGN_OR_RETURN(rows, s.txn.ListCustomers(after_id, limit));
    wrapped.assign(rows.size(), {});
    decided.assign(rows.size(), {});
    Verdict v;
    size_t withheld = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      const std::string& id = rows[i].customer_id;
      CUSTOS_ASSIGN_OR_RETURN(auto key, s.txn.GetWrappedKey(id));
      if (key.has_value()) wrapped[i] = std::move(key->wrapped_dek);
      // Per customer: their consent decides (P3.3a), and the entry says what was shown.
      CUSTOS_ASSIGN_OR_RETURN(consent::ConsentState consent, consent::Current(s.txn, id));
      access::DataRequest with_consent = by_role;
      with_consent.consent = &consent;
      decided[i] = DecideFields(*m.config, staff, with_consent, shown);
      if (AuditDecision(decided[i]) == "deny") ++withheld;
      v.before.push_back(s.Event(op.action, CustomerTarget(id), AuditDecision(decided[i]),
                                 AuditReason(decided[i]), AuditFields(decided[i])));
    }
    v.decision = AuditDecision(role);
    v.reason = fmt::format("{} listed, {} withheld by consent", rows.size() - withheld, withheld);
    return v;
  }));
  CustomerPage page;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (AuditDecision(decided[i]) == "deny") continue;
    FieldValues all;
    if (!wrapped[i].empty()) {
      CUSTOS_ASSIGN_OR_RETURN(crypto::SecretBytes dek,
                              m.UnwrapDek(rows[i].customer_id, wrapped[i]));
      store::CustomerRow general = rows[i];
      std::erase_if(general.envelopes,
                    [](const store::Envelope& e) { return e.level != Level::kGeneral; });
      CUSTOS_ASSIGN_OR_RETURN(all, m.OpenCustomer(general, dek));
    }
    page.customers.push_back(ViewOf(rows[i], decided[i], all));
  }
  if (rows.size() == limit) page.next_after = rows.back().customer_id;
  return page;
}

Result<bool> CustomerService::VerifyPassword(const Context& ctx, std::string_view customer_id,
                                             std::string_view field, std::string_view password) {
  VaultState& m = *state_;
  const schema::FieldDef* def = m.config->FindField(field);
  Status invalid;
  if (def == nullptr || def->type != schema::FieldType::kPassword) {
    invalid = InvalidArgument(fmt::format("field '{}': not a password field", field));
  } else if (!ValidCustomerId(customer_id)) {
    invalid = BadCustomerId();
  }
  const Operation op{Action::kCustomerVerifyPassword, CustomerTarget(customer_id)};
  std::optional<store::CustomerRow> row;
  crypto::SecretBytes dek;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (!invalid.ok()) return Verdict::Deny(invalid);
    CUSTOS_ASSIGN_OR_RETURN(row, s.txn.GetCustomer(customer_id));
    if (!row.has_value()) return Verdict::Deny(NotFound("customer not found"));
    // Checking a password reads the field: customer.read on its level (allow or mask).
    CUSTOS_ASSIGN_OR_RETURN(const access::StaffFacts staff, s.Facts(customer_id));
    CUSTOS_ASSIGN_OR_RETURN(consent::ConsentState consent, consent::Current(s.txn, customer_id));
    const access::Decision decision = access::DecideData(
        *m.config, staff,
        access::DataRequest{ActionName(Action::kCustomerRead), s.ctx.purpose, &consent, s.now_ms},
        access::FieldSubject(*def));
    if (decision.effect == access::Effect::kDeny) {
      return Verdict::Deny(
          PermissionDenied(fmt::format("field '{}': {}", def->name, decision.reason)));
    }
    CUSTOS_ASSIGN_OR_RETURN(dek, m.LoadDek(s.txn, customer_id));
    return Verdict::Allow(decision.reason, {std::string(field)});
  }));
  CUSTOS_ASSIGN_OR_RETURN(FieldValues all, m.OpenCustomer(*row, dek));
  auto it = all.find(field);
  if (it == all.end()) return NotFound(fmt::format("field '{}': not set for this customer", field));
  return crypto::VerifyPassword(password, it->second);
}

}  // namespace custos::vault
