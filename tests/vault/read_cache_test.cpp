// The fast read path (issue 3, point 8) keeps every rule: staff, token, training and grant
// rows are cached between requests (src/vault/access_cache.h) and reads share a commit
// (src/vault/group_commit.h), yet every change takes effect on the very next request — also
// when another Vault on the same directory and database makes it — and no read leaves
// without its audit entry. Runs on SQLite and, with CUSTOS_TEST_BACKEND=postgres, PostgreSQL.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "audit/audit_log.h"
#include "schema/config.h"
#include "store/fault_store.h"
#include "vault/pending_token.h"
#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

constexpr char kPassword[] = "correct horse battery";
constexpr int64_t kHourMs = 3600 * 1000;

class ReadCacheTest : public VaultTest {
 protected:
  const Context kAdmin{"admin", "account_management", Channel::kCli, "req-admin"};

  std::string NewCustomer() {
    auto id = vault_->customers().Create(
        Sales(), WangFang(), "form",
        Consented({"customer_service", "account_management", "risk_control"}));
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : "";
  }

  // A second Vault on the same directory and database, as another process would have it.
  std::unique_ptr<Vault> OpenOther(
      std::function<std::unique_ptr<store::Store>(std::unique_ptr<store::Store>)> wrap = {}) {
    OpenOptions open;
    open.dir = dir_;
    open.now_ms = [this] { return now_ms_.load(); };
    open.TEST_wrap_store = std::move(wrap);
    auto v = Vault::Open(open);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? std::move(v).value() : nullptr;
  }

  // A token for the support agent li.na.
  IssuedToken AgentToken() {
    auto t = ResetAndLogIn("li.na", kPassword);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? *t : IssuedToken{};
  }

  int64_t AuditEntries() {
    auto report = vault_->audit().Verify(Context{"dpo", "customer_service", Channel::kCli, "v"});
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    if (!report.ok()) return -1;
    EXPECT_TRUE(report->ok) << report->problem;
    return report->entries;
  }
};

TEST_F(ReadCacheTest, ARevokedTokenIsRefusedOnTheNextRequest) {
  const IssuedToken token = AgentToken();
  ASSERT_TRUE(vault_->staff().Authenticate(token.secret, "r1").ok());
  ASSERT_TRUE(vault_->staff().Authenticate(token.secret, "r2").ok());  // now from the cache
  ASSERT_TRUE(vault_->staff().RevokeToken(kAdmin, token.token_id).ok());
  EXPECT_EQ(vault_->staff().Authenticate(token.secret, "r3").status().code(),
            Code::kUnauthenticated);
}

TEST_F(ReadCacheTest, ATokenRevokedThroughAnotherVaultIsRefusedOnTheNextRequest) {
  const IssuedToken token = AgentToken();
  ASSERT_TRUE(vault_->staff().Authenticate(token.secret, "r1").ok());
  ASSERT_TRUE(vault_->staff().Authenticate(token.secret, "r2").ok());
  auto other = OpenOther();
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(other->staff().RevokeToken(kAdmin, token.token_id).ok());
  auto after = vault_->staff().Authenticate(token.secret, "r3");
  ASSERT_EQ(after.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(after.status().message(), "invalid or expired token") << "the audit keeps why";
}

TEST_F(ReadCacheTest, AnExpiredTokenIsRefusedWithoutAnyChangeToTheVault) {
  const IssuedToken token = AgentToken();
  ASSERT_TRUE(vault_->staff().Authenticate(token.secret, "r1").ok());
  now_ms_ = token.expires_at_ms;
  EXPECT_EQ(vault_->staff().Authenticate(token.secret, "r2").status().code(),
            Code::kUnauthenticated);
}

TEST_F(ReadCacheTest, StaffDisabledThroughAnotherVaultAreRefusedOnTheNextRequest) {
  const std::string id = NewCustomer();
  const IssuedToken token = AgentToken();
  ASSERT_TRUE(vault_->staff().Authenticate(token.secret, "r1").ok());
  ASSERT_TRUE(vault_->customers().Get(SupportAgent(), id, {}).ok());
  auto other = OpenOther();
  ASSERT_NE(other, nullptr);
  StaffChange disable;
  disable.status = "disabled";
  ASSERT_TRUE(other->staff().Update(kAdmin, "li.na", disable).ok());
  EXPECT_EQ(vault_->staff().Authenticate(token.secret, "r2").status().code(),
            Code::kUnauthenticated);
  EXPECT_EQ(vault_->customers().Get(SupportAgent(), id, {}).status().code(),
            Code::kUnauthenticated);
  EXPECT_EQ(vault_->customers().Find(SupportAgent(), "phone", "13800138000").status().code(),
            Code::kUnauthenticated);
}

// Issue 12, item 6: failed logins in another process make the next login on the CLI wait
// (the count is stored in the account's row), but do not stop a live token. A server counts
// in its own memory only (a stored count would tell existing ids from unknown ones after a
// restart), so the right password over the API goes through.
TEST_F(ReadCacheTest, FailedLoginsElsewhereDelayCliLoginsButNotALiveToken) {
  const IssuedToken token = AgentToken();
  ASSERT_TRUE(vault_->staff().Authenticate(token.secret, "r1").ok());
  auto other = OpenOther();
  ASSERT_NE(other, nullptr);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(other->staff()
                  .IssueToken("li.na", "not the password", "", kHourMs, "", Channel::kCli)
                  .status()
                  .code(),
              Code::kUnauthenticated);
  }
  EXPECT_TRUE(vault_->staff().Authenticate(token.secret, "r2").ok());
  EXPECT_EQ(vault_->staff()
                .IssueToken("li.na", kPassword, "", kHourMs, "", Channel::kCli)
                .status()
                .code(),
            Code::kResourceExhausted)
      << "the right password waits too";
  EXPECT_TRUE(vault_->staff().IssueToken("li.na", kPassword, "", kHourMs, "", Channel::kApi).ok());
}

TEST_F(ReadCacheTest, LapsedTrainingClosesConfidentialFieldsOnTheNextRequest) {
  const std::string id = NewCustomer();
  ASSERT_TRUE(vault_->customers().Get(Agent(), id, {"id_number"}).ok());
  ASSERT_TRUE(vault_->customers().Get(Agent(), id, {"id_number"}).ok());
  // The operator's training is valid for 3650 days (vault_fixture.h); nothing else changes.
  now_ms_ += 3651 * kDayMs;
  EXPECT_EQ(vault_->customers().Get(Agent(), id, {"id_number"}).status().code(),
            Code::kPermissionDenied);
}

TEST_F(ReadCacheTest, ConsentWithdrawnThroughAnotherVaultTakesEffectOnTheNextRequest) {
  const std::string id = NewCustomer();
  ASSERT_TRUE(vault_->customers().Get(RiskOfficer(), id, {"phone"}).ok());
  auto found = vault_->customers().Find(RiskOfficer(), "phone", "13800138000");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->size(), 1u);
  auto other = OpenOther();
  ASSERT_NE(other, nullptr);
  ConsentRequest withdraw;
  withdraw.action = "withdraw";
  withdraw.purpose = "risk_control";
  withdraw.evidence_ref = "call-2026-0002";
  ASSERT_TRUE(other->consent().Record(SupportAgent(), id, withdraw).ok());
  EXPECT_EQ(vault_->customers().Get(RiskOfficer(), id, {"phone"}).status().code(),
            Code::kPermissionDenied);
  found = vault_->customers().Find(RiskOfficer(), "phone", "13800138000");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_TRUE(found->empty());
}

TEST_F(ReadCacheTest, ABreakGlassGrantApprovedElsewhereWorksAtOnceAndEndsWhenItExpires) {
  const std::string id = NewCustomer();
  // The masked view first, so that the agent's facts are cached without any grant.
  auto masked = vault_->customers().Get(SupportAgent(), id, {});
  ASSERT_TRUE(masked.ok()) << masked.status().ToString();
  EXPECT_EQ(masked->fields.at("id_number"), "110105********002X");
  ApprovalRequest req;
  req.justification = "customer disputes identity on a fraud complaint, ticket 77";
  req.customers = {id};
  req.fields = {"id_number"};
  req.purpose = "customer_service";
  req.duration_ms = kHourMs;
  auto other = OpenOther();
  ASSERT_NE(other, nullptr);
  auto approval = other->approvals().Request(SupportAgent(), req);
  ASSERT_TRUE(approval.ok()) << approval.status().ToString();
  ASSERT_TRUE(other->approvals()
                  .Approve(Context{"dpo", "customer_service", Channel::kCli, "a"}, *approval)
                  .ok());
  auto full = vault_->customers().Get(SupportAgent(), id, {"id_number"});
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_EQ(full->fields.at("id_number"), "11010519491231002X");
  now_ms_ += kHourMs;  // the grant's window ends; nothing in the vault changes
  auto after = vault_->customers().Get(SupportAgent(), id, {});
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->fields.at("id_number"), "110105********002X");
}

TEST_F(ReadCacheTest, ConcurrentReadsEachLeaveOneEntryAndTheChainVerifies) {
  const std::string id = NewCustomer();
  const int64_t before = AuditEntries();
  const int64_t after_verify = AuditEntries();  // what a verify itself adds
  constexpr int kThreads = 8;
  constexpr int kReadsEach = 25;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kReadsEach; ++i) {
        const bool got =
            (t + i) % 2 == 0
                ? vault_->customers().Get(SupportAgent(), id, {}).ok()
                : vault_->customers().Find(SupportAgent(), "phone", "13800138000").ok();
        if (got) ok.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kReadsEach);
  const int64_t after = AuditEntries();
  EXPECT_EQ(after - after_verify, kThreads * kReadsEach + (after_verify - before));
}

TEST_F(ReadCacheTest, WhenTheBatchCannotBeCommittedNoReadReleasesDataAndNoEntryRemains) {
  const std::string id = NewCustomer();
  store::FaultInjectingStore* faults = nullptr;
  auto faulty = OpenOther([&faults](std::unique_ptr<store::Store> inner) {
    auto wrapped = std::make_unique<store::FaultInjectingStore>(std::move(inner));
    faults = wrapped.get();
    return std::unique_ptr<store::Store>(std::move(wrapped));
  });
  ASSERT_NE(faulty, nullptr);
  ASSERT_NE(faults, nullptr);
  ASSERT_TRUE(faulty->customers().Get(SupportAgent(), id, {}).ok());
  const int64_t before = AuditEntries();
  const int64_t after_verify = AuditEntries();
  faults->FailAfter(1, Code::kUnavailable);
  constexpr int kThreads = 8;
  std::atomic<int> unavailable{0};
  std::atomic<int> released{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      auto view = faulty->customers().Get(SupportAgent(), id, {});
      if (view.ok()) released.fetch_add(1);
      if (view.status().code() == Code::kUnavailable) unavailable.fetch_add(1);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(released.load(), 0);
  EXPECT_EQ(unavailable.load(), kThreads);
  faults->Heal();
  EXPECT_EQ(AuditEntries() - after_verify, after_verify - before);  // only the verify's own
}

// Issue 14: the HTTP edge hands a read its bearer token unchecked (PendingToken), and the read
// checks it in its own group-commit step — one batch per request instead of two — with the
// same refusals and entries as StaffService::Authenticate.
class TokenInReadTest : public ReadCacheTest {
 protected:
  // The support agent's context as the HTTP edge builds it: no actor; the token is pending
  // on the calling thread (WithToken).
  static Context Api(const std::string& request_id) {
    return Context{"", "customer_service", Channel::kApi, request_id};
  }
  // Runs `call` with `token` pending on this thread, as the HTTP edge runs a handler.
  template <typename Call>
  static auto WithToken(PendingToken& token, const Call& call) {
    const ScopedPendingToken installed(&token);
    return call();
  }

  // Entries of `action` by `actor` (the DPO's query; its own entry is not among them).
  std::vector<store::AuditRow> EntriesOf(const std::string& actor, const std::string& action) {
    AuditQuery q;
    q.actor = actor;
    q.action = action;
    q.limit = kMaxAuditPage;
    auto page =
        vault_->audit().Query(Context{"dpo", "legal_obligation", Channel::kCli, "req-dpo"}, q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->entries : std::vector<store::AuditRow>{};
  }

  // A second Vault whose store counts transactions (and can fail), as another process.
  std::unique_ptr<Vault> OpenCounted(store::FaultInjectingStore*& faults) {
    return OpenOther([&faults](std::unique_ptr<store::Store> inner) {
      auto wrapped = std::make_unique<store::FaultInjectingStore>(std::move(inner));
      faults = wrapped.get();
      return std::unique_ptr<store::Store>(std::move(wrapped));
    });
  }
};

TEST_F(TokenInReadTest, AReadThatChecksItsOwnTokenTakesOneBatchPerRequest) {
  if (ReadJournalForced())
    GTEST_SKIP() << "counts group-commit batches; journalled reads have none";
  const std::string id = NewCustomer();
  const IssuedToken token = AgentToken();
  store::FaultInjectingStore* faults = nullptr;
  auto counted = OpenCounted(faults);
  ASSERT_NE(counted, nullptr);
  ASSERT_NE(faults, nullptr);
  // The token checked first, then the read: two transactions.
  int64_t begins = faults->BeginCount();
  auto actor = counted->staff().Authenticate(token.secret, "r0", Channel::kApi);
  ASSERT_TRUE(actor.ok()) << actor.status().ToString();
  ASSERT_TRUE(counted->customers().Get(SupportAgent(), id, {"phone"}).ok());
  EXPECT_EQ(faults->BeginCount() - begins, 2);
  // The token checked inside the read: one.
  for (int i = 1; i <= 5; ++i) {
    PendingToken pending(token.secret);
    begins = faults->BeginCount();
    auto view = WithToken(pending, [&] {
      return counted->customers().Get(Api(fmt::format("r{}", i)), id, {"phone"});
    });
    ASSERT_TRUE(view.ok()) << view.status().ToString();
    EXPECT_EQ(view->fields.at("phone"), "13800138000");
    EXPECT_EQ(faults->BeginCount() - begins, 1);
    EXPECT_TRUE(pending.settled());
    EXPECT_TRUE(pending.outcome().ok());
    EXPECT_EQ(pending.actor(), "li.na");
  }
  PendingToken search(token.secret);
  begins = faults->BeginCount();
  auto found = WithToken(
      search, [&] { return counted->customers().Find(Api("r6"), "phone", "13800138000"); });
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(*found, std::vector<std::string>{id});
  EXPECT_EQ(faults->BeginCount() - begins, 1);
  // Each read is recorded once, under the token's staff member; a valid token adds no entry.
  const auto reads = EntriesOf("li.na", "customer.read");
  ASSERT_EQ(reads.size(), 6u);
  EXPECT_EQ(reads.back().request_id, "r5");
  EXPECT_EQ(reads.back().channel, "api");
  EXPECT_TRUE(EntriesOf("li.na", "auth.token").empty());
}

TEST_F(TokenInReadTest, ATokenRevokedBetweenTwoBatchesIsRefusedByTheNextReadWithNoData) {
  const std::string id = NewCustomer();
  const IssuedToken token = AgentToken();
  PendingToken first(token.secret);
  ASSERT_TRUE(WithToken(first, [&] { return vault_->customers().Get(Api("r1"), id, {}); }).ok());
  // Revoked through another Vault on the same database, as another server process would.
  auto other = OpenOther();
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(other->staff().RevokeToken(kAdmin, token.token_id).ok());
  PendingToken second(token.secret);
  auto refused = WithToken(second, [&] { return vault_->customers().Get(Api("r2"), id, {}); });
  ASSERT_EQ(refused.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(refused.status().message(), "invalid or expired token");
  EXPECT_TRUE(second.settled());
  EXPECT_EQ(second.outcome().code(), Code::kUnauthenticated);
  // The refusal is recorded as Authenticate records it; the read it would have authenticated
  // is not (nothing was read).
  const auto denied = EntriesOf("li.na", "auth.token");
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0].decision, "deny");
  EXPECT_EQ(denied[0].purpose, "authentication");
  EXPECT_EQ(denied[0].request_id, "r2");
  EXPECT_NE(denied[0].reason.find("token: revoked"), std::string::npos) << denied[0].reason;
  EXPECT_EQ(EntriesOf("li.na", "customer.read").size(), 1u);
  // A settled refusal answers the request's further operations without another check.
  auto again = WithToken(
      second, [&] { return vault_->customers().Find(Api("r2"), "phone", "13800138000"); });
  EXPECT_EQ(again.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(EntriesOf("li.na", "auth.token").size(), 1u);
}

TEST_F(TokenInReadTest, AnUnknownOrMalformedTokenIsRefusedAndRecordedOnce) {
  const std::string id = NewCustomer();
  for (const std::string& bad :
       std::vector<std::string>{"not-a-token", "cst_" + std::string(52, 'A')}) {
    PendingToken pending(bad);
    auto refused =
        WithToken(pending, [&] { return vault_->customers().Get(Api("r-bad"), id, {}); });
    EXPECT_EQ(refused.status().code(), Code::kUnauthenticated) << bad;
  }
  const auto denied = EntriesOf("", "auth.token");
  ASSERT_EQ(denied.size(), 2u);
  for (const store::AuditRow& e : denied) {
    EXPECT_EQ(e.actor, "(unauthenticated)");
    EXPECT_EQ(e.request_id, "r-bad");
  }
  for (const store::AuditRow& e : EntriesOf("", "customer.read")) {
    EXPECT_NE(e.request_id, "r-bad");
  }
}

TEST_F(TokenInReadTest, AWriteWithAPendingTokenChecksTheTokenFirst) {
  const std::string id = NewCustomer();
  const IssuedToken token = AgentToken();
  // The agent revokes their own token (allowed for oneself) with the token pending.
  PendingToken pending(token.secret);
  Context ctx = Api("r-revoke");
  ctx.purpose.clear();
  ASSERT_TRUE(
      WithToken(pending, [&] { return vault_->staff().RevokeToken(ctx, token.token_id); }).ok());
  EXPECT_TRUE(pending.settled());
  EXPECT_EQ(pending.actor(), "li.na");
  PendingToken after(token.secret);
  EXPECT_EQ(WithToken(after, [&] { return vault_->customers().Get(Api("r-after"), id, {}); })
                .status()
                .code(),
            Code::kUnauthenticated);
  // A context that names its actor never takes up the thread's pending token.
  PendingToken unused(token.secret);
  EXPECT_TRUE(
      WithToken(unused, [&] { return vault_->customers().Get(SupportAgent(), id, {}); }).ok());
  EXPECT_FALSE(unused.tried());
}

TEST_F(TokenInReadTest, WhenTheBatchCannotCommitAReadCheckingItsTokenReleasesNothing) {
  const std::string id = NewCustomer();
  const IssuedToken token = AgentToken();
  store::FaultInjectingStore* faults = nullptr;
  auto faulty = OpenCounted(faults);
  ASSERT_NE(faulty, nullptr);
  ASSERT_NE(faults, nullptr);
  PendingToken warm(token.secret);
  ASSERT_TRUE(WithToken(warm, [&] { return faulty->customers().Get(Api("r0"), id, {}); }).ok());
  const int64_t before = AuditEntries();
  const int64_t after_verify = AuditEntries();
  faults->FailAfter(1, Code::kUnavailable);
  constexpr int kThreads = 8;
  std::atomic<int> unavailable{0};
  std::atomic<int> released{0};
  std::atomic<int> settled{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      PendingToken pending(token.secret);
      auto view = WithToken(
          pending, [&] { return faulty->customers().Get(Api(fmt::format("f{}", t)), id, {}); });
      if (view.ok()) released.fetch_add(1);
      if (view.status().code() == Code::kUnavailable) unavailable.fetch_add(1);
      if (pending.settled()) settled.fetch_add(1);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(released.load(), 0);
  EXPECT_EQ(unavailable.load(), kThreads);
  EXPECT_EQ(settled.load(), 0) << "a token whose batch failed is neither accepted nor refused";
  faults->Heal();
  EXPECT_EQ(AuditEntries() - after_verify, after_verify - before);  // only the verify's own
}

TEST_F(TokenInReadTest, ConcurrentReadsCheckingTheirTokensEachLeaveOneEntry) {
  const std::string id = NewCustomer();
  const IssuedToken token = AgentToken();
  const size_t reads_before = EntriesOf("li.na", "customer.read").size();
  constexpr int kThreads = 8;
  constexpr int kReadsEach = 20;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kReadsEach; ++i) {
        PendingToken pending(token.secret);
        const Context ctx = Api(fmt::format("c{}-{}", t, i));
        const bool got = WithToken(pending, [&] {
          return (t + i) % 2 == 0 ? vault_->customers().Get(ctx, id, {}).ok()
                                  : vault_->customers().Find(ctx, "phone", "13800138000").ok();
        });
        if (got && pending.actor() == "li.na") ok.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kReadsEach);
  EXPECT_EQ(EntriesOf("li.na", "customer.read").size() - reads_before,
            static_cast<size_t>(kThreads * kReadsEach / 2));
  EXPECT_EQ(EntriesOf("li.na", "customer.search").size(),
            static_cast<size_t>(kThreads * kReadsEach / 2));
  EXPECT_TRUE(EntriesOf("li.na", "auth.token").empty());
  EXPECT_GE(AuditEntries(), 0);  // the chain verifies
}

}  // namespace
}  // namespace custos::vault::testing

namespace custos::vault::testing {
namespace {

// Issue 3: verifying the log is audit.read work; a caller without it is refused before the
// vault seals the head or walks the chain (the head file stays as it was).
TEST_F(ReadCacheTest, VerifyRefusesACallerWithoutAuditReadBeforeDoingAnyWork) {
  ASSERT_GE(AuditEntries(), 0);  // seals the head
  const auto head = dir_ / vault_->config().audit.head_file;
  const std::string sealed = ReadFileBytes(head);
  NewCustomer();  // new entries a seal would cover
  auto refused = vault_->audit().Verify(SupportAgent());
  EXPECT_EQ(refused.status().code(), Code::kPermissionDenied);
  EXPECT_EQ(ReadFileBytes(head), sealed);
}

}  // namespace
}  // namespace custos::vault::testing
