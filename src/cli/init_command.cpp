#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "api/tls_certificate.h"
#include "cli/app.h"
#include "schema/config.h"

namespace custos::cli {

void AddInitCommand(CLI::App& app, Globals& g, Action& action) {
  auto* cmd = app.add_subcommand(
      "init", "create a vault: default custos.toml, keys, database, first staff");
  auto dir = std::make_shared<std::string>();
  auto suite = std::make_shared<std::string>("aes256gcm");
  auto provider = std::make_shared<std::string>("keyfile");
  auto store_url = std::make_shared<std::string>();
  auto store_schema = std::make_shared<std::string>("custos");
  cmd->add_option("dir", *dir, "directory for the new vault (empty or absent)")->required();
  cmd->add_option("--suite", *suite, "aes256gcm (default) or sm4gcm (GB/T 39786)")
      ->check(CLI::IsMember({"aes256gcm", "sm4gcm"}));
  cmd->add_option("--key-provider,--provider", *provider,
                  "keyfile (default), passphrase ($CUSTOS_PASSPHRASE) or pkcs11 (an HSM; PIN in "
                  "$CUSTOS_PKCS11_PIN)")
      ->check(CLI::IsMember({"keyfile", "passphrase", "pkcs11"}));
  // The HSM (docs/keys.md); scripts/softhsm.sh prints these variables for a test token.
  auto hsm = std::make_shared<vault::InitOptions>();
  if (const char* m = std::getenv("CUSTOS_PKCS11_MODULE")) hsm->pkcs11_module = m;
  if (const char* t = std::getenv("CUSTOS_PKCS11_TOKEN")) hsm->pkcs11_token = t;
  cmd->add_option("--pkcs11-module", hsm->pkcs11_module,
                  "PKCS#11 library of the HSM ($CUSTOS_PKCS11_MODULE)");
  cmd->add_option("--pkcs11-token", hsm->pkcs11_token, "token label ($CUSTOS_PKCS11_TOKEN)");
  cmd->add_option("--pkcs11-key-label", hsm->pkcs11_key_label,
                  "label prefix of the KEK objects (default custos-kek)");
  cmd->add_option("--store-url", *store_url,
                  "postgresql://user@host/db: keep the rows on PostgreSQL (no password in it: "
                  "PGPASSWORD or ~/.pgpass)");
  cmd->add_option("--store-schema", *store_schema, "PostgreSQL schema (default custos)");
  cmd->callback([&g, &action, dir, suite, provider, store_url, store_schema, hsm] {
    action = [&g, dir, suite, provider, store_url, store_schema, hsm] {
      vault::InitOptions opt;
      opt.dir = *dir;
      opt.suite = *suite;
      opt.provider = *provider;
      opt.store_url = *store_url;
      opt.store_schema = *store_schema;
      if (const char* p = std::getenv("CUSTOS_PASSPHRASE")) opt.passphrase = p;
      opt.pkcs11_module = hsm->pkcs11_module;
      opt.pkcs11_token = hsm->pkcs11_token;
      opt.pkcs11_key_label = hsm->pkcs11_key_label;
      if (const char* pin = std::getenv("CUSTOS_PKCS11_PIN")) opt.pkcs11_pin = pin;
      auto report = vault::Vault::Init(opt);
      if (!report.ok()) return g.out().Fail(report.status());
      // The demo's TLS pair for `custos serve` ([server] cert/key defaults; docs/api.md).
      const schema::ServerConfig tls_paths;
      Status tls = api::WriteSelfSignedCertificate(std::filesystem::path(*dir) / tls_paths.cert,
                                                   std::filesystem::path(*dir) / tls_paths.key);
      if (!tls.ok()) std::cerr << "custos: no TLS certificate made: " << tls.ToString() << '\n';
      nlohmann::json doc = {{"vault_id", report->vault_id},
                            {"config", report->config_path.string()},
                            {"database", report->db_path.string()},
                            {"keyfile", report->keyfile_path.string()},
                            {"staff", report->staff},
                            {"admin_token", report->admin_token},
                            {"admin_token_expires_at_ms", report->admin_token_expires_at_ms},
                            {"dpo_token", report->dpo_token}};
      g.out().Print(doc, fmt::format("Created vault {} in {}\n  config:   {}\n  database: {}\n"
                                     "  keyfile:  {} (keep it secret, mode 0600)\n  staff:    {}\n",
                                     report->vault_id, *dir, report->config_path.string(),
                                     report->db_path.string(),
                                     report->keyfile_path.empty() ? "(" + *provider + " provider)"
                                                                  : report->keyfile_path.string(),
                                     fmt::join(report->staff, ", ")) +
                             fmt::format("\nOne-time API tokens (shown ONCE, valid 30 days; not "
                                         "stored anywhere readable — keep them secret):\n"
                                         "  admin: {}\n    export CUSTOS_TOKEN=<the token>  then "
                                         "create staff with `custos staff add`\n"
                                         "  dpo:   {}\n    for the data protection officer, a "
                                         "different person: they set their own first password with "
                                         "`custos staff passwd dpo` on this host\n",
                                         report->admin_token, report->dpo_token));
      return static_cast<int>(kExitOk);
    };
  });
}

}  // namespace custos::cli
