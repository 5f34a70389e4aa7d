// custos dsr verify|fulfil|refuse|lift: fulfilling data-subject requests (issue 18;
// docs/subject_requests.md). Thin: parse, call the vault, write what it answered, print.
#include <fmt/format.h>

#include "cli/app.h"
#include "core/dates.h"
#include "core/env.h"

namespace custos::cli {
namespace {

void AddVerifyCommand(CLI::App* dsr, Globals& g, Action& action) {
  auto* verify =
      dsr->add_subcommand("verify", "record how the requester was verified (dsr.manage)");
  auto id = std::make_shared<std::string>();
  auto how = std::make_shared<vault::Verification>();
  verify->add_option("request", *id, "request id")->required();
  verify
      ->add_option("--method", how->method,
                   "in_person_id_document, authenticated_account, callback_on_record, "
                   "video_id_check or notarised_letter")
      ->required();
  verify
      ->add_option("--evidence-ref", how->evidence_ref,
                   "where the evidence is kept (a case file reference, no personal data)")
      ->required();
  verify->callback([&g, &action, id, how] {
    action = [&g, id, how] {
      return WithVault(g, [&](vault::Vault& v) {
        Status st = v.subject_requests().Verify(g.MakeContext(), *id, *how);
        if (!st.ok()) return g.out().Fail(st);
        g.out().Print({{"request_id", *id}, {"verified", how->method}},
                      fmt::format("request {} verified: {}\n", *id, how->method));
        return static_cast<int>(kExitOk);
      });
    };
  });
}

// Writes what a fulfilment delivers (the report or explanation, the letter, a portability
// package) into `dir` (created 0700; files 0600: a report holds every value of the customer,
// unmasked).
Status WriteFiles(const std::filesystem::path& dir, const vault::Fulfilment& f) {
  CUSTOS_RETURN_IF_ERROR(Env::Default().CreateDirDurable(dir, 0700));
  for (const vault::FulfilmentFile& file : f.files) {
    CUSTOS_RETURN_IF_ERROR(Env::Default().CreateFileAtomic(dir / file.name, file.content, 0600));
  }
  return Status::Ok();
}

void AddFulfilCommand(CLI::App* dsr, Globals& g, Action& action) {
  auto* fulfil = dsr->add_subcommand("fulfil", "carry out a verified request (dsr.manage)");
  auto id = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  fulfil->add_option("request", *id, "request id")->required();
  fulfil->add_option("--out", *out,
                     "directory for what the fulfilment delivers: an access or copy request's "
                     "report.json and report.html, an explanation's explanation.json and "
                     "explanation.html, the answer letter (default ./dsr-REQUEST)");
  fulfil->callback([&g, &action, id, out] {
    action = [&g, id, out] {
      return WithVault(g, [&](vault::Vault& v) {
        auto f = v.subject_requests().Fulfil(g.MakeContext(), *id);
        if (!f.ok()) return g.out().Fail(f.status());
        std::string text = fmt::format("request {} ({} of customer {}): {}; {}\n", f->request_id,
                                       f->kind, f->customer_id, f->answer, f->detail);
        if (!f->files.empty()) {
          // The output is produced once: without --out it goes to ./dsr-<request id>.
          if (out->empty()) *out = "dsr-" + f->request_id;
          if (Status st = WriteFiles(*out, *f); !st.ok()) return g.out().Fail(st);
          std::string names;
          for (const vault::FulfilmentFile& file : f->files) {
            names += (names.empty() ? "" : ", ") + file.name;
          }
          text += fmt::format("written to {}: {}\n", *out, names);
        }
        if (!f->passphrase.empty()) {
          // Shown here once, for delivery to the customer apart from the package; the vault
          // keeps it nowhere.
          text += fmt::format(
              "one-time passphrase of portability.zip (shown once; deliver it separately): {}\n",
              f->passphrase);
        }
        g.out().Print({{"request_id", f->request_id},
                       {"customer_id", f->customer_id},
                       {"kind", f->kind},
                       {"answer", f->answer},
                       {"detail", f->detail},
                       {"until", f->until_ms == 0 ? "" : core::UtcDateOfMs(f->until_ms)},
                       {"report_dir", f->files.empty() ? "" : *out},
                       {"passphrase", f->passphrase}},
                      text);
        return static_cast<int>(kExitOk);
      });
    };
  });
}

void AddRefuseCommand(CLI::App* dsr, Globals& g, Action& action) {
  auto* refuse = dsr->add_subcommand(
      "refuse", "answer an open request refused, with the reason, and close it (dsr.manage)");
  auto id = std::make_shared<std::string>();
  auto reason = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  refuse->add_option("request", *id, "request id")->required();
  refuse->add_option("--reason", *reason, "why the request is refused, no personal data")
      ->required();
  refuse->add_option("--out", *out, "directory for the answer letter (default ./dsr-REQUEST)");
  refuse->callback([&g, &action, id, reason, out] {
    action = [&g, id, reason, out] {
      return WithVault(g, [&](vault::Vault& v) {
        auto f = v.subject_requests().Refuse(g.MakeContext(), *id, *reason);
        if (!f.ok()) return g.out().Fail(f.status());
        if (out->empty()) *out = "dsr-" + f->request_id;
        if (Status st = WriteFiles(*out, *f); !st.ok()) return g.out().Fail(st);
        g.out().Print(
            {{"request_id", f->request_id},
             {"customer_id", f->customer_id},
             {"kind", f->kind},
             {"answer", f->answer},
             {"outcome", "refused"},
             {"report_dir", *out}},
            fmt::format("request {} refused and closed; letter written to {}/letter.html\n",
                        f->request_id, *out));
        return static_cast<int>(kExitOk);
      });
    };
  });
}

void AddLiftCommand(CLI::App* dsr, Globals& g, Action& action) {
  auto* lift = dsr->add_subcommand("lift", "lift a customer's restriction of processing");
  auto customer = std::make_shared<std::string>();
  auto reference = std::make_shared<std::string>();
  lift->add_option("--customer", *customer, "customer id")->required();
  lift->add_option("--reference", *reference, "ticket reference, no personal data")->required();
  lift->callback([&g, &action, customer, reference] {
    action = [&g, customer, reference] {
      return WithVault(g, [&](vault::Vault& v) {
        Status st = v.subject_requests().LiftRestriction(g.MakeContext(), *customer, *reference);
        if (!st.ok()) return g.out().Fail(st);
        g.out().Print({{"customer_id", *customer}, {"restricted", false}},
                      fmt::format("restriction of customer {} lifted\n", *customer));
        return static_cast<int>(kExitOk);
      });
    };
  });
}

}  // namespace

void AddSubjectFulfilmentCommands(CLI::App* dsr, Globals& g, Action& action) {
  AddVerifyCommand(dsr, g, action);
  AddFulfilCommand(dsr, g, action);
  AddRefuseCommand(dsr, g, action);
  AddLiftCommand(dsr, g, action);
}

}  // namespace custos::cli
