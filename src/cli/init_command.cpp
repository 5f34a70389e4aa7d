#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdlib>

#include "cli/app.h"

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
      nlohmann::json doc = {{"vault_id", report->vault_id},
                            {"config", report->config_path.string()},
                            {"database", report->db_path.string()},
                            {"keyfile", report->keyfile_path.string()},
                            {"staff", report->staff}};
      g.out().Print(doc, fmt::format(
                             "Created vault {} in {}\n  config:   {}\n  database: {}\n"
                             "  keyfile:  {} (keep it secret, mode 0600)\n  staff:    {}\n",
                             report->vault_id, *dir, report->config_path.string(),
                             report->db_path.string(),
                             report->keyfile_path.empty() ? "(passphrase provider)"
                                                          : report->keyfile_path.string(),
                             fmt::join(report->staff, ", ")));
      return static_cast<int>(kExitOk);
    };
  });
}

}  // namespace custos::cli
