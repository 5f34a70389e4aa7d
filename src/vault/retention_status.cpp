// Where destructions stand in every copy (issue 23; docs/retention.md "The completion date"):
// a certificate's "backups" member checked against the vault's epoch state, and the runs still
// waiting for their epochs to be destroyed.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "core/env.h"
#include "lifecycle/certificate.h"
#include "vault/admission.h"
#include "vault/epoch_state.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace fs = std::filesystem;

namespace {

using schema::Action;

constexpr std::string_view kCertificateDir = "certificates";
constexpr std::string_view kCertificateSuffix = ".json";

// The view of a checked certificate under the vault's epoch state (nullopt: no epochs yet).
CompletionView Judge(const lifecycle::CertificateCheck& check,
                     const std::optional<EpochState>& state, int64_t now_ms) {
  CompletionView v;
  v.run_id = check.run_id;
  v.finished_at_ms = check.finished_at_ms;
  v.complete_by_ms = check.backups_complete_by_ms;
  v.epochs = check.backups_epochs;
  if (v.epochs.empty()) {
    v.state = "unknown";
    return v;
  }
  for (uint32_t epoch : v.epochs) {
    if (!state.has_value() || !state->FindDestroyed(epoch).has_value()) v.waiting.push_back(epoch);
  }
  if (v.waiting.empty()) {
    v.state = "complete";
  } else {
    v.state = now_ms >= v.complete_by_ms ? "overdue" : "waiting";
  }
  return v;
}

std::string PublicKeyHex(const VaultState& m) {
  return crypto::ToHex(m.audit->options().public_key);
}

}  // namespace

crypto::EpochSchedule EpochScheduleOf(const schema::Config& config) {
  crypto::EpochSchedule s;
  s.length_ms = config.backup.key_epoch_length_seconds * 1000;
  s.keep = config.backup.key_epochs;
  return s;
}

Result<CompletionView> LifecycleService::CheckCertificate(const Context& ctx,
                                                          std::string_view certificate_text) {
  VaultState& m = *state_;
  CompletionView out;
  Result<lifecycle::CertificateCheck> check =
      lifecycle::VerifyCertificate(certificate_text, PublicKeyHex(m));
  const std::string target =
      check.ok() ? IdTarget("certificate", check->run_id) : "certificate:(invalid)";
  const Operation op{Action::kRetentionRead, target, Basis::kPurpose, kLegalObligation};
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (!check.ok()) return Verdict::Deny(check.status());
    CUSTOS_ASSIGN_OR_RETURN(std::optional<EpochState> state, ReadEpochState(s.txn));
    out = Judge(*check, state, s.now_ms);
    return Verdict::Allow(fmt::format("certificate checked: {}, {} of {} epochs not destroyed",
                                      out.state, out.waiting.size(), out.epochs.size()));
  }));
  return out;
}

Result<std::vector<CompletionView>> LifecycleService::ListWaitingDestructions(const Context& ctx) {
  VaultState& m = *state_;
  std::vector<CompletionView> out;
  const Operation op{Action::kRetentionList, "certificate:*", Basis::kPurpose, kLegalObligation};
  const fs::path dir = m.dir / kCertificateDir;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(std::optional<EpochState> state, ReadEpochState(s.txn));
    Env& env = Env::Default();
    std::vector<std::string> names;
    if (env.FileExists(dir)) {
      CUSTOS_ASSIGN_OR_RETURN(names, env.ListDir(dir));
    }
    std::sort(names.begin(), names.end());  // run ids are time-ordered
    int64_t complete = 0;
    for (const std::string& name : names) {
      if (!name.ends_with(kCertificateSuffix)) continue;
      CUSTOS_ASSIGN_OR_RETURN(std::string text, env.ReadFile(dir / name));
      Result<lifecycle::CertificateCheck> check =
          lifecycle::VerifyCertificate(text, PublicKeyHex(m));
      if (!check.ok()) {
        return DataLoss(fmt::format("certificate {}: {}", name, check.status().message()));
      }
      CompletionView v = Judge(*check, state, s.now_ms);
      v.certificate = dir / name;
      if (v.state == "waiting" || v.state == "overdue") {
        out.push_back(std::move(v));
      } else {
        ++complete;
      }
    }
    return Verdict::Allow(
        fmt::format("{} destructions waiting for their epochs, {} others", out.size(), complete));
  }));
  return out;
}

}  // namespace custos::vault
