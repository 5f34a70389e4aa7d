// Epoch wrapping keys in the live vault (issue 23; docs/backup.md "Epoch keys", docs/keys.md):
// every DEK is wrapped under the current epoch key (format 2), a vault made before epochs is
// migrated at open, epochs rotate on the vault's clock and are destroyed on the schedule only
// when no wrapped key names them, a KEK rotation re-wraps the epoch key files, the destruction
// certificate states the completion date and is checked against the vault, and a copy of the
// database taken before a destruction no longer opens the destroyed customer once its epoch
// is gone. On SQLite and (CUSTOS_TEST_PG_URL) PostgreSQL.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include "crypto/epoch_keys.h"
#include "crypto/keyring.h"
#include "lifecycle/certificate.h"
#include "raw_store.h"
#include "vault/epoch_state.h"
#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

constexpr int64_t kYearMs = 365LL * 24 * 3600 * 1000;
constexpr int64_t kWeekMs = 7 * 24LL * 3600 * 1000;

class EpochTest : public VaultTest {
 protected:
  Context Admin() const { return Context{"admin", "account_management", Channel::kCli, "req-e"}; }
  Context Dpo() const { return Context{"dpo", "", Channel::kCli, "req-dpo"}; }
  Context Security() const { return Context{"sec.admin", "", Channel::kCli, "req-sec"}; }

  static std::string Phone(int i) {
    std::string digits = std::to_string(i);
    return "139" + std::string(digits.size() < 8 ? 8 - digits.size() : 0, '0') + digits;
  }

  std::vector<std::string> AddCustomers(int n, int first = 0) {
    std::vector<std::string> ids;
    for (int i = first; i < first + n; ++i) {
      FieldValues f = WangFang();
      f["phone"] = Phone(i);
      auto id = vault_->customers().Create(Agent(), f, "form", Consented());
      EXPECT_TRUE(id.ok()) << id.status().ToString();
      if (id.ok()) ids.push_back(*id);
    }
    return ids;
  }

  void ExpectReadable(const std::vector<std::string>& ids) {
    for (const std::string& id : ids) {
      auto c = vault_->customers().Get(Agent(), id, {"name", "phone"});
      ASSERT_TRUE(c.ok()) << id << ": " << c.status().ToString();
      EXPECT_EQ(c->fields.at("name"), "王芳");
    }
  }

  // Every wrapped_keys row, read from the database as a copy of it would hold it.
  std::vector<store::WrappedKeyRow> RawWrappedKeys() {
    auto raw = OpenRawStore(dir_);
    if (raw == nullptr) return {};
    auto txn = raw->Begin();
    EXPECT_TRUE(txn.ok());
    auto rows = (*txn)->ListWrappedKeysNotAt(0, "", 1'000'000);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? *rows : std::vector<store::WrappedKeyRow>{};
  }

  void ExpectAllUnder(uint32_t epoch) {
    for (const store::WrappedKeyRow& row : RawWrappedKeys()) {
      EXPECT_EQ(row.kek_version, EpochColumn(epoch)) << row.customer_id;
      ASSERT_FALSE(row.wrapped_dek.empty());
      EXPECT_EQ(row.wrapped_dek[0], crypto::kEpochWrapFormat) << row.customer_id;
      auto named = crypto::WrappedDekEpoch(row.wrapped_dek);
      ASSERT_TRUE(named.ok());
      EXPECT_EQ(*named, epoch);
    }
  }

  EpochStatus Epochs() {
    auto s = vault_->keys().GetEpochStatus(Admin());
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : EpochStatus{};
  }
  static const EpochView* Find(const EpochStatus& s, uint32_t epoch) {
    for (const EpochView& e : s.epochs) {
      if (e.epoch == epoch) return &e;
    }
    return nullptr;
  }

  std::string AuditTail(int n) {
    std::ostringstream tail;
    Status st =
        vault_->audit().Tail(Context{"dpo", "account_management", Channel::kCli, ""}, n, tail);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return tail.str();
  }

  void ExpectAuditVerifies() {
    auto report = vault_->audit().Verify(Agent());
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_TRUE(report->ok) << report->problem;
  }

  // Reopens the vault without running the rotation due (to look at it as a kill left it).
  void ReopenWithoutRotation() {
    vault_.reset();
    OpenOptions open;
    open.dir = dir_;
    open.now_ms = Clock();
    open.TEST_skip_epoch_rotation = true;
    auto v = Vault::Open(open);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    vault_ = std::move(v).value();
  }

  // A vault as made before issue 23: no epoch store or state; its customers' DEKs wrapped by
  // the KEK (format 1).
  void InitOldVault() {
    vault_.reset();
    std::filesystem::remove_all(root_);
    root_ = MakeTempDir("custos-epoch-test");
    dir_ = root_ / "vault";
    InitOptions init;
    init.dir = dir_;
    init.now_ms = Clock();
    init.TEST_no_epochs = true;
    UseTestBackend(init);
    WithDpoPassword(init);  // as VaultTest::InitVault
    auto report = Vault::Init(init);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    AddTestOperatorRole();
    ReopenWithoutRotation();
    CreateStaff();
  }

  // Plans what is due, has the DPO request and the security admin approve it, and runs it.
  RetentionRunReport Destroy() {
    const Context admin{"admin", "", Channel::kCli, "req-setup"};
    if (!sec_admin_) {
      CreateGranted(
          StaffSpec{"sec.admin", "sec", "security_administrator", {"security_admin"}, ""});
      sec_admin_ = true;
    }
    auto plan = vault_->lifecycle().PlanRetention(Dpo());
    EXPECT_TRUE(plan.ok()) << plan.status().ToString();
    if (!plan.ok()) return {};
    ApprovalRequest req;
    req.kind = "destruction";
    req.justification = "retention sweep of the quarter, policy P3.4a";
    req.duration_ms = 7 * kDayMs;
    req.plan_id = plan->plan_id;
    auto approval = vault_->approvals().Request(Dpo(), req);
    EXPECT_TRUE(approval.ok()) << approval.status().ToString();
    if (!approval.ok()) return {};
    Status st = vault_->approvals().Approve(Security(), *approval);
    EXPECT_TRUE(st.ok()) << st.ToString();
    auto run = vault_->lifecycle().RunRetentionPlan(Dpo(), plan->plan_id);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() ? *run : RetentionRunReport{};
  }

  // Advances the vault's clock by `ms` and reopens it (every open runs what is due).
  void AdvanceAndReopen(int64_t ms) {
    now_ms_ += ms;
    Reopen();
  }

  // The live key store and the KEK of the vault, opened beside it as an auditor would.
  struct LiveKeys {
    std::unique_ptr<crypto::Keyring> keyring;
    std::unique_ptr<crypto::EpochKeyStore> epochs;
  };
  LiveKeys OpenLiveKeys() {
    LiveKeys out;
    auto config = schema::LoadConfig(dir_ / "custos.toml");
    EXPECT_TRUE(config.ok());
    auto raw = OpenRawStore(dir_);
    auto txn = raw->Begin();
    auto vault_id = (*txn)->GetMeta("vault_id");
    auto salt = (*txn)->GetMeta("kek_salt");
    auto active = (*txn)->GetMeta("kek_active_version");
    EXPECT_TRUE(vault_id.ok() && vault_id->has_value());
    auto provider = OpenVaultKeyProvider(*config, dir_, "", salt->value_or(crypto::Bytes{}));
    EXPECT_TRUE(provider.ok()) << provider.status().ToString();
    if (active->has_value()) {
      const std::string v(active->value().begin(), active->value().end());
      EXPECT_TRUE((*provider)->UseVersion(static_cast<uint32_t>(std::stoul(v))).ok());
    }
    const crypto::Suite suite = *crypto::ParseSuite(config->keys.suite);
    auto keyring = crypto::Keyring::New(suite, std::move(*provider));
    EXPECT_TRUE(keyring.ok());
    out.keyring = std::move(*keyring);
    auto epochs = crypto::EpochKeyStore::Open(
        dir_ / "epoch-keys", std::string(vault_id->value().begin(), vault_id->value().end()), suite,
        out.keyring->provider());
    EXPECT_TRUE(epochs.ok()) << epochs.status().ToString();
    out.epochs = std::move(*epochs);
    return out;
  }

  bool sec_admin_ = false;
};

TEST_F(EpochTest, ANewVaultWrapsEveryDataKeyUnderItsFirstEpoch) {
  const auto ids = AddCustomers(4);
  ExpectAllUnder(1);
  EXPECT_EQ(RawWrappedKeys().size(), 4u);
  EXPECT_TRUE(std::filesystem::exists(crypto::EpochKeyPath(dir_ / "epoch-keys", 1)));
  EpochStatus s = Epochs();
  EXPECT_EQ(s.current, 1u);
  EXPECT_EQ(s.keep, 4u);
  EXPECT_EQ(s.length_ms, kWeekMs);
  EXPECT_EQ(s.window_ms, 4 * kWeekMs);
  EXPECT_EQ(s.kek_wrapped_deks, 0);
  ASSERT_EQ(s.epochs.size(), 1u);
  EXPECT_EQ(s.epochs[0].state, "current");
  EXPECT_EQ(s.epochs[0].wrapped_deks, 4);
  EXPECT_TRUE(s.epochs[0].key_present);
  Reopen();
  ExpectReadable(ids);
  EXPECT_EQ(Epochs().current, 1u) << "nothing is due a moment later";
}

TEST_F(EpochTest, AVaultMadeBeforeEpochsIsMigratedAtOpenAndEveryCustomerReads) {
  InitOldVault();
  const auto ids = AddCustomers(7);
  for (const store::WrappedKeyRow& row : RawWrappedKeys()) {
    EXPECT_EQ(row.kek_version, 1u) << "wrapped by KEK v1, as before issue 23";
    EXPECT_EQ(row.wrapped_dek[0], crypto::kCiphertextFormat);
  }
  EXPECT_EQ(Epochs().current, 0u);
  EXPECT_EQ(Epochs().kek_wrapped_deks, 7);
  Reopen();  // migrates
  ExpectAllUnder(1);
  EXPECT_EQ(RawWrappedKeys().size(), 7u);
  ExpectReadable(ids);
  EpochStatus s = Epochs();
  EXPECT_EQ(s.current, 1u);
  EXPECT_EQ(s.kek_wrapped_deks, 0);
  EXPECT_EQ(s.rewrap_state, "done");
  EXPECT_EQ(s.rewrapped, 7);
  const std::string tail = AuditTail(40);
  EXPECT_NE(tail.find("migration, 7 DEKs wrapped by the KEK"), std::string::npos) << tail;
  EXPECT_NE(tail.find("finished: every DEK is wrapped under epoch 1"), std::string::npos) << tail;
  ExpectAuditVerifies();
}

TEST_F(EpochTest, AnInterruptedMigrationReadsBothFormatsAndResumes) {
  InitOldVault();
  const auto ids = AddCustomers(5);
  EpochRotateOptions opt;
  opt.batch_size = 2;
  opt.TEST_stop_after_batches = 1;
  auto first = vault_->keys().RotateEpochs(Admin(), opt);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->created, 1u);
  EXPECT_EQ(first->rewrapped, 2);
  EXPECT_FALSE(first->complete);
  ReopenWithoutRotation();
  int format1 = 0;
  for (const store::WrappedKeyRow& row : RawWrappedKeys())
    format1 += IsEpochColumn(row.kek_version) ? 0 : 1;
  EXPECT_EQ(format1, 3);
  ExpectReadable(ids);  // both formats open
  EXPECT_EQ(Epochs().rewrap_state, "running");
  // A customer created meanwhile is wrapped under epoch 1 already.
  const auto later = AddCustomers(1, 100);
  Reopen();  // resumes
  ExpectAllUnder(1);
  ExpectReadable(ids);
  ExpectReadable(later);
  EXPECT_EQ(Epochs().rewrap_state, "done");
  EXPECT_EQ(Epochs().epochs.size(), 1u) << "the resumed run made no second epoch";
}

TEST_F(EpochTest, EpochsRotateOnTheClockAndAreDestroyedAfterTheWindowOnly) {
  const auto ids = AddCustomers(3);
  std::vector<EpochDestroyed> told;
  const int64_t start = now_ms_.load();
  AdvanceAndReopen(kWeekMs - kDayMs);
  EXPECT_EQ(Epochs().current, 1u) << "not due before key_epoch_length";
  AdvanceAndReopen(kDayMs);
  EXPECT_EQ(Epochs().current, 2u);
  ExpectAllUnder(2);
  ExpectReadable(ids);
  for (uint32_t n = 3; n <= 4; ++n) {
    AdvanceAndReopen(kWeekMs);
    EXPECT_EQ(Epochs().current, n);
  }
  EpochStatus s = Epochs();
  EXPECT_EQ(Find(s, 1)->state, "live") << "kept for the window";
  EXPECT_TRUE(std::filesystem::exists(crypto::EpochKeyPath(dir_ / "epoch-keys", 1)));
  EXPECT_EQ(Find(s, 1)->destroy_due_ms, Find(s, 1)->created_at_ms + 4 * kWeekMs);
  // Four weeks after epoch 1 began (its window), the rotation to epoch 5 destroys it.
  now_ms_ = start + 4 * kWeekMs + 10'000;
  vault_.reset();
  OpenOptions open;
  open.dir = dir_;
  open.now_ms = Clock();
  open.TEST_skip_epoch_rotation = true;
  auto v = Vault::Open(open);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  vault_ = std::move(v).value();
  vault_->keys().AddEpochObserver([&told](const EpochDestroyed& e) {
    told.push_back(e);
    return Status::Ok();
  });
  auto r = vault_->keys().RunScheduledEpochRotation();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->created, 5u);
  EXPECT_EQ(r->destroyed, std::vector<uint32_t>{1});
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0].epoch, 1u);
  EXPECT_EQ(told[0].created_at_ms, Find(s, 1)->created_at_ms);
  EXPECT_FALSE(std::filesystem::exists(crypto::EpochKeyPath(dir_ / "epoch-keys", 1)));
  s = Epochs();
  EXPECT_EQ(Find(s, 1)->state, "destroyed");
  EXPECT_GT(Find(s, 1)->destroyed_at_ms, 0);
  EXPECT_EQ(Find(s, 2)->state, "live");
  ExpectAllUnder(5);
  ExpectReadable(ids);
  const std::string tail = AuditTail(10);
  EXPECT_NE(tail.find("\"action\":\"key.epoch_destroy\""), std::string::npos) << tail;
  EXPECT_NE(tail.find("\"target\":\"epoch:1\""), std::string::npos) << tail;
  EXPECT_NE(tail.find("\"action\":\"key.epoch_rotate\""), std::string::npos) << tail;
  // Nothing due: the scheduled job does nothing.
  r = vault_->keys().RunScheduledEpochRotation();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->created, 0u);
  EXPECT_TRUE(r->destroyed.empty());
  ExpectAuditVerifies();
}

TEST_F(EpochTest, AnIdleVaultLosesItsOldEpochsAtItsNextRotationAfterReWrappingStaleKeys) {
  const auto ids = AddCustomers(2);
  AdvanceAndReopen(kWeekMs);  // epoch 2
  AdvanceAndReopen(kWeekMs);  // epoch 3
  ASSERT_EQ(Epochs().current, 3u);
  // Idle for a year: epoch 4 is made, every key re-wrapped under it, and 1 to 3 (ended long
  // ago, except 3 which ends now) are destroyed: 3 is kept for the backups of its time.
  AdvanceAndReopen(kYearMs);
  EpochStatus s = Epochs();
  EXPECT_EQ(s.current, 4u);
  EXPECT_EQ(Find(s, 1)->state, "destroyed");
  EXPECT_EQ(Find(s, 2)->state, "destroyed");
  EXPECT_EQ(Find(s, 3)->state, "live");
  ExpectAllUnder(4);
  ExpectReadable(ids);
  // A key put back under epoch 3 (as a stale writer would) keeps epoch 3 alive until it is
  // re-wrapped; the next rotation re-wraps it first, then destroys epoch 3.
  {
    LiveKeys live = OpenLiveKeys();
    auto raw = OpenRawStore(dir_);
    auto txn = raw->Begin();
    auto row = (*txn)->GetWrappedKey(ids[0]);
    ASSERT_TRUE(row.ok() && row->has_value());
    auto dek = live.epochs->UnwrapDek(ids[0], (*row)->wrapped_dek);
    ASSERT_TRUE(dek.ok()) << dek.status().ToString();
    auto under3 = live.epochs->WrapDekUnder(ids[0], *dek, 3);
    ASSERT_TRUE(under3.ok());
    ASSERT_TRUE((*txn)->PutWrappedKey({ids[0], EpochColumn(3), *under3}).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  AdvanceAndReopen(kYearMs);
  s = Epochs();
  EXPECT_EQ(s.current, 5u);
  EXPECT_EQ(Find(s, 3)->state, "destroyed");
  ExpectAllUnder(5);
  ExpectReadable(ids);
}

TEST_F(EpochTest, OperatorsRotateByHandAndOnlyAKeyManagerMay) {
  const auto ids = AddCustomers(3);
  EXPECT_EQ(vault_->keys().RotateEpochs(Agent(), {}).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(vault_->keys().GetEpochStatus(SupportAgent()).status().code(), Code::kPermissionDenied);
  EpochRotateOptions if_due;
  auto none = vault_->keys().RotateEpochs(Admin(), if_due);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(none->created, 0u);
  EpochRotateOptions now;
  now.force = true;
  auto r = vault_->keys().RotateEpochs(Admin(), now);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->created, 2u);
  EXPECT_EQ(r->rewrapped, 3);
  EXPECT_TRUE(r->complete);
  EXPECT_TRUE(r->destroyed.empty()) << "epoch 1 just ended: kept for the window";
  ExpectAllUnder(2);
  ExpectReadable(ids);
  const std::string tail = AuditTail(20);
  EXPECT_NE(tail.find("epoch 2 created, replacing epoch 1: 3 DEKs to re-wrap"), std::string::npos)
      << tail;
  EXPECT_NE(tail.find("\"actor\":\"admin\""), std::string::npos) << tail;
  ExpectAuditVerifies();
}

TEST_F(EpochTest, AKekRotationRewrapsTheEpochFilesAndAfterRetirementEveryCustomerReads) {
  const auto ids = AddCustomers(5);
  AdvanceAndReopen(kWeekMs);  // two epoch files
  const std::string before = ReadFileBytes(crypto::EpochKeyPath(dir_ / "epoch-keys", 1));
  auto rotated = vault_->keys().Rotate(Admin(), {});
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(rotated->epoch_keys, 2);
  EXPECT_EQ(rotated->rewrapped, 0) << "DEKs are under epoch keys, not the KEK";
  EXPECT_NE(ReadFileBytes(crypto::EpochKeyPath(dir_ / "epoch-keys", 1)), before);
  auto status = vault_->keys().GetStatus(Admin());
  ASSERT_TRUE(status.ok());
  for (const KekVersionView& v : status->versions) {
    EXPECT_EQ(v.wrapped_deks, 0);
    EXPECT_EQ(v.epoch_keys, v.version == 2 ? 2 : 0) << "v" << v.version;
  }
  Status retired = vault_->keys().Retire(Admin(), 1);
  ASSERT_TRUE(retired.ok()) << retired.ToString();
  Reopen();
  ExpectReadable(ids);
  const auto later = AddCustomers(2, 50);
  AdvanceAndReopen(kWeekMs);  // a new epoch file, under KEK v2
  ExpectReadable(ids);
  ExpectReadable(later);
  ExpectAllUnder(3);
  ExpectAuditVerifies();
}

TEST_F(EpochTest, TheCertificateStatesTheCompletionDateAndIsCheckedAgainstTheVault) {
  const std::string gone = AddCustomers(1).at(0);
  now_ms_ += 3 * kYearMs + 2 * kDayMs;
  Reopen();  // epoch 2 (the clock jumped)
  const EpochStatus at_run = Epochs();
  ASSERT_EQ(at_run.current, 2u);
  RetentionRunReport run = Destroy();
  ASSERT_EQ(run.customers, 1);
  const std::string text = ReadFileBytes(run.certificate);
  auto json = nlohmann::json::parse(text);
  ASSERT_TRUE(json.contains("backups")) << text;
  const int64_t complete_by = Find(at_run, 2)->created_at_ms + 4 * kWeekMs;
  EXPECT_EQ(json["backups"]["complete_by_ms"].get<int64_t>(), complete_by);
  EXPECT_EQ(json["backups"]["epochs"], nlohmann::json({1, 2}));
  auto check = lifecycle::VerifyCertificate(text, "");
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_EQ(check->backups_complete_by_ms, complete_by);
  // A certificate with another date does not verify.
  auto altered = json;
  altered["backups"]["complete_by_ms"] = complete_by - kWeekMs;
  EXPECT_EQ(lifecycle::VerifyCertificate(altered.dump(), "").status().code(), Code::kDataLoss);

  auto c = vault_->lifecycle().CheckCertificate(Dpo(), text);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->state, "waiting");
  EXPECT_EQ(c->waiting, (std::vector<uint32_t>{1, 2}));
  auto waiting = vault_->lifecycle().ListWaitingDestructions(Dpo());
  ASSERT_TRUE(waiting.ok()) << waiting.status().ToString();
  ASSERT_EQ(waiting->size(), 1u);
  EXPECT_EQ(waiting->at(0).run_id, run.run_id);
  EXPECT_EQ(waiting->at(0).complete_by_ms, complete_by);

  // Past the date with no rotation since (the vault was not opened): overdue.
  now_ms_ = complete_by + kDayMs;
  c = vault_->lifecycle().CheckCertificate(Dpo(), text);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->state, "overdue");
  EXPECT_EQ(c->waiting, (std::vector<uint32_t>{1, 2}));
  // The late rotation destroys epoch 1; epoch 2 just stopped being current and is kept for
  // the backups of its time: a late rotation delays the date, it never shortens the window.
  Reopen();
  c = vault_->lifecycle().CheckCertificate(Dpo(), text);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->waiting, std::vector<uint32_t>{2});
  for (int week = 0; week < 3; ++week) AdvanceAndReopen(kWeekMs);
  c = vault_->lifecycle().CheckCertificate(Dpo(), text);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->state, "complete") << "waiting for " << c->waiting.size();
  EXPECT_TRUE(c->waiting.empty());
  waiting = vault_->lifecycle().ListWaitingDestructions(Dpo());
  ASSERT_TRUE(waiting.ok());
  EXPECT_TRUE(waiting->empty());
  // A certificate of another vault (another key) is refused.
  EXPECT_EQ(vault_->lifecycle().CheckCertificate(Dpo(), "{}").status().code(),
            Code::kInvalidArgument);
  ExpectAuditVerifies();
}

TEST_F(EpochTest, ACopyOfTheDatabaseNoLongerOpensADestroyedCustomerOnceItsEpochIsGone) {
  const std::string gone = AddCustomers(1).at(0);
  now_ms_ += 3 * kYearMs + 2 * kDayMs;
  Reopen();  // a new epoch (the clock jumped): the key is re-wrapped under it
  const auto others = AddCustomers(3, 10);  // recent: not due
  // An attacker's copy of the database just before the destruction (a dump, a base backup, a
  // WAL archive, a file copy): the customer's wrapped_keys row as it is then.
  store::WrappedKeyRow copied;
  {
    auto raw = OpenRawStore(dir_);
    auto txn = raw->Begin();
    auto row = (*txn)->GetWrappedKey(gone);
    ASSERT_TRUE(row.ok() && row->has_value());
    copied = **row;
  }
  ASSERT_TRUE(IsEpochColumn(copied.kek_version));
  const uint32_t epoch = EpochOfColumn(copied.kek_version);
  {
    // Within the window the copy opens with the live key store: that is what the window means.
    LiveKeys live = OpenLiveKeys();
    EXPECT_TRUE(live.epochs->UnwrapDek(gone, copied.wrapped_dek).ok());
    // The KEK alone never opens it: a DEK under an epoch key is not a KEK wrapping.
    EXPECT_FALSE(live.keyring->UnwrapDek(gone, copied.wrapped_dek).ok());
  }
  RetentionRunReport run = Destroy();
  ASSERT_EQ(run.customers, 1);
  // Rotate on the clock until the epoch the copy needs is destroyed (the window: 4 weeks).
  for (int week = 0; week < 5; ++week) AdvanceAndReopen(kWeekMs);
  EpochStatus s = Epochs();
  ASSERT_NE(Find(s, epoch), nullptr);
  ASSERT_EQ(Find(s, epoch)->state, "destroyed");
  EXPECT_FALSE(std::filesystem::exists(crypto::EpochKeyPath(dir_ / "epoch-keys", epoch)));
  LiveKeys live = OpenLiveKeys();
  auto with_epochs = live.epochs->UnwrapDek(gone, copied.wrapped_dek);
  EXPECT_EQ(with_epochs.status().code(), Code::kNotFound) << with_epochs.status().ToString();
  EXPECT_NE(with_epochs.status().message().find(fmt::format("epoch key {} is not held", epoch)),
            std::string::npos)
      << with_epochs.status().ToString();
  EXPECT_FALSE(live.keyring->UnwrapDek(gone, copied.wrapped_dek).ok());
  // The others read, through the vault and from their own rows with the live keys.
  ExpectReadable(others);
  auto raw = OpenRawStore(dir_);
  auto txn = raw->Begin();
  for (const std::string& id : others) {
    auto row = (*txn)->GetWrappedKey(id);
    ASSERT_TRUE(row.ok() && row->has_value());
    EXPECT_TRUE(live.epochs->UnwrapDek(id, (*row)->wrapped_dek).ok()) << id;
  }
  EXPECT_FALSE((*txn)->GetWrappedKey(gone)->has_value());
  EXPECT_FALSE(vault_->customers().Get(Agent(), gone, {"name"}).ok());
}

// Restore's reconciliation (AdoptHeldEpochs): the data backup's state says epochs 2 and 3 live
// (1 destroyed); the key side, taken later, holds 3 and 4. Epoch 2 was destroyed since, 4 is
// new and current with the creation time its file records (not the restore's time, which would
// restart its window), 1 stays destroyed with its dates.
TEST(AdoptHeldEpochsTest, TheStateFollowsTheEpochKeysTheKeySideHolds) {
  EpochState state;
  state.current = 3;
  state.live = {{2, 200}, {3, 300}};
  state.destroyed = {{1, 100, 150}};
  ASSERT_TRUE(AdoptHeldEpochs(state, {{3, 300}, {4, 400}}, 999));
  EXPECT_EQ(state.current, 4u);
  ASSERT_EQ(state.live.size(), 2u);
  EXPECT_EQ(state.live[0].epoch, 3u);
  EXPECT_EQ(state.live[0].created_at_ms, 300);
  EXPECT_EQ(state.live[1].epoch, 4u);
  EXPECT_EQ(state.live[1].created_at_ms, 400);
  ASSERT_EQ(state.destroyed.size(), 2u);
  EXPECT_EQ(state.destroyed[0].epoch, 1u);
  EXPECT_EQ(state.destroyed[0].destroyed_at_ms, 150);
  EXPECT_EQ(state.destroyed[1].epoch, 2u);
  EXPECT_EQ(state.destroyed[1].created_at_ms, 200);
  EXPECT_EQ(state.destroyed[1].destroyed_at_ms, 999);
}

// A held epoch already recorded destroyed is not brought back; nothing held leaves the state
// as it was (Open then names the missing epoch).
TEST(AdoptHeldEpochsTest, ADestroyedEpochStaysDestroyedAndNothingHeldChangesNothing) {
  EpochState state;
  state.current = 2;
  state.live = {{2, 200}};
  state.destroyed = {{1, 100, 150}};
  const EpochState before = state;
  EXPECT_FALSE(AdoptHeldEpochs(state, {{1, 100}}, 999));
  EXPECT_EQ(state.current, before.current);
  ASSERT_EQ(state.live.size(), 1u);
  EXPECT_EQ(state.live[0].epoch, 2u);
  ASSERT_EQ(state.destroyed.size(), 1u);
  EXPECT_FALSE(AdoptHeldEpochs(state, {}, 999));
  EXPECT_EQ(state.live.size(), 1u);
}

}  // namespace
}  // namespace custos::vault::testing
