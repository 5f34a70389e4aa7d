// custos notice publish|list, custos consent grant|withdraw|list, and the consent flags that
// `customer add` and `import` share (P3.1a, P3.3a; docs/consent.md).
#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/app.h"
#include "consent/consent.h"
#include "core/dates.h"

namespace custos::cli {
namespace {

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

// "2026-12-01" (UTC midnight) or "" (now: 0). InvalidArgument otherwise. One-digit month and
// day ("2026-1-5") have always been accepted here.
Result<int64_t> ParseDate(const std::string& text) {
  if (text.empty()) return int64_t{0};
  Result<std::chrono::year_month_day> d = core::ParseCivilDate(text, {.short_fields = true});
  if (!d.ok()) return InvalidArgument("--effective: must be a date YYYY-MM-DD");
  return core::UtcMidnightMs(*d);
}

nlohmann::json NoticeJson(const vault::NoticeView& n, bool with_text) {
  nlohmann::json doc = {{"version", n.version},
                        {"text_sha256", n.text_sha256},
                        {"purposes", n.purposes},
                        {"effective_at_ms", n.effective_at_ms},
                        {"published_at_ms", n.published_at_ms},
                        {"publisher", n.publisher},
                        {"shares", n.shares}};
  if (with_text) doc["text"] = n.text;
  return doc;
}

nlohmann::json ConsentsJson(const vault::ConsentsView& c) {
  nlohmann::json entries = nlohmann::json::array();
  for (const vault::ConsentEntryView& e : c.entries) {
    entries.push_back({{"seq", e.seq},
                       {"action", e.action},
                       {"scope", e.scope},
                       {"purpose", e.purpose},
                       {"notice_version", e.notice_version},
                       {"channel", e.channel},
                       {"evidence_ref", e.evidence_ref},
                       {"recorded_at_ms", e.recorded_at_ms},
                       {"actor", e.actor}});
  }
  return {{"customer_id", c.customer_id}, {"granted_purposes", c.granted_purposes},
          {"sensitive", c.sensitive},     {"third_party", c.third_party},
          {"shares", c.shares},           {"entries", entries}};
}

std::string ConsentsText(const vault::ConsentsView& c) {
  std::string s = fmt::format(
      "customer {}\n  granted purposes: {}\n  sensitive: {}  third_party: {}\n  sharing: {}\n"
      "  ledger:\n",
      c.customer_id, c.granted_purposes.empty() ? "(none)" : Join(c.granted_purposes),
      c.sensitive ? "granted" : "not granted", c.third_party ? "granted" : "not granted",
      c.shares.empty() ? "(none)" : Join(c.shares));
  for (const vault::ConsentEntryView& e : c.entries) {
    s += fmt::format("  {:>4}  {:<8} {:<11} {:<20} notice v{:<3} {:<8} {}\n", e.seq, e.action,
                     e.scope, e.purpose.empty() ? "-" : e.purpose, e.notice_version, e.channel,
                     e.evidence_ref);
  }
  return s;
}

void AddNoticeCommands(CLI::App& app, Globals& g, Action& action) {
  auto* notice = app.add_subcommand("notice", "privacy notices (P3.1a): publish, list");
  notice->require_subcommand(1);

  auto* publish = notice->add_subcommand("publish", "publish a new privacy notice version");
  auto file = std::make_shared<std::string>();
  auto purposes = std::make_shared<std::string>();
  auto version = std::make_shared<int64_t>(0);
  auto effective = std::make_shared<std::string>();
  auto shares = std::make_shared<std::string>();
  publish->add_option("--text-file", *file, "the notice text (UTF-8)")->required();
  publish->add_option("--purposes", *purposes, "comma-separated catalogue purposes it lists")
      ->required();
  publish->add_option("--version", *version, "version number (default: latest + 1)");
  publish->add_option("--effective", *effective, "effective date YYYY-MM-DD (default: now)");
  publish->add_option("--shares", *shares,
                      "comma-separated recipients it names, partner:ID or category:NAME (the "
                      "only sharing consents it can support; PIPL Art. 23)");
  publish->callback([&g, &action, file, purposes, version, effective, shares] {
    action = [&g, file, purposes, version, effective, shares] {
      std::ifstream in(*file, std::ios::binary);
      if (!in) return g.out().Fail(NotFound(fmt::format("--text-file: cannot open {}", *file)));
      std::stringstream text;
      text << in.rdbuf();
      auto effective_ms = ParseDate(*effective);
      if (!effective_ms.ok()) return g.out().Fail(effective_ms.status());
      return WithVault(g, [&](vault::Vault& v) {
        vault::NoticeSpec spec;
        spec.version = *version;
        spec.text = text.str();
        spec.purposes = Split(*purposes);
        spec.effective_at_ms = *effective_ms;
        spec.shares = Split(*shares);
        auto published = v.consent().PublishNotice(g.MakeContext(), spec);
        if (!published.ok()) return g.out().Fail(published.status());
        g.out().Print(NoticeJson(*published, false),
                      fmt::format("notice v{} published (sha256 {})\n", published->version,
                                  published->text_sha256));
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* list = notice->add_subcommand("list", "list published notices");
  auto with_text = std::make_shared<bool>(false);
  list->add_flag("--text", *with_text, "include each notice's text");
  list->callback([&g, &action, with_text] {
    action = [&g, with_text] {
      return WithVault(g, [&](vault::Vault& v) {
        auto notices = v.consent().ListNotices(g.MakeContext());
        if (!notices.ok()) return g.out().Fail(notices.status());
        nlohmann::json doc = nlohmann::json::array();
        std::string text;
        for (const vault::NoticeView& n : *notices) {
          doc.push_back(NoticeJson(n, *with_text));
          text += fmt::format("v{:<3} sha256 {}  purposes {}{}{}\n", n.version, n.text_sha256,
                              Join(n.purposes), n.shares.empty() ? "" : "  names ", Join(n.shares));
          if (*with_text) text += n.text + "\n";
        }
        g.out().Print({{"notices", doc}}, text);  // the API's shape (GET /v1/notices)
        return static_cast<int>(kExitOk);
      });
    };
  });
}

struct ChangeFlags {
  std::string customer_id;
  std::string scope = "purpose";
  std::string purpose;
  int64_t notice_version = 0;
  std::string channel;
  std::string evidence;
};

void AddChange(CLI::App* consent, Globals& g, Action& action, const std::string& verb) {
  auto* cmd = consent->add_subcommand(
      verb, verb == "grant" ? "record a customer's consent" : "record a customer's withdrawal");
  auto f = std::make_shared<ChangeFlags>();
  cmd->add_option("customer", f->customer_id, "customer id")->required();
  cmd->add_option("--scope", f->scope, "purpose (default), sensitive, third_party or share")
      ->check(CLI::IsMember({"purpose", "sensitive", "third_party", "share"}));
  cmd->add_option("--purpose", f->purpose,
                  "the catalogue purpose (scope purpose); partner:ID or category:NAME (scope "
                  "share, docs/sharing.md)");
  auto* notice = cmd->add_option("--notice-version", f->notice_version,
                                 "the privacy notice version the customer was shown");
  if (verb == "grant") notice->required();
  cmd->add_option("--channel", f->channel, "how the customer told us (default cli)");
  cmd->add_option("--evidence", f->evidence, "opaque evidence id (default: generated)");
  cmd->callback([&g, &action, f, verb] {
    action = [&g, f, verb] {
      return WithVault(g, [&](vault::Vault& v) {
        vault::ConsentRequest request;
        request.action = verb;
        request.scope = f->scope;
        request.purpose = f->purpose;
        request.notice_version = f->notice_version;
        request.channel = f->channel;
        request.evidence_ref =
            f->evidence.empty() ? ::custos::consent::NewEvidenceRef("cli") : f->evidence;
        auto seq = v.consent().Record(g.MakeContext(), f->customer_id, request);
        if (!seq.ok()) return g.out().Fail(seq.status());
        g.out().Print({{"customer_id", f->customer_id}, {"seq", *seq}, {"action", verb}},
                      fmt::format("recorded: {} (ledger entry {})\n", verb, *seq));
        return static_cast<int>(kExitOk);
      });
    };
  });
}

void AddConsentLedgerCommands(CLI::App& app, Globals& g, Action& action) {
  auto* consent = app.add_subcommand("consent", "a customer's consent: grant, withdraw, list");
  consent->require_subcommand(1);
  AddChange(consent, g, action, "grant");
  AddChange(consent, g, action, "withdraw");
  auto* list = consent->add_subcommand("list", "a customer's consent ledger and current state");
  auto id = std::make_shared<std::string>();
  list->add_option("customer", *id, "customer id")->required();
  list->callback([&g, &action, id] {
    action = [&g, id] {
      return WithVault(g, [&](vault::Vault& v) {
        auto view = v.consent().List(g.MakeContext(), *id);
        if (!view.ok()) return g.out().Fail(view.status());
        g.out().Print(ConsentsJson(*view), ConsentsText(*view));
        return static_cast<int>(kExitOk);
      });
    };
  });
}

}  // namespace

void AddCollectionConsentFlags(CLI::App* cmd, const std::shared_ptr<CollectionConsentFlags>& f) {
  cmd->add_option("--consent-purposes", f->purposes,
                  "comma-separated purposes the customer consented to at collection (P3.1a)")
      ->required();
  cmd->add_option("--notice-version", f->notice_version,
                  "the privacy notice version the customer was shown")
      ->required();
  cmd->add_flag("--sensitive-consent", f->sensitive,
                "separate consent to process sensitive fields (PIPL Art. 29)");
  cmd->add_flag("--third-party-consent", f->third_party,
                "separate consent to provision to third parties (PIPL Art. 23)");
  cmd->add_option("--share-consent", f->shares,
                  "separate consents to sharing, comma-separated: partner:ID (a registered "
                  "partner) or category:NAME (docs/sharing.md)");
}

vault::CollectionConsent ToCollectionConsent(const CollectionConsentFlags& f,
                                             std::string evidence_ref) {
  vault::CollectionConsent c;
  c.notice_version = f.notice_version;
  c.purposes = Split(f.purposes);
  c.sensitive = f.sensitive;
  c.third_party = f.third_party;
  c.shares = Split(f.shares);
  c.evidence_ref = std::move(evidence_ref);
  return c;
}

void AddConsentCommands(CLI::App& app, Globals& g, Action& action) {
  AddNoticeCommands(app, g, action);
  AddConsentLedgerCommands(app, g, action);
}

}  // namespace custos::cli
