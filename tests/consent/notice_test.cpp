// Privacy notices: versioned, listing catalogue purposes, never backdated (P3.1a; PIPL Art. 17).
#include <string>
#include <utility>
#include <vector>

#include "consent_fixture.h"

namespace custos::consent::testing {
namespace {

NoticeDraft Draft(std::vector<std::string> purposes = {"customer_service"}) {
  NoticeDraft draft;
  draft.text = "abc";
  draft.purposes = std::move(purposes);
  return draft;
}

Status PublishStatus(store::Transaction& txn, const schema::Config& config,
                     const NoticeDraft& draft) {
  return PublishNotice(txn, config, draft, "dpo", kNow).status();
}

TEST_F(ConsentTest, APublishedNoticeKeepsItsTextHashPurposesAndPublisher) {
  auto row = PublishNotice(*txn_, config_, Draft({"customer_service", "marketing"}), "dpo", kNow);
  ASSERT_OK(row.status());
  EXPECT_EQ(row->version, 1) << "the first notice is version 1";
  // SHA-256("abc"), FIPS 180-2 appendix B.1.
  EXPECT_EQ(row->text_sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(row->effective_at_ms, kNow) << "effective now unless a date is given";
  ASSERT_OK(txn_->Commit());
  txn_ = Begin();
  auto loaded = LoadNotice(*txn_, 1);
  ASSERT_OK(loaded.status());
  EXPECT_EQ(loaded->text, "abc");
  EXPECT_EQ(loaded->publisher, "dpo");
  EXPECT_EQ(NoticePurposes(*loaded), (std::vector<std::string>{"customer_service", "marketing"}));
  auto second = PublishNotice(*txn_, config_, Draft(), "dpo", kNow + 1);
  ASSERT_OK(second.status());
  EXPECT_EQ(second->version, 2) << "the next version follows the latest";
}

TEST_F(ConsentTest, NoticeVersionsOnlyGrow) {
  NoticeDraft five = Draft();
  five.version = 5;
  ASSERT_OK(PublishStatus(*txn_, config_, five));
  for (int64_t v : {5, 4, -1}) {
    NoticeDraft older = Draft();
    older.version = v;
    Status s = PublishStatus(*txn_, config_, older);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << v;
    EXPECT_NE(s.message().find("notice version"), std::string::npos) << s.ToString();
  }
  auto next = PublishNotice(*txn_, config_, Draft(), "dpo", kNow);
  ASSERT_OK(next.status());
  EXPECT_EQ(next->version, 6);
}

TEST_F(ConsentTest, ANoticeListsOnlyCataloguePurposesEachOnce) {
  Status unknown = PublishStatus(*txn_, config_, Draft({"customer_service", "astrology"}));
  EXPECT_EQ(unknown.code(), Code::kInvalidArgument);
  EXPECT_NE(unknown.message().find("'astrology' is not in the purpose catalogue"),
            std::string::npos);
  EXPECT_EQ(PublishStatus(*txn_, config_, Draft({"marketing", "marketing"})).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(PublishStatus(*txn_, config_, Draft({})).code(), Code::kInvalidArgument);
  auto notices = txn_->ListNotices();
  ASSERT_OK(notices.status());
  EXPECT_TRUE(notices->empty()) << "nothing is published on bad input";
}

TEST_F(ConsentTest, ANoticeCannotBeBackdatedNorTakeEffectBeforeTheLatest) {
  NoticeDraft yesterday = Draft();
  yesterday.effective_at_ms = kNow - 24 * kHour;
  EXPECT_EQ(PublishStatus(*txn_, config_, yesterday).code(), Code::kInvalidArgument);
  NoticeDraft next_week = Draft();
  next_week.effective_at_ms = kNow + 7 * 24 * kHour;
  ASSERT_OK(PublishStatus(*txn_, config_, next_week));
  NoticeDraft tomorrow = Draft();
  tomorrow.effective_at_ms = kNow + 24 * kHour;
  Status earlier = PublishStatus(*txn_, config_, tomorrow);
  EXPECT_EQ(earlier.code(), Code::kInvalidArgument);
  EXPECT_NE(earlier.message().find("effective date"), std::string::npos);
}

TEST_F(ConsentTest, ANoticeNeedsText) {
  NoticeDraft empty = Draft();
  empty.text = "";
  EXPECT_EQ(PublishStatus(*txn_, config_, empty).code(), Code::kInvalidArgument);
  NoticeDraft not_utf8 = Draft();
  not_utf8.text = "\xff\xfe";
  EXPECT_EQ(PublishStatus(*txn_, config_, not_utf8).code(), Code::kInvalidArgument);
}

// The recipients a notice names are well formed and each named once; a refused notice leaves
// nothing behind (no version, no recipient).
TEST_F(ConsentTest, ANoticeNamesEachRecipientOnceAndWellFormed) {
  const auto with = [](std::vector<std::string> shares) {
    NoticeDraft draft = Draft();
    draft.shares = std::move(shares);
    return draft;
  };
  const std::pair<std::vector<std::string>, std::string> bad[] = {
      {{"acme-pay"}, "notice shares: a sharing consent names partner:ID or category:NAME"},
      {{"partner:A"}, "notice shares: a sharing consent names partner:ID with a partner id"},
      {{"category:astrology"}, "notice shares: category:NAME must name a partner category"},
      {{"partner:acme-pay", "partner:acme-pay"},
       "notice shares: 'partner:acme-pay' is named twice"},
  };
  for (const auto& [shares, rule] : bad) {
    Status s = PublishStatus(*txn_, config_, with(shares));
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << rule;
    EXPECT_NE(s.message().find(rule), std::string::npos) << s.ToString();
  }
  auto notices = txn_->ListNotices();
  ASSERT_OK(notices.status());
  EXPECT_TRUE(notices->empty()) << "a refused notice is not published";
  auto ok =
      PublishNotice(*txn_, config_, with({"partner:acme-pay", "category:logistics"}), "dpo", kNow);
  ASSERT_OK(ok.status());
  auto named = txn_->ListNoticeShares(ok->version);
  ASSERT_OK(named.status());
  EXPECT_EQ(*named, (std::vector<std::string>{"category:logistics", "partner:acme-pay"}));
}

}  // namespace
}  // namespace custos::consent::testing
