// The DPO's desk, part two (issue 19; docs/dpo.md), on SQLite and PostgreSQL: impact
// assessments approved by a second person and kept past retention for three years; an
// agreement (or a purpose) that needs one refused without it and accepted with one covering
// it; the self-assessment answered from Custos' records and signed off once complete; policy
// and configuration versions; the evidence bundle's signed manifest verified, with a changed
// file and a changed manifest detected, and checked by openssl and sha256sum alone.
#include <fmt/format.h>
#include <zip.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

constexpr char kUscc[] = "91350100M000100Y43";

int Shell(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str());
}

// The zip's entries (read with libzip, as an auditor's unzip would).
std::map<std::string, std::string> Unzip(const std::string& bytes) {
  std::map<std::string, std::string> out;
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  zip_t* archive = zip_open_from_source(src, ZIP_RDONLY, &error);
  if (archive == nullptr) return out;
  for (zip_int64_t i = 0; i < zip_get_num_entries(archive, 0); ++i) {
    zip_stat_t st;
    zip_stat_index(archive, static_cast<zip_uint64_t>(i), 0, &st);
    zip_file_t* f = zip_fopen_index(archive, static_cast<zip_uint64_t>(i), 0);
    std::string content(static_cast<size_t>(st.size), '\0');
    zip_fread(f, content.data(), content.size());
    zip_fclose(f);
    out[st.name] = content;
  }
  zip_discard(archive);
  return out;
}

// A zip of `entries` (for a tampered copy of a bundle).
std::string Zip(const std::map<std::string, std::string>& entries,
                const std::filesystem::path& path) {
  int err = 0;
  zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  for (const auto& [name, content] : entries) {
    zip_source_t* s = zip_source_buffer(archive, content.data(), content.size(), 0);
    zip_file_add(archive, name.c_str(), s, ZIP_FL_ENC_UTF_8);
  }
  zip_close(archive);
  return ReadFileBytes(path);
}

class DpoTest : public VaultTest {
 protected:
  void SetUp() override {
    VaultTest::SetUp();
    if (vault_ == nullptr) return;
    AddStaff({{"pm.one", "partnership_manager", "partnership_manager"},
              {"sec.admin", "security_administrator", "security_admin"}});
    if (HasFatalFailure()) return;
  }

  Context Pm() const { return Context{"pm.one", "", Channel::kCli, "req-pm"}; }
  Context Dpo() const { return Context{"dpo", "", Channel::kCli, "req-dpo"}; }
  Context Security() const { return Context{"sec.admin", "", Channel::kCli, "req-sec"}; }

  // Replaces custos.toml's [dpo] require_pia line and reopens the vault.
  void RequirePia(const std::string& list) {
    const std::filesystem::path path = dir_ / "custos.toml";
    std::string text = ReadFileBytes(path);
    const std::string from = "require_pia = [\"cross_border\"]";
    const size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << "the shipped custos.toml has [dpo] require_pia";
    text.replace(at, from.size(), "require_pia = " + list);
    std::ofstream(path, std::ios::trunc) << text;
    Reopen();
  }

  PiaSpec Pia(std::vector<std::string> purposes, std::vector<std::string> fields,
              std::vector<std::string> recipients, bool cross_border = false) const {
    PiaSpec p;
    p.title = "Fraud screening by a payment processor";
    p.scope = PiaScope{std::move(purposes), std::move(fields), std::move(recipients), cross_border};
    p.risks = "Re-identification by the processor; retention past the agreement's end.";
    p.measures = "Three fields only; encrypted package; deletion confirmed within 30 days.";
    p.review_due_ms = now_ms_.load() + 365 * kDayMs;
    return p;
  }

  // Drafted by the partnership manager, approved by the DPO.
  std::string ApprovedPia(const PiaSpec& spec) {
    auto made = vault_->dpo().AddPia(Pm(), spec);
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    if (!made.ok()) return "";
    auto approved = vault_->dpo().ApprovePia(Dpo(), made->pia_id);
    EXPECT_TRUE(approved.ok()) << approved.status().ToString();
    return made->pia_id;
  }

  // The partner and a proposed agreement (risk_control; phone, email, birth_date): its
  // approval id.
  std::string ProposeAgreement(const std::string& cross_border = "") {
    const std::string key = (root_ / "acme-key.pem").string();
    const std::string cert = (root_ / "acme-cert.pem").string();
    EXPECT_EQ(Shell(fmt::format("openssl req -x509 -newkey rsa:2048 -nodes -keyout {} -out {} "
                                "-subj /CN=acme-partner -days 3650",
                                key, cert)),
              0);
    auto p =
        vault_->sharing().AddPartner(Pm(), PartnerSpec{"acme-pay", "Acme Payments Co., Ltd.", kUscc,
                                                       "payment_processor", ReadFileBytes(cert)});
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    AgreementSpec a;
    a.agreement_id = "acme-2026";
    a.partner_id = "acme-pay";
    a.document = "signed agreement text";
    a.purposes = {"risk_control"};
    a.fields = {"phone", "email", "birth_date"};
    a.valid_until_ms = now_ms_.load() + 365 * kDayMs;
    a.impact_assessment = "PIA-2026-007";
    a.cross_border = cross_border;
    a.justification = "fraud screening by the payment processor";
    auto proposed = vault_->sharing().ProposeAgreement(Pm(), a);
    EXPECT_TRUE(proposed.ok()) << proposed.status().ToString();
    return proposed.ok() ? proposed->approval_id : "";
  }
};

TEST_F(DpoTest, AnImpactAssessmentIsApprovedByASecondPersonNeverItsAuthor) {
  auto made = vault_->dpo().AddPia(Dpo(), Pia({"risk_control"}, {"phone"}, {}));
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(made->state, "draft");
  EXPECT_EQ(made->keep_until_ms - made->created_at_ms, kPiaKeepMs);
  auto own = vault_->dpo().ApprovePia(Dpo(), made->pia_id);
  EXPECT_EQ(own.status().code(), Code::kPermissionDenied);
  EXPECT_NE(own.status().message().find("author"), std::string::npos);
  // A partnership manager may draft but not approve (no pia.approve).
  auto drafted = vault_->dpo().AddPia(Pm(), Pia({"risk_control"}, {"phone"}, {"acme-pay"}));
  ASSERT_TRUE(drafted.ok()) << drafted.status().ToString();
  EXPECT_EQ(vault_->dpo().ApprovePia(Pm(), made->pia_id).status().code(), Code::kPermissionDenied);
  auto approved = vault_->dpo().ApprovePia(Dpo(), drafted->pia_id);
  ASSERT_TRUE(approved.ok()) << approved.status().ToString();
  EXPECT_EQ(approved->state, "approved");
  EXPECT_EQ(approved->approver, "dpo");
  EXPECT_EQ(approved->author, "pm.one");
  auto listed = vault_->dpo().Pias(Dpo());
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 2u);
  // Bad input names the member.
  PiaSpec bad = Pia({"no_such_purpose"}, {}, {});
  EXPECT_NE(vault_->dpo().AddPia(Dpo(), bad).status().message().find("purposes"),
            std::string::npos);
  bad = Pia({"risk_control"}, {}, {});
  bad.review_due_ms = now_ms_.load() - kDayMs;
  EXPECT_NE(vault_->dpo().AddPia(Dpo(), bad).status().message().find("review_due"),
            std::string::npos);
}

TEST_F(DpoTest, APiaRequiredAgreementIsRefusedWithoutOneAndAcceptedWithAnApprovedOneCoveringIt) {
  RequirePia("[\"agreement\"]");
  const std::string approval = ProposeAgreement();
  Status refused = vault_->approvals().Approve(Dpo(), approval);
  EXPECT_EQ(refused.code(), Code::kFailedPrecondition) << refused.ToString();
  EXPECT_NE(refused.message().find("impact assessment"), std::string::npos);
  // One that covers less (not the birth date) does not do; a draft does not either.
  ApprovedPia(Pia({"risk_control"}, {"phone", "email"}, {"acme-pay"}));
  ASSERT_TRUE(
      vault_->dpo()
          .AddPia(Pm(), Pia({"risk_control"}, {"phone", "email", "birth_date"}, {"acme-pay"}))
          .ok());
  EXPECT_EQ(vault_->approvals().Approve(Dpo(), approval).code(), Code::kFailedPrecondition);
  ApprovedPia(Pia({"risk_control"}, {"phone", "email", "birth_date"}, {"acme-pay"}));
  Status st = vault_->approvals().Approve(Dpo(), approval);
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto shown = vault_->sharing().ShowAgreement(Pm(), "acme-2026");
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  EXPECT_EQ(shown->state, "active");
}

TEST_F(DpoTest, ACrossBorderAgreementNeedsAnAssessmentCoveringTheTransferByDefault) {
  const std::string approval = ProposeAgreement("standard_contract:SC-2026-0042");
  ApprovedPia(Pia({"risk_control"}, {"phone", "email", "birth_date"}, {"acme-pay"}));
  EXPECT_EQ(vault_->approvals().Approve(Dpo(), approval).code(), Code::kFailedPrecondition);
  ApprovedPia(Pia({"risk_control"}, {"phone", "email", "birth_date"}, {"acme-pay"}, true));
  Status st = vault_->approvals().Approve(Dpo(), approval);
  EXPECT_TRUE(st.ok()) << st.ToString();
}

TEST_F(DpoTest, APurposeWithoutAnApprovedAssessmentIsRefusedWhenTheConfigurationRequiresOne) {
  RequirePia("[\"purpose\"]");
  auto refused = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  ASSERT_EQ(refused.status().code(), Code::kPermissionDenied);
  EXPECT_NE(refused.status().message().find("impact assessment"), std::string::npos);
  ApprovedPia(Pia({"customer_service", "account_management"}, {}, {}));
  auto made = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  EXPECT_TRUE(made.ok()) << made.status().ToString();
  // Read by a new process: the approval is read at open.
  Reopen();
  EXPECT_TRUE(vault_->customers().Get(Agent(), *made, {}).ok());
  // A purpose of legal obligation needs none.
  EXPECT_TRUE(vault_->customers().Get(Agent("legal_obligation"), *made, {}).ok());
}

TEST_F(DpoTest, AnAssessmentIsKeptThreeYearsWhateverRetentionDestroys) {
  const std::string id = ApprovedPia(Pia({"risk_control"}, {"phone"}, {"acme-pay"}));
  auto customer = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  ASSERT_TRUE(customer.ok()) << customer.status().ToString();
  now_ms_ += 4 * 365 * kDayMs;  // past the customer's retention (3 years after last activity)
  Reopen();
  auto plan = vault_->lifecycle().PlanRetention(Dpo());
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ApprovalRequest req;
  req.kind = "destruction";
  req.justification = "retention sweep of the quarter, policy P3.4a";
  req.duration_ms = 7 * kDayMs;
  req.plan_id = plan->plan_id;
  auto approval = vault_->approvals().Request(Dpo(), req);
  ASSERT_TRUE(approval.ok()) << approval.status().ToString();
  ASSERT_TRUE(vault_->approvals().Approve(Security(), *approval).ok());
  auto run = vault_->lifecycle().RunRetentionPlan(Dpo(), plan->plan_id);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->customers, 1);  // retention did destroy what was due
  auto shown = vault_->dpo().ShowPia(Dpo(), id);
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  EXPECT_EQ(shown->state, "review_due");  // no longer in force, still kept
  EXPECT_GE(shown->keep_until_ms, shown->approved_at_ms + kPiaKeepMs);
}

TEST_F(DpoTest, TheSelfAssessmentIsAnsweredFromCustosRecordsAndSignedOffWhenComplete) {
  ASSERT_TRUE(vault_->customers().Create(Sales(), WangFang(), "form", Consented()).ok());
  const int64_t from = now_ms_.load() - 90 * kDayMs;
  auto a = vault_->dpo().RunAssessment(Dpo(), from, now_ms_.load() + kDayMs);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->items.size(), 18u);
  size_t automatic = 0;
  for (const AssessmentItem& i : a->items) {
    EXPECT_FALSE(i.clause.empty()) << i.id;
    EXPECT_FALSE(i.pipl.empty()) << i.id;
    if (i.source == "auto") {
      ++automatic;
      EXPECT_FALSE(i.answer.empty()) << i.id;
      EXPECT_FALSE(i.evidence.empty()) << i.id;
    }
  }
  EXPECT_EQ(automatic, 14u);
  // The checklist maps to every clause group of the policy, P1 to P6.
  for (const char* clause : {"P1", "P2", "P3", "P4", "P5", "P6"}) {
    EXPECT_TRUE(std::any_of(a->items.begin(), a->items.end(), [&](const AssessmentItem& i) {
      return i.clause.find(clause) != std::string::npos;
    })) << clause;
  }
  auto item = [&](const AssessmentView& v, const std::string& id) {
    for (const AssessmentItem& i : v.items) {
      if (i.id == id) return i;
    }
    return AssessmentItem{};
  };
  EXPECT_EQ(item(*a, "dpo").answer, "yes");
  EXPECT_EQ(item(*a, "policy_versions").answer, "no");  // none recorded yet
  // P2.2: the shipped catalogue, one level per field, identity and sensitive fields
  // confidential; P3.1b: the fixture's customer was created with its source.
  EXPECT_EQ(item(*a, "classification").answer, "yes") << item(*a, "classification").evidence;
  EXPECT_EQ(item(*a, "classification").clause, "P2.1, P2.2");
  EXPECT_NE(item(*a, "classification").evidence.find("each one level"), std::string::npos);
  EXPECT_EQ(item(*a, "source_kept").answer, "yes") << item(*a, "source_kept").evidence;
  EXPECT_EQ(item(*a, "source_kept").clause, "P3.1b");
  EXPECT_EQ(item(*a, "source_kept").evidence, "register customers: 1 records, 0 without a source");
  auto early = vault_->dpo().SignOffAssessment(Dpo(), a->assessment_id);
  EXPECT_EQ(early.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(early.status().message().find("law_review"), std::string::npos);
  for (const char* id : {"notice", "deidentification", "law_review", "authority_audits"}) {
    auto r = vault_->dpo().AnswerAssessment(Dpo(), a->assessment_id, id, "yes",
                                            "checked with the legal team, memo DPO-2026-12");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  EXPECT_EQ(vault_->dpo()
                .AnswerAssessment(Dpo(), a->assessment_id, "notice", "maybe", "a note here")
                .status()
                .code(),
            Code::kInvalidArgument);
  auto signed_off = vault_->dpo().SignOffAssessment(Dpo(), a->assessment_id);
  ASSERT_TRUE(signed_off.ok()) << signed_off.status().ToString();
  EXPECT_EQ(signed_off->state, "signed_off");
  EXPECT_EQ(signed_off->signed_off_by, "dpo");
  auto latest = vault_->dpo().ShowAssessment(Dpo(), "");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->assessment_id, a->assessment_id);
  EXPECT_EQ(item(*latest, "law_review").source, "dpo");
  // A policy version recorded now answers its item on the next run.
  ASSERT_TRUE(
      vault_->dpo().RecordPolicy(Dpo(), "# Policy\nP1 ...\n", "POLICY.md", now_ms_.load()).ok());
  auto again = vault_->dpo().RunAssessment(Dpo(), from, now_ms_.load() + kDayMs);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(item(*again, "policy_versions").answer, "yes");
}

TEST_F(DpoTest, TheClassificationItemIsPartlyWhenAnIdentityFieldIsBelowConfidential) {
  {
    const std::filesystem::path path = dir_ / "custos.toml";
    std::string text = ReadFileBytes(path);
    const size_t field = text.find("[fields.birth_date]");
    ASSERT_NE(field, std::string::npos);
    const std::string from = "level = \"confidential\"";
    const size_t at = text.find(from, field);
    ASSERT_NE(at, std::string::npos);
    text.replace(at, from.size(), "level = \"internal\"");
    std::ofstream(path, std::ios::trunc) << text;
  }
  Reopen();
  ASSERT_NE(vault_, nullptr);
  auto a = vault_->dpo().RunAssessment(Dpo(), now_ms_.load() - kDayMs, now_ms_.load() + kDayMs);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  const auto it = std::find_if(a->items.begin(), a->items.end(),
                               [](const AssessmentItem& i) { return i.id == "classification"; });
  ASSERT_NE(it, a->items.end());
  EXPECT_EQ(it->answer, "partly") << it->evidence;
  EXPECT_NE(it->evidence.find("below confidential: birth_date"), std::string::npos) << it->evidence;
}

TEST_F(DpoTest, PolicyAndConfigurationVersionsAreRecordedWithTheirDates) {
  const int64_t effective = now_ms_.load() + 10 * kDayMs;
  auto v1 = vault_->dpo().RecordPolicy(Dpo(), "# Policy v1\n", "POLICY.md", effective);
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  auto v2 = vault_->dpo().RecordPolicy(Dpo(), "# Policy v2\n", "POLICY.md", effective + kDayMs);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->version_no, 2);
  auto listed = vault_->dpo().PolicyVersions(Dpo(), "policy");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].effective_ms, effective);
  EXPECT_EQ((*listed)[1].content, "# Policy v2\n");
  EXPECT_EQ(vault_->dpo().RecordPolicy(Dpo(), "", "POLICY.md", effective).status().code(),
            Code::kInvalidArgument);
  // The configuration: recorded once, again only when it changes.
  auto c1 = vault_->dpo().RecordConfigVersion();
  ASSERT_TRUE(c1.ok()) << c1.status().ToString();
  ASSERT_TRUE(c1->has_value());
  auto same = vault_->dpo().RecordConfigVersion();
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same->has_value());
  std::ofstream(dir_ / "custos.toml", std::ios::app) << "\n# a comment changes the file\n";
  auto c2 = vault_->dpo().RecordConfigVersion();
  ASSERT_TRUE(c2.ok());
  ASSERT_TRUE(c2->has_value());
  EXPECT_EQ((*c2)->version_no, 2);
  EXPECT_NE((*c2)->sha256, (*c1)->sha256);
  auto configs = vault_->dpo().PolicyVersions(Dpo(), "config");
  ASSERT_TRUE(configs.ok());
  EXPECT_EQ(configs->size(), 2u);
}

TEST_F(DpoTest, TheEvidenceBundlesManifestVerifiesAndDetectsAChangedFileOrManifest) {
  ASSERT_TRUE(vault_->customers().Create(Agent(), WangFang(), "form", Consented()).ok());
  ApprovedPia(Pia({"risk_control"}, {"phone"}, {"acme-pay"}));
  ASSERT_TRUE(vault_->dpo().RecordPolicy(Dpo(), "# Policy\n", "POLICY.md", now_ms_.load()).ok());
  ASSERT_TRUE(vault_->doctor().Run(Dpo()).ok());
  ASSERT_TRUE(vault_->dpo().RunAssessment(Dpo(), now_ms_.load() - kDayMs, now_ms_.load()).ok());
  auto bundle =
      vault_->dpo().BuildEvidence(Dpo(), now_ms_.load() - 30 * kDayMs, now_ms_.load() + kDayMs);
  ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
  const EvidenceCheck good = VerifyEvidence(bundle->zip, "");
  EXPECT_TRUE(good.ok) << (good.problems.empty() ? "" : good.problems.front());
  std::map<std::string, std::string> entries = Unzip(bundle->zip);
  for (const char* name : {"reports/processing.json", "reports/security.en.html", "audit/head.json",
                           "audit/consistency_from_period_start.json", "registers/training.csv",
                           "registers/impact_assessments.json", "registers/incidents.json",
                           "registers/self_assessment.json", "registers/policy_versions.json",
                           "registers/config_versions.json", "policy/policy-v1.md", "doctor.json",
                           "config/custos.toml", "MANIFEST.json", "MANIFEST.sig", "SHA256SUMS",
                           "vault_public_key.pem"}) {
    EXPECT_EQ(entries.count(name), 1u) << name;
  }
  EXPECT_NE(entries["registers/impact_assessments.json"].find("Fraud screening"),
            std::string::npos);
  // The bundle's audit entry names the period as the manifest does: days of the company's zone.
  const nlohmann::json period = nlohmann::json::parse(entries["MANIFEST.json"])["period"];
  std::ostringstream tail;
  Context tailing = Dpo();
  tailing.purpose = "legal_obligation";
  ASSERT_TRUE(vault_->audit().Tail(tailing, 20, tail).ok());
  std::string reason;
  std::istringstream lines(tail.str());
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line);
    if (j["action"] == "evidence.bundle") reason = j["reason"];
  }
  EXPECT_EQ(reason,
            fmt::format("evidence bundle for {} .. {} (Asia/Shanghai)",
                        period["from"].get<std::string>(), period["to"].get<std::string>()));
  // With the vault's own key given, it verifies; with another key it does not.
  EXPECT_TRUE(VerifyEvidence(bundle->zip, good.public_key).ok);
  EXPECT_FALSE(VerifyEvidence(bundle->zip, std::string(64, 'a')).ok);
  // A changed file.
  std::map<std::string, std::string> changed = entries;
  changed["registers/training.csv"] += "mallory,support_agent,privacy-basics,,,\r\n";
  const EvidenceCheck file = VerifyEvidence(Zip(changed, root_ / "changed.zip"), "");
  EXPECT_FALSE(file.ok);
  ASSERT_FALSE(file.problems.empty());
  EXPECT_NE(file.problems.front().find("registers/training.csv"), std::string::npos);
  // A changed manifest (a digest replaced to match the changed file).
  std::map<std::string, std::string> forged = changed;
  std::string& manifest = forged["MANIFEST.json"];
  manifest.replace(manifest.find("\"format\""), 8, "\"format\" ");
  const EvidenceCheck sig = VerifyEvidence(Zip(forged, root_ / "forged.zip"), "");
  EXPECT_FALSE(sig.ok);
  bool signature_problem = false;
  for (const std::string& p : sig.problems) signature_problem |= p.starts_with("signature");
  EXPECT_TRUE(signature_problem);
  // An added file the manifest does not list.
  std::map<std::string, std::string> added = entries;
  added["extra.txt"] = "slipped in";
  EXPECT_FALSE(VerifyEvidence(Zip(added, root_ / "added.zip"), "").ok);
}

TEST_F(DpoTest, AnAuditorChecksTheBundleWithOpensslAndSha256sumAlone) {
  auto bundle =
      vault_->dpo().BuildEvidence(Dpo(), now_ms_.load() - kDayMs, now_ms_.load() + kDayMs);
  ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
  const std::filesystem::path out = root_ / "bundle";
  std::filesystem::create_directories(out);
  for (const auto& [name, content] : Unzip(bundle->zip)) {
    const std::filesystem::path p = out / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
  }
  const std::string verify = fmt::format(
      "cd {} && openssl pkeyutl -verify -pubin -inkey vault_public_key.pem -rawin "
      "-in MANIFEST.json -sigfile MANIFEST.sig",
      out.string());
  EXPECT_EQ(Shell(verify), 0);
  EXPECT_EQ(Shell(fmt::format("cd {} && sha256sum -c --strict SHA256SUMS", out.string())), 0);
  std::ofstream(out / "reports" / "consent.json", std::ios::app) << " ";
  EXPECT_NE(Shell(fmt::format("cd {} && sha256sum -c --strict SHA256SUMS", out.string())), 0);
  std::ofstream(out / "MANIFEST.json", std::ios::app) << " ";
  EXPECT_NE(Shell(verify), 0);
}

}  // namespace
}  // namespace custos::vault::testing
