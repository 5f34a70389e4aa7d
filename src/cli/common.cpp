#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "audit/audit_log.h"
#include "cli/app.h"
#include "cli/secret_input.h"
#include "schema/config.h"

namespace custos::cli {

Result<std::unique_ptr<vault::Vault>> Globals::OpenVault(bool journal_reads) const {
  vault::OpenOptions opt;
  opt.dir = vault_dir;
  opt.journal_reads = journal_reads;
  // The passphrase provider reads its secret from the environment variable the config names;
  // the default name is used here (docs/keys.md).
  if (const char* p = std::getenv("CUSTOS_PASSPHRASE")) opt.passphrase = p;
  Result<std::unique_ptr<vault::Vault>> opened = vault::Vault::Open(opt);
  if (opened.ok() || !vault_is_default) return opened;
  return Status(opened.status().code(),
                fmt::format("{} (the default vault {}: name another with --vault DIR or "
                            "$CUSTOS_VAULT)",
                            opened.status().message(), vault_dir));
}

std::string DefaultVaultDir() {
  std::error_code ec;
  if (std::filesystem::exists("/var/lib/custos/custos.toml", ec)) return "/var/lib/custos";
  return "var/demo";
}

vault::Context Globals::MakeContext() const {
  vault::Context ctx;
  ctx.actor = staff;
  ctx.purpose = purpose;
  ctx.channel = vault::Channel::kCli;
  return ctx;
}

Result<vault::FieldValues> ParseAssignments(const std::vector<std::string>& pairs) {
  vault::FieldValues out;
  for (const std::string& p : pairs) {
    const size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgument("--set: expected FIELD=VALUE");
    }
    std::string key = p.substr(0, eq);
    if (out.contains(key)) return InvalidArgument("--set: field '" + key + "' given twice");
    out.emplace(std::move(key), p.substr(eq + 1));
  }
  return out;
}

int WithUnauthenticatedVault(const Globals& g, const std::function<int(vault::Vault&)>& body,
                             bool past_damaged_journals) {
  Output out = g.out();
  auto v = g.OpenVault();
  if (!v.ok()) return out.Fail(v.status());
  // Until Close has sealed: the commands that report or quarantine a damaged audit journal.
  std::unique_ptr<audit::JournalSkip> skip;
  if (past_damaged_journals) {
    auto passing = (*v)->audit().PassOverDamagedJournals();
    if (!passing.ok()) return out.Fail(passing.status());
    skip = std::move(*passing);
  }
  const int code = body(**v);
  Status closed = (*v)->Close();
  if (closed.ok() || code != kExitOk) return code;
  // The command's work is committed. A head file that is missing (FailedPrecondition: nothing
  // was sealed, heads only move forward) must not turn that into a failure — least of all for
  // the steps of the dual-controlled `audit reseal` that recovers it; `audit verify` keeps
  // reporting the loss. Anything else (a log that no longer extends the signed head, a head
  // file that does not verify, a write that failed) still fails the command.
  if (closed.code() == Code::kFailedPrecondition) {
    std::cerr << "custos: warning: the audit head was not sealed at close: " << closed.message()
              << '\n';
    return code;
  }
  return out.Fail(closed);
}

int WithVault(Globals& g, const std::function<int(vault::Vault&)>& body,
              bool past_damaged_journals) {
  Output out = g.out();
  // The token is read before the vault opens, so a missing one costs nothing.
  Result<std::string> token = g.token_file.empty()
                                  ? ReadSecret("CUSTOS_TOKEN", "Custos API token: ")
                                  : ReadSecretFile(g.token_file);
  if (!token.ok()) return out.Fail(token.status());
  return WithUnauthenticatedVault(
      g,
      [&](vault::Vault& v) {
        auto who = v.staff().Authenticate(*token, "", vault::Channel::kCli);
        if (!who.ok()) return out.Fail(who.status());
        g.staff = *who;
        return body(v);
      },
      past_damaged_journals);
}

}  // namespace custos::cli
