// custos partner add|renew-cert|list|show, agreement add|list|show|revoke|confirm-deletion and
// share create|list|trace (issue 17; docs/sharing.md). Thin: parse, call the vault, print.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "api/view_json.h"
#include "cli/app.h"
#include "core/dates.h"
#include "core/env.h"

namespace custos::cli {
namespace {

// One line of `agreement list`; the last column names the incident whose containment
// suspended the agreement (issue 20), empty when it is not suspended.
std::string AgreementLine(const vault::AgreementView& a) {
  return fmt::format("{:<24}  {:<16}  {:<9}  {:<10}  {:>8}  {:<9}  {:<10}  {}\n", a.agreement_id,
                     a.partner_id, a.state, core::UtcDateOfMs(a.valid_until_ms), a.rows_shared,
                     a.deletion, a.deletion_due_ms == 0 ? "" : core::UtcDateOfMs(a.deletion_due_ms),
                     a.suspended_by_incident);
}

// The bytes of a file named on the command line; InvalidArgument naming the flag otherwise.
Result<std::string> ReadNamedFile(std::string_view flag, const std::string& path) {
  Result<std::string> text = Env::Default().ReadFile(path);
  if (!text.ok()) return InvalidArgument(fmt::format("{}: the file cannot be read", flag));
  return text;
}

// custos partner renew-cert ID --cert FILE: the partner's certificate replaced in place.
void AddPartnerRenewCert(CLI::App* partner, Globals& g, Action& action) {
  auto* renew = partner->add_subcommand(
      "renew-cert",
      "replace a partner's certificate; agreements and consents stay (partner.manage)");
  auto id = std::make_shared<std::string>();
  auto cert = std::make_shared<std::string>();
  renew->add_option("id", *id, "partner id")->required();
  renew->add_option("--cert", *cert, "the partner's new X.509 certificate (PEM file)")->required();
  renew->callback([&g, &action, id, cert] {
    action = [&g, id, cert] {
      auto pem = ReadNamedFile("cert", *cert);
      if (!pem.ok()) return g.out().Fail(pem.status());
      return WithVault(g, [&](vault::Vault& v) {
        auto p = v.sharing().RenewPartnerCertificate(g.MakeContext(), *id, *pem);
        if (!p.ok()) return g.out().Fail(p.status());
        g.out().Print(
            api::PartnerJson(*p),
            fmt::format("partner {} certificate renewed (sha256 {}, valid until {}; "
                        "replaced sha256 {})\n",
                        p->partner_id, p->cert_sha256, core::UtcDateOfMs(p->cert_not_after_ms),
                        p->previous_cert_sha256.back()));
        return static_cast<int>(kExitOk);
      });
    };
  });
}

void AddPartnerCommands(CLI::App& app, Globals& g, Action& action) {
  auto* partner = app.add_subcommand("partner", "partners customer data may be shared with");
  partner->require_subcommand(1);
  auto* add = partner->add_subcommand("add", "register a partner (partner.manage)");
  auto spec = std::make_shared<vault::PartnerSpec>();
  auto cert = std::make_shared<std::string>();
  add->add_option("id", spec->partner_id, "partner id (a-z 0-9 . _ -)")->required();
  add->add_option("--name", spec->name, "the partner's registered name")->required();
  add->add_option("--uscc", spec->uscc, "unified social credit code (GB 32100-2015)")->required();
  add->add_option("--category", spec->category, "a partner category of [sharing] categories");
  add->add_option("--cert", *cert, "the partner's X.509 certificate (PEM file)")->required();
  add->callback([&g, &action, spec, cert] {
    action = [&g, spec, cert] {
      auto pem = ReadNamedFile("cert", *cert);
      if (!pem.ok()) return g.out().Fail(pem.status());
      spec->cert_pem = std::move(pem).value();
      return WithVault(g, [&](vault::Vault& v) {
        auto p = v.sharing().AddPartner(g.MakeContext(), *spec);
        if (!p.ok()) return g.out().Fail(p.status());
        g.out().Print(
            api::PartnerJson(*p),
            fmt::format("partner {} registered (certificate sha256 {}, valid until {})\n",
                        p->partner_id, p->cert_sha256, core::UtcDateOfMs(p->cert_not_after_ms)));
        return static_cast<int>(kExitOk);
      });
    };
  });
  AddPartnerRenewCert(partner, g, action);
  for (const char* verb : {"list", "show"}) {
    auto* cmd =
        partner->add_subcommand(verb, std::string(verb) == "list" ? "every partner (share.read)"
                                                                  : "one partner (share.read)");
    auto id = std::make_shared<std::string>();
    if (std::string(verb) == "show") cmd->add_option("id", *id, "partner id")->required();
    cmd->callback([&g, &action, id] {
      action = [&g, id] {
        return WithVault(g, [&](vault::Vault& v) {
          auto rows = v.sharing().ListPartners(g.MakeContext(), *id);
          if (!rows.ok()) return g.out().Fail(rows.status());
          nlohmann::json items = nlohmann::json::array();
          std::string text;
          for (const auto& p : *rows) {
            items.push_back(api::PartnerJson(p));
            text +=
                fmt::format("{:<20}  {:<18}  {:<18}  cert {} until {}  {}\n", p.partner_id, p.uscc,
                            p.category.empty() ? "-" : p.category, p.cert_sha256.substr(0, 16),
                            core::UtcDateOfMs(p.cert_not_after_ms), p.name);
          }
          g.out().Print({{"partners", items}}, text);
          return static_cast<int>(kExitOk);
        });
      };
    });
  }
}

struct AgreementFlags {
  vault::AgreementSpec spec;
  std::string purposes;
  std::string fields;
  std::string until;
  std::string document;
};

void AddAgreementAdd(CLI::App* agreement, Globals& g, Action& action) {
  auto* add = agreement->add_subcommand(
      "add", "propose an agreement; it takes effect once a second staff member approves it");
  auto f = std::make_shared<AgreementFlags>();
  add->add_option("id", f->spec.agreement_id, "agreement id (a-z 0-9 . _ -)")->required();
  add->add_option("--partner", f->spec.partner_id, "partner id")->required();
  add->add_option("--document", f->document, "the signed agreement (its SHA-256 is kept)")
      ->required();
  add->add_option("--purposes", f->purposes, "purposes of use, comma-separated")->required();
  add->add_option("--fields", f->fields, "catalogue fields that may be shared, comma-separated");
  add->add_option("--profile", f->spec.profile, "a de-identification profile applied instead");
  add->add_option("--until", f->until, "end of validity, YYYY-MM-DD (exclusive)")->required();
  add->add_option("--max-rows", f->spec.max_rows, "customers in all shares together (0: no limit)");
  add->add_option("--cross-border", f->spec.cross_border,
                  "BASIS:REF of a transfer abroad (PIPL Art. 38): security_assessment, "
                  "certification or standard_contract");
  add->add_option("--impact-assessment", f->spec.impact_assessment,
                  "reference of the impact assessment (PIPL Art. 55)");
  add->add_option("--justification", f->spec.justification, "why, for the approver")->required();
  add->callback([&g, &action, f] {
    action = [&g, f] {
      auto doc = ReadNamedFile("document", f->document);
      if (!doc.ok()) return g.out().Fail(doc.status());
      f->spec.document = std::move(doc).value();
      auto until = ParseDate(f->until);
      if (!until.ok()) return g.out().Fail(InvalidArgument("until: expected YYYY-MM-DD"));
      f->spec.valid_until_ms = *until;
      for (auto [text, list] :
           {std::pair{&f->purposes, &f->spec.purposes}, std::pair{&f->fields, &f->spec.fields}}) {
        std::string item;
        for (char c : *text + ",") {
          if (c != ',') {
            item.push_back(c);
          } else if (!item.empty()) {
            list->push_back(item);
            item.clear();
          }
        }
      }
      return WithVault(g, [&](vault::Vault& v) {
        auto a = v.sharing().ProposeAgreement(g.MakeContext(), f->spec);
        if (!a.ok()) return g.out().Fail(a.status());
        g.out().Print(api::AgreementJson(*a),
                      fmt::format("agreement {} proposed (document sha256 {}); it takes effect "
                                  "once a second staff member runs: custos approval approve {}\n",
                                  a->agreement_id, a->document_sha256, a->approval_id));
        return static_cast<int>(kExitOk);
      });
    };
  });
}

void AddAgreementCommands(CLI::App& app, Globals& g, Action& action) {
  auto* agreement =
      app.add_subcommand("agreement", "data-sharing agreements with partners (P3.3c)");
  agreement->require_subcommand(1);
  AddAgreementAdd(agreement, g, action);

  auto* list = agreement->add_subcommand("list", "every agreement (share.read)");
  auto partner = std::make_shared<std::string>();
  auto overdue = std::make_shared<bool>(false);
  list->add_option("--partner", *partner, "only this partner's agreements");
  list->add_flag("--overdue", *overdue, "only those whose partner deletion is overdue");
  list->callback([&g, &action, partner, overdue] {
    action = [&g, partner, overdue] {
      return WithVault(g, [&](vault::Vault& v) {
        auto rows = v.sharing().ListAgreements(g.MakeContext(), *partner, *overdue);
        if (!rows.ok()) return g.out().Fail(rows.status());
        nlohmann::json items = nlohmann::json::array();
        std::string text =
            fmt::format("{:<24}  {:<16}  {:<9}  {:<10}  {:>8}  {:<9}  {:<10}  {}\n", "agreement",
                        "partner", "state", "until", "shared", "deletion", "due", "suspended by");
        for (const auto& a : *rows) {
          items.push_back(api::AgreementJson(a));
          text += AgreementLine(a);
        }
        g.out().Print({{"agreements", items}}, text);
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* show = agreement->add_subcommand("show", "one agreement (share.read)");
  auto show_id = std::make_shared<std::string>();
  show->add_option("id", *show_id, "agreement id")->required();
  show->callback([&g, &action, show_id] {
    action = [&g, show_id] {
      return WithVault(g, [&](vault::Vault& v) {
        auto a = v.sharing().ShowAgreement(g.MakeContext(), *show_id);
        if (!a.ok()) return g.out().Fail(a.status());
        std::string text = api::AgreementJson(*a).dump(2) + "\n";
        if (!a->suspended_by_incident.empty()) {
          text += fmt::format("suspended by incident {} (containment): no new share until lifted\n",
                              a->suspended_by_incident);
        }
        g.out().Print(api::AgreementJson(*a), text);
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* revoke = agreement->add_subcommand("revoke", "end an agreement now (partner.manage)");
  auto revoke_id = std::make_shared<std::string>();
  auto reason = std::make_shared<std::string>();
  revoke->add_option("id", *revoke_id, "agreement id")->required();
  revoke->add_option("--reason", *reason, "why, without personal data")->required();
  revoke->callback([&g, &action, revoke_id, reason] {
    action = [&g, revoke_id, reason] {
      return WithVault(g, [&](vault::Vault& v) {
        auto a = v.sharing().RevokeAgreement(g.MakeContext(), *revoke_id, *reason);
        if (!a.ok()) return g.out().Fail(a.status());
        g.out().Print(api::AgreementJson(*a),
                      fmt::format("agreement {} revoked; partner deletion: {}{}\n", a->agreement_id,
                                  a->deletion,
                                  a->deletion_due_ms == 0
                                      ? ""
                                      : " (due by " + core::UtcDateOfMs(a->deletion_due_ms) + ")"));
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* confirm = agreement->add_subcommand(
      "confirm-deletion", "record the partner's confirmation that it deleted the data");
  auto confirm_id = std::make_shared<std::string>();
  auto document = std::make_shared<std::string>();
  confirm->add_option("id", *confirm_id, "agreement id")->required();
  confirm->add_option("--document", *document, "the partner's confirmation (its SHA-256 is kept)")
      ->required();
  confirm->callback([&g, &action, confirm_id, document] {
    action = [&g, confirm_id, document] {
      auto doc = ReadNamedFile("document", *document);
      if (!doc.ok()) return g.out().Fail(doc.status());
      return WithVault(g, [&](vault::Vault& v) {
        auto a = v.sharing().ConfirmDeletion(g.MakeContext(), *confirm_id, *doc);
        if (!a.ok()) return g.out().Fail(a.status());
        g.out().Print(api::AgreementJson(*a),
                      fmt::format("deletion under agreement {} confirmed (sha256 {})\n",
                                  a->agreement_id, a->deletion_sha256));
        return static_cast<int>(kExitOk);
      });
    };
  });
}

void AddShareCommands(CLI::App& app, Globals& g, Action& action) {
  auto* share = app.add_subcommand("share", "shares with partners under agreements (P3.3c)");
  share->require_subcommand(1);

  auto* create = share->add_subcommand(
      "create", "share customers' data with a partner, encrypted to it (share.create)");
  auto spec = std::make_shared<vault::ShareSpec>();
  auto out = std::make_shared<std::string>();
  create->add_option("--agreement", spec->agreement_id, "agreement id")->required();
  create
      ->add_option("-o,--out", *out,
                   "the package to write (FILE.manifest.json and "
                   "FILE.manifest.sig beside it)")
      ->required();
  create->add_option("--where", spec->where,
                     "source=VALUE, created_after=YYYY-MM-DD or created_before=YYYY-MM-DD");
  create->add_option("--format", spec->format,
                     "the package's content: csv (default) or jsonl (one JSON object per row)");
  create->callback([&g, &action, spec, out] {
    action = [&g, spec, out] {
      return WithVault(g, [&](vault::Vault& v) {
        auto r = v.sharing().CreateShare(g.MakeContext(), *spec);
        if (!r.ok()) return g.out().Fail(r.status());
        Env& env = Env::Default();
        for (auto [path, bytes] :
             {std::pair{*out, &r->package}, std::pair{*out + ".manifest.json", &r->manifest}}) {
          Status st = env.WriteFileAtomic(path, *bytes, 0600);
          if (!st.ok()) return g.out().Fail(st);
        }
        Status st = env.WriteFileAtomic(*out + ".manifest.sig", r->manifest_signature + "\n", 0600);
        if (!st.ok()) return g.out().Fail(st);
        nlohmann::json doc = {{"share_id", r->share_id},
                              {"agreement_id", r->agreement_id},
                              {"partner_id", r->partner_id},
                              {"row_count", r->row_count},
                              {"left_out", r->left_out},
                              {"fields", r->fields},
                              {"profile", r->profile},
                              {"format", r->format},
                              {"package_sha256", r->package_sha256}};
        if (!r->profile.empty()) {  // as the API answers them: under a profile only
          doc["differencing_classes"] = r->differencing_classes;
          doc["differencing_customers"] = r->differencing_customers;
        }
        g.out().Print(
            doc,
            fmt::format(
                "share {} to partner {}: {} customers ({} left out: no sharing "
                "consent), {} {}; package {} (sha256 {}){}\n",
                r->share_id, r->partner_id, r->row_count, r->left_out,
                r->profile.empty() ? "fields"
                                   : "de-identified under profile " + r->profile + ", columns",
                fmt::join(r->fields, ","), *out, r->package_sha256,
                r->differencing_classes == 0
                    ? ""
                    : "\n  differencing " + vault::DifferencingNote(r->differencing_classes,
                                                                    r->differencing_customers)));
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* list = share->add_subcommand("list", "the shares made (share.read)");
  auto agreement = std::make_shared<std::string>();
  list->add_option("--agreement", *agreement, "only the shares under this agreement");
  list->callback([&g, &action, agreement] {
    action = [&g, agreement] {
      return WithVault(g, [&](vault::Vault& v) {
        auto rows = v.sharing().ListShares(g.MakeContext(), *agreement);
        if (!rows.ok()) return g.out().Fail(rows.status());
        nlohmann::json items = nlohmann::json::array();
        std::string text;
        for (const auto& s : *rows) {
          items.push_back(api::ShareJson(s));
          text +=
              fmt::format("{}  {:<24}  {:<16}  {}  {:>8} rows  {:>6} left out  by {}\n", s.share_id,
                          s.agreement_id, s.partner_id, core::UtcDateOfMs(s.created_at_ms),
                          s.row_count, s.left_out, s.created_by);
        }
        g.out().Print({{"shares", items}}, text);
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* trace = share->add_subcommand("trace", "name the share a leaked copy came from");
  auto file = std::make_shared<std::string>();
  trace->add_option("file", *file, "the leaked copy (CSV, or JSONL when it starts with '{')")
      ->required();
  trace->callback([&g, &action, file] {
    action = [&g, file] {
      auto copy = ReadNamedFile("file", *file);
      if (!copy.ok()) return g.out().Fail(copy.status());
      return WithVault(g, [&](vault::Vault& v) {
        auto r = v.sharing().Trace(g.MakeContext(), *copy);
        if (!r.ok()) return g.out().Fail(r.status());
        std::string text;
        if (r->matched) {
          const auto& b = r->candidates.front();
          text = fmt::format(
              "the copy ({} rows) comes from share {}: partner {}, agreement {}; confidence "
              "{:.9f} ({} of {} keyed spellings agree, {} canary rows)\n",
              r->rows, b.share_id, b.partner_id, b.agreement_id, b.confidence, b.agreeing,
              b.spellings, b.canary_hits);
        } else {
          text = fmt::format("the copy ({} rows) matches no recorded share\n", r->rows);
        }
        g.out().Print(api::TraceJson(*r), text);
        return static_cast<int>(kExitOk);
      });
    };
  });
}

}  // namespace

void AddSharingCommands(CLI::App& app, Globals& g, Action& action) {
  AddPartnerCommands(app, g, action);
  AddAgreementCommands(app, g, action);
  AddShareCommands(app, g, action);
}

}  // namespace custos::cli
