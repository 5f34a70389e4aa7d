#include <cstdlib>
#include <iostream>

#include "cli/app.h"
#include "schema/config.h"

namespace custos::cli {

Result<std::unique_ptr<vault::Vault>> Globals::OpenVault() const {
  vault::OpenOptions opt;
  opt.dir = vault_dir;
  // The passphrase provider reads its secret from the environment variable the config names;
  // the default name is used here (docs/keys.md).
  if (const char* p = std::getenv("CUSTOS_PASSPHRASE")) opt.passphrase = p;
  return vault::Vault::Open(opt);
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

int WithVault(const Globals& g, const std::function<int(vault::Vault&)>& body) {
  Output out = g.out();
  if (g.staff.empty()) {
    return out.Fail(Unauthenticated("no staff identity: pass --staff or set CUSTOS_STAFF"));
  }
  auto v = g.OpenVault();
  if (!v.ok()) return out.Fail(v.status());
  const int code = body(**v);
  Status closed = (*v)->Close();
  if (!closed.ok() && code == kExitOk) return out.Fail(closed);
  return code;
}

}  // namespace custos::cli
