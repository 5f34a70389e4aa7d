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
  auto* cmd = app.add_subcommand("init", "create a vault: default custos.toml, keys, database, first staff");
  auto dir = std::make_shared<std::string>();
  auto suite = std::make_shared<std::string>("aes256gcm");
  auto provider = std::make_shared<std::string>("keyfile");
  auto store_url = std::make_shared<std::string>();
  auto store_schema = std::make_shared<std::string>("custos");
  cmd->add_option("dir", *dir, "directory for the new vault (empty or absent)")->required();
  cmd->add_option("--suite", *suite, "aes256gcm (default) or sm4gcm (GB/T 39786)")
      ->check(CLI::IsMember({"aes256gcm", "sm4gcm"}));
  cmd->add_option("--key-provider", *provider, "keyfile (default) or passphrase ($CUSTOS_PASSPHRASE)")
      ->check(CLI::IsMember({"keyfile", "passphrase"}));
  cmd->add_option("--store-url", *store_url,
                  "postgresql://user@host/db: keep the rows on PostgreSQL (no password in it: "
                  "PGPASSWORD or ~/.pgpass)");
  cmd->add_option("--store-schema", *store_schema, "PostgreSQL schema (default custos)");
  cmd->callback([&g, &action, dir, suite, provider, store_url, store_schema] {
    action = [&g, dir, suite, provider, store_url, store_schema] {
      vault::InitOptions opt;
      opt.dir = *dir;
      opt.suite = *suite;
      opt.provider = *provider;
      opt.store_url = *store_url;
      opt.store_schema = *store_schema;
      if (const char* p = std::getenv("CUSTOS_PASSPHRASE")) opt.passphrase = p;
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
                            {"admin_token_expires_at_ms", report->admin_token_expires_at_ms}};
      g.out().Print(doc, fmt::format(
                             "Created vault {} in {}\n  config:   {}\n  database: {}\n"
                             "  keyfile:  {} (keep it secret, mode 0600)\n  staff:    {}\n",
                             report->vault_id, *dir, report->config_path.string(),
                             report->db_path.string(),
                             report->keyfile_path.empty() ? "(passphrase provider)"
                                                          : report->keyfile_path.string(),
                             fmt::join(report->staff, ", ")) +
                         fmt::format("\nAPI token for admin (shown ONCE, valid 30 days; it is not "
                                     "stored anywhere readable — keep it secret):\n  {}\n"
                                     "  export CUSTOS_TOKEN=<the token>  then create staff with "
                                     "`custos staff add`\n",
                                     report->admin_token));
      return static_cast<int>(kExitOk);
    };
  });
}

}  // namespace custos::cli
