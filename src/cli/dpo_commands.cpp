// custos pia add|list|show|approve, custos assessment run|answer|signoff|show, custos policy
// record|list and custos evidence bundle|verify (issue 19; docs/dpo.md). Thin: parse, call the
// vault, print.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "api/view_json.h"
#include "cli/app.h"
#include "core/dates.h"
#include "core/env.h"
#include "core/output_stream.h"

namespace custos::cli {
namespace {

Result<std::string> ReadFile(std::string_view flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument(fmt::format("{} {}: cannot be read", flag, path));
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string PiaText(const vault::PiaView& p) {
  return fmt::format(
      "impact assessment {} ({}): {}\npurposes {}; fields {}; recipients {}; cross-border {}\n"
      "risks: {}\nmeasures: {}\nauthor {} on {}; approver {}; review by {}; kept until {}\n",
      p.pia_id, p.state, p.title, fmt::join(p.scope.purposes, ","), fmt::join(p.scope.fields, ","),
      fmt::join(p.scope.recipients, ","), p.scope.cross_border ? "yes" : "no", p.risks, p.measures,
      p.author, core::UtcDateOfMs(p.created_at_ms), p.approver.empty() ? "(none yet)" : p.approver,
      core::UtcDateOfMs(p.review_due_ms), core::UtcDateOfMs(p.keep_until_ms));
}

struct PiaFlags {
  vault::PiaSpec spec;
  std::string review;
};

void AddPiaCommands(CLI::App& app, Globals& g, Action& action) {
  auto* pia = app.add_subcommand("pia", "personal-information impact assessments (PIPL Art. 55)");
  pia->require_subcommand(1);
  auto* add = pia->add_subcommand("add", "draft an impact assessment (pia.manage)");
  auto f = std::make_shared<PiaFlags>();
  add->add_option("--title", f->spec.title, "what is assessed")->required();
  add->add_option("--purposes", f->spec.scope.purposes, "catalogue purposes, comma-separated")
      ->required()
      ->delimiter(',');
  add->add_option("--fields", f->spec.scope.fields, "catalogue fields, comma-separated")
      ->delimiter(',');
  add->add_option("--recipients", f->spec.scope.recipients, "partner ids, comma-separated")
      ->delimiter(',');
  add->add_flag("--cross-border", f->spec.scope.cross_border, "covers a cross-border transfer");
  add->add_option("--risks", f->spec.risks, "the risks found")->required();
  add->add_option("--measures", f->spec.measures, "the measures taken")->required();
  add->add_option("--review", f->review, "review date, YYYY-MM-DD")->required();
  OnRun(add, g, action, [&g, f](vault::Vault& v) {
    auto review = vault::ParseAuditTime("--review", f->review, false);
    if (!review.ok()) return g.out().Fail(review.status());
    vault::PiaSpec spec = f->spec;
    spec.review_due_ms = *review;
    auto r = v.dpo().AddPia(g.MakeContext(), spec);
    if (!r.ok()) return g.out().Fail(r.status());
    g.out().Print(api::PiaJson(*r),
                  fmt::format("impact assessment {} drafted; a second person approves it with "
                              "custos pia approve {}\n",
                              r->pia_id, r->pia_id));
    return static_cast<int>(kExitOk);
  });
  auto* list = pia->add_subcommand("list", "the impact assessments (pia.read)");
  OnRun(list, g, action, [&g](vault::Vault& v) {
    auto rows = v.dpo().Pias(g.MakeContext());
    if (!rows.ok()) return g.out().Fail(rows.status());
    nlohmann::json items = nlohmann::json::array();
    std::string text;
    for (const auto& p : *rows) {
      items.push_back(api::PiaJson(p));
      text += fmt::format("{:<26}  {:<10}  review {}  {}\n", p.pia_id, p.state,
                          core::UtcDateOfMs(p.review_due_ms), p.title);
    }
    g.out().Print({{"pias", items}}, text);
    return static_cast<int>(kExitOk);
  });
  for (const bool approve : {false, true}) {
    auto* cmd = pia->add_subcommand(approve ? "approve" : "show",
                                    approve ? "approve another's impact assessment (pia.approve)"
                                            : "an impact assessment (pia.read)");
    auto id = std::make_shared<std::string>();
    cmd->add_option("pia", *id, "impact assessment id")->required();
    OnRun(cmd, g, action, [&g, id, approve](vault::Vault& v) {
      auto r = approve ? v.dpo().ApprovePia(g.MakeContext(), *id)
                       : v.dpo().ShowPia(g.MakeContext(), *id);
      if (!r.ok()) return g.out().Fail(r.status());
      g.out().Print(api::PiaJson(*r), PiaText(*r));
      return static_cast<int>(kExitOk);
    });
  }
}

std::string AssessmentText(const vault::AssessmentView& a) {
  std::string out =
      fmt::format("self-assessment {} ({}), {} .. {}, started by {}\n", a.assessment_id, a.state,
                  core::UtcDateOfMs(a.from_ms), core::UtcDateOfMs(a.to_ms - 1), a.started_by);
  for (const auto& i : a.items) {
    out += fmt::format("  {:<20} {:<16} {:<8} {:<5} {}\n", i.id, i.clause,
                       i.answer.empty() ? "(open)" : i.answer, i.source, i.evidence);
  }
  if (!a.signed_off_by.empty()) {
    out += fmt::format("signed off by {} on {}\n", a.signed_off_by,
                       core::UtcDateOfMs(a.signed_off_at_ms));
  }
  return out;
}

struct AnswerFlags {
  std::string id;
  std::string item;
  std::string answer;
  std::string note;
};

void AddAssessmentCommands(CLI::App& app, Globals& g, Action& action) {
  auto* as = app.add_subcommand("assessment", "the self-assessment checklist (P6a, PIPL Art. 54)");
  as->require_subcommand(1);
  auto* run = as->add_subcommand("run", "a new checklist, answered where Custos holds evidence");
  auto from = std::make_shared<std::string>();
  auto to = std::make_shared<std::string>();
  run->add_option("--from", *from, "first day, YYYY-MM-DD")->required();
  run->add_option("--to", *to, "last day, YYYY-MM-DD, included")->required();
  OnRun(run, g, action, [&g, from, to](vault::Vault& v) {
    auto f = vault::ParseAuditTime("--from", *from, false, v.config().server.time_zone);
    if (!f.ok()) return g.out().Fail(f.status());
    auto t = vault::ParseAuditTime("--to", *to, true, v.config().server.time_zone);
    if (!t.ok()) return g.out().Fail(t.status());
    auto r = v.dpo().RunAssessment(g.MakeContext(), *f, *t);
    if (!r.ok()) return g.out().Fail(r.status());
    g.out().Print(api::AssessmentJson(*r), AssessmentText(*r));
    return static_cast<int>(kExitOk);
  });
  auto* answer = as->add_subcommand("answer", "answer an item (the DPO's word, with a note)");
  auto a = std::make_shared<AnswerFlags>();
  answer->add_option("assessment", a->id, "self-assessment id")->required();
  answer->add_option("--item", a->item, "the item's id")->required();
  answer->add_option("--answer", a->answer, "yes, no, partly or not_applicable")->required();
  answer->add_option("--note", a->note, "the evidence, no personal data")->required();
  OnRun(answer, g, action, [&g, a](vault::Vault& v) {
    auto r = v.dpo().AnswerAssessment(g.MakeContext(), a->id, a->item, a->answer, a->note);
    if (!r.ok()) return g.out().Fail(r.status());
    g.out().Print(api::AssessmentJson(*r), AssessmentText(*r));
    return static_cast<int>(kExitOk);
  });
  for (const bool signoff : {false, true}) {
    auto* cmd = as->add_subcommand(signoff ? "signoff" : "show",
                                   signoff ? "date and sign off a fully answered checklist"
                                           : "a self-assessment (the latest by default)");
    auto id = std::make_shared<std::string>();
    auto* opt = cmd->add_option("assessment", *id, "self-assessment id");
    if (signoff) opt->required();
    OnRun(cmd, g, action, [&g, id, signoff](vault::Vault& v) {
      auto r = signoff ? v.dpo().SignOffAssessment(g.MakeContext(), *id)
                       : v.dpo().ShowAssessment(g.MakeContext(), *id);
      if (!r.ok()) return g.out().Fail(r.status());
      g.out().Print(api::AssessmentJson(*r), AssessmentText(*r));
      return static_cast<int>(kExitOk);
    });
  }
}

nlohmann::json VersionJson(const vault::PolicyVersion& p) {
  return {{"kind", p.kind},
          {"version_no", p.version_no},
          {"sha256", p.sha256},
          {"effective", core::UtcDateOfMs(p.effective_ms)},
          {"recorded_at_ms", p.recorded_at_ms},
          {"recorded_by", p.recorded_by},
          {"source", p.source}};
}

void AddPolicyCommands(CLI::App& app, Globals& g, Action& action) {
  auto* pol = app.add_subcommand("policy", "the policy text and custos.toml versions (P6c)");
  pol->require_subcommand(1);
  auto* rec = pol->add_subcommand("record", "record the policy text in effect (policy.manage)");
  auto file = std::make_shared<std::string>();
  auto effective = std::make_shared<std::string>();
  rec->add_option("--file", *file, "the policy text (e.g. POLICY.md)")->required();
  rec->add_option("--effective", *effective, "the date it takes effect, YYYY-MM-DD")->required();
  OnRun(rec, g, action, [&g, file, effective](vault::Vault& v) {
    auto text = ReadFile("--file", *file);
    if (!text.ok()) return g.out().Fail(text.status());
    auto when = vault::ParseAuditTime("--effective", *effective, false);
    if (!when.ok()) return g.out().Fail(when.status());
    const std::string source = std::filesystem::path(*file).filename().string();
    auto r = v.dpo().RecordPolicy(g.MakeContext(), *text, source, *when);
    if (!r.ok()) return g.out().Fail(r.status());
    g.out().Print(VersionJson(*r),
                  fmt::format("policy version {} ({}) effective {}\n", r->version_no, r->sha256,
                              core::UtcDateOfMs(r->effective_ms)));
    return static_cast<int>(kExitOk);
  });
  auto* list = pol->add_subcommand("list", "recorded versions (policy.manage)");
  auto kind = std::make_shared<std::string>("policy");
  list->add_option("--kind", *kind, "policy (default) or config");
  OnRun(list, g, action, [&g, kind](vault::Vault& v) {
    auto rows = v.dpo().PolicyVersions(g.MakeContext(), *kind);
    if (!rows.ok()) return g.out().Fail(rows.status());
    nlohmann::json items = nlohmann::json::array();
    std::string text;
    for (const auto& p : *rows) {
      items.push_back(VersionJson(p));
      text += fmt::format("{} v{}  effective {}  {}  {}\n", p.kind, p.version_no,
                          core::UtcDateOfMs(p.effective_ms), p.sha256, p.source);
    }
    g.out().Print({{"versions", items}}, text);
    return static_cast<int>(kExitOk);
  });
}

struct BundleFlags {
  std::string from;
  std::string to;
  std::string out;
};

int VerifyBundle(Globals& g, const std::string& file, const std::string& key_file) {
  auto zip = ReadFile("bundle", file);
  if (!zip.ok()) return g.out().Fail(zip.status());
  std::string key;
  if (!key_file.empty()) {
    auto text = ReadFile("--public-key", key_file);
    if (!text.ok()) return g.out().Fail(text.status());
    for (char c : *text) {
      if (std::isxdigit(static_cast<unsigned char>(c)) != 0) key.push_back(c);
    }
  }
  const vault::EvidenceCheck c = vault::VerifyEvidence(*zip, key);
  std::string text = fmt::format("{}: {} ({} files, key {})\n", file,
                                 c.ok ? "verified" : "DOES NOT VERIFY", c.files, c.public_key);
  for (const std::string& p : c.problems) text += "  " + p + "\n";
  g.out().Print(
      {{"ok", c.ok}, {"files", c.files}, {"public_key", c.public_key}, {"problems", c.problems}},
      text);
  return c.ok ? static_cast<int>(kExitOk) : static_cast<int>(kExitDataLoss);
}

void AddEvidenceCommands(CLI::App& app, Globals& g, Action& action) {
  auto* ev = app.add_subcommand("evidence", "the signed evidence bundle for an audit (P6b)");
  ev->require_subcommand(1);
  auto* bundle = ev->add_subcommand("bundle", "write the bundle for a period (evidence.bundle)");
  auto f = std::make_shared<BundleFlags>();
  bundle->add_option("--from", f->from, "first day, YYYY-MM-DD")->required();
  bundle->add_option("--to", f->to, "last day, YYYY-MM-DD, included")->required();
  bundle->add_option("--out", f->out, "the zip to write (mode 0600)")->required();
  OnRun(bundle, g, action, [&g, f](vault::Vault& v) {
    auto from = vault::ParseAuditTime("--from", f->from, false, v.config().server.time_zone);
    if (!from.ok()) return g.out().Fail(from.status());
    auto to = vault::ParseAuditTime("--to", f->to, true, v.config().server.time_zone);
    if (!to.ok()) return g.out().Fail(to.status());
    auto b = v.dpo().BuildEvidence(g.MakeContext(), *from, *to);
    if (!b.ok()) return g.out().Fail(b.status());
    Status st = WriteStreamed(Env::Default(), f->out, [&](std::ostream& os) {
      os << b->zip;
      return Status::Ok();
    });
    if (!st.ok()) return g.out().Fail(st);
    g.out().Print({{"out", f->out}, {"files", b->files}},
                  fmt::format("evidence bundle ({} files and the signed manifest) written to {}\n"
                              "check it: custos evidence verify {}\n",
                              b->files.size(), f->out, f->out));
    return static_cast<int>(kExitOk);
  });
  auto* verify = ev->add_subcommand(
      "verify", "check a bundle's signed manifest and every file's digest (no vault needed)");
  auto file = std::make_shared<std::string>();
  auto key = std::make_shared<std::string>();
  verify->add_option("bundle", *file, "the bundle's zip")->required();
  verify->add_option("--public-key", *key, "the vault's public key in hex (vault.pub)");
  verify->callback([&g, &action, file, key] {
    action = [&g, file, key] { return VerifyBundle(g, *file, *key); };
  });
}

}  // namespace

void AddDpoCommands(CLI::App& app, Globals& g, Action& action) {
  AddPiaCommands(app, g, action);
  AddAssessmentCommands(app, g, action);
  AddPolicyCommands(app, g, action);
  AddEvidenceCommands(app, g, action);
}

}  // namespace custos::cli
