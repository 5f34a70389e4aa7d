// Transactions and communication notes of a customer (P2.1, P3.1b), sealed with the owner's DEK.
#include <fmt/format.h>

#include <fmt/ranges.h>

#include <algorithm>
#include <regex>
#include <set>
#include <sstream>

#include "core/dates.h"
#include "core/validators.h"
#include "lifecycle/rules.h"
#include "scan/scan_text.h"
#include "vault/authorize.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {


// The transaction record (E-commerce Law Art. 31 keeps these for 3 years): a fixed shape.
Result<FieldValues> NormalizeTransaction(const FieldValues& in) {
  static const std::regex kAmount(R"(^-?[0-9]{1,15}(\.[0-9]{1,4})?$)");
  static const std::regex kCurrency(R"(^[A-Z]{3}$)");
  // The shape only, as always: the date part is checked by the "date" validator below.
  static constexpr core::TimestampForms kOccurredAt{.date_only = true, .space_separator = true,
                                                    .optional_seconds = true,
                                                    .optional_offset = true,
                                                    .check_values = false};
  FieldValues out;
  for (const auto& [name, value] : in) {
    if (name == "occurred_at") {
      if (!core::ParseIsoTimestamp(value, kOccurredAt).ok()) {
        return InvalidArgument("field 'occurred_at': must be YYYY-MM-DD or an ISO 8601 date-time");
      }
      CUSTOS_ASSIGN_OR_RETURN(std::string date,
                              core::FindValidator("date")->normalize(value.substr(0, 10)));
      out.emplace(name, value);
    } else if (name == "amount") {
      if (!std::regex_match(value, kAmount)) {
        return InvalidArgument("field 'amount': must be a decimal number with up to 4 decimals");
      }
      out.emplace(name, value);
    } else if (name == "currency") {
      if (!std::regex_match(value, kCurrency)) {
        return InvalidArgument("field 'currency': must be an ISO 4217 code such as CNY");
      }
      out.emplace(name, value);
    } else if (name == "product" || name == "payment_method") {
      Result<std::string> text = core::FindValidator("text")->normalize(value);
      if (!text.ok()) {
        return InvalidArgument(fmt::format("field '{}': {}", name, text.status().message()));
      }
      if (text->size() > 200) return InvalidArgument(fmt::format("field '{}': longer than 200 bytes", name));
      out.emplace(name, std::move(text).value());
    } else {
      return InvalidArgument(fmt::format(
          "field '{}': not a transaction field (occurred_at, product, amount, currency, "
          "payment_method)",
          name));
    }
  }
  for (const char* required : {"occurred_at", "product", "amount"}) {
    if (!out.contains(required)) return InvalidArgument(fmt::format("field '{}': required", required));
  }
  out.try_emplace("currency", "CNY");
  return out;
}

Level NoteLevel(const schema::Config& config) {
  for (const schema::RecordKindDef& kind : config.records) {
    if (kind.name == "note") return kind.level;
  }
  return Level::kInternal;
}

Level TransactionLevel(const schema::Config& config) {
  const schema::RecordKindDef* kind = config.FindRecordKind("transaction");
  return kind != nullptr ? kind->level : Level::kInternal;
}

// The engine's decision on a customer's records of one kind at `level` (P3.2b, P5b, P3.3a).
Result<access::Decision> DecideRecord(Vault::Impl& m, store::Transaction& txn, const Context& ctx,
                                      std::string_view action, std::string_view customer_id,
                                      std::string_view kind, Level level) {
  const int64_t now = m.Now();
  CUSTOS_ASSIGN_OR_RETURN(access::StaffFacts staff,
                          LoadStaffFacts(txn, ctx.actor, customer_id, now));
  CUSTOS_ASSIGN_OR_RETURN(consent::ConsentState consent, consent::Current(txn, customer_id));
  return access::DecideData(*m.config, staff,
                            access::DataRequest{action, ctx.purpose, &consent, now},
                            access::Subject{kind, level, false, "full"});
}

Status RecordDenial(std::string_view kind, const access::Decision& d) {
  return PermissionDenied(fmt::format("{} records: {}", kind, d.reason));
}

}  // namespace

Result<std::string> Vault::AddTransaction(const Context& ctx, std::string_view customer_id,
                                          const FieldValues& fields, std::string_view source) {
  Impl& m = *impl_;
  const std::string action = "txn.add";
  const bool valid_id = ValidCustomerId(customer_id);
  const std::string target = CustomerTarget(customer_id);
  Result<FieldValues> normalised = NormalizeTransaction(fields);
  Status refusal = valid_id ? normalised.status()
                            : InvalidArgument("customer_id: not a customer id (26 base32 characters)");
  CUSTOS_ASSIGN_OR_RETURN(auto txn, m.BeginAuthorized(ctx, action, target));
  crypto::SecretBytes dek;
  if (refusal.ok()) {
    CUSTOS_ASSIGN_OR_RETURN(auto row, txn->GetCustomer(customer_id));
    if (!row.has_value()) refusal = NotFound("customer not found");
  }
  if (refusal.ok()) {
    CUSTOS_ASSIGN_OR_RETURN(auto closed, txn->GetAccountClosure(customer_id));
    if (closed.has_value()) {
      refusal = FailedPrecondition(fmt::format(
          "account closed on {}: reopen it before adding a transaction",
          lifecycle::UtcDay(closed->closed_at_ms)));
    }
  }
  if (refusal.ok()) {
    Result<crypto::SecretBytes> loaded = m.LoadDek(*txn, customer_id);
    if (!loaded.ok()) return loaded.status();
    dek = std::move(loaded).value();
  }
  access::Decision decision;
  if (refusal.ok()) {
    CUSTOS_ASSIGN_OR_RETURN(decision, DecideRecord(m, *txn, ctx, action, customer_id,
                                                   "transaction", TransactionLevel(*m.config)));
    if (decision.effect == access::Effect::kDeny) refusal = RecordDenial("transaction", decision);
  }
  if (!refusal.ok()) {
    return m.DenyAndCommit(*txn, ctx, action, target, refusal, FieldNames(fields));
  }
  store::TransactionRow row;
  row.customer_id = std::string(customer_id);
  row.created_at_ms = m.Now();
  row.txn_id = NewId(row.created_at_ms);
  row.source = std::string(source);
  CUSTOS_ASSIGN_OR_RETURN(row.ciphertext,
                          m.keyring->SealRecord(dek, customer_id, "txn", row.txn_id,
                                                EncodeFields(*normalised)));
  CUSTOS_RETURN_IF_ERROR(txn->InsertTransaction(row));
  CUSTOS_RETURN_IF_ERROR(m.AuditAndCommit(
      *txn, m.Event(ctx, action, target, "allow",
                    fmt::format("txn {}; {}", row.txn_id, decision.reason),
                    FieldNames(*normalised))));
  return row.txn_id;
}

Result<std::vector<TransactionView>> Vault::ListTransactions(const Context& ctx,
                                                             std::string_view customer_id) {
  Impl& m = *impl_;
  const std::string action = "txn.read";
  const bool valid_id = ValidCustomerId(customer_id);
  const std::string target = CustomerTarget(customer_id);
  CUSTOS_ASSIGN_OR_RETURN(auto txn, m.BeginAuthorized(ctx, action, target));
  Status refusal = valid_id ? Status::Ok()
                            : InvalidArgument("customer_id: not a customer id (26 base32 characters)");
  std::vector<store::TransactionRow> rows;
  crypto::SecretBytes dek;
  if (refusal.ok()) {
    CUSTOS_ASSIGN_OR_RETURN(auto row, txn->GetCustomer(customer_id));
    if (!row.has_value()) refusal = NotFound("customer not found");
  }
  access::Decision decision;
  if (refusal.ok()) {
    CUSTOS_ASSIGN_OR_RETURN(decision, DecideRecord(m, *txn, ctx, action, customer_id,
                                                   "transaction", TransactionLevel(*m.config)));
    if (decision.effect == access::Effect::kDeny) refusal = RecordDenial("transaction", decision);
  }
  if (!refusal.ok()) {
    return m.DenyAndCommit(*txn, ctx, action, target, refusal);
  }
  CUSTOS_ASSIGN_OR_RETURN(dek, m.LoadDek(*txn, customer_id));
  CUSTOS_ASSIGN_OR_RETURN(rows, txn->ListTransactions(customer_id));
  const bool masked = decision.effect == access::Effect::kMask;
  std::vector<std::string> audited{"occurred_at", "product", "amount", "currency",
                                   "payment_method"};
  if (masked) {
    for (std::string& f : audited) f += "~";
  }
  CUSTOS_RETURN_IF_ERROR(m.AuditAndCommit(
      *txn, m.Event(ctx, action, target, std::string(access::EffectName(decision.effect)),
                    fmt::format("{} transaction(s); {}", rows.size(), decision.reason),
                    audited)));
  std::vector<TransactionView> out;
  out.reserve(rows.size());
  for (const store::TransactionRow& row : rows) {
    CUSTOS_ASSIGN_OR_RETURN(crypto::SecretBytes plain,
                            m.keyring->OpenRecord(dek, customer_id, "txn", row.txn_id, row.ciphertext));
    CUSTOS_ASSIGN_OR_RETURN(FieldValues fields, DecodeFields(plain));
    if (masked) {
      for (auto& [name, value] : fields) value = Shown(decision, std::move(value));
    }
    out.push_back(TransactionView{row.txn_id, row.customer_id, row.created_at_ms, row.source,
                                  std::move(fields)});
  }
  return out;
}

Result<std::string> Vault::AddNote(const Context& ctx, std::string_view customer_id,
                                   std::string_view text, std::string_view source) {
  Impl& m = *impl_;
  const std::string action = "note.add";
  const bool valid_id = ValidCustomerId(customer_id);
  const std::string target = CustomerTarget(customer_id);
  Result<std::string> normalised = core::FindValidator("text")->normalize(text);
  Status refusal;
  if (!valid_id) {
    refusal = InvalidArgument("customer_id: not a customer id (26 base32 characters)");
  } else if (!normalised.ok()) {
    refusal = InvalidArgument(fmt::format("field 'text': {}", normalised.status().message()));
  } else if (normalised->empty()) {
    refusal = InvalidArgument("field 'text': required");
  }
  CUSTOS_ASSIGN_OR_RETURN(auto txn, m.BeginAuthorized(ctx, action, target));
  if (refusal.ok()) {
    CUSTOS_ASSIGN_OR_RETURN(auto row, txn->GetCustomer(customer_id));
    if (!row.has_value()) refusal = NotFound("customer not found");
  }
  // Writing a note is granted at the note kind's level: the writer supplies the text; who may
  // read it back is decided at the (possibly stricter) level it is sealed at.
  access::Decision decision;
  if (refusal.ok()) {
    CUSTOS_ASSIGN_OR_RETURN(decision, DecideRecord(m, *txn, ctx, action, customer_id, "note",
                                                   NoteLevel(*m.config)));
    if (decision.effect == access::Effect::kDeny) refusal = RecordDenial("note", decision);
  }
  if (!refusal.ok()) {
    return m.DenyAndCommit(*txn, ctx, action, target, refusal, {"text"});
  }
  CUSTOS_ASSIGN_OR_RETURN(crypto::SecretBytes dek, m.LoadDek(*txn, customer_id));
  // A communication note is customer data too (P3.1b): what personal data it holds is found
  // when it is added, recorded by type (never by value), and the note is sealed at the
  // strictest level among them. If the scanner cannot run, the note is refused (fail closed).
  CUSTOS_ASSIGN_OR_RETURN(std::vector<scan::Finding> findings, scan::ScanText(*normalised));
  std::set<std::string> pii_types;
  for (const scan::Finding& f : findings) {
    if (f.confidence >= 0.5) pii_types.insert(std::string(scan::TypeName(f.type)));
  }
  store::NoteRow row;
  row.customer_id = std::string(customer_id);
  row.created_at_ms = m.Now();
  row.note_id = NewId(row.created_at_ms);
  row.source = std::string(source);
  row.level = std::max(NoteLevel(*m.config),
                       scan::StrictestLevel(findings).value_or(Level::kGeneral));
  std::string pii = fmt::format("{}", fmt::join(pii_types, ","));
  FieldValues body{{"text", *normalised}, {"pii_types", pii}};
  CUSTOS_ASSIGN_OR_RETURN(row.ciphertext, m.keyring->SealRecord(dek, customer_id, "note",
                                                                row.note_id, EncodeFields(body)));
  CUSTOS_RETURN_IF_ERROR(txn->InsertNote(row));
  CUSTOS_RETURN_IF_ERROR(m.AuditAndCommit(
      *txn, m.Event(ctx, action, target, "allow",
                    fmt::format("note {} sealed {}; personal data found: {}; {}", row.note_id,
                                LevelName(row.level), pii.empty() ? "none" : pii,
                                decision.reason),
                    {"text"})));
  return row.note_id;
}

Result<std::vector<NoteView>> Vault::ListNotes(const Context& ctx, std::string_view customer_id) {
  Impl& m = *impl_;
  const std::string action = "note.read";
  const bool valid_id = ValidCustomerId(customer_id);
  const std::string target = CustomerTarget(customer_id);
  CUSTOS_ASSIGN_OR_RETURN(auto txn, m.BeginAuthorized(ctx, action, target));
  Status refusal = valid_id ? Status::Ok()
                            : InvalidArgument("customer_id: not a customer id (26 base32 characters)");
  if (refusal.ok()) {
    CUSTOS_ASSIGN_OR_RETURN(auto row, txn->GetCustomer(customer_id));
    if (!row.has_value()) refusal = NotFound("customer not found");
  }
  // Notes are read at the kind's level, and each note at the level it was sealed at.
  access::Decision decision;
  if (refusal.ok()) {
    CUSTOS_ASSIGN_OR_RETURN(decision, DecideRecord(m, *txn, ctx, action, customer_id, "note",
                                                   NoteLevel(*m.config)));
    if (decision.effect == access::Effect::kDeny) refusal = RecordDenial("note", decision);
  }
  if (!refusal.ok()) {
    return m.DenyAndCommit(*txn, ctx, action, target, refusal);
  }
  CUSTOS_ASSIGN_OR_RETURN(crypto::SecretBytes dek, m.LoadDek(*txn, customer_id));
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::NoteRow> rows, txn->ListNotes(customer_id));
  std::vector<access::Decision> per_note;
  size_t withheld = 0;
  for (const store::NoteRow& row : rows) {
    if (row.level == NoteLevel(*m.config)) {
      per_note.push_back(decision);
    } else {
      CUSTOS_ASSIGN_OR_RETURN(access::Decision d, DecideRecord(m, *txn, ctx, action, customer_id,
                                                               "note", row.level));
      per_note.push_back(std::move(d));
    }
    if (per_note.back().effect == access::Effect::kDeny) ++withheld;
  }
  CUSTOS_RETURN_IF_ERROR(m.AuditAndCommit(
      *txn, m.Event(ctx, action, target, std::string(access::EffectName(decision.effect)),
                    fmt::format("{} note(s), {} withheld by level; {}", rows.size() - withheld,
                                withheld, decision.reason),
                    {decision.effect == access::Effect::kMask ? "text~" : "text"})));
  std::vector<NoteView> out;
  for (size_t i = 0; i < rows.size(); ++i) {
    const store::NoteRow& row = rows[i];
    if (per_note[i].effect == access::Effect::kDeny) continue;
    CUSTOS_ASSIGN_OR_RETURN(crypto::SecretBytes plain,
                            m.keyring->OpenRecord(dek, customer_id, "note", row.note_id, row.ciphertext));
    CUSTOS_ASSIGN_OR_RETURN(FieldValues fields, DecodeFields(plain));
    NoteView view{row.note_id, row.customer_id, row.created_at_ms, row.source, row.level,
                  Shown(per_note[i], fields["text"]), {}};
    std::stringstream types(fields["pii_types"]);
    for (std::string t; std::getline(types, t, ',');) view.pii_types.push_back(t);
    out.push_back(std::move(view));
  }
  return out;
}

}  // namespace custos::vault
