// The recorded versions of the policy text and of custos.toml (P6c; dpo.h, issue 19 item 4):
// the DPO records each policy text with the date it takes effect; the vault records
// custos.toml's digest (and its purposes) whenever it differs from the last one recorded, at
// `custos serve`'s start and before an assessment or an evidence bundle, so an auditor sees
// which configuration was in force when.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iterator>

#include "core/dates.h"
#include "core/utf8.h"
#include "crypto/digest.h"
#include "crypto/primitives.h"
#include "lifecycle/plan.h"
#include "vault/admission.h"
#include "vault/dpo.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using schema::Action;

constexpr size_t kMaxPolicyBytes = size_t{1} << 20;

PolicyVersion ToVersion(store::PolicyVersionRow r) {
  return PolicyVersion{std::move(r.kind),   r.version_no,        std::move(r.sha256),
                       r.effective_ms,      r.recorded_at_ms,    std::move(r.recorded_by),
                       std::move(r.source), std::move(r.content)};
}

bool PrintableName(std::string_view s) {
  if (s.empty() || s.size() > 200) return false;
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return core::IsValidUtf8(s);
}

}  // namespace

Result<PolicyVersion> DpoService::RecordPolicy(const Context& ctx, std::string_view text,
                                               std::string_view source, int64_t effective_ms) {
  VaultState& m = *state_;
  const Operation op{Action::kPolicyRecord, "policy", Basis::kAdministration};
  std::optional<PolicyVersion> recorded;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (text.empty() || text.size() > kMaxPolicyBytes || !core::IsValidUtf8(text)) {
      return Verdict::Deny(InvalidArgument("file: must be 1 byte to 1 MiB of UTF-8 text"));
    }
    if (!PrintableName(source)) {
      return Verdict::Deny(InvalidArgument("source: 1 to 200 printable bytes (the file's name)"));
    }
    if (effective_ms <= 0) return Verdict::Deny(InvalidArgument("effective: a date is required"));
    store::PolicyVersionRow row;
    row.kind = "policy";
    row.sha256 = crypto::Sha256Hex(text);
    row.effective_ms = effective_ms;
    row.recorded_at_ms = s.now_ms;
    row.recorded_by = s.actor().staff_id;
    row.source = std::string(source);
    row.content = std::string(text);
    CUSTOS_ASSIGN_OR_RETURN(row.version_no, s.txn.AppendPolicyVersion(row));
    recorded = ToVersion(row);
    return Verdict::Allow(fmt::format("policy version {} recorded (sha256 {}), effective {}",
                                      recorded->version_no, recorded->sha256,
                                      core::UtcDateOfMs(effective_ms)));
  }));
  return std::move(*recorded);
}

Result<std::optional<PolicyVersion>> DpoService::RecordConfigVersion() {
  VaultState& m = *state_;
  const std::filesystem::path path = m.dir / kConfigFile;
  std::ifstream in(path, std::ios::binary);
  if (!in) return Unavailable(fmt::format("{}: cannot be read", path.string()));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string digest = crypto::Sha256Hex(text);
  Context system;
  system.actor = "system";
  system.purpose = std::string(kAdministrationPurpose);
  system.channel = Channel::kJob;
  const Operation op{Action::kConfigVersion, "config", Basis::kSystem};
  std::optional<PolicyVersion> recorded;
  CUSTOS_RETURN_IF_ERROR(Write(m, system, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(auto versions, s.txn.ListPolicyVersions("config"));
    if (!versions.empty() && versions.back().sha256 == digest) {
      return Verdict::Entries({});  // unchanged: nothing written, nothing recorded
    }
    nlohmann::json purposes = nlohmann::json::array();
    for (const schema::PurposeDef& p : m.config->purposes) purposes.push_back(p.name);
    store::PolicyVersionRow row;
    row.kind = "config";
    row.sha256 = digest;
    row.effective_ms = s.now_ms;
    row.recorded_at_ms = s.now_ms;
    row.recorded_by = "system";
    row.source = std::string(kConfigFile);
    row.content = nlohmann::json{{"purposes", purposes}}.dump();
    CUSTOS_ASSIGN_OR_RETURN(row.version_no, s.txn.AppendPolicyVersion(row));
    recorded = ToVersion(row);
    return Verdict::Allow(
        fmt::format("custos.toml version {} (sha256 {})", row.version_no, row.sha256));
  }));
  return recorded;
}

Result<std::vector<PolicyVersion>> DpoService::PolicyVersions(const Context& ctx,
                                                              std::string_view kind) {
  VaultState& m = *state_;
  const Operation op{Action::kPolicyList, "policy", Basis::kAdministration};
  std::vector<PolicyVersion> out;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (kind != "policy" && kind != "config") {
      return Verdict::Deny(InvalidArgument("kind: must be policy or config"));
    }
    CUSTOS_ASSIGN_OR_RETURN(auto rows, s.txn.ListPolicyVersions(kind));
    for (store::PolicyVersionRow& r : rows) out.push_back(ToVersion(std::move(r)));
    return Verdict::Allow(fmt::format("{} {} versions listed", out.size(), kind));
  }));
  return out;
}

}  // namespace custos::vault
