// The action catalogue (src/schema/actions.h): stable names, each grant grantable, and what a
// role grant may name.
#include "schema/actions.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace custos::schema {
namespace {

TEST(ActionCatalogue, EveryActionHasOneStableNameThatParsesBackToIt) {
  std::set<std::string_view> names;
  for (const ActionInfo& info : AllActions()) {
    EXPECT_TRUE(names.insert(info.name).second) << "twice: " << info.name;
    ASSERT_TRUE(ParseAction(info.name).has_value()) << info.name;
    EXPECT_EQ(*ParseAction(info.name), info.action);
    EXPECT_EQ(ActionName(info.action), info.name);
  }
  EXPECT_EQ(names.size(), AllActions().size());
}

TEST(ActionCatalogue, NamesAreWhatAuditEntriesAndTheConfigurationAlreadyUse) {
  // Audit logs written before the catalogue existed must still read the same.
  EXPECT_EQ(ActionName(Action::kCustomerRead), "customer.read");
  EXPECT_EQ(ActionName(Action::kHoldPlace), "hold.place");
  EXPECT_EQ(ActionName(Action::kDsrOpen), "dsr.open");
  EXPECT_EQ(ActionName(Action::kAuthLockout), "auth.lockout");
  EXPECT_EQ(ActionName(Action::kConfigIndexKeyAdded), "config.index_key_added");
}

TEST(ActionCatalogue, AnAuditedActionNeedsTheGrantOfAGrantableOne) {
  EXPECT_EQ(Info(Action::kHoldPlace).grant, Action::kHoldManage);
  EXPECT_EQ(Info(Action::kAuditTail).grant, Action::kAuditRead);
  EXPECT_EQ(Info(Action::kAuditProve).grant, Action::kAuditRead);  // Merkle proofs (issue 13)
  EXPECT_EQ(Info(Action::kAuditConsistency).grant, Action::kAuditRead);
  EXPECT_EQ(ActionName(Action::kAuditHead), "audit.head");
  EXPECT_EQ(Info(Action::kKeyStatus).grant, Action::kKeyRead);
  EXPECT_EQ(Info(Action::kCustomerVerifyPassword).grant, Action::kCustomerRead);
  for (const ActionInfo& info : AllActions()) {
    if (!info.needs_grant) continue;
    EXPECT_TRUE(Info(info.grant).grantable) << info.name;
    if (info.grantable) {
      EXPECT_EQ(info.grant, info.action) << info.name;
    }
  }
  EXPECT_FALSE(Info(Action::kAuthLogin).needs_grant);
}

TEST(ActionCatalogue, ARoleGrantMayNameOnlyGrantableActions) {
  EXPECT_TRUE(ParseGrantableAction("customer.read").has_value());
  EXPECT_TRUE(ParseGrantableAction("dsr.manage").has_value());
  EXPECT_TRUE(ParseGrantableAction("service.metrics").has_value());
  EXPECT_TRUE(ParseGrantableAction("store.migrate").has_value());
  EXPECT_FALSE(ParseGrantableAction("store.migrate_failed").has_value());
  EXPECT_FALSE(ParseGrantableAction("hold.place").has_value());  // audited, not granted
  EXPECT_FALSE(ParseGrantableAction("auth.login").has_value());
  EXPECT_FALSE(ParseGrantableAction("customer.lists").has_value());
  EXPECT_FALSE(ParseGrantableAction("").has_value());
  size_t grantable = 0, data = 0, writes = 0;
  for (const ActionInfo& info : AllActions()) {
    grantable += info.grantable ? 1 : 0;
    data += info.data ? 1 : 0;
    writes += info.writes ? 1 : 0;
    if (info.data) {
      EXPECT_TRUE(info.grantable) << info.name;
    }
    if (info.writes) {
      EXPECT_TRUE(info.data) << info.name;
    }
  }
  // 37 + service.metrics (issue 12, 9d) + store.migrate (issue 11) + deid.release, deid.read
  // (issue 16) + partner.manage, share.create, share.read (issue 17) + doctor.run (issue 19)
  // + ops.manage, ops.read, incident.manage, incident.read, incident.close, violation.manage,
  // violation.read (issue 20) + pia.manage, pia.approve, pia.read, assessment.manage,
  // policy.manage, evidence.bundle (issue 19)
  EXPECT_EQ(grantable, 58u);
  EXPECT_EQ(data, 11u);
  EXPECT_EQ(writes, 5u);
}

}  // namespace
}  // namespace custos::schema
