// custos customer add|get|update|find|list|verify-password|close|reopen|account
#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <sstream>

#include "api/view_json.h"
#include "cli/app.h"
#include "cli/front_door.h"
#include "consent/consent.h"
#include "core/dates.h"

namespace custos::cli {
namespace {

nlohmann::json ViewJson(const vault::CustomerView& v) {
  nlohmann::json fields = nlohmann::json::object();
  for (const auto& [k, val] : v.fields) fields[k] = val;
  return {{"customer_id", v.customer_id},
          {"created_at_ms", v.created_at_ms},
          {"updated_at_ms", v.updated_at_ms},
          {"source", v.source},
          {"fields", fields}};
}

std::string ViewText(const vault::CustomerView& v) {
  std::string s = fmt::format("customer {}  (source {})\n", v.customer_id, v.source);
  for (const auto& [k, val] : v.fields) s += fmt::format("  {:<14} {}\n", k, val);
  return s;
}

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

void AddCustomerCommands(CLI::App& app, Globals& g, Action& action) {
  auto* customer = app.add_subcommand(
      "customer", "customers: add, get, update, find, list, close, reopen, account");
  customer->require_subcommand(1);

  auto* add = customer->add_subcommand("add", "add a customer (validated at intake, P3.1c)");
  auto sets = std::make_shared<std::vector<std::string>>();
  auto source = std::make_shared<std::string>("form");
  add->add_option("--set", *sets, "FIELD=VALUE (repeat)")->required();
  add->add_option("--source", *source, "collection channel kept with the record (P3.1b)");
  auto consent = std::make_shared<CollectionConsentFlags>();
  auto evidence = std::make_shared<std::string>();
  AddCollectionConsentFlags(add, consent);
  add->add_option("--evidence", *evidence,
                  "opaque id of the consent evidence (default: generated)");
  add->callback([&g, &action, sets, source, consent, evidence] {
    action = [&g, sets, source, consent, evidence] {
      return WithVault(g, [&](vault::Vault& v) {
        auto fields = ParseAssignments(*sets);
        if (!fields.ok()) return g.out().Fail(fields.status());
        const vault::CollectionConsent given = ToCollectionConsent(
            *consent, evidence->empty() ? ::custos::consent::NewEvidenceRef("cli") : *evidence);
        auto id = v.customers().Create(g.MakeContext(), *fields, *source, given);
        if (!id.ok()) return g.out().Fail(id.status());
        g.out().Print({{"customer_id", *id}}, *id);
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* get = customer->add_subcommand("get", "show a customer");
  auto id = std::make_shared<std::string>();
  auto fields = std::make_shared<std::string>();
  get->add_option("id", *id, "customer id")->required();
  get->add_option("--fields", *fields, "comma-separated field names (default: all readable)");
  get->callback([&g, &action, id, fields] {
    action = [&g, id, fields] {
      return WithVault(g, [&](vault::Vault& v) {
        auto view = v.customers().Get(g.MakeContext(), *id, SplitCommas(*fields));
        if (!view.ok()) return g.out().Fail(view.status());
        g.out().Print(ViewJson(*view), ViewText(*view));
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* update = customer->add_subcommand("update", "change fields of a customer");
  auto uid = std::make_shared<std::string>();
  auto usets = std::make_shared<std::vector<std::string>>();
  update->add_option("id", *uid, "customer id")->required();
  update->add_option("--set", *usets, "FIELD=VALUE (repeat; an empty value removes the field)")
      ->required();
  update->callback([&g, &action, uid, usets] {
    action = [&g, uid, usets] {
      return WithVault(g, [&](vault::Vault& v) {
        auto changes = ParseAssignments(*usets);
        if (!changes.ok()) return g.out().Fail(changes.status());
        Status st = v.customers().Update(g.MakeContext(), *uid, *changes);
        if (!st.ok()) return g.out().Fail(st);
        g.out().Print({{"customer_id", *uid}, {"updated", true}}, "updated " + *uid);
        return static_cast<int>(kExitOk);
      });
    };
  });

  // Closing and reopening the account (account.close; the account_closure retention event).
  for (const bool close : {true, false}) {
    auto* cmd = customer->add_subcommand(
        close ? "close" : "reopen",
        close ? "close a customer's account (account.close; retention may count from it)"
              : "reopen a closed account (account.close)");
    auto cid = std::make_shared<std::string>();
    auto reason = std::make_shared<std::string>();
    cmd->add_option("id", *cid, "customer id")->required();
    cmd->add_option("--reason", *reason, "why: a ticket reference, 10-500 bytes, no personal data")
        ->required();
    cmd->callback([&g, &action, cid, reason, close] {
      action = [&g, cid, reason, close] {
        return WithVault(g, [&](vault::Vault& v) {
          Status st = close ? v.lifecycle().CloseAccount(g.MakeContext(), *cid, *reason)
                            : v.lifecycle().ReopenAccount(g.MakeContext(), *cid, *reason);
          if (!st.ok()) return g.out().Fail(st);
          g.out().Print({{"customer_id", *cid}, {"account", close ? "closed" : "open"}},
                        fmt::format("account of {} {}", *cid, close ? "closed" : "reopened"));
          return static_cast<int>(kExitOk);
        });
      };
    });
  }
  auto* account = customer->add_subcommand("account", "whether the account is open or closed");
  auto aid = std::make_shared<std::string>();
  account->add_option("id", *aid, "customer id")->required();
  account->callback([&g, &action, aid] {
    action = [&g, aid] {
      return WithVault(g, [&](vault::Vault& v) {
        auto closed = v.lifecycle().GetAccountClosure(g.MakeContext(), *aid);
        if (!closed.ok()) return g.out().Fail(closed.status());
        if (!closed->has_value()) {
          g.out().Print({{"customer_id", *aid}, {"account", "open"}}, "open");
        } else {
          const vault::AccountClosureView& c = **closed;
          g.out().Print({{"customer_id", *aid},
                         {"account", "closed"},
                         {"closed_at_ms", c.closed_at_ms},
                         {"closed_by", c.closed_by},
                         {"reason", c.reason}},
                        fmt::format("closed on {} by {}: {}", core::UtcDateOfMs(c.closed_at_ms),
                                    c.closed_by, c.reason));
        }
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* find =
      customer->add_subcommand("find", "find customers by a searchable field (blind index)");
  auto ffield = std::make_shared<std::string>();
  auto fvalue = std::make_shared<std::string>();
  find->add_option("field", *ffield, "searchable field, e.g. phone")->required();
  find->add_option("value", *fvalue, "value (normalised like at intake)")->required();
  find->callback([&g, &action, ffield, fvalue] {
    action = [&g, ffield, fvalue] {
      return WithVault(g, [&](vault::Vault& v) {
        auto ids = v.customers().Find(g.MakeContext(), *ffield, *fvalue);
        if (!ids.ok()) return g.out().Fail(ids.status());
        std::string text;
        for (const std::string& s : *ids) text += s + "\n";
        if (ids->empty()) text = "no match\n";
        g.out().Print({{"customer_ids", *ids}}, text);
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* list = customer->add_subcommand("list", "list customers (contact fields only)");
  auto after = std::make_shared<std::string>();
  auto limit = std::make_shared<size_t>(20);
  list->add_option("--after", *after, "continue after this customer id");
  list->add_option("--limit", *limit, "at most this many (1-1000)");
  list->callback([&g, &action, after, limit] {
    action = [&g, after, limit] {
      return WithVault(g, [&](vault::Vault& v) {
        auto page = v.customers().List(g.MakeContext(), *after, *limit);
        if (!page.ok()) return g.out().Fail(page.status());
        // The API's shape (GET /v1/customers); a table of the readable fields for people.
        nlohmann::json arr = nlohmann::json::array();
        std::vector<std::string> header = {"customer"};
        for (const auto& c : page->customers) {
          arr.push_back(api::CustomerJson(c));
          for (const auto& [k, val] : c.fields) {
            if (std::find(header.begin(), header.end(), k) == header.end()) header.push_back(k);
          }
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& c : page->customers) {
          std::vector<std::string> row = {c.customer_id};
          for (size_t i = 1; i < header.size(); ++i) {
            auto it = c.fields.find(header[i]);
            row.push_back(it == c.fields.end() ? "" : it->second);
          }
          rows.push_back(std::move(row));
        }
        std::string text = page->customers.empty() ? "no customers\n" : Table(header, rows);
        if (!page->next_after.empty()) text += "more: --after " + page->next_after + "\n";
        nlohmann::json doc = {{"customers", arr}};
        doc["next_after"] =
            page->next_after.empty() ? nlohmann::json(nullptr) : nlohmann::json(page->next_after);
        g.out().Print(doc, text);
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* verify = customer->add_subcommand("verify-password",
                                          "check a password against the stored Argon2id hash");
  auto vid = std::make_shared<std::string>();
  auto vfield = std::make_shared<std::string>("password");
  verify->add_option("id", *vid, "customer id")->required();
  verify->add_option("--field", *vfield, "password field (default password)");
  verify->callback([&g, &action, vid, vfield] {
    action = [&g, vid, vfield] {
      return WithVault(g, [&](vault::Vault& v) {
        // The password is read from standard input so that it never appears in `ps`.
        std::string password;
        std::getline(std::cin, password);
        auto ok = v.customers().VerifyPassword(g.MakeContext(), *vid, *vfield, password);
        if (!ok.ok()) return g.out().Fail(ok.status());
        g.out().Print({{"match", *ok}}, *ok ? "match" : "no match");
        return *ok ? static_cast<int>(kExitOk) : static_cast<int>(kExitDenied);
      });
    };
  });
}

}  // namespace custos::cli
