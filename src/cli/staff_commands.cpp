// custos staff add|list|update|disable|passwd, custos token issue|list|revoke,
// custos totp enroll|reset (P4a). Thin: parse, call the vault, print.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>

#include "api/view_json.h"
#include "cli/app.h"
#include "cli/front_door.h"
#include "cli/secret_input.h"
#include "core/dates.h"
#include "core/duration.h"

namespace custos::cli {
namespace {

nlohmann::json TokenJson(const vault::TokenView& t) {
  return {{"token_id", t.token_id},
          {"staff_id", t.staff_id},
          {"label", t.label},
          {"created_at_ms", t.created_at_ms},
          {"expires_at_ms", t.expires_at_ms},
          {"revoked_at_ms", t.revoked_at_ms},
          {"state", t.state}};
}

int Done(const Globals& g, const Status& st, const nlohmann::json& doc, const std::string& text) {
  if (!st.ok()) return g.out().Fail(st);
  g.out().Print(doc, text);
  return kExitOk;
}

// A new password: $CUSTOS_NEW_PASSWORD or a prompt (never an argument).
Result<std::string> NewPassword() { return ReadSecret("CUSTOS_NEW_PASSWORD", "New password: "); }

void AddStaffGroup(CLI::App& app, Globals& g, Action& action) {
  auto* staff = app.add_subcommand("staff", "staff accounts: post, roles, status (P4a)");
  staff->require_subcommand(1);

  auto* add = staff->add_subcommand("add", "create a staff account (staff.manage)");
  auto spec = std::make_shared<vault::StaffSpec>();
  auto with_password = std::make_shared<bool>(false);
  add->add_option("id", spec->staff_id, "staff id: a-z, 0-9, '.', '_', '-'")->required();
  add->add_option("--name", spec->display_name, "display name")->required();
  add->add_option("--post", spec->post, "post (岗位), e.g. support_agent")->required();
  add->add_option("--role", spec->roles, "a role (repeat for several)")->required();
  add->add_flag("--with-password", *with_password,
                "set an initial password from $CUSTOS_NEW_PASSWORD or a prompt");
  add->callback([&g, &action, spec, with_password] {
    action = [&g, spec, with_password] {
      if (*with_password) {
        auto pw = NewPassword();
        if (!pw.ok()) return g.out().Fail(pw.status());
        spec->initial_password = *pw;
      }
      return WithVault(g, [&](vault::Vault& v) {
        Status st = v.staff().Create(g.MakeContext(), *spec);
        return Done(g, st, {{"staff_id", spec->staff_id}, {"roles", spec->roles}},
                    fmt::format("created staff {} (post {}, roles {})", spec->staff_id, spec->post,
                                fmt::join(spec->roles, ", ")));
      });
    };
  });

  auto* list = staff->add_subcommand("list", "every staff account (staff.manage or role.read)");
  list->callback([&g, &action] {
    action = [&g] {
      return WithVault(g, [&](vault::Vault& v) {
        auto rows = v.staff().List(g.MakeContext());
        if (!rows.ok()) return g.out().Fail(rows.status());
        nlohmann::json items = nlohmann::json::array();
        std::vector<std::vector<std::string>> table;
        for (const auto& s : *rows) {
          items.push_back(api::StaffJson(s));
          table.push_back({s.staff_id, s.display_name, s.status, s.post,
                           fmt::format("{}", fmt::join(s.roles, ",")),
                           s.totp_enrolled ? "yes" : "no", s.locked_until_ms != 0 ? "locked" : ""});
        }
        g.out().Print({{"staff", items}},
                      Table({"staff", "name", "status", "post", "roles", "totp", "login"}, table));
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* update = staff->add_subcommand("update", "change post, roles, name or status");
  auto id = std::make_shared<std::string>();
  auto change = std::make_shared<vault::StaffChange>();
  auto name = std::make_shared<std::string>();
  auto post = std::make_shared<std::string>();
  auto roles = std::make_shared<std::vector<std::string>>();
  auto status = std::make_shared<std::string>();
  update->add_option("id", *id, "staff id")->required();
  update->add_option("--name", *name, "new display name");
  update->add_option("--post", *post, "new post");
  update->add_option("--role", *roles, "the new roles (repeat; replaces all)");
  update->add_option("--status", *status, "active or disabled")
      ->check(CLI::IsMember({"active", "disabled"}));
  update->callback([&g, &action, id, change, name, post, roles, status] {
    if (!name->empty()) change->display_name = *name;
    if (!post->empty()) change->post = *post;
    if (!roles->empty()) change->roles = *roles;
    if (!status->empty()) change->status = *status;
    action = [&g, id, change] {
      return WithVault(g, [&](vault::Vault& v) {
        Status st = v.staff().Update(g.MakeContext(), *id, *change);
        return Done(g, st, {{"staff_id", *id}, {"updated", true}}, "updated staff " + *id);
      });
    };
  });

  auto* disable = staff->add_subcommand("disable", "disable an account (its tokens stop working)");
  auto disable_id = std::make_shared<std::string>();
  disable->add_option("id", *disable_id, "staff id")->required();
  disable->callback([&g, &action, disable_id] {
    action = [&g, disable_id] {
      return WithVault(g, [&](vault::Vault& v) {
        vault::StaffChange c;
        c.status = "disabled";
        Status st = v.staff().Update(g.MakeContext(), *disable_id, c);
        return Done(g, st, {{"staff_id", *disable_id}, {"status", "disabled"}},
                    "disabled staff " + *disable_id);
      });
    };
  });

  auto* passwd = staff->add_subcommand(
      "passwd",
      "set a password from $CUSTOS_NEW_PASSWORD or a prompt (staff.manage, or self "
      "with the current password from $CUSTOS_PASSWORD or a prompt)");
  auto pw_id = std::make_shared<std::string>();
  passwd->add_option("id", *pw_id, "staff id")->required();
  passwd->callback([&g, &action, pw_id] {
    action = [&g, pw_id] {
      auto pw = NewPassword();
      if (!pw.ok()) return g.out().Fail(pw.status());
      return WithVault(g, [&](vault::Vault& v) {
        std::string current;
        if (*pw_id == g.staff) {  // one's own: the current password too (issue 12)
          // None to give for an account without a password (the init administrator's first
          // one, which only the CLI may set): the vault decides whether one was needed.
          auto cur = ReadSecret("CUSTOS_PASSWORD", "Current password (empty if none): ");
          current = cur.ok() ? *cur : "";
        }
        Status st = v.staff().SetPassword(g.MakeContext(), *pw_id, *pw, current);
        return Done(g, st, {{"staff_id", *pw_id}, {"password_set", true}},
                    "password set for " + *pw_id);
      });
    };
  });
}

void AddTokenGroup(CLI::App& app, Globals& g, Action& action) {
  auto* token = app.add_subcommand("token", "API tokens: issue (log in), list, revoke");
  token->require_subcommand(1);

  auto* issue = token->add_subcommand(
      "issue",
      "log in: password from $CUSTOS_PASSWORD or a prompt; prints the token ONCE "
      "(--new-password after an administrator's reset; --enroll-totp for a first second "
      "factor)");
  auto id = std::make_shared<std::string>();
  auto ttl = std::make_shared<std::string>("8h");
  auto label = std::make_shared<std::string>();
  auto totp = std::make_shared<std::string>();
  auto change = std::make_shared<bool>(false);
  auto enroll = std::make_shared<bool>(false);
  issue->add_option("id", *id, "your staff id")->required();
  issue->add_option("--ttl", *ttl, "lifetime: 90m, 8h (default), 30d; at most 90d");
  issue->add_option("--label", *label, "a name for the token (the device)");
  issue->add_option("--totp", *totp, "the current 6-digit code, when a second factor is set");
  issue->add_flag("--new-password", *change,
                  "set a new password in the same step, from $CUSTOS_NEW_PASSWORD or a prompt "
                  "(required after an administrator set yours)");
  issue->add_flag("--enroll-totp", *enroll,
                  "enrol your first TOTP second factor instead (prints its secret ONCE; then "
                  "log in with a code)");
  issue->callback([&g, &action, id, ttl, label, totp, change, enroll] {
    action = [&g, id, ttl, label, totp, change, enroll] {
      auto ttl_ms = ParseDuration(*ttl);
      if (!ttl_ms.ok()) return g.out().Fail(ttl_ms.status());
      auto pw = ReadSecret("CUSTOS_PASSWORD", "Password: ");
      if (!pw.ok()) return g.out().Fail(pw.status());
      vault::LoginRequest login{*id, *pw, *totp, "", *ttl_ms, *label};
      if (*change) {
        auto fresh = NewPassword();
        if (!fresh.ok()) return g.out().Fail(fresh.status());
        login.new_password = *fresh;
      }
      return WithUnauthenticatedVault(g, [&](vault::Vault& v) {
        vault::Context ctx;
        ctx.channel = vault::Channel::kCli;  // no address: limited per staff id only
        if (*enroll) {
          auto e = v.staff().EnrollTotpAtLogin(ctx, *id, *pw);
          if (!e.ok()) return g.out().Fail(e.status());
          g.out().Print(
              {{"staff_id", *id}, {"secret", e->secret_base32}, {"otpauth_uri", e->otpauth_uri}},
              fmt::format("TOTP secret for {} (shown once; add it to an authenticator app, "
                          "then log in with --totp):\n  {}\n  {}",
                          *id, e->secret_base32, e->otpauth_uri));
          return static_cast<int>(kExitOk);
        }
        auto t = v.staff().Login(ctx, login);
        if (!t.ok()) return g.out().Fail(t.status());
        g.out().Print({{"token", t->secret},
                       {"token_id", t->token_id},
                       {"staff_id", t->staff_id},
                       {"expires_at_ms", t->expires_at_ms}},
                      fmt::format("{}\n(token {} for {}; shown once — keep it secret, e.g. "
                                  "export CUSTOS_TOKEN=...)",
                                  t->secret, t->token_id, t->staff_id));
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* list = token->add_subcommand("list", "your tokens, or another's (staff.manage)");
  auto list_id = std::make_shared<std::string>();
  auto all = std::make_shared<bool>(false);
  list->add_option("--staff", *list_id, "whose tokens (default: yours)");
  list->add_flag("--all", *all, "every staff member's tokens (staff.manage)");
  list->callback([&g, &action, list_id, all] {
    action = [&g, list_id, all] {
      return WithVault(g, [&](vault::Vault& v) {
        const std::string whose = *all ? "" : (list_id->empty() ? g.staff : *list_id);
        auto rows = v.staff().ListTokens(g.MakeContext(), whose);
        if (!rows.ok()) return g.out().Fail(rows.status());
        nlohmann::json items = nlohmann::json::array();
        std::vector<std::vector<std::string>> table;
        for (const auto& t : *rows) {
          items.push_back(TokenJson(t));
          table.push_back({t.token_id, t.staff_id, t.state,
                           t.expires_at_ms == 0 ? "" : core::FormatIsoUtc(t.expires_at_ms / 1000),
                           t.label});
        }
        g.out().Print({{"tokens", items}},
                      Table({"token", "staff", "state", "expires", "label"}, table));
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* revoke = token->add_subcommand("revoke", "revoke a token by its id (self or staff.manage)");
  auto token_id = std::make_shared<std::string>();
  revoke->add_option("token_id", *token_id, "the token's id (from token list)")->required();
  revoke->callback([&g, &action, token_id] {
    action = [&g, token_id] {
      return WithVault(g, [&](vault::Vault& v) {
        Status st = v.staff().RevokeToken(g.MakeContext(), *token_id);
        return Done(g, st, {{"token_id", *token_id}, {"revoked", true}},
                    "revoked token " + *token_id);
      });
    };
  });
}

void AddTotpGroup(CLI::App& app, Globals& g, Action& action) {
  auto* totp = app.add_subcommand("totp", "the TOTP second factor (RFC 6238)");
  totp->require_subcommand(1);
  auto* enroll =
      totp->add_subcommand("enroll", "make a new TOTP secret for yourself; prints it ONCE");
  auto id = std::make_shared<std::string>();
  enroll->add_option("id", *id, "staff id: yours (the default); nobody enrols another's");
  auto code = std::make_shared<std::string>();
  enroll->add_option("--current-code", *code,
                     "a current code of your enrolled factor (re-enrolling your own)");
  enroll->callback([&g, &action, id, code] {
    action = [&g, id, code] {
      return WithVault(g, [&](vault::Vault& v) {
        const std::string who = id->empty() ? g.staff : *id;
        auto e = v.staff().EnrollTotp(g.MakeContext(), who, *code);
        if (!e.ok()) return g.out().Fail(e.status());
        g.out().Print(
            {{"staff_id", who}, {"secret", e->secret_base32}, {"otpauth_uri", e->otpauth_uri}},
            fmt::format("TOTP secret for {} (shown once; add it to an authenticator "
                        "app):\n  {}\n  {}",
                        who, e->secret_base32, e->otpauth_uri));
        return static_cast<int>(kExitOk);
      });
    };
  });
  auto* reset = totp->add_subcommand(
      "reset",
      "remove another's second factor (staff.manage); they enrol anew with their password");
  auto reset_id = std::make_shared<std::string>();
  reset->add_option("id", *reset_id, "staff id")->required();
  reset->callback([&g, &action, reset_id] {
    action = [&g, reset_id] {
      return WithVault(g, [&](vault::Vault& v) {
        Status st = v.staff().ResetTotp(g.MakeContext(), *reset_id);
        return Done(g, st, {{"staff_id", *reset_id}, {"totp_enrolled", false}},
                    "second factor removed for " + *reset_id +
                        "; they enrol a new one with: custos token issue " + *reset_id +
                        " --enroll-totp");
      });
    };
  });
}

}  // namespace

Result<int64_t> ParseDuration(std::string_view text) {
  Result<std::chrono::seconds> span = core::ParseSpan(text, core::kCommandLineSpan);
  if (!span.ok()) return InvalidArgument(fmt::format("duration: {}", span.status().message()));
  return span->count() * 1000;
}

Result<int64_t> ParseDate(std::string_view text) {
  Result<std::chrono::year_month_day> d = core::ParseCivilDate(text);
  if (!d.ok()) return InvalidArgument("date: expected YYYY-MM-DD");
  return core::UtcMidnightMs(*d);
}

void AddStaffCommands(CLI::App& app, Globals& g, Action& action) {
  AddStaffGroup(app, g, action);
  AddTokenGroup(app, g, action);
  AddTotpGroup(app, g, action);
}

}  // namespace custos::cli
