// The register of data-subject requests through the vault (PIPL Art. 44-50;
// docs/subject_requests.md): a support agent logs a customer's request and closes it once
// answered, the DPO watches what is due and overdue, other roles are refused, bad input is
// refused naming the field and the rule, and the audit log records ids, kinds and outcomes —
// the staff's reference once, when the request is opened — and never a customer's value.
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

class SubjectRequestTest : public VaultTest {
 protected:
  void SetUp() override {
    VaultTest::SetUp();
    if (vault_ == nullptr) return;
    AddStaff({{"ma.li", "marketing_specialist", "marketing"},
              {"an.yu", "data_analyst", "analyst"},
              {"sec.admin", "security_administrator", "security_admin"}});
    if (HasFatalFailure()) return;
    auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    customer_ = *id;
  }

  // The DPO and support staff log requests under no purpose: the vault records them under
  // legal_obligation (answering a data subject is a duty of law).
  Context Dpo() const { return Context{"dpo", "", Channel::kCli, "req-dpo"}; }
  Context Desk() const { return Context{"li.na", "", Channel::kCli, "req-desk"}; }
  Context Marketing() const { return Context{"ma.li", "", Channel::kCli, "req-mkt"}; }
  Context Analyst() const { return Context{"an.yu", "", Channel::kCli, "req-ana"}; }

  // A correction request carries the values the customer proposes (issue 18).
  SubjectRequestSpec Spec(const std::string& kind, const std::string& reference = "TCK-2026-0042") {
    FieldValues proposed;
    if (kind == "correction") proposed = {{"phone", "13900139000"}};
    return SubjectRequestSpec{customer_, kind, reference, proposed};
  }

  // The audit entries whose action starts with "dsr.", as JSON objects.
  std::vector<nlohmann::json> DsrEntries() {
    std::ostringstream log;
    Status st = vault_->audit().Export(Context{"dpo", "legal_obligation", Channel::kCli, "r"}, log);
    EXPECT_TRUE(st.ok()) << st.ToString();
    std::vector<nlohmann::json> out;
    std::istringstream lines(log.str());
    for (std::string line; std::getline(lines, line);) {
      auto j = nlohmann::json::parse(line);
      if (j.value("action", "").rfind("dsr.", 0) == 0) out.push_back(std::move(j));
    }
    return out;
  }

  std::string customer_;
};

TEST_F(SubjectRequestTest, ASupportAgentOpensListsAndClosesACustomersRequest) {
  const int64_t opened_at = now_ms_.load();
  auto opened = vault_->subject_requests().Open(Desk(), Spec("access"));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->request_id.size(), 26u);
  EXPECT_EQ(opened->customer_id, customer_);
  EXPECT_EQ(opened->kind, "access");
  EXPECT_EQ(opened->opened_by, "li.na");
  EXPECT_GE(opened->opened_at_ms, opened_at);
  EXPECT_EQ(opened->due_at_ms, opened->opened_at_ms + 15 * kDayMs);
  EXPECT_TRUE(opened->outcome.empty());
  EXPECT_FALSE(opened->overdue);

  auto listed = vault_->subject_requests().List(Dpo(), customer_, true);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].request_id, opened->request_id);
  EXPECT_EQ((*listed)[0].reference, "TCK-2026-0042");
  EXPECT_EQ((*listed)[0].due_at_ms, opened->due_at_ms);

  ASSERT_TRUE(vault_->subject_requests().Close(Desk(), opened->request_id, "fulfilled").ok());
  EXPECT_TRUE(vault_->subject_requests().List(Desk(), customer_, true)->empty());
  auto all = vault_->subject_requests().List(Desk(), "", false);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].outcome, "fulfilled");
  EXPECT_EQ((*all)[0].closed_by, "li.na");
  EXPECT_GT((*all)[0].closed_at_ms, 0);
  EXPECT_FALSE((*all)[0].overdue);
}

TEST_F(SubjectRequestTest, AClosedRequestCannotBeClosedAgain) {
  auto opened = vault_->subject_requests().Open(Dpo(), Spec("deletion"));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ASSERT_TRUE(vault_->subject_requests().Close(Dpo(), opened->request_id, "withdrawn").ok());
  EXPECT_EQ(vault_->subject_requests().Close(Dpo(), opened->request_id, "fulfilled").code(),
            Code::kNotFound);
  EXPECT_EQ(
      vault_->subject_requests().Close(Dpo(), "01HZZZZZZZZZZZZZZZZZZZZZZZ", "fulfilled").code(),
      Code::kNotFound);
  EXPECT_EQ(vault_->subject_requests().Close(Dpo(), "not an id", "fulfilled").code(),
            Code::kNotFound);
  auto all = vault_->subject_requests().List(Dpo(), customer_, false);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].outcome, "withdrawn");
}

TEST_F(SubjectRequestTest, AnOpenRequestIsOverdueOnceItsFifteenDaysHavePassed) {
  auto opened = vault_->subject_requests().Open(Desk(), Spec("correction"));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto answered = vault_->subject_requests().Open(Desk(), Spec("copy"));
  ASSERT_TRUE(answered.ok()) << answered.status().ToString();
  ASSERT_TRUE(vault_->subject_requests().Close(Desk(), answered->request_id, "refused").ok());
  now_ms_ += 15 * kDayMs - 1000;  // still within the 15 days
  auto early = vault_->subject_requests().List(Dpo(), "", true);
  ASSERT_TRUE(early.ok()) << early.status().ToString();
  ASSERT_EQ(early->size(), 1u);
  EXPECT_FALSE((*early)[0].overdue);
  now_ms_ += 2000;
  auto late = vault_->subject_requests().List(Dpo(), "", false);
  ASSERT_TRUE(late.ok()) << late.status().ToString();
  ASSERT_EQ(late->size(), 2u);
  // Oldest first; a closed request is never overdue, however late it was closed.
  EXPECT_EQ((*late)[0].request_id, opened->request_id);
  EXPECT_TRUE((*late)[0].overdue);
  EXPECT_EQ((*late)[1].outcome, "refused");
  EXPECT_FALSE((*late)[1].overdue);
  ASSERT_TRUE(vault_->subject_requests().Close(Desk(), opened->request_id, "fulfilled").ok());
  EXPECT_FALSE((*vault_->subject_requests().List(Dpo(), customer_, false))[0].overdue);
}

// custos.toml sets the days to answer per kind ([subject_requests.due_days]): a request is
// due, and overdue in the list, by its kind's days; a kind not set keeps 15.
TEST_F(SubjectRequestTest, EachKindIsDueByTheDaysCustosTomlSetsForIt) {
  std::ofstream(dir_ / "custos.toml", std::ios::app)
      << "\n[subject_requests.due_days]\naccess = 5\ndeletion = 30\n";
  Reopen();
  auto access = vault_->subject_requests().Open(Desk(), Spec("access"));
  ASSERT_TRUE(access.ok()) << access.status().ToString();
  auto deletion = vault_->subject_requests().Open(Desk(), Spec("deletion"));
  ASSERT_TRUE(deletion.ok()) << deletion.status().ToString();
  auto copy = vault_->subject_requests().Open(Desk(), Spec("copy"));
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_EQ(access->due_at_ms, access->opened_at_ms + 5 * kDayMs);
  EXPECT_EQ(deletion->due_at_ms, deletion->opened_at_ms + 30 * kDayMs);
  EXPECT_EQ(copy->due_at_ms, copy->opened_at_ms + 15 * kDayMs);

  auto overdue = [&] {
    std::vector<std::string> kinds;
    auto listed = vault_->subject_requests().List(Dpo(), "", true);
    EXPECT_TRUE(listed.ok()) << listed.status().ToString();
    for (const auto& r : *listed) {
      if (r.overdue) kinds.push_back(r.kind);
    }
    return kinds;
  };
  now_ms_ += 6 * kDayMs;  // past the access request's 5 days only
  EXPECT_EQ(overdue(), std::vector<std::string>{"access"});
  now_ms_ += 10 * kDayMs;  // 16 days: the copy request's 15 too, not the deletion's 30
  EXPECT_EQ(overdue(), (std::vector<std::string>{"access", "copy"}));
  now_ms_ += 15 * kDayMs;
  EXPECT_EQ(overdue(), (std::vector<std::string>{"access", "deletion", "copy"}));
}

TEST_F(SubjectRequestTest, EveryKindOfThePiplIsAcceptedAndNothingElse) {
  for (const char* kind :
       {"access", "copy", "portability", "correction", "deletion", "restriction", "explanation"}) {
    auto opened = vault_->subject_requests().Open(Desk(), Spec(kind));
    EXPECT_TRUE(opened.ok()) << kind << ": " << opened.status().ToString();
  }
  EXPECT_EQ(vault_->subject_requests().List(Desk(), customer_, true)->size(), 7u);
}

TEST_F(SubjectRequestTest, BadInputIsRefusedNamingTheFieldAndTheRule) {
  struct Case {
    const char* what;
    SubjectRequestSpec spec;
    Code code;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"no customer",
       {"", "access", "TCK-1"},
       Code::kInvalidArgument,
       "customer_id: not a customer id"},
      {"malformed customer",
       {"../etc", "access", "TCK-1"},
       Code::kInvalidArgument,
       "customer_id: not a customer id"},
      {"absent customer",
       {"01HZZZZZZZZZZZZZZZZZZZZZZZ", "access", "TCK-1"},
       Code::kNotFound,
       "customer_id: no such customer"},
      {"unknown kind",
       {customer_, "erasure", "TCK-1"},
       Code::kInvalidArgument,
       "kind: must be one of access, copy, portability, correction, deletion, restriction, "
       "explanation"},
      {"empty kind", {customer_, "", "TCK-1"}, Code::kInvalidArgument, "kind: must be one of"},
      {"short reference",
       {customer_, "access", "T1"},
       Code::kInvalidArgument,
       "reference: 3 to 200 bytes of printable text"},
      {"long reference",
       {customer_, "access", std::string(201, 'x')},
       Code::kInvalidArgument,
       "reference: 3 to 200 bytes of printable text"},
      {"control character",
       {customer_, "access", "TCK-1\nforged line"},
       Code::kInvalidArgument,
       "reference: 3 to 200 bytes of printable text"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    auto r = vault_->subject_requests().Open(Desk(), c.spec);
    EXPECT_EQ(r.status().code(), c.code) << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.message), std::string::npos) << r.status().ToString();
  }
  auto ok = vault_->subject_requests().Open(Desk(), Spec("access", std::string(200, 'x')));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(vault_->subject_requests().Open(Desk(), Spec("access", "客服单")).ok())
      << "UTF-8 text is printable";
  Status outcome = vault_->subject_requests().Close(Desk(), ok->request_id, "done");
  EXPECT_EQ(outcome.code(), Code::kInvalidArgument);
  EXPECT_NE(outcome.message().find("outcome: must be one of fulfilled, refused, withdrawn"),
            std::string::npos)
      << outcome.ToString();
  auto list = vault_->subject_requests().List(Desk(), "not-a-customer", false);
  EXPECT_EQ(list.status().code(), Code::kInvalidArgument);
  EXPECT_NE(list.status().message().find("customer_id: not a customer id"), std::string::npos);
  // Nothing refused was written: only the two good requests are there.
  EXPECT_EQ(vault_->subject_requests().List(Desk(), "", false)->size(), 2u);
}

TEST_F(SubjectRequestTest, RolesWithoutTheGrantAreRefused) {
  auto opened = vault_->subject_requests().Open(Desk(), Spec("access"));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  for (const Context& who :
       {Marketing(), Analyst(), Sales(""), RiskOfficer(""),
        Context{"sec.admin", "", Channel::kCli, "r"}, Context{"admin", "", Channel::kCli, "r"}}) {
    SCOPED_TRACE(who.actor);
    EXPECT_EQ(vault_->subject_requests().Open(who, Spec("access")).status().code(),
              Code::kPermissionDenied);
    EXPECT_EQ(vault_->subject_requests().Close(who, opened->request_id, "fulfilled").code(),
              Code::kPermissionDenied);
    EXPECT_EQ(vault_->subject_requests().List(who, "", false).status().code(),
              Code::kPermissionDenied);
  }
  EXPECT_EQ(vault_->subject_requests()
                .List(Context{"mallory", "", Channel::kCli, "r"}, "", false)
                .status()
                .code(),
            Code::kUnauthenticated);
  // Still open: no refused close took effect.
  EXPECT_EQ(vault_->subject_requests().List(Dpo(), customer_, true)->size(), 1u);
}

TEST_F(SubjectRequestTest, TheAuditLogHasIdsKindsAndOutcomesAndNoCustomerValue) {
  auto opened =
      vault_->subject_requests().Open(Desk(), Spec("portability", "TCK-7781 via hotline"));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ASSERT_EQ(
      vault_->subject_requests().Open(Desk(), Spec("access", "TCK\x01 forged-ref")).status().code(),
      Code::kInvalidArgument);
  ASSERT_EQ(vault_->subject_requests()
                .Open(Marketing(), Spec("access", "TCK-by-marketing"))
                .status()
                .code(),
            Code::kPermissionDenied);
  ASSERT_TRUE(vault_->subject_requests().List(Dpo(), customer_, false).ok());
  ASSERT_TRUE(vault_->subject_requests().Close(Dpo(), opened->request_id, "fulfilled").ok());
  ASSERT_EQ(vault_->subject_requests().Close(Dpo(), opened->request_id, "fulfilled").code(),
            Code::kNotFound);

  const std::vector<nlohmann::json> entries = DsrEntries();
  ASSERT_EQ(entries.size(), 6u);
  const std::string target = "dsr:" + opened->request_id;
  const auto& open = entries[0];
  EXPECT_EQ(open.value("action", ""), "dsr.open");
  EXPECT_EQ(open.value("decision", ""), "allow");
  EXPECT_EQ(open.value("actor", ""), "li.na");
  EXPECT_EQ(open.value("purpose", ""), "legal_obligation");
  EXPECT_EQ(open.value("target", ""), target);
  const std::string reason = open.value("reason", "");
  EXPECT_NE(reason.find("'portability'"), std::string::npos) << reason;
  EXPECT_NE(reason.find(customer_), std::string::npos) << reason;
  EXPECT_NE(reason.find("TCK-7781 via hotline"), std::string::npos) << reason;
  EXPECT_EQ(entries[1].value("action", ""), "dsr.open");
  EXPECT_EQ(entries[1].value("decision", ""), "deny");
  EXPECT_NE(entries[1].value("reason", "").find("reference:"), std::string::npos);
  EXPECT_EQ(entries[2].value("decision", ""), "deny");
  EXPECT_EQ(entries[2].value("actor", ""), "ma.li");
  EXPECT_EQ(entries[3].value("action", ""), "dsr.list");
  EXPECT_EQ(entries[3].value("target", ""), "customer:" + customer_);
  EXPECT_NE(entries[3].value("reason", "").find("1 data-subject requests listed"),
            std::string::npos);
  EXPECT_EQ(entries[4].value("action", ""), "dsr.close");
  EXPECT_EQ(entries[4].value("decision", ""), "allow");
  EXPECT_EQ(entries[4].value("target", ""), target);
  EXPECT_NE(entries[4].value("reason", "").find("closed: fulfilled"), std::string::npos);
  EXPECT_EQ(entries[5].value("action", ""), "dsr.close");
  EXPECT_EQ(entries[5].value("decision", ""), "deny");
  for (size_t i = 0; i < entries.size(); ++i) {
    SCOPED_TRACE(i);
    const std::string text = entries[i].dump();
    // The reference only where a hold's reason is: in the entry that opens it; refused
    // references are never written.
    if (i != 0) {
      EXPECT_EQ(text.find("TCK-7781"), std::string::npos) << text;
    }
    EXPECT_EQ(text.find("TCK-by-marketing"), std::string::npos) << text;
    EXPECT_EQ(text.find("forged-ref"), std::string::npos) << text;
    for (const auto& [field, value] : WangFang()) {
      EXPECT_EQ(text.find(value), std::string::npos) << field << " in " << text;
    }
    EXPECT_EQ(text.find("13800138000"), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace custos::vault::testing
