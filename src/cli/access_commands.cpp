// custos access explain: per field, what a staff member would see of a customer for a purpose
// (allow, mask or deny) and why — the policy engine's own reasons (docs/access.md).
#include <fmt/format.h>

#include "cli/app.h"

namespace custos::cli {

void AddAccessCommands(CLI::App& app, Globals& g, Action& action) {
  auto* access = app.add_subcommand("access", "the access policy: roles, posts, decisions");
  access->require_subcommand(1);
  auto* explain = access->add_subcommand(
      "explain",
      "per field: allow, mask or deny for a staff member, purpose and customer, and why");
  auto staff = std::make_shared<std::string>();
  auto customer = std::make_shared<std::string>();
  explain->add_option("--staff", *staff, "the staff id asked about")->required();
  explain->add_option("--customer", *customer, "the customer id")->required();
  explain->callback([&g, &action, staff, customer] {
    action = [&g, staff, customer] {
      return WithVault(g, [&](vault::Vault& v) {
        if (g.purpose.empty()) {
          return g.out().Fail(InvalidArgument("--purpose: the purpose to explain is required"));
        }
        auto lines = v.staff().ExplainAccess(g.MakeContext(), *staff, g.purpose, *customer);
        if (!lines.ok()) return g.out().Fail(lines.status());
        nlohmann::json arr = nlohmann::json::array();
        std::string text =
            fmt::format("staff {} / purpose {} / customer {}\n", *staff, g.purpose, *customer);
        for (const vault::AccessExplanation& l : *lines) {
          nlohmann::json j = {{"name", l.name},     {"level", LevelName(l.level)},
                              {"action", l.action}, {"effect", l.effect},
                              {"reason", l.reason}, {"break_glass", l.break_glass}};
          if (!l.mask_rule.empty()) j["mask_rule"] = l.mask_rule;
          arr.push_back(std::move(j));
          const std::string effect =
              l.effect == "mask" ? fmt::format("mask ({})", l.mask_rule) : l.effect;
          text += fmt::format("  {:<12} {:<12} {:<18} {}\n", l.name, LevelName(l.level), effect,
                              l.reason);
        }
        g.out().Print(
            {{"staff", *staff}, {"purpose", g.purpose}, {"customer", *customer}, {"fields", arr}},
            text);
        return static_cast<int>(kExitOk);
      });
    };
  });
}

}  // namespace custos::cli
