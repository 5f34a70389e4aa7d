// A throw-away SQLite store, the shipped configuration and a fixed clock for the consent tests.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "consent/consent.h"
#include "crypto/primitives.h"
#include "schema/config.h"
#include "store/sqlite_store.h"

namespace custos::consent::testing {

#define ASSERT_OK(expr)                                  \
  do {                                                   \
    const ::custos::Status& custos_s_ = (expr);          \
    ASSERT_TRUE(custos_s_.ok()) << custos_s_.ToString(); \
  } while (0)

// 2027-01-15T08:00:00Z: mid-morning, so "today" started hours ago.
inline constexpr int64_t kNow = 1'800'000'000'000;
inline constexpr int64_t kHour = 3'600'000;

class ConsentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("custos-consent-test-" + crypto::ToHex(crypto::RandomBytes(8)));
    std::filesystem::create_directories(dir_);
    auto config = schema::ParseConfig(schema::DefaultConfigToml(), "custos.toml");
    ASSERT_OK(config.status());
    config_ = std::move(*config);
    auto store = store::OpenSqliteStore(dir_ / "custos.db", store::SqliteOptions{});
    ASSERT_OK(store.status());
    store_ = std::move(*store);
    txn_ = Begin();
  }
  void TearDown() override {
    txn_.reset();
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::unique_ptr<store::Transaction> Begin() {
    auto txn = store_->Begin();
    EXPECT_TRUE(txn.ok()) << txn.status().ToString();
    return txn.ok() ? std::move(*txn) : nullptr;
  }

  // Publishes a notice listing `purposes`, effective now.
  int64_t Publish(std::vector<std::string> purposes = {"customer_service", "marketing"}) {
    NoticeDraft draft;
    draft.text =
        "我们为以下目的处理您的个人信息。 We process your personal information for these purposes.";
    draft.purposes = std::move(purposes);
    auto row = PublishNotice(*txn_, config_, draft, "dpo", kNow);
    EXPECT_TRUE(row.ok()) << row.status().ToString();
    return row.ok() ? row->version : 0;
  }

  static ConsentChange Grant(std::string purpose, int64_t notice = 1) {
    ConsentChange c;
    c.action = Action::kGrant;
    c.scope = Scope::kPurpose;
    c.purpose = std::move(purpose);
    c.notice_version = notice;
    c.channel = "form";
    c.evidence_ref = "form:2027/0001";
    return c;
  }
  static ConsentChange Withdraw(std::string purpose) {
    ConsentChange c = Grant(std::move(purpose), 0);
    c.action = Action::kWithdraw;
    c.channel = "api";
    return c;
  }

  std::filesystem::path dir_;
  schema::Config config_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::Transaction> txn_;
};

}  // namespace custos::consent::testing
