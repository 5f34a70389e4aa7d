// custos txn add|list, custos note add|list
#include <fmt/format.h>

#include "api/view_json.h"
#include "cli/app.h"

namespace custos::cli {

void AddRecordCommands(CLI::App& app, Globals& g, Action& action) {
  auto* txn = app.add_subcommand("txn", "transactions of a customer (internal level, P2.2)");
  txn->require_subcommand(1);
  auto* tadd = txn->add_subcommand("add", "record a transaction");
  auto tid = std::make_shared<std::string>();
  auto tsets = std::make_shared<std::vector<std::string>>();
  auto tsource = std::make_shared<std::string>("form");
  tadd->add_option("customer", *tid, "customer id")->required();
  tadd->add_option("--set", *tsets,
                   "FIELD=VALUE: occurred_at, product, amount, currency, payment_method")
      ->required();
  tadd->add_option("--source", *tsource, "collection channel (P3.1b)");
  tadd->callback([&g, &action, tid, tsets, tsource] {
    action = [&g, tid, tsets, tsource] {
      return WithVault(g, [&](vault::Vault& v) {
        auto fields = ParseAssignments(*tsets);
        if (!fields.ok()) return g.out().Fail(fields.status());
        auto id = v.records().AddTransaction(g.MakeContext(), *tid, *fields, *tsource);
        if (!id.ok()) return g.out().Fail(id.status());
        g.out().Print({{"txn_id", *id}}, *id);
        return static_cast<int>(kExitOk);
      });
    };
  });
  auto* tlist = txn->add_subcommand("list", "list a customer's transactions");
  auto lid = std::make_shared<std::string>();
  tlist->add_option("customer", *lid, "customer id")->required();
  tlist->callback([&g, &action, lid] {
    action = [&g, lid] {
      return WithVault(g, [&](vault::Vault& v) {
        auto rows = v.records().ListTransactions(g.MakeContext(), *lid);
        if (!rows.ok()) return g.out().Fail(rows.status());
        nlohmann::json arr = nlohmann::json::array();
        std::string text;
        for (const auto& t : *rows) {
          arr.push_back(api::TransactionJson(t));  // the API's shape
          text +=
              fmt::format("{}  {}  {} {}  {}\n", t.txn_id, t.fields.at("occurred_at"),
                          t.fields.at("amount"), t.fields.at("currency"), t.fields.at("product"));
        }
        g.out().Print({{"transactions", arr}}, text.empty() ? "no transactions" : text);
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* note = app.add_subcommand("note", "communication notes of a customer (P3.1b)");
  note->require_subcommand(1);
  auto* nadd = note->add_subcommand("add", "record a communication note");
  auto nid = std::make_shared<std::string>();
  auto ntext = std::make_shared<std::string>();
  auto nsource = std::make_shared<std::string>("form");
  nadd->add_option("customer", *nid, "customer id")->required();
  nadd->add_option("--text", *ntext, "the note")->required();
  nadd->add_option("--source", *nsource, "collection channel: form, phone, chat, ... (P3.1b)");
  nadd->callback([&g, &action, nid, ntext, nsource] {
    action = [&g, nid, ntext, nsource] {
      return WithVault(g, [&](vault::Vault& v) {
        auto id = v.records().AddNote(g.MakeContext(), *nid, *ntext, *nsource);
        if (!id.ok()) return g.out().Fail(id.status());
        g.out().Print({{"note_id", *id}}, *id);
        return static_cast<int>(kExitOk);
      });
    };
  });
  auto* nlist = note->add_subcommand("list", "list a customer's notes");
  auto nlid = std::make_shared<std::string>();
  nlist->add_option("customer", *nlid, "customer id")->required();
  nlist->callback([&g, &action, nlid] {
    action = [&g, nlid] {
      return WithVault(g, [&](vault::Vault& v) {
        auto rows = v.records().ListNotes(g.MakeContext(), *nlid);
        if (!rows.ok()) return g.out().Fail(rows.status());
        nlohmann::json arr = nlohmann::json::array();
        std::string text;
        for (const auto& n : *rows) {
          arr.push_back(api::NoteJson(n));  // the API's shape
          text += fmt::format("{}  [{}] {}\n", n.note_id, n.source, n.text);
        }
        g.out().Print({{"notes", arr}}, text.empty() ? "no notes" : text);
        return static_cast<int>(kExitOk);
      });
    };
  });
}

}  // namespace custos::cli
