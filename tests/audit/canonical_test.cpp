// The canonical encoding is unambiguous: moving bytes between fields, or changing the seq,
// the time or the link, always changes the hash.
#include <gtest/gtest.h>

#include "audit/canonical.h"

namespace custos::audit {
namespace {

store::AuditRow Row() {
  store::AuditRow r;
  r.seq = 7;
  r.ts_ms = 1700000000000;
  r.actor = "agent-1";
  r.action = "customer.get";
  r.target = "customer:c1";
  r.purpose = "customer_service";
  r.channel = "api";
  r.decision = "allow";
  r.reason = "";
  r.fields = "name,mobile";
  r.request_id = "req-1";
  r.prev_hash = GenesisHash();
  return r;
}

TEST(CanonicalTest, TheEncodingStartsWithTheDomainAndIsDeterministic) {
  const crypto::Bytes a = CanonicalEntry(Row());
  const std::string prefix = "custos/audit/v1";
  ASSERT_GT(a.size(), prefix.size());
  EXPECT_EQ(std::string(a.begin(), a.begin() + static_cast<ptrdiff_t>(prefix.size())), prefix);
  EXPECT_EQ(a, CanonicalEntry(Row()));
}

TEST(CanonicalTest, BytesMovedBetweenFieldsChangeTheHash) {
  store::AuditRow a = Row();
  store::AuditRow b = Row();
  a.actor = "agent-1c";
  a.action = "ustomer.get";
  b.actor = "agent-1";
  b.action = "customer.get";
  EXPECT_NE(CanonicalEntry(a), CanonicalEntry(b));
  for (crypto::Suite s : {crypto::Suite::kAes256Gcm, crypto::Suite::kSm4Gcm}) {
    EXPECT_NE(EntryHash(s, a), EntryHash(s, b));
  }
}

TEST(CanonicalTest, SeqTimeAndLinkAreCovered) {
  const crypto::Bytes base = EntryHash(crypto::Suite::kAes256Gcm, Row());
  store::AuditRow r = Row();
  r.seq = 8;
  EXPECT_NE(EntryHash(crypto::Suite::kAes256Gcm, r), base);
  r = Row();
  r.ts_ms += 1;
  EXPECT_NE(EntryHash(crypto::Suite::kAes256Gcm, r), base);
  r = Row();
  r.prev_hash[31] = 1;
  EXPECT_NE(EntryHash(crypto::Suite::kAes256Gcm, r), base);
  r = Row();
  r.hash = crypto::Bytes(32, 9);  // the stored hash is not part of what is hashed
  EXPECT_EQ(EntryHash(crypto::Suite::kAes256Gcm, r), base);
}

TEST(CanonicalTest, TheSuitesHashDifferently) {
  const crypto::Bytes sha = EntryHash(crypto::Suite::kAes256Gcm, Row());
  const crypto::Bytes sm3 = EntryHash(crypto::Suite::kSm4Gcm, Row());
  EXPECT_EQ(sha.size(), 32u);
  EXPECT_EQ(sm3.size(), 32u);
  EXPECT_NE(sha, sm3);
}

TEST(CanonicalTest, CheckpointMessagesBindSeqAndHashAndDifferFromEntries) {
  const crypto::Bytes h(32, 5);
  EXPECT_NE(CheckpointMessage(50, h), CheckpointMessage(51, h));
  EXPECT_NE(CheckpointMessage(50, h), CheckpointMessage(50, crypto::Bytes(32, 6)));
  const std::string prefix = "custos/checkpoint/v1";
  const crypto::Bytes m = CheckpointMessage(50, h);
  EXPECT_EQ(std::string(m.begin(), m.begin() + static_cast<ptrdiff_t>(prefix.size())), prefix);
  EXPECT_EQ(m.size(), prefix.size() + 8 + 4 + 32);
}

}  // namespace
}  // namespace custos::audit
