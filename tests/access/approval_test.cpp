// Dual control: approval scopes and the break-glass grants the decision engine consumes.
#include "access/approval.h"

#include <gtest/gtest.h>

#include "../crypto/temp_dir.h"
#include "store/sqlite_store.h"

namespace custos::access {
namespace {

constexpr int64_t kHour = 3600LL * 1000;

ApprovalScope Scope(std::vector<std::string> customers) {
  ApprovalScope s;
  s.customers = std::move(customers);
  s.levels = {"confidential"};
  s.purpose = "risk_control";
  return s;
}

TEST(ApprovalScope, ScopesRoundTripThroughJson) {
  ApprovalScope s = Scope({"C1", "C2"});
  s.fields = {"id_number"};
  auto back = ScopeFromJson(ScopeToJson(s));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->customers, s.customers);
  EXPECT_EQ(back->fields, s.fields);
  EXPECT_EQ(back->levels, s.levels);
  EXPECT_EQ(back->purpose, "risk_control");
}

// A partner_cert scope (a certificate renewal) keeps its partner and fingerprint through the
// stored JSON; the request rules want both, and the fingerprint as 64 lowercase hex digits.
TEST(ApprovalScope, APartnerCertScopeRoundTripsAndIsChecked) {
  ApprovalScope s;
  s.partner = "acme-pay";
  s.cert_sha256 = std::string(64, 'a');
  auto back = ScopeFromJson(ScopeToJson(s));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->partner, "acme-pay");
  EXPECT_EQ(back->cert_sha256, s.cert_sha256);
  EXPECT_TRUE(CheckRequest(kKindPartnerCert, "a written reason", s, kHour).ok());
  for (const std::string& bad : {std::string(64, 'g'), std::string(65, 'a'), std::string()}) {
    ApprovalScope b = s;
    b.cert_sha256 = bad;
    EXPECT_EQ(CheckRequest(kKindPartnerCert, "a written reason", b, kHour).code(),
              Code::kInvalidArgument)
        << bad;
  }
  ApprovalScope no_partner = s;
  no_partner.partner.clear();
  EXPECT_EQ(CheckRequest(kKindPartnerCert, "a written reason", no_partner, kHour).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(CheckRequest(kKindBulkExport, "a written reason", s, kHour).code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(CheckKind("partner_cert").ok());
  EXPECT_EQ(ScopeFromJson(R"({"partner":1})").status().code(), Code::kInvalidArgument);
}

TEST(ApprovalScope, MalformedScopesAreRefusedByName) {
  EXPECT_EQ(ScopeFromJson("[").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ScopeFromJson("[]").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ScopeFromJson(R"({"customers":"C1"})").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ScopeFromJson(R"({"customers":[1]})").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ScopeFromJson(R"({"everything":true})").status().code(), Code::kInvalidArgument);
}

TEST(ApprovalRequest, BreakGlassNeedsAWrittenReasonCustomersAndAShortDuration) {
  EXPECT_TRUE(CheckRequest("break_glass", "fraud investigation 42", Scope({"C1"}), kHour).ok());
  EXPECT_EQ(CheckRequest("break_glass", "because", Scope({"C1"}), kHour).code(),
            Code::kInvalidArgument)
      << "too short a justification";
  EXPECT_EQ(CheckRequest("break_glass", "fraud investigation 42", Scope({}), kHour).code(),
            Code::kInvalidArgument)
      << "break-glass names its customers";
  EXPECT_EQ(CheckRequest("break_glass", "fraud investigation 42", Scope({"C1"}), 25 * kHour).code(),
            Code::kInvalidArgument)
      << "at most a day";
  EXPECT_EQ(CheckRequest("root", "fraud investigation 42", Scope({"C1"}), kHour).code(),
            Code::kInvalidArgument);
  ApprovalScope bad_level = Scope({"C1"});
  bad_level.levels = {"secret"};
  EXPECT_EQ(CheckRequest("break_glass", "fraud investigation 42", bad_level, kHour).code(),
            Code::kInvalidArgument);
}

TEST(ApprovalState, ARequestOrGrantPastItsEndIsExpired) {
  store::ApprovalRow row;
  row.state = "approved";
  row.expires_at_ms = 100;
  EXPECT_EQ(EffectiveState(row, 99), "approved");
  EXPECT_EQ(EffectiveState(row, 100), "expired");
  row.state = "rejected";
  EXPECT_EQ(EffectiveState(row, 100), "rejected");
}

TEST(Grant, AGrantCoversItsLevelsFieldsAndPurposeOnly) {
  Grant g;
  g.scope = Scope({"C1"});
  g.scope.fields = {"phone"};
  EXPECT_TRUE(g.Covers("id_number", "confidential", "risk_control"));
  EXPECT_TRUE(g.Covers("phone", "internal", "risk_control"));
  EXPECT_FALSE(g.Covers("name", "general", "risk_control"));
  EXPECT_FALSE(g.Covers("id_number", "confidential", "marketing"));
}

class BreakGlassTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::SqliteOptions opt;
    opt.create_if_missing = true;
    auto s = store::OpenSqliteStore(dir_.path() / "custos.db", opt);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }

  void Put(std::string id, std::string requester, std::string state, std::string kind,
           std::vector<std::string> customers, int64_t requested, int64_t expires) {
    store::ApprovalRow row;
    row.approval_id = std::move(id);
    row.kind = std::move(kind);
    row.requester = std::move(requester);
    row.justification = "fraud investigation 42";
    row.scope = ScopeToJson(Scope(std::move(customers)));
    row.requested_at_ms = requested;
    row.expires_at_ms = expires;
    row.state = std::move(state);
    if (row.state != "requested") row.approver = "carol";
    auto txn = store_->Begin();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->InsertApproval(row).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }

  std::vector<std::string> Active(std::string_view staff, std::string_view customer, int64_t now) {
    auto txn = store_->Begin();
    EXPECT_TRUE(txn.ok());
    auto grants = ActiveBreakGlass(**txn, staff, customer, now);
    EXPECT_TRUE(grants.ok()) << grants.status().ToString();
    std::vector<std::string> ids;
    for (const Grant& g : *grants) ids.push_back(g.approval_id);
    return ids;
  }

  crypto::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(BreakGlassTest, AnApprovedGrantIsActiveForItsRequesterAndCustomerUntilItExpires) {
  Put("A1", "alice", "approved", "break_glass", {"C1", "C2"}, 1000, 1000 + kHour);
  EXPECT_EQ(Active("alice", "C1", 2000), std::vector<std::string>{"A1"});
  EXPECT_EQ(Active("alice", "C2", 2000), std::vector<std::string>{"A1"});
  EXPECT_TRUE(Active("alice", "C3", 2000).empty()) << "another customer";
  EXPECT_TRUE(Active("bob", "C1", 2000).empty()) << "another staff member";
  EXPECT_TRUE(Active("alice", "C1", 1000 + kHour).empty()) << "expired";
  EXPECT_TRUE(Active("", "C1", 2000).empty());
}

TEST_F(BreakGlassTest, RequestedRejectedAndOtherKindsGrantNothing) {
  Put("A1", "alice", "requested", "break_glass", {"C1"}, 1000, 1000 + kHour);
  Put("A2", "alice", "rejected", "break_glass", {"C1"}, 1000, 1000 + kHour);
  Put("A3", "alice", "approved", "bulk_export", {"C1"}, 1000, 1000 + kHour);
  EXPECT_TRUE(Active("alice", "C1", 2000).empty());
}

TEST_F(BreakGlassTest, TheGrantNamesItsApproverForTheDecisionReason) {
  Put("A1", "alice", "approved", "break_glass", {"C1"}, 1000, 1000 + kHour);
  auto txn = store_->Begin();
  ASSERT_TRUE(txn.ok());
  auto grants = ActiveBreakGlass(**txn, "alice", "C1", 2000);
  ASSERT_TRUE(grants.ok());
  ASSERT_EQ(grants->size(), 1u);
  EXPECT_EQ((*grants)[0].Reason(), "break-glass grant A1 approved by carol");
  EXPECT_EQ((*grants)[0].scope.purpose, "risk_control");
}

}  // namespace
}  // namespace custos::access
