// KEK rotation (issue 6, docs/keys.md): every wrapped key moves to the new version, data stays
// readable and searchable, a vault opened before the rotation keeps working, an interrupted
// rotation resumes, and an old version is retired only when nothing is wrapped under it.
// Since issue 23 the KEK wraps the epoch key files, not the DEKs (epoch_test.cpp); the DEK
// batches still run for DEKs a vault made before epochs has not yet migrated.
#include <sys/stat.h>

#include <thread>

#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

class KeyRotationTest : public VaultTest {
 protected:
  Context Admin() const { return Context{"admin", "account_management", Channel::kCli, "req-k"}; }

  std::vector<std::string> AddCustomers(int n, Vault& v) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      FieldValues f = WangFang();
      f["phone"] = fmt_phone(i);
      auto id = v.customers().Create(Agent(), f, "form", Consented());
      EXPECT_TRUE(id.ok()) << id.status().ToString();
      if (id.ok()) ids.push_back(*id);
    }
    return ids;
  }
  static std::string fmt_phone(int i) {
    // 138 and eight digits: the traffic thread below may create tens of thousands.
    std::string digits = std::to_string(i);
    return "138" + std::string(digits.size() < 8 ? 8 - digits.size() : 0, '0') + digits;
  }

  KeyStatus Keys() {
    auto s = vault_->keys().GetStatus(Admin());
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : KeyStatus{};
  }
  static const KekVersionView* Find(const KeyStatus& s, uint32_t version) {
    for (const auto& v : s.versions) {
      if (v.version == version) return &v;
    }
    return nullptr;
  }

  void ExpectReadableAndSearchable(Vault& v, const std::vector<std::string>& ids) {
    for (size_t i = 0; i < ids.size(); ++i) {
      auto c = v.customers().Get(Agent(), ids[i], {"name", "phone"});
      ASSERT_TRUE(c.ok()) << "customer " << i << ": " << c.status().ToString();
      EXPECT_EQ(c->fields.at("name"), "王芳");
      auto hits = v.customers().Find(Agent(), "phone", fmt_phone(static_cast<int>(i)));
      ASSERT_TRUE(hits.ok()) << hits.status().ToString();
      ASSERT_EQ(hits->size(), 1u);
      EXPECT_EQ(hits->front(), ids[i]);
    }
  }

  // A vault as made before issue 23 (DEKs wrapped by the KEK), opened without migrating it.
  void InitOldVault() {
    vault_.reset();
    std::filesystem::remove_all(root_);
    root_ = MakeTempDir("custos-kek-test");
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
    ReopenOld();
    CreateStaff();
  }
  void ReopenOld() {
    vault_.reset();
    OpenOptions open;
    open.dir = dir_;
    open.now_ms = Clock();
    open.TEST_skip_epoch_rotation = true;
    auto v = Vault::Open(open);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    vault_ = std::move(v).value();
  }

  void ExpectAuditVerifies() {
    auto report = vault_->audit().Verify(Agent());
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_TRUE(report->ok) << report->problem;
  }
};

TEST_F(KeyRotationTest, ANewVaultHasOneActiveVersionHoldingEveryKey) {
  AddCustomers(3, *vault_);
  const KeyStatus s = Keys();
  EXPECT_EQ(s.provider, "keyfile");
  EXPECT_EQ(s.active_version, 1u);
  ASSERT_EQ(s.versions.size(), 1u);
  EXPECT_EQ(s.versions[0].state, "active");
  EXPECT_EQ(s.versions[0].wrapped_deks, 0) << "DEKs are wrapped under the epoch key";
  EXPECT_EQ(s.versions[0].epoch_keys, 1);
  // The key check, the signing key and the searchable fields' index keys.
  EXPECT_GE(s.versions[0].vault_keys, 3);
  EXPECT_TRUE(s.versions[0].material_present);
  EXPECT_EQ(s.rotation.state, "none");
}

TEST_F(KeyRotationTest, RotationRewrapsEveryKeyAndTheDataStaysReadableAndSearchable) {
  const auto ids = AddCustomers(7, *vault_);
  ASSERT_TRUE(vault_->staff().EnrollTotp(Context{"li.na", "", Channel::kCli, "r"}, "li.na").ok());
  const int64_t vault_keys = Keys().versions[0].vault_keys;
  RotateOptions opt;
  opt.batch_size = 3;
  auto report = vault_->keys().Rotate(Admin(), opt);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->complete);
  EXPECT_FALSE(report->resumed);
  EXPECT_EQ(report->from_version, 1u);
  EXPECT_EQ(report->to_version, 2u);
  EXPECT_EQ(report->rewrapped, 0);  // the DEKs are under the epoch key, which is rewrapped
  EXPECT_EQ(report->batches, 0);
  EXPECT_EQ(report->epoch_keys, 1);
  EXPECT_EQ(report->vault_keys, vault_keys);  // TOTP secret included

  const KeyStatus s = Keys();
  EXPECT_EQ(s.active_version, 2u);
  ASSERT_NE(Find(s, 1), nullptr);
  ASSERT_NE(Find(s, 2), nullptr);
  EXPECT_EQ(Find(s, 1)->state, "retiring");
  EXPECT_EQ(Find(s, 1)->wrapped_deks, 0);
  EXPECT_EQ(Find(s, 1)->vault_keys, 0);
  EXPECT_EQ(Find(s, 1)->epoch_keys, 0);
  EXPECT_EQ(Find(s, 2)->state, "active");
  EXPECT_EQ(Find(s, 2)->epoch_keys, 1);
  EXPECT_EQ(Find(s, 2)->vault_keys, vault_keys);
  EXPECT_EQ(s.rotation.state, "done");
  EXPECT_EQ(s.rotation.remaining, 0);

  // One keyfile per version, each readable by its owner only.
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "kek.v2.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ExpectReadableAndSearchable(*vault_, ids);
  Reopen();  // opens under v2
  ExpectReadableAndSearchable(*vault_, ids);
  ExpectAuditVerifies();
}

TEST_F(KeyRotationTest, TheAuditLogNamesTheStartAndTheEndWithCounts) {
  AddCustomers(2, *vault_);
  ASSERT_TRUE(vault_->keys().Rotate(Admin(), {}).ok());
  std::ostringstream tail;
  ASSERT_TRUE(
      vault_->audit().Tail(Context{"dpo", "account_management", Channel::kCli, ""}, 5, tail).ok());
  const std::string log = tail.str();
  EXPECT_NE(log.find("started: KEK v1 -> v2 (keyfile): 1 epoch keys and"), std::string::npos)
      << log;
  EXPECT_NE(log.find("finished: KEK v1 -> v2 (keyfile): 1 epoch keys,"), std::string::npos) << log;
}

// `custos key rotate` names no purpose (CUSTOS_PURPOSE unset): key administration is recorded
// under "legal_obligation" rather than refused.
TEST_F(KeyRotationTest, KeyAdministrationWithoutAPurposeIsRecordedAsALegalObligation) {
  const Context no_purpose{"admin", "", Channel::kCli, "req-k"};
  ASSERT_TRUE(vault_->keys().Rotate(no_purpose, {}).ok());
  ASSERT_TRUE(vault_->keys().GetStatus(no_purpose).ok());
  ASSERT_TRUE(vault_->keys().Retire(no_purpose, 1).ok());
  std::ostringstream tail;
  ASSERT_TRUE(
      vault_->audit().Tail(Context{"dpo", "account_management", Channel::kCli, ""}, 2, tail).ok());
  EXPECT_NE(tail.str().find("\"purpose\":\"legal_obligation\""), std::string::npos) << tail.str();
  EXPECT_NE(tail.str().find("\"action\":\"key.retire\""), std::string::npos) << tail.str();
}

TEST_F(KeyRotationTest, AnInterruptedRotationResumesWhereItStopped) {
  InitOldVault();  // DEKs wrapped by the KEK: the rotation rewraps them in batches
  const auto ids = AddCustomers(5, *vault_);
  RotateOptions opt;
  opt.batch_size = 2;
  opt.TEST_stop_after_batches = 1;
  auto first = vault_->keys().Rotate(Admin(), opt);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->complete);
  EXPECT_EQ(first->rewrapped, 2);

  ReopenOld();  // as after a crash
  KeyStatus s = Keys();
  EXPECT_EQ(s.rotation.state, "running");
  EXPECT_EQ(s.rotation.rewrapped, 2);
  EXPECT_EQ(s.rotation.remaining, 3);
  EXPECT_EQ(Find(s, 1)->wrapped_deks, 3);
  EXPECT_EQ(Find(s, 2)->wrapped_deks, 2);
  // Half-rotated, every customer is readable (keys under both versions).
  ExpectReadableAndSearchable(*vault_, ids);
  // Retiring the old version now would lose three customers.
  EXPECT_EQ(vault_->keys().Retire(Admin(), 1).code(), Code::kFailedPrecondition);

  opt.TEST_stop_after_batches = 0;
  auto second = vault_->keys().Rotate(Admin(), opt);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(second->resumed);
  EXPECT_TRUE(second->complete);
  EXPECT_EQ(second->to_version, 2u);  // the same rotation, not a third version
  EXPECT_EQ(second->rewrapped, 3);
  s = Keys();
  EXPECT_EQ(Find(s, 2)->wrapped_deks, 5);
  EXPECT_EQ(s.rotation.rewrapped, 5);
  EXPECT_EQ(s.versions.size(), 2u);
  ExpectReadableAndSearchable(*vault_, ids);
  ExpectAuditVerifies();
}

TEST_F(KeyRotationTest, AVaultOpenedBeforeTheRotationKeepsReadingAndWritingDuringIt) {
  const auto ids = AddCustomers(20, *vault_);
  OpenOptions open;
  open.dir = dir_;
  open.now_ms = Clock();
  auto other = Vault::Open(open);  // another process on the same vault, e.g. `custos serve`
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  Vault& serving = **other;

  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<int> rounds{0};
  std::vector<std::string> created;
  std::thread traffic([&] {
    int i = 0;
    while (!stop.load()) {
      auto c = serving.customers().Get(Agent(), ids[static_cast<size_t>(i) % ids.size()], {"name"});
      if (!c.ok()) failures.fetch_add(1);
      FieldValues f = WangFang();
      f["phone"] = fmt_phone(100 + i);
      auto id = serving.customers().Create(Agent(), f, "form", Consented());
      if (id.ok())
        created.push_back(*id);
      else
        failures.fetch_add(1);
      ++i;
      rounds.fetch_add(1);
      // A client's pause between requests: a loop with none holds SQLite's one write lock
      // almost always (each write now signs its audit tip inside it), and SQLite's busy
      // handler is not fair, so the rotation's own writes could starve past the busy timeout.
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  RotateOptions opt;
  opt.batch_size = 2;
  opt.progress = [](int64_t, int64_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  };
  // The rotation re-wraps a few epoch files and can end within milliseconds: it starts once the
  // client's traffic runs (else the thread may not have made one request before the stop).
  while (rounds.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto report = vault_->keys().Rotate(Admin(), opt);
  stop.store(true);
  traffic.join();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->complete);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_FALSE(created.empty());

  // The serving vault reads keys wrapped under v2 (it loads kek.v2.key when first needed) and
  // wraps new ones under v2 too.
  FieldValues f = WangFang();
  f["phone"] = fmt_phone(999);
  auto late = serving.customers().Create(Agent(), f, "form", Consented());
  ASSERT_TRUE(late.ok()) << late.status().ToString();
  for (const std::string& id : ids) {
    auto c = serving.customers().Get(Agent(), id, {"name"});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
  }
  const KeyStatus s = Keys();
  ASSERT_NE(Find(s, 1), nullptr);
  EXPECT_EQ(Find(s, 1)->wrapped_deks, 0);
  EXPECT_EQ(Find(s, 1)->epoch_keys, 0);
  EXPECT_EQ(Find(s, 2)->epoch_keys, 1);
  for (const std::string& id : created) {
    auto c = serving.customers().Get(Agent(), id, {"name"});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
  }
  other->reset();
  ExpectAuditVerifies();
}

TEST_F(KeyRotationTest, TheOldVersionIsRetiredOnlyWhenNothingIsWrappedUnderIt) {
  const auto ids = AddCustomers(3, *vault_);
  EXPECT_EQ(vault_->keys().Retire(Admin(), 1).code(), Code::kFailedPrecondition);  // active
  EXPECT_EQ(vault_->keys().Retire(Admin(), 7).code(), Code::kNotFound);
  ASSERT_TRUE(vault_->keys().Rotate(Admin(), {}).ok());
  EXPECT_EQ(vault_->keys().Retire(Admin(), 2).code(), Code::kFailedPrecondition);  // active
  ASSERT_TRUE(std::filesystem::exists(dir_ / "kek.key"));
  Status retired = vault_->keys().Retire(Admin(), 1);
  ASSERT_TRUE(retired.ok()) << retired.ToString();
  EXPECT_FALSE(std::filesystem::exists(dir_ / "kek.key"));
  EXPECT_TRUE(vault_->keys().Retire(Admin(), 1).ok());  // already retired: nothing to do
  KeyStatus s = Keys();
  EXPECT_EQ(Find(s, 1)->state, "retired");
  EXPECT_FALSE(Find(s, 1)->material_present);
  Reopen();
  ExpectReadableAndSearchable(*vault_, ids);
  // A second rotation makes v3 and leaves v2 retiring.
  auto again = vault_->keys().Rotate(Admin(), {});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->to_version, 3u);
  s = Keys();
  EXPECT_EQ(Find(s, 2)->state, "retiring");
  EXPECT_EQ(Find(s, 3)->state, "active");
  ExpectReadableAndSearchable(*vault_, ids);
  ExpectAuditVerifies();
}

TEST_F(KeyRotationTest, OnlyAKeyManagerMayRotateOrRetireAndTheRefusalIsAudited) {
  EXPECT_EQ(vault_->keys().Rotate(Agent(), {}).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(vault_->keys().Retire(Agent(), 1).code(), Code::kPermissionDenied);
  EXPECT_EQ(vault_->keys().GetStatus(SupportAgent()).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(Keys().active_version, 1u);
  std::ostringstream tail;
  ASSERT_TRUE(
      vault_->audit().Tail(Context{"dpo", "account_management", Channel::kCli, ""}, 6, tail).ok());
  EXPECT_NE(tail.str().find("\"key.rotate\""), std::string::npos) << tail.str();
}

TEST_F(KeyRotationTest, ThePassphraseProviderRefusesToRotateWithAClearMessage) {
  if (OnPostgres()) GTEST_SKIP() << "provider behaviour; the backend does not matter";
  vault_.reset();
  const auto dir = root_ / "pass";
  InitOptions init;
  init.dir = dir;
  init.provider = "passphrase";
  init.passphrase = "correct horse battery staple";
  ASSERT_TRUE(Vault::Init(init).ok());
  OpenOptions open;
  open.dir = dir;
  open.passphrase = init.passphrase;
  auto v = Vault::Open(open);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  auto rotated = (*v)->keys().Rotate(Admin(), {});
  EXPECT_EQ(rotated.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(rotated.status().message().find("passphrase provider"), std::string::npos);
  auto s = (*v)->keys().GetStatus(Admin());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->active_version, 1u);
  EXPECT_EQ(s->rotation.state, "none");
}

}  // namespace
}  // namespace custos::vault::testing
