// Customers: create, read, update, find, list (P3.1, P3.2). Every path audits first.
#include <fmt/format.h>

#include <algorithm>

#include "core/validators.h"
#include "crypto/primitives.h"
#include "vault/authorize.h"
#include "vault/consent_intake.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

constexpr size_t kMaxFindResults = 1000;
constexpr size_t kMaxListPage = 1000;

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

Result<std::string> Vault::CreateCustomer(const Context& ctx, const FieldValues& fields,
                                          std::string_view source,
                                          const CollectionConsent& consent) {
  Impl& m = *impl_;
  const std::string action = "customer.create";
  // Validation first, outside the write lock (Argon2id is slow); a refusal is audited below.
  Result<FieldValues> normalised = m.NormalizeCustomerFields(fields, /*is_create=*/true);
  Status bad_source = ValidSource(source)
                          ? Status::Ok()
                          : InvalidArgument("source: must be 1-200 printable ASCII characters");
  CUSTOS_ASSIGN_OR_RETURN(auto txn, m.BeginAuthorized(ctx, action, "customer:new"));
  const Status& invalid = !normalised.ok() ? normalised.status() : bad_source;
  if (!invalid.ok()) {
    return m.DenyAndCommit(*txn, ctx, action, "customer:new", invalid, FieldNames(fields));
  }
  const int64_t now = m.Now();
  // P3.1a: no record without the consent given at collection, checked before any write.
  const consent::Collection collection =
      ToCollection(consent, ConsentChannel(source, ctx), consent.evidence_ref);
  if (Status bad = CheckCollectionIn(*txn, *m.config, collection, now); !bad.ok()) {
    if (bad.code() != Code::kInvalidArgument) return bad;
    return m.DenyAndCommit(*txn, ctx, action, "customer:new", bad, FieldNames(fields));
  }
  // P3.2b: every field written needs customer.create on its level for this purpose, and the
  // consent given with this very call must cover the purpose (and sensitive fields, P3.3a).
  CUSTOS_ASSIGN_OR_RETURN(access::StaffFacts staff, LoadStaffFacts(*txn, ctx.actor, "", now));
  const consent::ConsentState given =
      CollectionState(consent.purposes, consent.sensitive, consent.third_party);
  const std::vector<FieldDecision> decided = DecideFields(
      *m.config, staff, access::DataRequest{action, ctx.purpose, &given, now},
      FieldNames(*normalised));
  if (const FieldDecision* denied = FirstDenied(decided)) {
    return m.DenyAndCommit(*txn, ctx, action, "customer:new", FieldDenial(*denied),
                           FieldNames(*normalised));
  }
  store::CustomerRow row;
  row.customer_id = NewId(now);
  row.created_at_ms = now;
  row.updated_at_ms = now;
  row.source = std::string(source);
  row.schema_version = m.config->schema_version;
  const crypto::SecretBytes dek = m.keyring->NewDek();
  CUSTOS_ASSIGN_OR_RETURN(Impl::Sealed sealed, m.SealCustomer(row.customer_id, dek, *normalised));
  row.envelopes = std::move(sealed.envelopes);
  store::WrappedKeyRow key;
  key.customer_id = row.customer_id;
  // A rotation started by another process since this one opened changes the version.
  CUSTOS_RETURN_IF_ERROR(m.FollowKekVersion(*txn));
  CUSTOS_ASSIGN_OR_RETURN(key.wrapped_dek, m.keyring->WrapDek(row.customer_id, dek));
  CUSTOS_ASSIGN_OR_RETURN(key.kek_version, crypto::WrappedKeyKekVersion(key.wrapped_dek));
  CUSTOS_RETURN_IF_ERROR(txn->InsertCustomer(row));
  CUSTOS_RETURN_IF_ERROR(txn->PutWrappedKey(key));
  CUSTOS_RETURN_IF_ERROR(txn->PutIndexEntries(row.customer_id, sealed.index));
  CUSTOS_RETURN_IF_ERROR(AppendCollection(*txn, row.customer_id, collection, ctx.actor, now));
  CUSTOS_RETURN_IF_ERROR(m.AuditAndCommit(
      *txn, m.Event(ctx, action, CustomerTarget(row.customer_id), "allow",
                    fmt::format("source {}; {}; {}", row.source, DescribeCollection(collection),
                                AuditReason(decided)),
                    FieldNames(*normalised))));
  return row.customer_id;
}

Result<CustomerView> Vault::GetCustomer(const Context& ctx, std::string_view customer_id,
                                        const std::vector<std::string>& fields) {
  Impl& m = *impl_;
  const std::string action = "customer.read";
  const std::string target = CustomerTarget(customer_id);
  // Which fields will be returned: the selection, or every readable field.
  std::vector<std::string> selected;
  Status bad_selection;
  if (!ValidCustomerId(customer_id)) {
    bad_selection = InvalidArgument("customer_id: not a customer id (26 base32 characters)");
  }
  for (const std::string& name : fields) {
    const schema::FieldDef* def = m.config->FindField(name);
    if (def == nullptr) {
      bad_selection = InvalidArgument(fmt::format("field '{}': not in the field catalogue", name));
    } else if (def->type == schema::FieldType::kPassword) {
      bad_selection = InvalidArgument(fmt::format(
          "field '{}': a password is stored only as a hash and cannot be read", name));
    }
    if (!bad_selection.ok()) break;
    selected.push_back(name);
  }
  if (fields.empty()) {
    for (const schema::FieldDef& def : m.config->fields) {
      if (def.type != schema::FieldType::kPassword) selected.push_back(def.name);
    }
  }
  if (m.closed) return FailedPrecondition("vault is closed");
  // Authorise, read and audit in a transaction shared with concurrent reads (group commit);
  // the step records what it decided, and nothing is decrypted before its entry is durable.
  Status refusal;
  std::optional<store::CustomerRow> row;
  std::optional<store::WrappedKeyRow> key;
  std::vector<FieldDecision> decided;
  CUSTOS_RETURN_IF_ERROR(m.reads->Run([&](BatchScope& scope) -> Result<AuditEvents> {
    CUSTOS_ASSIGN_OR_RETURN(Impl::Admission admitted, m.Admit(scope, ctx, action));
    if (!admitted.refusal.ok()) {
      refusal = admitted.refusal;
      return AuditEvents{m.Event(admitted.ctx, action, target, "deny", refusal.message())};
    }
    refusal = bad_selection;
    if (refusal.ok()) {
      CUSTOS_ASSIGN_OR_RETURN(row, scope.txn.GetCustomer(customer_id));
      if (!row.has_value()) refusal = NotFound("customer not found");
    }
    if (refusal.ok()) {
      CUSTOS_ASSIGN_OR_RETURN(key, scope.txn.GetWrappedKey(customer_id));
      if (!key.has_value()) refusal = NotFound("customer not found (data key destroyed)");
    }
    if (!refusal.ok()) return AuditEvents{m.DenyEvent(ctx, action, target, refusal, selected)};
    // P3.2b / P5b / P3.3a, per field: role, training, break-glass, then the customer's
    // consent (read now, never cached: a withdrawal takes effect on the next request).
    const int64_t now = m.Now();
    const access::StaffFacts staff = admitted.staff->Facts(ctx.actor, customer_id, now);
    CUSTOS_ASSIGN_OR_RETURN(consent::ConsentState consent,
                            consent::Current(scope.txn, customer_id));
    decided = DecideFields(*m.config, staff,
                           access::DataRequest{action, ctx.purpose, &consent, now}, selected);
    // Fields asked for by name are all-or-nothing; the default view leaves out what is denied.
    const FieldDecision* denied = FirstDenied(decided);
    if (denied != nullptr && (!fields.empty() || AuditDecision(decided) == "deny")) {
      refusal = FieldDenial(*denied);
      return AuditEvents{m.DenyEvent(ctx, action, target, refusal, selected)};
    }
    return AuditEvents{m.Event(ctx, action, target, AuditDecision(decided),
                               AuditReason(decided), AuditFields(decided))};
  }));
  // No audit, no data: the entry is committed before anything is decrypted.
  if (!refusal.ok()) return refusal;
  CUSTOS_ASSIGN_OR_RETURN(crypto::SecretBytes dek,
                          m.keyring->UnwrapDek(customer_id, key->wrapped_dek));
  // Decrypt only the levels that hold something shown.
  store::CustomerRow shown_levels = *row;
  std::erase_if(shown_levels.envelopes, [&](const store::Envelope& e) {
    return std::none_of(decided.begin(), decided.end(), [&](const FieldDecision& d) {
      return d.field->level == e.level && d.decision.effect != access::Effect::kDeny;
    });
  });
  CUSTOS_ASSIGN_OR_RETURN(FieldValues all, m.OpenCustomer(shown_levels, dek));
  CustomerView view;
  view.customer_id = row->customer_id;
  view.created_at_ms = row->created_at_ms;
  view.updated_at_ms = row->updated_at_ms;
  view.source = row->source;
  for (const FieldDecision& d : decided) {
    auto it = all.find(d.field->name);
    if (it == all.end() || d.decision.effect == access::Effect::kDeny) continue;
    view.fields.emplace(d.field->name, Shown(d.decision, std::move(it->second)));
  }
  return view;
}

Status Vault::UpdateCustomer(const Context& ctx, std::string_view customer_id,
                             const FieldValues& changes) {
  Impl& m = *impl_;
  const std::string action = "customer.update";
  const std::string target = CustomerTarget(customer_id);
  Result<FieldValues> normalised = m.NormalizeCustomerFields(changes, /*is_create=*/false);
  Status refusal = normalised.status();
  if (refusal.ok() && !ValidCustomerId(customer_id)) {
    refusal = InvalidArgument("customer_id: not a customer id (26 base32 characters)");
  }
  if (refusal.ok() && changes.empty()) refusal = InvalidArgument("no field to update");
  CUSTOS_ASSIGN_OR_RETURN(auto txn, m.BeginAuthorized(ctx, action, target));
  std::optional<store::CustomerRow> row;
  if (refusal.ok()) {
    CUSTOS_ASSIGN_OR_RETURN(row, txn->GetCustomer(customer_id));
    if (!row.has_value()) refusal = NotFound("customer not found");
  }
  if (refusal.ok()) {
    // Each changed field needs customer.update on its level, and the customer's consent.
    const int64_t now = m.Now();
    CUSTOS_ASSIGN_OR_RETURN(access::StaffFacts staff,
                            LoadStaffFacts(*txn, ctx.actor, customer_id, now));
    CUSTOS_ASSIGN_OR_RETURN(consent::ConsentState consent, consent::Current(*txn, customer_id));
    const std::vector<FieldDecision> decided =
        DecideFields(*m.config, staff, access::DataRequest{action, ctx.purpose, &consent, now},
                     FieldNames(*normalised));
    if (const FieldDecision* denied = FirstDenied(decided)) refusal = FieldDenial(*denied);
  }
  FieldValues merged;
  crypto::SecretBytes dek;
  if (refusal.ok()) {
    Result<crypto::SecretBytes> loaded = m.LoadDek(*txn, customer_id);
    if (!loaded.ok()) return loaded.status();
    dek = std::move(loaded).value();
    CUSTOS_ASSIGN_OR_RETURN(merged, m.OpenCustomer(*row, dek));
    for (const auto& [name, value] : *normalised) {
      if (value.empty()) {
        merged.erase(name);
      } else {
        merged.insert_or_assign(name, value);
      }
    }
    refusal = m.CheckRequired(merged);
    if (refusal.ok()) refusal = m.CheckIdentityConsistency(merged);
  }
  if (!refusal.ok()) {
    return m.DenyAndCommit(*txn, ctx, action, target, refusal, FieldNames(changes));
  }
  CUSTOS_ASSIGN_OR_RETURN(Impl::Sealed sealed, m.SealCustomer(row->customer_id, dek, merged));
  row->envelopes = std::move(sealed.envelopes);
  row->updated_at_ms = m.Now();
  row->schema_version = m.config->schema_version;
  // Searchable fields that were removed lose their tokens (an empty token list for the field).
  for (const auto& [name, value] : *normalised) {
    const schema::FieldDef* def = m.config->FindField(name);
    if (value.empty() && def != nullptr && def->searchable) {
      sealed.index.push_back(store::IndexEntry{name, {}});
    }
  }
  CUSTOS_RETURN_IF_ERROR(txn->UpdateCustomer(*row));
  CUSTOS_RETURN_IF_ERROR(txn->PutIndexEntries(row->customer_id, sealed.index));
  return m.AuditAndCommit(*txn, m.Event(ctx, action, target, "allow", "", FieldNames(changes)));
}

Result<std::vector<std::string>> Vault::FindCustomers(const Context& ctx, std::string_view field,
                                                      std::string_view value) {
  Impl& m = *impl_;
  const std::string action = "customer.search";
  const schema::FieldDef* def = m.config->FindField(field);
  Status refusal;
  std::string normalised;
  if (def == nullptr) {
    refusal = InvalidArgument(fmt::format("field '{}': not in the field catalogue", field));
  } else if (!def->searchable) {
    refusal = InvalidArgument(fmt::format("field '{}': not searchable", field));
  } else {
    const core::Validator* v = core::FindValidator(def->validator);
    Result<std::string> norm = v != nullptr ? v->normalize(value)
                                            : Result<std::string>(Internal("no validator"));
    if (norm.ok()) {
      normalised = std::move(norm).value();
    } else {
      refusal = InvalidArgument(fmt::format("field '{}': {}", field, norm.status().message()));
    }
  }
  const std::string target =
      def != nullptr ? fmt::format("field:{}", def->name) : "field:(unknown)";
  const std::vector<std::string> names =
      def != nullptr ? std::vector<std::string>{def->name} : std::vector<std::string>{};
  if (m.closed) return FailedPrecondition("vault is closed");
  // The blind-index token is computed here, in the request's thread, not in the shared batch.
  crypto::Bytes token;
  if (refusal.ok()) {
    Result<crypto::Bytes> t = m.keyring->BlindIndex(def->name, normalised);
    if (!t.ok()) return t.status();
    token = std::move(t).value();
  }
  std::vector<std::string> ids;
  CUSTOS_RETURN_IF_ERROR(m.reads->Run([&](BatchScope& scope) -> Result<AuditEvents> {
    CUSTOS_ASSIGN_OR_RETURN(Impl::Admission admitted, m.Admit(scope, ctx, action));
    if (!admitted.refusal.ok()) {
      refusal = admitted.refusal;
      return AuditEvents{m.Event(admitted.ctx, action, target, "deny", refusal.message())};
    }
    if (!refusal.ok()) return AuditEvents{m.DenyEvent(ctx, action, target, refusal, names)};
    // Searching by a field uses it: customer.search on the field's level (P3.2b).
    const int64_t now = m.Now();
    const access::StaffFacts staff = admitted.staff->Facts(ctx.actor, "", now);
    const access::Decision decision = access::DecideData(
        *m.config, staff, access::DataRequest{action, ctx.purpose, nullptr, now},
        access::FieldSubject(*def));
    if (decision.effect == access::Effect::kDeny) {
      refusal = PermissionDenied(fmt::format("field '{}': {}", def->name, decision.reason));
      return AuditEvents{m.DenyEvent(ctx, action, target, refusal, names)};
    }
    CUSTOS_ASSIGN_OR_RETURN(std::vector<std::string> matches,
                            scope.txn.FindByIndex(def->name, token, kMaxFindResults));
    // P3.3a: a customer who has not consented to the purpose (or withdrew) is not found for
    // it. Consent is read now, never cached.
    ids.clear();
    for (const std::string& id : matches) {
      CUSTOS_ASSIGN_OR_RETURN(consent::ConsentState consent, consent::Current(scope.txn, id));
      const access::Decision d = access::DecideData(
          *m.config, staff, access::DataRequest{action, ctx.purpose, &consent, now},
          access::FieldSubject(*def));
      if (d.effect != access::Effect::kDeny) ids.push_back(id);
    }
    return AuditEvents{m.Event(ctx, action, target,
                               std::string(access::EffectName(decision.effect)),
                               fmt::format("{}; {} match(es), {} withheld by consent",
                                           decision.reason, ids.size(),
                                           matches.size() - ids.size()),
                               names)};
  }));
  if (!refusal.ok()) return refusal;
  return ids;
}

Result<CustomerPage> Vault::ListCustomers(const Context& ctx, std::string_view after_id,
                                          size_t limit) {
  Impl& m = *impl_;
  const std::string action = "customer.list";
  limit = std::clamp<size_t>(limit, 1, kMaxListPage);
  // A list shows the general-level fields only (contact data, P2.2).
  std::vector<std::string> shown;
  for (const schema::FieldDef& def : m.config->fields) {
    if (def.level == Level::kGeneral && def.type != schema::FieldType::kPassword) {
      shown.push_back(def.name);
    }
  }
  CUSTOS_ASSIGN_OR_RETURN(auto txn, m.BeginAuthorized(ctx, action, "customers"));
  const int64_t now = m.Now();
  CUSTOS_ASSIGN_OR_RETURN(access::StaffFacts staff, LoadStaffFacts(*txn, ctx.actor, "", now));
  // The role first (without a customer's consent): a role that may see none of the listed
  // fields is refused the list as a whole.
  const std::vector<FieldDecision> by_role = DecideFields(
      *m.config, staff, access::DataRequest{action, ctx.purpose, nullptr, now}, shown);
  if (AuditDecision(by_role) == "deny") {
    return m.DenyAndCommit(*txn, ctx, action, "customers",
                           by_role.empty() ? PermissionDenied("no field to list")
                                           : FieldDenial(*FirstDenied(by_role)),
                           shown);
  }
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::CustomerRow> rows,
                          txn->ListCustomers(after_id, limit));
  std::vector<crypto::Bytes> wrapped(rows.size());
  std::vector<std::vector<FieldDecision>> decided(rows.size());
  size_t withheld = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string& id = rows[i].customer_id;
    CUSTOS_ASSIGN_OR_RETURN(auto key, txn->GetWrappedKey(id));
    if (key.has_value()) wrapped[i] = std::move(key->wrapped_dek);
    // Per customer: their consent decides (P3.3a), and the entry says what was shown.
    CUSTOS_ASSIGN_OR_RETURN(consent::ConsentState consent, consent::Current(*txn, id));
    decided[i] = DecideFields(*m.config, staff,
                              access::DataRequest{action, ctx.purpose, &consent, now}, shown);
    if (AuditDecision(decided[i]) == "deny") ++withheld;
    CUSTOS_RETURN_IF_ERROR(m.audit->Append(
        *txn, m.Event(ctx, action, CustomerTarget(id), AuditDecision(decided[i]),
                      AuditReason(decided[i]), AuditFields(decided[i]))));
  }
  CUSTOS_RETURN_IF_ERROR(m.AuditAndCommit(
      *txn, m.Event(ctx, action, "customers", AuditDecision(by_role),
                    fmt::format("{} listed, {} withheld by consent", rows.size() - withheld,
                                withheld))));
  CustomerPage page;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (AuditDecision(decided[i]) == "deny") continue;
    CustomerView view;
    view.customer_id = rows[i].customer_id;
    view.created_at_ms = rows[i].created_at_ms;
    view.updated_at_ms = rows[i].updated_at_ms;
    view.source = rows[i].source;
    if (!wrapped[i].empty()) {
      CUSTOS_ASSIGN_OR_RETURN(crypto::SecretBytes dek,
                              m.keyring->UnwrapDek(rows[i].customer_id, wrapped[i]));
      store::CustomerRow general = rows[i];
      std::erase_if(general.envelopes,
                    [](const store::Envelope& e) { return e.level != Level::kGeneral; });
      CUSTOS_ASSIGN_OR_RETURN(FieldValues all, m.OpenCustomer(general, dek));
      for (const FieldDecision& d : decided[i]) {
        auto it = all.find(d.field->name);
        if (it == all.end() || d.decision.effect == access::Effect::kDeny) continue;
        view.fields.emplace(d.field->name, Shown(d.decision, std::move(it->second)));
      }
    }
    page.customers.push_back(std::move(view));
  }
  if (rows.size() == limit) page.next_after = rows.back().customer_id;
  return page;
}

Result<bool> Vault::VerifyCustomerPassword(const Context& ctx, std::string_view customer_id,
                                           std::string_view field, std::string_view password) {
  Impl& m = *impl_;
  const std::string action = "customer.verify_password";
  const std::string target = CustomerTarget(customer_id);
  const schema::FieldDef* def = m.config->FindField(field);
  Status refusal;
  if (def == nullptr || def->type != schema::FieldType::kPassword) {
    refusal = InvalidArgument(fmt::format("field '{}': not a password field", field));
  } else if (!ValidCustomerId(customer_id)) {
    refusal = InvalidArgument("customer_id: not a customer id (26 base32 characters)");
  }
  CUSTOS_ASSIGN_OR_RETURN(auto txn, m.BeginAuthorized(ctx, action, target));
  std::optional<store::CustomerRow> row;
  if (refusal.ok()) {
    CUSTOS_ASSIGN_OR_RETURN(row, txn->GetCustomer(customer_id));
    if (!row.has_value()) refusal = NotFound("customer not found");
  }
  access::Decision decision;
  if (refusal.ok()) {
    // Checking a password reads the field: customer.read on its level (allow or mask).
    const int64_t now = m.Now();
    CUSTOS_ASSIGN_OR_RETURN(access::StaffFacts staff,
                            LoadStaffFacts(*txn, ctx.actor, customer_id, now));
    CUSTOS_ASSIGN_OR_RETURN(consent::ConsentState consent, consent::Current(*txn, customer_id));
    decision = access::DecideData(*m.config, staff,
                                  access::DataRequest{"customer.read", ctx.purpose, &consent, now},
                                  access::FieldSubject(*def));
    if (decision.effect == access::Effect::kDeny) {
      refusal = PermissionDenied(fmt::format("field '{}': {}", def->name, decision.reason));
    }
  }
  if (!refusal.ok()) {
    return m.DenyAndCommit(*txn, ctx, action, target, refusal);
  }
  CUSTOS_ASSIGN_OR_RETURN(crypto::SecretBytes dek, m.LoadDek(*txn, customer_id));
  CUSTOS_RETURN_IF_ERROR(m.AuditAndCommit(
      *txn, m.Event(ctx, action, target, "allow", decision.reason, {std::string(field)})));
  CUSTOS_ASSIGN_OR_RETURN(FieldValues all, m.OpenCustomer(*row, dek));
  auto it = all.find(field);
  if (it == all.end()) return NotFound(fmt::format("field '{}': not set for this customer", field));
  return crypto::VerifyPassword(password, it->second);
}

}  // namespace custos::vault
