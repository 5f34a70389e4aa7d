// Honey records (secops.h; issue 20 item 2): canary customers made like real ones — the
// synthetic customers of src/gen, stored by the path a created customer takes
// (StoreNewCustomer), with the consent of the current privacy notice and a source shaped like
// an import's — and known as honey only in honey_records. A reader sees a customer like any
// other; the rules (src/ops/rules.h, honey_record) raise a critical alert on any entry of a
// staff member that names one.
#include <fmt/format.h>

#include <algorithm>
#include <random>

#include "gen/generator.h"
#include "vault/admission.h"
#include "vault/consent_intake.h"
#include "vault/secops.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using schema::Action;

constexpr int64_t kMaxHoneyPerCall = 100;

FieldValues FieldsOf(const schema::Config& config, const gen::SyntheticCustomer& c) {
  const std::pair<std::string_view, const std::string*> all[] = {
      {"name", &c.name},           {"gender", &c.gender},       {"birth_date", &c.birth_date},
      {"id_number", &c.id_number}, {"phone", &c.phone},         {"email", &c.email},
      {"address", &c.address},     {"interests", &c.interests}, {"preferences", &c.preferences}};
  FieldValues out;
  for (const auto& [name, value] : all) {
    // Only the fields the vault's catalogue has (a company may have dropped one).
    if (config.FindField(name) != nullptr) out.emplace(std::string(name), *value);
  }
  return out;
}

// The consent a customer gives at collection under the latest notice in effect: every purpose
// it lists, with separate consent for sensitive fields. InvalidArgument when no notice is
// published (then no customer can be collected either).
Result<consent::Collection> CurrentCollection(store::Transaction& txn, int64_t now_ms,
                                              std::string evidence_ref) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::NoticeRow> notices, txn.ListNotices());
  const store::NoticeRow* latest = nullptr;
  for (const store::NoticeRow& n : notices) {
    if (n.effective_at_ms <= now_ms && (latest == nullptr || n.version > latest->version)) {
      latest = &n;
    }
  }
  if (latest == nullptr) {
    return InvalidArgument("honey: no privacy notice is in effect (custos notice publish)");
  }
  CollectionConsent given;
  given.notice_version = latest->version;
  std::string_view purposes = latest->purposes;
  while (!purposes.empty()) {
    const size_t comma = purposes.find(',');
    given.purposes.emplace_back(purposes.substr(0, comma));
    if (comma == std::string_view::npos) break;
    purposes.remove_prefix(comma + 1);
  }
  given.sensitive = true;
  return ToCollection(given, "import", std::move(evidence_ref));
}

}  // namespace

Result<HoneyReport> SecOpsService::AddHoney(const Context& ctx, int64_t count, uint64_t seed) {
  VaultState& m = *state_;
  const Operation op{Action::kOpsHoney, "honey", Basis::kAdministration};
  HoneyReport report;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (count < 1 || count > kMaxHoneyPerCall) {
      return Verdict::Deny(InvalidArgument("count: must be from 1 to 100"));
    }
    // Shaped like an import's source ("import:<import id>:<line>", import.cpp).
    const std::string batch = NewId(s.now_ms);
    std::mt19937_64 lines(seed);
    for (int64_t i = 0; i < count; ++i) {
      gen::SyntheticCustomer c;
      // Far from the indexes `custos gen` starts at, so a honey record is no generated
      // customer of a test file.
      gen::MakeCustomer(seed, 1000000 + static_cast<int64_t>(lines() % 1000000000), c);
      CUSTOS_ASSIGN_OR_RETURN(FieldValues fields,
                              m.NormalizeCustomerFields(FieldsOf(*m.config, c), true));
      const std::string source = fmt::format("import:{}:{}", batch, 2 + i);
      CUSTOS_ASSIGN_OR_RETURN(consent::Collection collection,
                              CurrentCollection(s.txn, s.now_ms, source));
      CUSTOS_ASSIGN_OR_RETURN(std::string id, StoreNewCustomer(m, s, fields, source, collection));
      CUSTOS_RETURN_IF_ERROR(
          s.txn.InsertHoneyRecord(store::HoneyRecordRow{id, s.now_ms, s.ctx.actor}));
    }
    CUSTOS_ASSIGN_OR_RETURN(auto all, s.txn.ListHoneyRecords());
    report.created = count;
    report.total = static_cast<int64_t>(all.size());
    return Verdict::Allow(
        fmt::format("{} honey records created ({} in the vault)", count, report.total));
  }));
  return report;
}

Result<std::vector<std::string>> SecOpsService::HoneyRecords(const Context& ctx) {
  VaultState& m = *state_;
  const Operation op{Action::kOpsHoney, "honey", Basis::kAdministration};
  std::vector<std::string> ids;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(auto rows, s.txn.ListHoneyRecords());
    for (store::HoneyRecordRow& r : rows) ids.push_back(std::move(r.customer_id));
    return Verdict::Allow(fmt::format("{} honey records listed", ids.size()));
  }));
  return ids;
}

}  // namespace custos::vault
