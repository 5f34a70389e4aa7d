// The key and backup ages behind GET /v1/metrics and their alerts (issue 22 point 3;
// docs/operations.md "Monitoring and alerts"), on both backends, with the injected clock.
#include "vault/service_gauges.h"

#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

constexpr int64_t kHourMs = 3600LL * 1000;
constexpr int64_t kDay = 24 * kHourMs;

class ServiceGaugesTest : public VaultTest {
 protected:
  static Context Admin() { return Context{"admin", "", Channel::kCli, "req-metrics"}; }
  ServiceGauges Gauges() {
    auto g = vault_->staff().Metrics(Admin());
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    return g.ok() ? *g : ServiceGauges{};
  }
  static bool Firing(const ServiceGauges& g, const std::string& name) {
    for (const ServiceAlert& a : g.alerts) {
      if (a.name == name) return a.firing;
    }
    ADD_FAILURE() << "no alert " << name;
    return false;
  }
  void Advance(int64_t ms) { now_ms_.fetch_add(ms); }
};

TEST_F(ServiceGaugesTest, ANewVaultHasAYoungKekAndNoBackupWhichIsAnAlert) {
  const ServiceGauges g = Gauges();
  EXPECT_EQ(g.kek_version, 1u);
  EXPECT_LT(g.kek_age_seconds, 60);
  EXPECT_FALSE(g.has_backup);
  EXPECT_EQ(g.backups, 0);
  EXPECT_TRUE(Firing(g, "backup_stale")) << "a vault never backed up";
  EXPECT_FALSE(Firing(g, "kek_rotation_due"));
  EXPECT_FALSE(Firing(g, "key_epoch_rotation_overdue"));
  EXPECT_FALSE(Firing(g, "key_epoch_destruction_overdue"));
  ASSERT_EQ(g.alerts.size(), 4u);
  EXPECT_EQ(g.alerts[0].threshold_seconds, 26 * 3600) << "no [backup] schedule: daily by cron";
}

TEST_F(ServiceGaugesTest, ABackupClearsTheAlertUntilItIsOlderThanTheThreshold) {
  auto taken = vault_->backups().Take(Admin(), BackupRequest{});
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  Advance(2 * kHourMs);
  ServiceGauges g = Gauges();
  EXPECT_TRUE(g.has_backup);
  EXPECT_EQ(g.backup_id, taken->backup_id);
  EXPECT_EQ(g.backups, 1);
  EXPECT_GE(g.backup_age_seconds, 2 * 3600);
  EXPECT_LT(g.backup_age_seconds, 2 * 3600 + 60);
  EXPECT_FALSE(Firing(g, "backup_stale"));
  Advance(25 * kHourMs);
  g = Gauges();
  EXPECT_GT(g.backup_age_seconds, 26 * 3600);
  EXPECT_TRUE(Firing(g, "backup_stale"));
}

TEST_F(ServiceGaugesTest, AYearOldKekAndOverdueEpochsRaiseTheirAlertsUntilRotated) {
  Advance(366 * kDay);
  ServiceGauges g = Gauges();
  EXPECT_GT(g.kek_age_seconds, 365LL * 24 * 3600);
  EXPECT_TRUE(Firing(g, "kek_rotation_due"));
  ASSERT_FALSE(g.epochs.empty()) << "a keyfile vault has epoch keys from init";
  EXPECT_TRUE(Firing(g, "key_epoch_rotation_overdue")) << "no rotation for a year";

  auto rotated = vault_->keys().Rotate(Admin(), RotateOptions{});
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  auto epochs = vault_->keys().RotateEpochs(Admin(), EpochRotateOptions{});
  ASSERT_TRUE(epochs.ok()) << epochs.status().ToString();
  g = Gauges();
  EXPECT_EQ(g.kek_version, 2u);
  EXPECT_LT(g.kek_age_seconds, 60);
  EXPECT_FALSE(Firing(g, "kek_rotation_due"));
  EXPECT_FALSE(Firing(g, "key_epoch_rotation_overdue"));
  EXPECT_FALSE(Firing(g, "key_epoch_destruction_overdue"));
}

TEST(ServiceAlertsTest, AnEpochPastItsDestructionDateIsOverdue) {
  schema::BackupConfig backup;
  backup.every_seconds = 3600;
  ServiceGauges g;
  g.now_ms = 100 * kDay;
  g.has_backup = true;
  g.backup_age_seconds = 2 * 3600;
  g.epoch_length_seconds = 7 * 24 * 3600;
  g.epochs = {KeyEpochAge{1, false, 40 * 24 * 3600, 99 * kDay - 1}, KeyEpochAge{2, true, 3600, 0}};
  std::vector<ServiceAlert> alerts = EvaluateAlerts(g, backup);
  ASSERT_EQ(alerts.size(), 4u);
  EXPECT_FALSE(alerts[0].firing) << "two hourly intervals and an hour: 3 h";
  EXPECT_EQ(alerts[0].threshold_seconds, 3 * 3600);
  EXPECT_EQ(alerts[3].name, "key_epoch_destruction_overdue");
  EXPECT_TRUE(alerts[3].firing);
  g.epochs[0].destroy_due_ms = 99 * kDay + 1;  // within the day of grace
  EXPECT_FALSE(EvaluateAlerts(g, backup)[3].firing);
}

TEST_F(ServiceGaugesTest, OnlyAHolderOfServiceMetricsReadsThem) {
  EXPECT_EQ(vault_->staff().Metrics(SupportAgent()).status().code(), Code::kPermissionDenied);
}

}  // namespace
}  // namespace custos::vault::testing
