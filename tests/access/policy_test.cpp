// The decision engine against the shipped default policy (config/custos.toml): each test is
// one sentence of P3.2b / P3.3a / P5b as a support agent, a risk officer or the DPO meets it.
#include <gtest/gtest.h>

#include <string>

#include "access/policy.h"
#include "schema/config.h"

namespace custos::access {
namespace {

constexpr int64_t kDay = 24LL * 3600 * 1000;
constexpr int64_t kNow = 1'790'000'000'000;  // 2026-09-21

const schema::Config& Default() {
  static const schema::Config config = [] {
    auto c = schema::ParseConfig(schema::DefaultConfigToml(), "custos.toml");
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(c).value();
  }();
  return config;
}

StaffFacts Staff(std::string id, std::string post, bool trained = true) {
  StaffFacts s;
  s.staff_id = std::move(id);
  s.post = std::move(post);
  if (trained) {
    s.training.push_back(
        {s.staff_id, "privacy-basics", kNow - 300 * kDay, kNow + 65 * kDay, "dpo"});
  }
  return s;
}

consent::ConsentState Consented(std::initializer_list<std::string> purposes,
                                bool sensitive = true) {
  consent::ConsentState c;
  c.customer_id = "01JCUSTOMER0000000000000000";
  for (const std::string& p : purposes) c.purposes[p] = {true, 1, kNow - kDay, 0};
  c.sensitive = sensitive;
  return c;
}

Decision Read(const StaffFacts& staff, std::string_view purpose, std::string_view field,
              const consent::ConsentState* consent) {
  const schema::FieldDef* f = Default().FindField(field);
  EXPECT_NE(f, nullptr) << field;
  return DecideData(Default(), staff, DataRequest{"customer.read", purpose, consent, kNow},
                    FieldSubject(*f));
}

TEST(Policy, ASupportAgentSeesAMaskedIdNumberAndTheFullPhone) {
  const auto consent = Consented({"customer_service"});
  const StaffFacts agent = Staff("li.na", "support_agent");
  const Decision id = Read(agent, "customer_service", "id_number", &consent);
  EXPECT_EQ(id.effect, Effect::kMask) << id.reason;
  EXPECT_EQ(id.mask_rule, "id_card");
  EXPECT_NE(id.reason.find("role 'customer_service'"), std::string::npos) << id.reason;
  const Decision phone = Read(agent, "customer_service", "phone", &consent);
  EXPECT_EQ(phone.effect, Effect::kAllow) << phone.reason;
  EXPECT_TRUE(phone.mask_rule.empty());
}

TEST(Policy, ASupportAgentIsRefusedForMarketingWithTheRuleNamed) {
  const auto consent = Consented({"customer_service", "marketing"});
  const Decision d = Read(Staff("li.na", "support_agent"), "marketing", "name", &consent);
  EXPECT_EQ(d.effect, Effect::kDeny);
  EXPECT_EQ(d.reason,
            "no grant of post 'support_agent' (roles: customer_service) covers "
            "customer.read on confidential for purpose 'marketing'");
}

TEST(Policy, TheAnalystGetsNoIdentifiedFieldForAnyPurpose) {
  const auto consent = Consented({"customer_service", "analytics", "marketing"});
  for (const schema::PurposeDef& p : Default().purposes) {
    for (const schema::FieldDef& f : Default().fields) {
      EXPECT_EQ(Read(Staff("wu.lei", "data_analyst"), p.name, f.name, &consent).effect,
                Effect::kDeny)
          << p.name << " " << f.name;
    }
  }
}

TEST(Policy, TheAdminAndTheDpoReadNoCustomerField) {
  const auto consent = Consented({"customer_service"});
  for (const char* post : {"administrator", "data_protection_officer", "security_administrator"}) {
    for (const schema::FieldDef& f : Default().fields) {
      EXPECT_EQ(Read(Staff("x", post), "legal_obligation", f.name, &consent).effect, Effect::kDeny)
          << post << " " << f.name;
    }
  }
}

TEST(Policy, ARiskOfficerWithLapsedTrainingIsRefusedConfidentialFieldsOnly) {
  StaffFacts officer = Staff("zhao.min", "risk_officer", /*trained=*/false);
  officer.training.push_back({"zhao.min", "privacy-basics", kNow - 400 * kDay, kNow - kDay, "dpo"});
  const auto consent = Consented({"risk_control"});
  const Decision id = Read(officer, "risk_control", "id_number", &consent);
  EXPECT_EQ(id.effect, Effect::kDeny);
  EXPECT_EQ(id.reason.rfind("training 'privacy-basics' lapsed on 2026-09-20", 0), 0u) << id.reason;
  EXPECT_NE(id.reason.find("(P5b)"), std::string::npos);
  EXPECT_EQ(Read(officer, "risk_control", "phone", &consent).effect, Effect::kAllow);
}

TEST(Policy, ATrainedRiskOfficerSeesTheFullIdNumber) {
  const auto consent = Consented({"risk_control"});
  const Decision d = Read(Staff("zhao.min", "risk_officer"), "risk_control", "id_number", &consent);
  EXPECT_EQ(d.effect, Effect::kAllow) << d.reason;
  EXPECT_NE(d.reason.find("training 'privacy-basics' valid until"), std::string::npos);
}

TEST(Policy, AnUnconsentedPurposeIsRefused) {
  const auto consent = Consented({"customer_service"});
  const Decision d = Read(Staff("zhao.min", "risk_officer"), "risk_control", "phone", &consent);
  EXPECT_EQ(d.effect, Effect::kDeny);
  EXPECT_EQ(d.reason, "customer has not consented to purpose 'risk_control' (P3.3a)");
}

TEST(Policy, AWithdrawalTakesEffectWithItsDate) {
  auto consent = Consented({"customer_service"});
  consent.purposes["customer_service"] = {false, 1, kNow - 3 * kDay, kNow - 2 * kDay};
  const Decision d = Read(Staff("li.na", "support_agent"), "customer_service", "phone", &consent);
  EXPECT_EQ(d.effect, Effect::kDeny);
  EXPECT_EQ(d.reason,
            "customer withdrew consent to purpose 'customer_service' on 2026-09-19 (P3.3a)");
}

TEST(Policy, ALegalObligationNeedsNoConsent) {
  const consent::ConsentState nothing;
  const Decision d =
      Read(Staff("zhao.min", "risk_officer"), "legal_obligation", "id_number", &nothing);
  EXPECT_EQ(d.effect, Effect::kAllow) << d.reason;
  EXPECT_NE(d.reason.find("legal obligation"), std::string::npos);
}

TEST(Policy, ASensitiveFieldNeedsTheSeparateConsent) {
  const auto consent = Consented({"risk_control"}, /*sensitive=*/false);
  const StaffFacts officer = Staff("zhao.min", "risk_officer");
  const Decision bank = Read(officer, "risk_control", "bank_account", &consent);
  EXPECT_EQ(bank.effect, Effect::kDeny);
  EXPECT_NE(bank.reason.find("PIPL Art. 29"), std::string::npos) << bank.reason;
  EXPECT_EQ(Read(officer, "risk_control", "name", &consent).effect, Effect::kAllow);
}

TEST(Policy, MarketingSeesContactFieldsMaskedAndInterestsInFull) {
  const auto consent = Consented({"marketing"});
  const StaffFacts m = Staff("chen.jie", "marketing_specialist");
  const Decision phone = Read(m, "marketing", "phone", &consent);
  EXPECT_EQ(phone.effect, Effect::kMask);
  EXPECT_EQ(phone.mask_rule, "mobile");
  EXPECT_EQ(Read(m, "marketing", "interests", &consent).effect, Effect::kAllow);
  EXPECT_EQ(Read(m, "marketing", "name", &consent).effect, Effect::kDeny);
}

TEST(Policy, ADisabledStaffMemberIsRefusedEverything) {
  StaffFacts agent = Staff("li.na", "support_agent");
  agent.status = "disabled";
  const auto consent = Consented({"customer_service"});
  const Decision d = Read(agent, "customer_service", "phone", &consent);
  EXPECT_EQ(d.effect, Effect::kDeny);
  EXPECT_EQ(d.reason, "staff 'li.na' is disabled, not active");
}

TEST(Policy, ABreakGlassGrantAllowsBeyondTheRoleAndIsFlagged) {
  StaffFacts agent = Staff("li.na", "support_agent");
  Grant g;
  g.approval_id = "01JAPPROVAL000000000000000";
  g.requester = "li.na";
  g.approver = "dpo";
  g.expires_at_ms = kNow + 3600 * 1000;
  g.scope.fields = {"id_number"};
  g.scope.purpose = "customer_service";
  agent.break_glass.push_back(g);
  const auto consent = Consented({"customer_service"});
  const Decision d = Read(agent, "customer_service", "id_number", &consent);
  EXPECT_EQ(d.effect, Effect::kAllow);
  EXPECT_TRUE(d.break_glass);
  EXPECT_EQ(d.reason, "break-glass grant 01JAPPROVAL000000000000000 approved by dpo");
  EXPECT_EQ(Read(agent, "customer_service", "bank_account", &consent).effect, Effect::kMask);
}

TEST(Policy, BreakGlassDoesNotOverrideConsent) {
  StaffFacts agent = Staff("li.na", "support_agent");
  Grant g;
  g.approval_id = "A";
  g.approver = "dpo";
  agent.break_glass.push_back(g);
  const auto consent = Consented({"account_management"});
  EXPECT_EQ(Read(agent, "customer_service", "id_number", &consent).effect, Effect::kDeny);
}

// DecideDataAll (a request's fields decided once per level) gives, field for field, what
// DecideData gives alone: every post and purpose of the shipped policy, with no consent, with
// consent, withdrawn, restricted, without the separate sensitive consent, with lapsed
// training, disabled, for a purpose not in the catalogue, and with a break-glass grant naming
// one field.
TEST(Policy, DecidingAllFieldsAtOnceEqualsDecidingEachAlone) {
  std::vector<Subject> subjects;
  for (const schema::FieldDef& f : Default().fields) subjects.push_back(FieldSubject(f));
  ASSERT_GT(subjects.size(), 5u);
  std::vector<StaffFacts> staff;
  for (const schema::PostDef& post : Default().posts) {
    staff.push_back(Staff("s." + post.name, post.name));
    staff.push_back(Staff("u." + post.name, post.name, /*trained=*/false));
  }
  StaffFacts disabled = Staff("d.agent", "support_agent");
  disabled.status = "disabled";
  staff.push_back(disabled);
  StaffFacts glass = Staff("g.agent", "support_agent");
  Grant g;
  g.approval_id = "01JAPPROVAL000000000000000";
  g.approver = "dpo";
  g.expires_at_ms = kNow + 3600 * 1000;
  g.scope.fields = {"id_number"};
  glass.break_glass.push_back(g);
  staff.push_back(glass);
  std::vector<consent::ConsentState> states;
  std::vector<std::string> all_purposes;
  for (const schema::PurposeDef& p : Default().purposes) all_purposes.push_back(p.name);
  consent::ConsentState all;
  all.customer_id = "01JCUSTOMER0000000000000000";
  for (const std::string& p : all_purposes) all.purposes[p] = {true, 1, kNow - kDay, 0};
  all.sensitive = true;
  states.push_back(all);
  consent::ConsentState not_sensitive = all;
  not_sensitive.sensitive = false;
  states.push_back(not_sensitive);
  consent::ConsentState withdrawn = all;
  for (auto& [name, p] : withdrawn.purposes) p.withdrawn_at_ms = kNow - 3600 * 1000;
  states.push_back(withdrawn);
  consent::ConsentState restricted = all;
  restricted.restricted_since_ms = kNow - kDay;
  restricted.restriction_rule = "objection";
  states.push_back(restricted);
  states.push_back(consent::ConsentState{});
  int compared = 0;
  std::vector<std::string> asked = all_purposes;
  asked.push_back("no_such_purpose");  // refused before any field is looked at
  for (const StaffFacts& s : staff) {
    for (const std::string& purpose : asked) {
      for (const consent::ConsentState* c :
           {&states[0], &states[1], &states[2], &states[3], &states[4],
            static_cast<consent::ConsentState*>(nullptr)}) {
        const DataRequest request{"customer.read", purpose, c, kNow};
        const std::vector<Decision> together = DecideDataAll(Default(), s, request, subjects);
        ASSERT_EQ(together.size(), subjects.size());
        for (size_t i = 0; i < subjects.size(); ++i) {
          const Decision alone = DecideData(Default(), s, request, subjects[i]);
          EXPECT_EQ(together[i].effect, alone.effect) << s.staff_id << " " << subjects[i].name;
          EXPECT_EQ(together[i].mask_rule, alone.mask_rule)
              << s.staff_id << " " << subjects[i].name;
          EXPECT_EQ(together[i].reason, alone.reason) << s.staff_id << " " << subjects[i].name;
          EXPECT_EQ(together[i].break_glass, alone.break_glass) << s.staff_id;
          ++compared;
        }
      }
    }
  }
  EXPECT_GT(compared, 1000);
}

TEST(Policy, AnUnknownPurposeIsRefused) {
  const Decision d = Read(Staff("li.na", "support_agent"), "curiosity", "phone", nullptr);
  EXPECT_EQ(d.effect, Effect::kDeny);
  EXPECT_EQ(d.reason, "purpose 'curiosity' is not in the purpose catalogue (P3.3a)");
}

TEST(Policy, PersonalRolesAddToThePostsRoles) {
  StaffFacts s = Staff("li.na", "support_agent");
  s.roles = {"sales", "no_such_role"};
  EXPECT_EQ(EffectiveRoles(Default(), s), (std::vector<std::string>{"customer_service", "sales"}));
}

TEST(Policy, AdminActionsFollowTheGrants) {
  EXPECT_EQ(
      DecideAction(Default(), Staff("admin", "administrator"), "staff.manage", "account_management")
          .effect,
      Effect::kAllow);
  EXPECT_EQ(DecideAction(Default(), Staff("dpo", "data_protection_officer"), "audit.verify",
                         "legal_obligation")
                .effect,
            Effect::kAllow);
  const Decision d =
      DecideAction(Default(), Staff("li.na", "support_agent"), "staff.manage", "customer_service");
  EXPECT_EQ(d.effect, Effect::kDeny);
  EXPECT_EQ(d.reason,
            "no grant of post 'support_agent' (roles: customer_service) covers "
            "staff.manage for purpose 'customer_service'");
  EXPECT_EQ(
      DecideAction(Default(), Staff("wu.lei", "data_analyst"), "approval.request", "analytics")
          .effect,
      Effect::kAllow);
}

TEST(Policy, OnlyRolesReadingConfidentialInFullNeedASecondFactor) {
  EXPECT_TRUE(CanReadConfidential(Default(), {"risk_officer"}));
  EXPECT_FALSE(CanReadConfidential(Default(), {"customer_service"}));
  EXPECT_FALSE(CanReadConfidential(Default(), {"sales"}));  // writes confidential, reads masked
  EXPECT_FALSE(CanReadConfidential(Default(), {"admin", "dpo"}));
}

TEST(Policy, ExplainCoversEveryShownFieldAndEachRecordKind) {
  const auto consent = Consented({"customer_service"});
  const auto lines =
      ExplainRead(Default(), Staff("li.na", "support_agent"), "customer_service", &consent, kNow);
  ASSERT_EQ(lines.size(), Default().fields.size() - 1 + Default().records.size());
  for (const FieldExplanation& l : lines) EXPECT_NE(l.name, "password");
  EXPECT_EQ(lines.back().name, "note");
  EXPECT_EQ(lines.back().decision.effect, Effect::kAllow);
}

}  // namespace
}  // namespace custos::access
