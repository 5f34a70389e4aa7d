// Transactions and communication notes of a customer (P2.1, P3.1b), sealed with the owner's DEK.
#include <fmt/format.h>

#include <fmt/ranges.h>

#include <algorithm>
#include <regex>
#include <set>
#include <sstream>

#include "core/dates.h"
#include "core/names.h"
#include "core/validators.h"
#include "lifecycle/rules.h"
#include "scan/scan_text.h"
#include "vault/admission.h"
#include "vault/authorize.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

// The transaction record (E-commerce Law Art. 31 keeps these for 3 years): a fixed shape.
Result<FieldValues> NormalizeTransaction(const FieldValues& in) {
  static const std::regex kAmount(R"(^-?[0-9]{1,15}(\.[0-9]{1,4})?$)");
  static const std::regex kCurrency(R"(^[A-Z]{3}$)");
  // The shape only, as always: the date part is checked by the "date" validator below.
  static constexpr core::TimestampForms kOccurredAt{.date_only = true,
                                                    .space_separator = true,
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
      if (text->size() > 200) {
        return InvalidArgument(fmt::format("field '{}': longer than 200 bytes", name));
      }
      out.emplace(name, std::move(text).value());
    } else {
      return InvalidArgument(
          fmt::format("field {}: not a transaction field (occurred_at, product, amount, currency, "
                      "payment_method)",
                      core::QuotedName(name)));
    }
  }
  for (const char* required : {"occurred_at", "product", "amount"}) {
    if (!out.contains(required)) {
      return InvalidArgument(fmt::format("field '{}': required", required));
    }
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
Result<access::Decision> DecideRecord(const VaultState& m, Scope& s, schema::Action action,
                                      std::string_view customer_id, std::string_view kind,
                                      Level level) {
  CUSTOS_ASSIGN_OR_RETURN(const access::StaffFacts staff, s.Facts(customer_id));
  CUSTOS_ASSIGN_OR_RETURN(consent::ConsentState consent, consent::Current(s.txn, customer_id));
  return access::DecideData(
      *m.config, staff,
      access::DataRequest{schema::ActionName(action), s.ctx.purpose, &consent, s.now_ms},
      access::Subject{kind, level, false, "full"});
}

Status RecordDenial(std::string_view kind, const access::Decision& d) {
  return PermissionDenied(fmt::format("{} records: {}", kind, d.reason));
}

}  // namespace

Result<std::string> RecordService::AddTransaction(const Context& ctx, std::string_view customer_id,
                                                  const FieldValues& fields,
                                                  std::string_view source) {
  VaultState& m = *state_;
  Result<FieldValues> normalised = NormalizeTransaction(fields);
  const Operation op{schema::Action::kTxnAdd, CustomerTarget(customer_id)};
  std::string txn_id;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (!ValidCustomerId(customer_id)) return Verdict::Deny(BadCustomerId(), FieldNames(fields));
    if (!normalised.ok()) return Verdict::Deny(normalised.status(), FieldNames(fields));
    Status missing;
    CUSTOS_RETURN_IF_ERROR(CheckCustomer(s, customer_id, missing));
    if (!missing.ok()) return Verdict::Deny(missing, FieldNames(fields));
    CUSTOS_ASSIGN_OR_RETURN(auto closed, s.txn.GetAccountClosure(customer_id));
    if (closed.has_value()) {
      return Verdict::Deny(
          FailedPrecondition(fmt::format("account closed on {}: reopen it before adding a "
                                         "transaction",
                                         lifecycle::UtcDay(closed->closed_at_ms))),
          FieldNames(fields));
    }
    CUSTOS_ASSIGN_OR_RETURN(crypto::SecretBytes dek, m.LoadDek(s.txn, customer_id));
    CUSTOS_ASSIGN_OR_RETURN(
        const access::Decision decision,
        DecideRecord(m, s, op.action, customer_id, "transaction", TransactionLevel(*m.config)));
    if (decision.effect == access::Effect::kDeny) {
      return Verdict::Deny(RecordDenial("transaction", decision), FieldNames(fields));
    }
    store::TransactionRow row;
    row.customer_id = std::string(customer_id);
    row.created_at_ms = s.now_ms;
    row.txn_id = NewId(row.created_at_ms);
    row.source = std::string(source);
    CUSTOS_ASSIGN_OR_RETURN(
        row.ciphertext,
        m.keyring->SealRecord(dek, customer_id, "txn", row.txn_id, EncodeFields(*normalised)));
    CUSTOS_RETURN_IF_ERROR(s.txn.InsertTransaction(row));
    txn_id = row.txn_id;
    return Verdict::Allow(fmt::format("txn {}; {}", row.txn_id, decision.reason),
                          FieldNames(*normalised));
  }));
  return txn_id;
}

Result<std::vector<TransactionView>> RecordService::ListTransactions(const Context& ctx,
                                                                     std::string_view customer_id) {
  VaultState& m = *state_;
  const Operation op{schema::Action::kTxnRead, CustomerTarget(customer_id)};
  std::vector<store::TransactionRow> rows;
  crypto::SecretBytes dek;
  access::Decision decision;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    Status missing;
    CUSTOS_RETURN_IF_ERROR(CheckCustomer(s, customer_id, missing));
    if (!missing.ok()) return Verdict::Deny(missing);
    CUSTOS_ASSIGN_OR_RETURN(decision, DecideRecord(m, s, op.action, customer_id, "transaction",
                                                   TransactionLevel(*m.config)));
    if (decision.effect == access::Effect::kDeny) {
      return Verdict::Deny(RecordDenial("transaction", decision));
    }
    CUSTOS_ASSIGN_OR_RETURN(dek, m.LoadDek(s.txn, customer_id));
    CUSTOS_ASSIGN_OR_RETURN(rows, s.txn.ListTransactions(customer_id));
    std::vector<std::string> audited{"occurred_at", "product", "amount", "currency",
                                     "payment_method"};
    if (decision.effect == access::Effect::kMask) {
      for (std::string& f : audited) f += "~";
    }
    Verdict v = Verdict::Allow(fmt::format("{} transaction(s); {}", rows.size(), decision.reason),
                               std::move(audited));
    v.decision = std::string(access::EffectName(decision.effect));
    return v;
  }));
  const bool masked = decision.effect == access::Effect::kMask;
  std::vector<TransactionView> out;
  out.reserve(rows.size());
  for (const store::TransactionRow& row : rows) {
    CUSTOS_ASSIGN_OR_RETURN(
        crypto::SecretBytes plain,
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

Result<std::string> RecordService::AddNote(const Context& ctx, std::string_view customer_id,
                                           std::string_view text, std::string_view source) {
  VaultState& m = *state_;
  Result<std::string> normalised = core::FindValidator("text")->normalize(text);
  Status invalid;
  if (!ValidCustomerId(customer_id)) {
    invalid = BadCustomerId();
  } else if (!normalised.ok()) {
    invalid = InvalidArgument(fmt::format("field 'text': {}", normalised.status().message()));
  } else if (normalised->empty()) {
    invalid = InvalidArgument("field 'text': required");
  }
  const Operation op{schema::Action::kNoteAdd, CustomerTarget(customer_id)};
  std::string note_id;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (!invalid.ok()) return Verdict::Deny(invalid, {"text"});
    Status missing;
    CUSTOS_RETURN_IF_ERROR(CheckCustomer(s, customer_id, missing));
    if (!missing.ok()) return Verdict::Deny(missing, {"text"});
    // Writing a note is granted at the note kind's level: the writer supplies the text; who
    // may read it back is decided at the (possibly stricter) level it is sealed at.
    CUSTOS_ASSIGN_OR_RETURN(
        const access::Decision decision,
        DecideRecord(m, s, op.action, customer_id, "note", NoteLevel(*m.config)));
    if (decision.effect == access::Effect::kDeny) {
      return Verdict::Deny(RecordDenial("note", decision), {"text"});
    }
    CUSTOS_ASSIGN_OR_RETURN(crypto::SecretBytes dek, m.LoadDek(s.txn, customer_id));
    // A communication note is customer data too (P3.1b): what personal data it holds is found
    // when it is added, recorded by type (never by value), and the note is sealed at the
    // strictest level among them. If the scanner cannot run, the note is refused (fail
    // closed).
    CUSTOS_ASSIGN_OR_RETURN(std::vector<scan::Finding> findings, scan::ScanText(*normalised));
    std::set<std::string> pii_types;
    for (const scan::Finding& f : findings) {
      if (f.confidence >= 0.5) pii_types.insert(std::string(scan::TypeName(f.type)));
    }
    store::NoteRow row;
    row.customer_id = std::string(customer_id);
    row.created_at_ms = s.now_ms;
    row.note_id = NewId(row.created_at_ms);
    row.source = std::string(source);
    row.level =
        std::max(NoteLevel(*m.config), scan::StrictestLevel(findings).value_or(Level::kGeneral));
    const std::string pii = fmt::format("{}", fmt::join(pii_types, ","));
    FieldValues body{{"text", *normalised}, {"pii_types", pii}};
    CUSTOS_ASSIGN_OR_RETURN(row.ciphertext, m.keyring->SealRecord(dek, customer_id, "note",
                                                                  row.note_id, EncodeFields(body)));
    CUSTOS_RETURN_IF_ERROR(s.txn.InsertNote(row));
    note_id = row.note_id;
    return Verdict::Allow(
        fmt::format("note {} sealed {}; personal data found: {}; {}", row.note_id,
                    LevelName(row.level), pii.empty() ? "none" : pii, decision.reason),
        {"text"});
  }));
  return note_id;
}

Result<std::vector<NoteView>> RecordService::ListNotes(const Context& ctx,
                                                       std::string_view customer_id) {
  VaultState& m = *state_;
  const Operation op{schema::Action::kNoteRead, CustomerTarget(customer_id)};
  crypto::SecretBytes dek;
  std::vector<store::NoteRow> rows;
  std::vector<access::Decision> per_note;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    Status missing;
    CUSTOS_RETURN_IF_ERROR(CheckCustomer(s, customer_id, missing));
    if (!missing.ok()) return Verdict::Deny(missing);
    // Notes are read at the kind's level, and each note at the level it was sealed at.
    CUSTOS_ASSIGN_OR_RETURN(
        const access::Decision decision,
        DecideRecord(m, s, op.action, customer_id, "note", NoteLevel(*m.config)));
    if (decision.effect == access::Effect::kDeny) {
      return Verdict::Deny(RecordDenial("note", decision));
    }
    CUSTOS_ASSIGN_OR_RETURN(dek, m.LoadDek(s.txn, customer_id));
    CUSTOS_ASSIGN_OR_RETURN(rows, s.txn.ListNotes(customer_id));
    size_t withheld = 0;
    for (const store::NoteRow& row : rows) {
      if (row.level == NoteLevel(*m.config)) {
        per_note.push_back(decision);
      } else {
        CUSTOS_ASSIGN_OR_RETURN(access::Decision d,
                                DecideRecord(m, s, op.action, customer_id, "note", row.level));
        per_note.push_back(std::move(d));
      }
      if (per_note.back().effect == access::Effect::kDeny) ++withheld;
    }
    Verdict v = Verdict::Allow(fmt::format("{} note(s), {} withheld by level; {}",
                                           rows.size() - withheld, withheld, decision.reason),
                               {decision.effect == access::Effect::kMask ? "text~" : "text"});
    v.decision = std::string(access::EffectName(decision.effect));
    return v;
  }));
  std::vector<NoteView> out;
  for (size_t i = 0; i < rows.size(); ++i) {
    const store::NoteRow& row = rows[i];
    if (per_note[i].effect == access::Effect::kDeny) continue;
    CUSTOS_ASSIGN_OR_RETURN(
        crypto::SecretBytes plain,
        m.keyring->OpenRecord(dek, customer_id, "note", row.note_id, row.ciphertext));
    CUSTOS_ASSIGN_OR_RETURN(FieldValues fields, DecodeFields(plain));
    NoteView view{row.note_id, row.customer_id, row.created_at_ms,
                  row.source,  row.level,       Shown(per_note[i], fields["text"]),
                  {}};
    std::stringstream types(fields["pii_types"]);
    for (std::string t; std::getline(types, t, ',');) view.pii_types.push_back(t);
    out.push_back(std::move(view));
  }
  return out;
}

}  // namespace custos::vault
