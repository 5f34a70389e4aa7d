// The steps every vault operation shares: authorise, audit, validate, seal and open.
#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "core/ascii.h"
#include "core/names.h"
#include "core/region_codes.h"
#include "core/validators.h"
#include "crypto/primitives.h"
#include "scan/scan_text.h"
#include "schema/vocabulary.h"
#include "vault/admission.h"
#include "vault/authorize.h"
#include "vault/epoch_state.h"
#include "vault/text_helpers.h"
#include "vault/vault_impl.h"

namespace custos::vault {

std::string NewId(int64_t now_ms) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  const crypto::Bytes rnd = crypto::RandomBytes(10);
  // 128 bits: 48 of time, 80 of randomness, read 5 bits at a time from the top.
  uint8_t raw[16];
  const auto t = static_cast<uint64_t>(now_ms);
  for (int i = 0; i < 6; ++i) raw[i] = static_cast<uint8_t>(t >> (40 - 8 * i));
  for (int i = 0; i < 10; ++i) raw[6 + i] = rnd[static_cast<size_t>(i)];
  std::string out(26, '0');
  // 26 chars * 5 bits = 130 bits; the first char carries the top 3 bits.
  for (int c = 25, bit = 0; c >= 0; --c, bit += 5) {
    uint32_t v = 0;
    for (int b = 0; b < 5; ++b) {
      const int pos = bit + b;  // bit index from the least significant end
      if (pos < 128) {
        const int byte = 15 - pos / 8;
        v |= static_cast<uint32_t>((raw[byte] >> (pos % 8)) & 1U) << b;
      }
    }
    out[static_cast<size_t>(c)] = kAlphabet[v];
  }
  return out;
}

namespace {

// `text` with each lone separator between two digits (or a digit and the ID number's check
// character X) left out: "6501 0219 7706 2138 86" and "650102-19770621-3886" become the
// numbers they are written around.
std::string JoinDigitGroups(std::string_view text) {
  using core::IsAsciiDigit;
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool separator = c == ' ' || c == '-' || c == '.' || c == '_' || c == '/';
    if (separator && !out.empty() && IsAsciiDigit(out.back()) && i + 1 < text.size() &&
        (IsAsciiDigit(text[i + 1]) || text[i + 1] == 'X' || text[i + 1] == 'x')) {
      continue;
    }
    out.push_back(c);
  }
  return out;
}

// The type of the first personal value the scanner finds with confidence >= 0.5 in `text`, as
// written or with its digit groups joined (a number written in groups is the number); nullopt
// when there is none. Unavailable: the scanner cannot run.
Result<std::optional<scan::PiiType>> PersonalDataIn(std::string_view text) {
  const std::string joined = JoinDigitGroups(text);
  for (std::string_view form : {text, std::string_view(joined)}) {
    Result<std::vector<scan::Finding>> findings = scan::ScanText(form);
    if (!findings.ok()) return Unavailable("the personal-data scanner cannot run");
    for (const scan::Finding& f : *findings) {
      if (f.confidence >= 0.5) return std::optional<scan::PiiType>(f.type);
    }
    if (joined == text) break;
  }
  return std::optional<scan::PiiType>();
}

}  // namespace

Status CheckAuditText(std::string_view field, std::string_view value, size_t min, size_t max,
                      std::string_view kind) {
  const bool printable = value.size() >= min && value.size() <= max &&
                         std::all_of(value.begin(), value.end(), [](char c) {
                           const auto u = static_cast<unsigned char>(c);
                           return u >= 0x20 && u != 0x7f;
                         });
  if (!printable) {
    return InvalidArgument(fmt::format(
        "{}: {} to {} bytes of printable text ({}, no personal data)", field, min, max, kind));
  }
  Result<std::optional<scan::PiiType>> found = PersonalDataIn(value);
  if (!found.ok()) {
    return Unavailable(fmt::format("{}: the personal-data scanner cannot run", field));
  }
  if (found->has_value()) {
    return InvalidArgument(fmt::format(
        "{}: looks like it holds personal data ({}); this text goes into the audit log, "
        "which outlives the customer's data: give {} instead",
        field, scan::TypeName(**found), kind));
  }
  return Status::Ok();
}

std::string CallerIdTarget(std::string_view kind, std::string_view id, bool valid) {
  if (!valid) return fmt::format("{}:(invalid id)", kind);
  // Fails closed: withheld too when the scanner cannot run.
  Result<std::optional<scan::PiiType>> found = PersonalDataIn(id);
  if (!found.ok() || found->has_value()) {
    return fmt::format("{}:(id withheld: personal data?)", kind);
  }
  return fmt::format("{}:{}", kind, id);
}

std::string IntakeFlags(const schema::Config& config, const FieldValues& normalised) {
  std::string flags;
  for (const schema::FieldDef& def : config.fields) {
    if (def.validator != "gb11643") continue;
    auto it = normalised.find(def.name);
    if (it == normalised.end() || it->second.size() < 6) continue;
    if (core::IsPlausibleRegionCode(std::string_view(it->second).substr(0, 6))) continue;
    flags += fmt::format("; flagged: {} region not in the GB/T 2260 tables", def.name);
  }
  return flags;
}

bool ValidCustomerId(std::string_view id) {
  if (id.size() != 26) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'))) return false;
  }
  return true;
}

Status BadCustomerId() {
  return InvalidArgument("customer_id: not a customer id (26 base32 characters)");
}

Status CheckCustomer(Scope& s, std::string_view customer_id, Status& missing) {
  if (!ValidCustomerId(customer_id)) {
    missing = BadCustomerId();
    return Status::Ok();
  }
  CUSTOS_ASSIGN_OR_RETURN(auto row, s.txn.GetCustomer(customer_id));
  if (!row.has_value()) missing = NotFound("customer not found");
  return Status::Ok();
}

std::string CustomerTarget(std::string_view id) {
  return ValidCustomerId(id) ? fmt::format("customer:{}", id) : "customer:(invalid id)";
}

std::string IdTarget(std::string_view kind, std::string_view id) {
  return ValidCustomerId(id) ? fmt::format("{}:{}", kind, id)
                             : fmt::format("{}:(invalid id)", kind);
}

Context WithDefaultPurpose(const VaultState& impl, const Context& in, std::string_view fallback) {
  Context ctx = in;
  if (ctx.purpose.empty() && impl.config->FindPurpose(fallback) != nullptr) {
    ctx.purpose = std::string(fallback);
  }
  return ctx;
}

Context LifecycleContext(const VaultState& impl, const Context& in) {
  return WithDefaultPurpose(impl, in, "legal_obligation");
}

Context SystemJobContext() {
  Context ctx;
  ctx.actor = "system";
  ctx.purpose = std::string(kAdministrationPurpose);
  ctx.channel = Channel::kJob;
  return ctx;
}

int64_t DueInMs(int64_t last_ms, int64_t every_ms, int64_t now_ms) {
  return std::clamp<int64_t>(last_ms + every_ms - now_ms, 0, every_ms);
}

std::vector<std::string> FieldNames(const FieldValues& fields) {
  std::vector<std::string> names;
  names.reserve(fields.size());
  // The names go into audit entries: one that is not an identifier (hostile input) is not.
  for (const auto& kv : fields) {
    names.push_back(core::IsEchoableName(kv.first) ? kv.first : "(not an identifier)");
  }
  return names;
}

audit::AuditEvent EventFor(const Context& ctx, std::string_view action, std::string_view target,
                           std::string_view decision, std::string_view reason,
                           std::vector<std::string> fields) {
  audit::AuditEvent e;
  e.actor = ctx.actor;
  e.action = std::string(action);
  e.target = std::string(target);
  e.purpose = ctx.purpose;
  e.channel = std::string(ChannelName(ctx.channel));
  e.decision = std::string(decision);
  e.reason = std::string(reason);
  e.fields = std::move(fields);
  e.request_id = ctx.request_id;
  return e;
}

void VaultState::SetPurposesWithPia(std::vector<std::string> purposes) {
  std::sort(purposes.begin(), purposes.end());
  const std::lock_guard<std::mutex> lock(pia_mu_);
  purposes_with_pia_ = std::move(purposes);
}

bool VaultState::PurposeHasPia(std::string_view purpose) const {
  const std::lock_guard<std::mutex> lock(pia_mu_);
  return std::binary_search(purposes_with_pia_.begin(), purposes_with_pia_.end(), purpose);
}

audit::AuditEvent VaultState::Event(const Context& ctx, std::string_view action,
                                    std::string_view target, std::string_view decision,
                                    std::string_view reason,
                                    std::vector<std::string> fields) const {
  return EventFor(ctx, action, target, decision, reason, std::move(fields));
}

audit::AuditEvent VaultState::DenyEvent(const Context& ctx, std::string_view action,
                                        std::string_view target, const Status& refusal,
                                        std::vector<std::string> fields) const {
  return Event(ctx, action, target, "deny",
               fmt::format("{}: {}", CodeName(refusal.code()), refusal.message()),
               std::move(fields));
}

Result<FieldValues> VaultState::NormalizeCustomerFields(const FieldValues& in,
                                                        bool is_create) const {
  FieldValues out;
  for (const auto& [name, value] : in) {
    const schema::FieldDef* def = config->FindField(name);
    if (def == nullptr) {
      return InvalidArgument(
          fmt::format("field {}: not in the field catalogue", core::QuotedName(name)));
    }
    if (value.empty()) {
      if (def->required) return InvalidArgument(fmt::format("field '{}': required", name));
      if (is_create) continue;
      out.emplace(name, std::string());  // removal on update
      continue;
    }
    if (def->type == schema::FieldType::kPassword) {
      if (value.size() < 8 || value.size() > 1024) {
        return InvalidArgument(
            fmt::format("field '{}': a password must be 8 to 1024 bytes long", name));
      }
      out.emplace(name, crypto::HashPassword(value));
      continue;
    }
    const core::Validator* v = core::FindValidator(def->validator);
    if (v == nullptr) {
      return Internal(fmt::format("field '{}': validator '{}' unknown", name, def->validator));
    }
    Result<std::string> norm = v->normalize(value);
    if (!norm.ok()) {
      return InvalidArgument(fmt::format("field '{}': {}", name, norm.status().message()));
    }
    out.emplace(name, std::move(norm).value());
  }
  if (is_create) CUSTOS_RETURN_IF_ERROR(CheckRequired(out));
  CUSTOS_RETURN_IF_ERROR(CheckIdentityConsistency(out));
  return out;
}

Status VaultState::CheckRequired(const FieldValues& fields) const {
  for (const schema::FieldDef& def : config->fields) {
    auto it = fields.find(def.name);
    if (def.required && (it == fields.end() || it->second.empty())) {
      return InvalidArgument(fmt::format("field '{}': required", def.name));
    }
  }
  return Status::Ok();
}

Status VaultState::CheckIdentityConsistency(const FieldValues& fields) const {
  for (const schema::FieldDef& def : config->fields) {
    if (def.validator != "gb11643") continue;
    auto id = fields.find(def.name);
    if (id == fields.end() || id->second.empty()) continue;
    CUSTOS_ASSIGN_OR_RETURN(core::IdCardFacts facts, core::ParseIdCardNumber(id->second));
    for (const schema::FieldDef& other : config->fields) {
      auto it = fields.find(other.name);
      if (it == fields.end() || it->second.empty()) continue;
      if (other.validator == "date" && other.category == def.category &&
          it->second != facts.birth_date) {
        return InvalidArgument(
            fmt::format("field '{}': does not match the birth date in field '{}' (GB 11643)",
                        other.name, def.name));
      }
      if (other.validator == "gender" && it->second != std::string(1, facts.gender)) {
        return InvalidArgument(
            fmt::format("field '{}': does not match the gender in field '{}' (GB 11643)",
                        other.name, def.name));
      }
    }
  }
  return Status::Ok();
}

Result<VaultState::Sealed> VaultState::SealCustomer(std::string_view customer_id,
                                                    const crypto::SecretBytes& dek,
                                                    const FieldValues& fields) const {
  Sealed sealed;
  FieldValues by_level[3];
  for (const auto& [name, value] : fields) {
    if (value.empty()) continue;
    const schema::FieldDef* def = config->FindField(name);
    if (def == nullptr) return Internal("sealing a field outside the catalogue");
    by_level[static_cast<int>(def->level) - 1].emplace(name, value);
    if (def->searchable) {
      CUSTOS_ASSIGN_OR_RETURN(crypto::Bytes token, keyring->BlindIndex(name, value));
      sealed.index.push_back(store::IndexEntry{name, std::move(token)});
    }
  }
  for (Level level : kAllLevels) {
    const FieldValues& part = by_level[static_cast<int>(level) - 1];
    if (part.empty()) continue;
    const crypto::SecretBytes plain = EncodeFields(part);
    CUSTOS_ASSIGN_OR_RETURN(crypto::Bytes ct, keyring->SealEnvelope(dek, customer_id, level,
                                                                    config->schema_version, plain));
    sealed.envelopes.push_back(store::Envelope{level, std::move(ct)});
  }
  return sealed;
}

Result<FieldValues> VaultState::OpenCustomer(const store::CustomerRow& row,
                                             const crypto::SecretBytes& dek) const {
  FieldValues all;
  for (const store::Envelope& env : row.envelopes) {
    CUSTOS_ASSIGN_OR_RETURN(
        crypto::SecretBytes plain,
        keyring->OpenEnvelope(dek, row.customer_id, env.level, row.schema_version, env.ciphertext));
    CUSTOS_ASSIGN_OR_RETURN(FieldValues part, DecodeFields(plain));
    all.merge(part);
  }
  return all;
}

Result<crypto::SecretBytes> VaultState::LoadDek(store::Transaction& txn,
                                                std::string_view customer_id) const {
  CUSTOS_ASSIGN_OR_RETURN(auto key, txn.GetWrappedKey(customer_id));
  if (!key.has_value()) return DataLoss("customer has no data key (destroyed?)");
  return UnwrapDek(customer_id, key->wrapped_dek);
}

Result<crypto::SecretBytes> VaultState::UnwrapDek(std::string_view customer_id,
                                                  crypto::ByteView wrapped) const {
  if (!wrapped.empty() && wrapped[0] == crypto::kEpochWrapFormat) {
    return epochs->UnwrapDek(customer_id, wrapped);
  }
  return keyring->UnwrapDek(customer_id, wrapped);
}

Result<store::WrappedKeyRow> VaultState::WrapDek(std::string_view customer_id,
                                                 const crypto::SecretBytes& dek) const {
  const uint32_t epoch = wrap_epoch.load();
  store::WrappedKeyRow row;
  row.customer_id = std::string(customer_id);
  if (epoch == 0) {
    // A vault without epochs yet (OpenOptions::TEST_skip_epoch_rotation on a vault made
    // before issue 23): wrapped by the KEK as before (format 1), migrated at the next open.
    CUSTOS_ASSIGN_OR_RETURN(row.wrapped_dek, keyring->WrapDek(customer_id, dek));
    CUSTOS_ASSIGN_OR_RETURN(row.kek_version, crypto::WrappedKeyKekVersion(row.wrapped_dek));
    return row;
  }
  row.kek_version = EpochColumn(epoch);
  CUSTOS_ASSIGN_OR_RETURN(row.wrapped_dek, epochs->WrapDekUnder(customer_id, dek, epoch));
  return row;
}

}  // namespace custos::vault
