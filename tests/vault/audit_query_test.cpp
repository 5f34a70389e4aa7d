// The DPO's questions to the audit log (issue 13 item 5; src/vault/audit_query.cpp), on SQLite
// and (CUSTOS_TEST_BACKEND=postgres) PostgreSQL: each filter narrows to exactly the entries it
// names (checked against the whole log read by export), filters combine, time bounds include
// their start and exclude their end, pages lose and repeat nothing while the log grows between
// them, bad parameters are refused naming the parameter and never echoing it, a role without
// audit.read is refused, every query is itself an entry, and follow streams new entries.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "audit/export.h"
#include "store/store.h"
#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

using Entry = nlohmann::json;

class AuditQueryTest : public VaultTest {
 protected:
  Context Dpo() const { return Context{"dpo", "legal_obligation", Channel::kCli, "req-dpo"}; }

  // The whole log as the export reads it (its own entry is the last).
  std::vector<Entry> Log() {
    std::ostringstream out;
    EXPECT_TRUE(vault_->audit().Export(Dpo(), out).ok());
    std::vector<Entry> entries;
    std::istringstream lines(out.str());
    for (std::string line; std::getline(lines, line);) entries.push_back(Entry::parse(line));
    return entries;
  }

  // The seqs of `log` for which `keep` holds.
  static std::vector<int64_t> Where(const std::vector<Entry>& log,
                                    const std::function<bool(const Entry&)>& keep) {
    std::vector<int64_t> seqs;
    for (const Entry& e : log) {
      if (keep(e)) seqs.push_back(e["seq"].get<int64_t>());
    }
    return seqs;
  }

  // Every page of `q` (its limit per page); the seqs in the order returned.
  std::vector<int64_t> All(AuditQuery q) {
    std::vector<int64_t> seqs;
    for (int pages = 0; pages < 1000; ++pages) {
      auto page = vault_->audit().Query(Dpo(), q);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      for (const store::AuditRow& row : page->entries) seqs.push_back(row.seq);
      if (page->next_cursor.empty()) break;
      q.cursor = page->next_cursor;
    }
    return seqs;
  }

  // Traffic of several people, customers, purposes and decisions.
  void Traffic() {
    auto a = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
    auto b = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
    ASSERT_TRUE(a.ok() && b.ok());
    a_ = *a;
    b_ = *b;
    ASSERT_TRUE(vault_->customers().Get(SupportAgent(), a_, {"name", "phone"}).ok());
    ASSERT_TRUE(vault_->customers().Get(SupportAgent(), b_, {"name"}).ok());
    ASSERT_TRUE(vault_->customers().Get(Agent(), a_, {"name"}).ok());
    // Refused: marketing is not a purpose the support agent's role may use.
    EXPECT_FALSE(vault_->customers().Get(SupportAgent("marketing"), a_, {"name"}).ok());
    ASSERT_TRUE(vault_->customers().Get(Agent("account_management"), b_, {"name"}).ok());
  }

  std::string a_;
  std::string b_;
};

TEST_F(AuditQueryTest, EachFilterNarrowsToExactlyTheEntriesItNames) {
  Traffic();
  const std::vector<Entry> log = Log();
  struct Case {
    std::function<void(AuditQuery&)> set;
    std::function<bool(const Entry&)> keep;
  };
  const std::string target_a = "customer:" + a_;
  const std::vector<Case> cases = {
      {[&](AuditQuery& q) { q.customer_id = a_; },
       [&](const Entry& e) { return e["target"] == target_a; }},
      {[](AuditQuery& q) { q.actor = "li.na"; },
       [](const Entry& e) { return e["actor"] == "li.na"; }},
      {[](AuditQuery& q) { q.action = "customer.read"; },
       [](const Entry& e) { return e["action"] == "customer.read"; }},
      {[](AuditQuery& q) { q.decision = "deny"; },
       [](const Entry& e) { return e["decision"] == "deny"; }},
      {[](AuditQuery& q) { q.purpose = "account_management"; },
       [](const Entry& e) { return e["purpose"] == "account_management"; }},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    AuditQuery q;
    cases[i].set(q);
    const std::vector<int64_t> want = Where(log, cases[i].keep);
    EXPECT_FALSE(want.empty()) << "case " << i;
    EXPECT_LT(want.size(), log.size()) << "case " << i;
    EXPECT_EQ(All(q), want) << "case " << i;
  }
  // No filter: the whole log as it stood at the first page (the queries above came after).
  AuditQuery everything;
  everything.limit = 7;
  const std::vector<int64_t> all = All(everything);
  ASSERT_GE(all.size(), log.size());
  EXPECT_EQ(std::vector<int64_t>(all.begin(), all.begin() + static_cast<long>(log.size())),
            Where(log, [](const Entry&) { return true; }));
}

TEST_F(AuditQueryTest, FiltersCombine) {
  Traffic();
  const std::vector<Entry> log = Log();
  AuditQuery q;
  q.customer_id = a_;
  q.action = "customer.read";
  q.actor = "li.na";
  const std::string target_a = "customer:" + a_;
  const std::vector<int64_t> want = Where(log, [&](const Entry& e) {
    return e["target"] == target_a && e["action"] == "customer.read" && e["actor"] == "li.na";
  });
  ASSERT_EQ(want.size(), 2u);  // the agent's read of a, and the refused one for marketing
  EXPECT_EQ(All(q), want);
  q.decision = "deny";
  const std::vector<int64_t> refused = All(q);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0], want[1]);
  q.purpose = "marketing";
  EXPECT_EQ(All(q), refused);
  q.purpose = "customer_service";
  EXPECT_TRUE(All(q).empty());
  q.decision.clear();
  EXPECT_EQ(All(q), std::vector<int64_t>{want[0]});
}

TEST_F(AuditQueryTest, ATimeRangeIncludesItsStartAndExcludesItsEnd) {
  Traffic();
  const std::vector<Entry> log = Log();
  // Take an entry in the middle; bound the query exactly at its time.
  const Entry& mid = log[log.size() / 2];
  const int64_t t = mid["ts_ms"].get<int64_t>();
  AuditQuery from;
  from.from_ms = t;
  const std::vector<int64_t> after = All(from);
  ASSERT_FALSE(after.empty());
  EXPECT_EQ(after.front(), Where(log, [&](const Entry& e) { return e["ts_ms"] >= t; }).front());
  AuditQuery to;
  to.to_ms = t;
  EXPECT_EQ(All(to), Where(log, [&](const Entry& e) { return e["ts_ms"] < t; }));
  AuditQuery exact;
  exact.from_ms = t;
  exact.to_ms = t + 1;
  EXPECT_EQ(All(exact), Where(log, [&](const Entry& e) { return e["ts_ms"] == t; }));
  // With a customer too.
  AuditQuery customer = from;
  customer.customer_id = a_;
  const std::string target_a = "customer:" + a_;
  EXPECT_EQ(All(customer),
            Where(log, [&](const Entry& e) { return e["ts_ms"] >= t && e["target"] == target_a; }));
}

TEST_F(AuditQueryTest, DatesAreReadAsUtcDaysAndDateTimesAsInstants) {
  EXPECT_EQ(*ParseAuditTime("from", "2026-01-01", false), 1767225600000);
  EXPECT_EQ(*ParseAuditTime("to", "2026-01-01", true), 1767225600000 + 86400000);
  EXPECT_EQ(*ParseAuditTime("from", "2026-01-01T08:00:00+08:00", false), 1767225600000);
  EXPECT_EQ(*ParseAuditTime("to", "2026-01-01T00:00:01Z", true), 1767225601000);
  for (std::string_view bad : {"2026-13-01", "yesterday", "2026-01-01T08:00:00", "1/1/2026"}) {
    auto t = ParseAuditTime("from", bad, false);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(t.status().message().rfind("from: ", 0), 0u) << t.status().ToString();
  }
}

TEST_F(AuditQueryTest, PagesLoseAndRepeatNothingWhileTheLogGrowsBetweenThem) {
  Traffic();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(vault_->customers().Get(SupportAgent(), a_, {"name"}).ok());
  }
  const std::vector<Entry> log = Log();
  const std::string target_a = "customer:" + a_;
  const std::vector<int64_t> want =
      Where(log, [&](const Entry& e) { return e["target"] == target_a; });
  ASSERT_GE(want.size(), 7u);
  AuditQuery q;
  q.customer_id = a_;
  q.limit = 2;
  std::vector<int64_t> got;
  std::set<int64_t> seen;
  for (int pages = 0; pages < 100; ++pages) {
    auto page = vault_->audit().Query(Dpo(), q);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_LE(page->entries.size(), 2u);
    for (const store::AuditRow& row : page->entries) {
      EXPECT_TRUE(seen.insert(row.seq).second) << "entry " << row.seq << " repeated";
      got.push_back(row.seq);
    }
    // More entries about the customer arrive between the pages.
    ASSERT_TRUE(vault_->customers().Get(SupportAgent(), a_, {"name"}).ok());
    if (page->next_cursor.empty()) break;
    q.cursor = page->next_cursor;
  }
  EXPECT_EQ(got, want);
  // A new query sees what arrived meanwhile, after what the first one answered.
  AuditQuery again;
  again.customer_id = a_;
  const std::vector<int64_t> now = All(again);
  ASSERT_GT(now.size(), want.size());
  EXPECT_EQ(std::vector<int64_t>(now.begin(), now.begin() + static_cast<long>(want.size())), want);
}

TEST_F(AuditQueryTest, BadParametersAreRefusedNamingTheParameterNeverTheValue) {
  Traffic();
  const std::string secret = "110101199003077777";
  struct Case {
    std::function<void(AuditQuery&)> set;
    std::string param;
  };
  const std::vector<Case> cases = {
      {[&](AuditQuery& q) { q.action = "customer.read." + secret; }, "action: "},
      {[&](AuditQuery& q) { q.customer_id = secret; }, "customer_id: "},
      {[&](AuditQuery& q) { q.decision = secret; }, "decision: "},
      {[&](AuditQuery& q) { q.purpose = "p" + secret; }, "purpose: "},
      {[&](AuditQuery& q) { q.actor = "a " + secret; }, "actor: "},
      {[&](AuditQuery& q) { q.cursor = "c1" + secret; }, "cursor: "},
      {[&](AuditQuery& q) { q.cursor = "c1000000000000000a0000000000000009"; }, "cursor: "},
      {[](AuditQuery& q) { q.limit = 0; }, "limit: "},
      {[](AuditQuery& q) { q.limit = kMaxAuditPage + 1; }, "limit: "},
      {[](AuditQuery& q) {
         q.from_ms = 2000;
         q.to_ms = 1000;
       },
       "to: "},
  };
  for (const Case& c : cases) {
    AuditQuery q;
    c.set(q);
    auto page = vault_->audit().Query(Dpo(), q);
    ASSERT_FALSE(page.ok()) << c.param;
    EXPECT_EQ(page.status().code(), Code::kInvalidArgument) << page.status().ToString();
    EXPECT_EQ(page.status().message().rfind(c.param, 0), 0u) << page.status().ToString();
    EXPECT_EQ(page.status().message().find(secret), std::string::npos);
  }
  // Each refusal is recorded as a deny of audit.query, without the value.
  const std::vector<Entry> log = Log();
  size_t refused = 0;
  for (const Entry& e : log) {
    EXPECT_EQ(e.dump().find(secret), std::string::npos) << e.dump();
    if (e["action"] == "audit.query" && e["decision"] == "deny") ++refused;
  }
  EXPECT_EQ(refused, cases.size());
}

TEST_F(AuditQueryTest, ARoleWithoutAuditReadIsRefusedAndTheRefusalRecorded) {
  Traffic();
  AuditQuery q;
  q.customer_id = a_;
  auto page = vault_->audit().Query(SupportAgent(), q);
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().code(), Code::kPermissionDenied) << page.status().ToString();
  std::atomic<bool> stop{true};
  Status followed = vault_->audit().Follow(
      SupportAgent(), q, std::nullopt, [](const store::AuditRow&) { return Status::Ok(); },
      [&] { return stop.load(); });
  EXPECT_EQ(followed.code(), Code::kPermissionDenied) << followed.ToString();
  const std::vector<Entry> log = Log();
  const std::vector<int64_t> refusals = Where(log, [](const Entry& e) {
    return (e["action"] == "audit.query" || e["action"] == "audit.follow") &&
           e["actor"] == "li.na" && e["decision"] == "deny";
  });
  EXPECT_EQ(refusals.size(), 2u);
}

TEST_F(AuditQueryTest, EveryQueryIsItselfAnEntryNamingItsFiltersNotTheirValues) {
  Traffic();
  AuditQuery q;
  q.customer_id = a_;
  q.actor = "li.na";
  q.from_ms = 1;
  auto page = vault_->audit().Query(Dpo(), q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  const std::vector<Entry> log = Log();
  const Entry& entry = log[log.size() - 2];  // the export's own entry is the last
  EXPECT_EQ(entry["action"], "audit.query");
  EXPECT_EQ(entry["actor"], "dpo");
  EXPECT_EQ(entry["decision"], "allow");
  EXPECT_EQ(entry["target"], "customer:" + a_);
  const std::string reason = entry["reason"];
  EXPECT_NE(reason.find("customer, actor, from"), std::string::npos) << reason;
  EXPECT_EQ(reason.find("li.na"), std::string::npos) << reason;
  // The page's entries are the listing's entries, field for field.
  for (const store::AuditRow& row : page->entries) {
    const Entry& listed = log[static_cast<size_t>(row.seq - 1)];
    EXPECT_EQ(Entry::parse(audit::EntryJson(row)), listed);
  }
}

TEST_F(AuditQueryTest, FollowStreamsNewEntriesInOrderUntilStopped) {
  Traffic();
  const int64_t start = Log().back()["seq"].get<int64_t>();
  std::mutex mu;
  std::vector<store::AuditRow> streamed;
  std::atomic<bool> stop{false};
  AuditQuery filter;
  filter.customer_id = b_;
  filter.action = "customer.read";  // not the follow's own entry (audit.follow, about b)
  Status followed;
  std::thread follower([&] {
    followed = vault_->audit().Follow(
        Dpo(), filter, start,
        [&](const store::AuditRow& row) {
          std::lock_guard<std::mutex> lock(mu);
          streamed.push_back(row);
          return Status::Ok();
        },
        [&] { return stop.load(); }, 5);
  });
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(vault_->customers().Get(SupportAgent(), b_, {"name"}).ok());
    ASSERT_TRUE(vault_->customers().Get(SupportAgent(), a_, {"name"}).ok());
  }
  for (int i = 0; i < 400; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (streamed.size() >= 4) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop = true;
  follower.join();
  EXPECT_TRUE(followed.ok()) << followed.ToString();
  ASSERT_EQ(streamed.size(), 4u);
  for (size_t i = 0; i < streamed.size(); ++i) {
    EXPECT_EQ(streamed[i].target, "customer:" + b_);
    EXPECT_GT(streamed[i].seq, start);
    if (i > 0) {
      EXPECT_GT(streamed[i].seq, streamed[i - 1].seq);
    }
  }
  // --from-seq: an earlier start streams the entries already there, then stops on request.
  std::vector<int64_t> earlier;
  stop = false;
  Status again = vault_->audit().Follow(
      Dpo(), filter, 0,
      [&](const store::AuditRow& row) {
        earlier.push_back(row.seq);
        if (earlier.size() == 2) stop = true;
        return Status::Ok();
      },
      [&] { return stop.load(); }, 5);
  EXPECT_TRUE(again.ok()) << again.ToString();
  ASSERT_GE(earlier.size(), 2u);
  EXPECT_LT(earlier[0], start);  // b's creation and first reads
}

}  // namespace
}  // namespace custos::vault::testing
