// custos audit verify|reseal|journals|quarantine-journal|tail|export (and
// head|prove|consistency|check-proof: audit_proof_commands.cpp; query|follow:
// audit_query_commands.cpp)
#include <fmt/format.h>

#include <iostream>
#include <sstream>

#include "audit/audit_log.h"
#include "cli/app.h"
#include "cli/front_door.h"
#include "core/dates.h"
#include "core/output_stream.h"

namespace custos::cli {

void AddAuditCommands(CLI::App& app, Globals& g, Action& action) {
  auto* audit = app.add_subcommand("audit", "the hash-chained audit log (P3.2c)");
  audit->require_subcommand(1);

  auto* verify = audit->add_subcommand("verify", "recompute the chain, signatures and head");
  verify->callback([&g, &action] {
    action = [&g] {
      return WithVault(g, [&](vault::Vault& v) {
        auto report = v.audit().Verify(g.MakeContext());
        if (!report.ok()) return g.out().Fail(report.status());
        nlohmann::json doc = {{"ok", report->ok},
                              {"entries", report->entries},
                              {"checkpoints", report->checkpoints},
                              {"tree_nodes", report->tree_nodes},
                              {"tree_built", report->tree_built},
                              {"first_bad_seq", report->first_bad_seq},
                              {"problem", report->problem},
                              {"witnesses", report->witnesses_used}};
        std::string used;
        for (const std::string& w : report->witnesses_used) used += (used.empty() ? "" : ", ") + w;
        if (used.empty()) used = "none";
        const std::string tree = report->tree_built > 0
                                     ? fmt::format("{} Merkle tree nodes (entries 1..{})",
                                                   report->tree_nodes, report->tree_built)
                                     : std::string("no Merkle tree node yet");
        g.out().Print(doc, report->ok
                               ? fmt::format("audit log OK: {} entries, {} signed checkpoints, "
                                             "{}; checked against: {}",
                                             report->entries, report->checkpoints, tree, used)
                               : fmt::format("audit log BROKEN at entry {}: {} (checked "
                                             "against: {})",
                                             report->first_bad_seq, report->problem, used));
        return report->ok ? static_cast<int>(kExitOk) : static_cast<int>(kExitDataLoss);
      });
    };
  });

  auto* reseal = audit->add_subcommand(
      "reseal", "re-sign a lost audit head file (dual control: an approved audit_reseal request)");
  reseal->callback([&g, &action] {
    action = [&g] {
      return WithVault(g, [&](vault::Vault& v) {
        auto seq = v.audit().Reseal(g.MakeContext());
        if (!seq.ok()) return g.out().Fail(seq.status());
        g.out().Print(nlohmann::json{{"head_seq", *seq}},
                      fmt::format("audit head re-signed at entry {}", *seq));
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* journals = audit->add_subcommand(
      "journals", "the read journal's files: held, records waiting, damaged, quarantined");
  journals->callback([&g, &action] {
    action = [&g] {
      return WithVault(
          g,
          [&](vault::Vault& v) {
            auto report = v.audit().Journals(g.MakeContext());
            if (!report.ok()) return g.out().Fail(report.status());
            nlohmann::json list = nlohmann::json::array();
            std::vector<std::vector<std::string>> rows;
            bool damaged = false;
            for (const audit::JournalCheck& c : report->journals) {
              const std::string state = c.quarantined    ? "quarantined (not moved yet)"
                                        : !c.damage.ok() ? "DAMAGED"
                                        : c.held         ? "in use"
                                                         : "ended (folded next)";
              damaged = damaged || (!c.damage.ok() && !c.quarantined);
              list.push_back({{"id", c.id},
                              {"state", state},
                              {"held", c.held},
                              {"folded", c.folded},
                              {"waiting", c.waiting},
                              {"bytes", c.bytes},
                              {"damage", c.damage.ok() ? "" : c.damage.message()}});
              rows.push_back({c.id, state, std::to_string(c.folded), std::to_string(c.waiting),
                              std::to_string(c.bytes), c.damage.ok() ? "" : c.damage.message()});
            }
            for (const std::string& id : report->quarantined) {
              rows.push_back({id, "in quarantine/", "", "", "", ""});
            }
            g.out().Print(
                {{"journals", list}, {"quarantined", report->quarantined}},
                rows.empty()
                    ? std::string("no audit journal")
                    : Table({"journal", "state", "folded", "waiting", "bytes", "damage"}, rows));
            return damaged ? static_cast<int>(kExitDataLoss) : static_cast<int>(kExitOk);
          },
          /*past_damaged_journals=*/true);
    };
  });

  auto* quarantine = audit->add_subcommand(
      "quarantine-journal",
      "set a damaged audit journal aside so the log can be written again (security "
      "administrator; docs/audit.md)");
  auto journal_id = std::make_shared<std::string>();
  quarantine->add_option("journal", *journal_id, "the journal's id (custos audit journals)")
      ->required();
  quarantine->callback([&g, &action, journal_id] {
    action = [&g, journal_id] {
      return WithVault(
          g,
          [&](vault::Vault& v) {
            auto report = v.audit().QuarantineJournal(g.MakeContext(), *journal_id);
            if (!report.ok()) return g.out().Fail(report.status());
            nlohmann::json doc = {{"journal", report->id},
                                  {"already", report->already},
                                  {"folded", report->folded},
                                  {"damaged_record", report->damaged_record},
                                  {"set_aside_bytes", report->set_aside},
                                  {"damage", report->damage},
                                  {"position_refused", report->position_refused},
                                  {"file_sha256", report->file_sha256}};
            g.out().Print(
                doc, report->already
                         ? fmt::format("journal {} was quarantined before; its file is in {}/ now",
                                       report->id, audit::kQuarantineDir)
                         : fmt::format("journal {} quarantined: {} authentic record(s) folded into "
                                       "the log{}, {} byte(s) from record {} on set aside in {}/ "
                                       "(SHA-256 {}); the log can be written again",
                                       report->id, report->folded,
                                       report->position_refused
                                           ? " from its start (its stored position was refused: "
                                             "those folded before are in the log twice)"
                                           : "",
                                       report->set_aside, report->damaged_record,
                                       audit::kQuarantineDir, report->file_sha256));
            return static_cast<int>(kExitOk);
          },
          /*past_damaged_journals=*/true);
    };
  });

  auto* tail = audit->add_subcommand(
      "tail", "the newest entries, as a table (--json: {\"entries\": [...]}, as the API)");
  auto n = std::make_shared<size_t>(20);
  tail->add_option("-n,--count", *n, "how many (default 20)");
  tail->callback([&g, &action, n] {
    action = [&g, n] {
      return WithVault(g, [&](vault::Vault& v) {
        std::ostringstream lines;
        Status st = v.audit().Tail(g.MakeContext(), *n, lines);
        if (!st.ok()) return g.out().Fail(st);
        nlohmann::json entries = nlohmann::json::array();
        std::vector<std::vector<std::string>> rows;
        std::istringstream in(lines.str());
        for (std::string line; std::getline(in, line);) {
          if (line.empty()) continue;
          nlohmann::json e = nlohmann::json::parse(line);
          const int64_t ts = e.value("ts_ms", int64_t{0});
          rows.push_back({std::to_string(e.value("seq", int64_t{0})), core::FormatIsoUtc(ts / 1000),
                          e.value("actor", ""), e.value("action", ""), e.value("target", ""),
                          e.value("decision", ""), e.value("purpose", ""), e.value("reason", "")});
          entries.push_back(std::move(e));
        }
        g.out().Print({{"entries", entries}}, Table({"seq", "time", "actor", "action", "target",
                                                     "decision", "purpose", "reason"},
                                                    rows));
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* exp = audit->add_subcommand("export", "the whole log, for an auditor (P6b)");
  auto format = std::make_shared<std::string>("jsonl");
  auto out_path = std::make_shared<std::string>();
  exp->add_option("--format", *format, "jsonl")->check(CLI::IsMember({"jsonl"}));
  exp->add_option("--out", *out_path, "write to this file instead of standard output");
  exp->callback([&g, &action, out_path] {
    action = [&g, out_path] {
      return WithVault(g, [&](vault::Vault& v) {
        // A file goes through the Env: mode 0600, published whole; a failure leaves none.
        Status st = out_path->empty()
                        ? v.audit().Export(g.MakeContext(), std::cout)
                        : WriteStreamed(Env::Default(), *out_path, [&](std::ostream& os) {
                            return v.audit().Export(g.MakeContext(), os);
                          });
        return st.ok() ? static_cast<int>(kExitOk) : g.out().Fail(st);
      });
    };
  });

  AddAuditProofCommands(*audit, g, action);
  AddAuditQueryCommands(*audit, g, action);
}

}  // namespace custos::cli
