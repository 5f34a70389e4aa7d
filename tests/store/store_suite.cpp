#include "store_suite.h"

#include <unistd.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "store/fault_store.h"

namespace custos::store::testing {
namespace {

Bytes B(std::string_view s) { return Bytes(s.begin(), s.end()); }

CustomerRow Customer(std::string id, int64_t at_ms = 1000) {
  CustomerRow row;
  row.customer_id = std::move(id);
  row.created_at_ms = at_ms;
  row.updated_at_ms = at_ms;
  row.source = "form";
  row.schema_version = 1;
  row.envelopes = {{Level::kGeneral, B("sealed-general")},
                   {Level::kConfidential, B("sealed-confidential")}};
  return row;
}

AuditRow Audit(int64_t seq) {
  AuditRow row;
  row.seq = seq;
  row.ts_ms = 5000 + seq;
  row.actor = "staff:alice";
  row.action = "customer.get";
  row.target = "customer:c1";
  row.purpose = "support";
  row.channel = "cli";
  row.decision = "allow";
  row.reason = "role support_agent";
  row.fields = "name,mobile";
  row.request_id = "req-" + std::to_string(seq);
  row.prev_hash = Bytes(32, static_cast<uint8_t>(seq - 1));
  row.hash = Bytes(32, static_cast<uint8_t>(seq));
  return row;
}

std::vector<std::string> Ids(const std::vector<CustomerRow>& rows) {
  std::vector<std::string> ids;
  for (const auto& row : rows) ids.push_back(row.customer_id);
  return ids;
}

}  // namespace

std::string BackendName(const ::testing::TestParamInfo<StoreBackend>& info) {
  return info.param.name;
}

void StoreSuite::SetUp() {
  static std::atomic<int> counter{0};
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  dir_ = std::filesystem::temp_directory_path() /
         ("custos-store-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + "-" +
          std::string(test->name()).substr(0, std::string(test->name()).find('/')));
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  auto store = GetParam().open(dir_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  store_ = std::move(store).value();
}

void StoreSuite::TearDown() {
  store_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void StoreSuite::Reopen() {
  store_.reset();
  auto store = GetParam().open(dir_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  store_ = std::move(store).value();
}

std::unique_ptr<Transaction> StoreSuite::BeginOrDie() {
  auto txn = store_->Begin();
  if (!txn.ok()) {
    std::fprintf(stderr, "Begin failed: %s\n", txn.status().ToString().c_str());
    std::abort();
  }
  return std::move(txn).value();
}

// --- vault metadata ---

TEST_P(StoreSuite, DeletedMetaIsAbsentAndADeleteOfAnAbsentKeySaysSo) {
  auto txn = BeginOrDie();
  ASSERT_OK(txn->PutMeta("audit.journal.x", B("12:34 closed")));
  ASSERT_OK(txn->PutMeta("suite", B("sm4gcm")));
  ASSERT_OK(txn->Commit());

  auto del = BeginOrDie();
  auto deleted = del->DeleteMeta("audit.journal.x");
  ASSERT_OK(deleted.status());
  EXPECT_TRUE(*deleted);
  auto again = del->DeleteMeta("audit.journal.x");
  ASSERT_OK(again.status());
  EXPECT_FALSE(*again);
  ASSERT_OK(del->Commit());

  auto read = BeginOrDie();
  auto gone = read->GetMeta("audit.journal.x");
  ASSERT_OK(gone.status());
  EXPECT_FALSE(gone->has_value());
  auto kept = read->GetMeta("suite");
  ASSERT_OK(kept.status());
  ASSERT_TRUE(kept->has_value()) << "only the key named goes";
}

TEST_P(StoreSuite, MetaIsAbsentUntilPutAndPutReplaces) {
  auto txn = BeginOrDie();
  auto absent = txn->GetMeta("suite");
  ASSERT_OK(absent.status());
  EXPECT_FALSE(absent->has_value());

  ASSERT_OK(txn->PutMeta("suite", B("aes256gcm")));
  ASSERT_OK(txn->PutMeta("suite", B("sm4gcm")));
  ASSERT_OK(txn->PutMeta("empty", Bytes{}));
  ASSERT_OK(txn->Commit());

  auto read = BeginOrDie();
  auto suite = read->GetMeta("suite");
  ASSERT_OK(suite.status());
  ASSERT_TRUE(suite->has_value());
  EXPECT_EQ(**suite, B("sm4gcm"));
  auto empty = read->GetMeta("empty");
  ASSERT_OK(empty.status());
  ASSERT_TRUE(empty->has_value()) << "an empty value is a value, not an absent key";
  EXPECT_TRUE((*empty)->empty());
}

// --- de-identified releases (issue 16) ---

TEST_P(StoreSuite, TheDeidReleaseRegisterKeepsRowsInTimeOrderAndRefusesADuplicate) {
  auto txn = BeginOrDie();
  DeidReleaseRow a{"01REL0000000000000000000B",
                   2000,
                   "wu.lei",
                   "analytics",
                   "p",
                   "aa",
                   "{}",
                   "{\"k\":5}",
                   12,
                   "ff",
                   "team"};
  DeidReleaseRow b = a;
  b.release_id = "01REL0000000000000000000A";
  b.created_at_ms = 1000;
  ASSERT_OK(txn->InsertDeidRelease(a));
  ASSERT_OK(txn->InsertDeidRelease(b));
  ASSERT_OK(txn->Commit());
  {
    auto again = BeginOrDie();
    EXPECT_EQ(again->InsertDeidRelease(a).code(), Code::kConflict);
  }
  auto read = BeginOrDie();
  auto rows = read->ListDeidReleases(0, 10);
  ASSERT_OK(rows.status());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].release_id, b.release_id);
  EXPECT_EQ((*rows)[1].figures, "{\"k\":5}");
  EXPECT_EQ((*rows)[1].row_count, 12);
  EXPECT_EQ((*rows)[1].recipients, "team");
  rows = read->ListDeidReleases(1000, 10);
  ASSERT_OK(rows.status());
  EXPECT_EQ(rows->size(), 1u);
}

TEST_P(StoreSuite, ADeidBudgetIsSpentOnlyWithinItsLimitsAndPerProfileAndActor) {
  auto txn = BeginOrDie();
  auto none = txn->GetDeidBudget("p", "wu.lei");
  ASSERT_OK(none.status());
  EXPECT_FALSE(none->has_value());
  const DeidBudgetRow spend{"p", "wu.lei", 400000, 100, 0, 1000};
  EXPECT_TRUE(txn->SpendDeidBudget(spend, 1000000, 1000).value());
  EXPECT_TRUE(txn->SpendDeidBudget(spend, 1000000, 1000).value());
  // A third would reach 1.2 of a budget of 1.0: refused, nothing changed.
  EXPECT_FALSE(txn->SpendDeidBudget(spend, 1000000, 1000).value());
  // Delta is a limit of its own.
  EXPECT_FALSE(txn->SpendDeidBudget({"p", "wu.lei", 1, 900, 0, 1000}, 1000000, 1000).value());
  // Another actor, another profile: budgets of their own.
  EXPECT_TRUE(txn->SpendDeidBudget({"p", "li.na", 900000, 0, 0, 1000}, 1000000, 1000).value());
  EXPECT_TRUE(txn->SpendDeidBudget({"q", "wu.lei", 900000, 0, 0, 1000}, 1000000, 1000).value());
  // A first spend above the limit is refused too.
  EXPECT_FALSE(txn->SpendDeidBudget({"r", "wu.lei", 2000000, 0, 0, 1000}, 1000000, 1000).value());
  ASSERT_OK(txn->Commit());
  auto read = BeginOrDie();
  auto row = read->GetDeidBudget("p", "wu.lei");
  ASSERT_OK(row.status());
  ASSERT_TRUE(row->has_value());
  EXPECT_EQ((*row)->epsilon_spent, 800000);
  EXPECT_EQ((*row)->delta_spent, 200);
  EXPECT_EQ((*row)->answers, 2);
  EXPECT_FALSE(read->GetDeidBudget("r", "wu.lei").value().has_value());
}

// --- customers ---

TEST_P(StoreSuite, ACreatedCustomerReadsBackWithItsEnvelopes) {
  auto txn = BeginOrDie();
  CustomerRow row = Customer("c1");
  row.source = "import:imp1:7";
  ASSERT_OK(txn->InsertCustomer(row));
  ASSERT_OK(txn->Commit());

  auto read = BeginOrDie();
  auto got = read->GetCustomer("c1");
  ASSERT_OK(got.status());
  ASSERT_TRUE(got->has_value());
  const CustomerRow& c = **got;
  EXPECT_EQ(c.customer_id, "c1");
  EXPECT_EQ(c.created_at_ms, 1000);
  EXPECT_EQ(c.source, "import:imp1:7");
  EXPECT_EQ(c.schema_version, 1u);
  ASSERT_EQ(c.envelopes.size(), 2u) << "only the levels present come back";
  EXPECT_EQ(c.envelopes[0].level, Level::kGeneral);
  EXPECT_EQ(c.envelopes[0].ciphertext, B("sealed-general"));
  EXPECT_EQ(c.envelopes[1].level, Level::kConfidential);
  EXPECT_EQ(c.envelopes[1].ciphertext, B("sealed-confidential"));
}

TEST_P(StoreSuite, AnUnknownCustomerIsAbsentNotAnError) {
  auto txn = BeginOrDie();
  auto got = txn->GetCustomer("nobody");
  ASSERT_OK(got.status());
  EXPECT_FALSE(got->has_value());
}

TEST_P(StoreSuite, CreatingTheSameCustomerTwiceIsAConflict) {
  auto txn = BeginOrDie();
  ASSERT_OK(txn->InsertCustomer(Customer("c1")));
  EXPECT_CODE(txn->InsertCustomer(Customer("c1")), Code::kConflict);
}

TEST_P(StoreSuite, TwoEnvelopesOfOneLevelAreRefused) {
  auto txn = BeginOrDie();
  CustomerRow row = Customer("c1");
  row.envelopes.push_back({Level::kGeneral, B("again")});
  EXPECT_CODE(txn->InsertCustomer(row), Code::kInvalidArgument);
}

TEST_P(StoreSuite, UpdateReplacesEnvelopesButKeepsCreationFacts) {
  {
    auto txn = BeginOrDie();
    ASSERT_OK(txn->InsertCustomer(Customer("c1", 1000)));
    ASSERT_OK(txn->Commit());
  }
  auto txn = BeginOrDie();
  CustomerRow update = Customer("c1", 9999);
  update.source = "api";
  update.schema_version = 2;
  update.envelopes = {{Level::kInternal, B("sealed-internal")}};
  ASSERT_OK(txn->UpdateCustomer(update));
  ASSERT_OK(txn->Commit());

  auto read = BeginOrDie();
  auto got = read->GetCustomer("c1");
  ASSERT_OK(got.status());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->created_at_ms, 1000);
  EXPECT_EQ((*got)->updated_at_ms, 9999);
  EXPECT_EQ((*got)->source, "form") << "the source records how the customer was created";
  EXPECT_EQ((*got)->schema_version, 2u);
  ASSERT_EQ((*got)->envelopes.size(), 1u);
  EXPECT_EQ((*got)->envelopes[0].level, Level::kInternal);
  EXPECT_EQ((*got)->envelopes[0].ciphertext, B("sealed-internal"));
}

TEST_P(StoreSuite, UpdatingAnUnknownCustomerIsNotFound) {
  auto txn = BeginOrDie();
  EXPECT_CODE(txn->UpdateCustomer(Customer("nobody")), Code::kNotFound);
}

TEST_P(StoreSuite, CustomersAreListedInIdOrderPageByPage) {
  auto txn = BeginOrDie();
  for (const char* id : {"c3", "c1", "c5", "c2", "c4"})
    ASSERT_OK(txn->InsertCustomer(Customer(id)));

  auto first = txn->ListCustomers("", 2);
  ASSERT_OK(first.status());
  EXPECT_EQ(Ids(*first), (std::vector<std::string>{"c1", "c2"}));
  auto next = txn->ListCustomers("c2", 2);
  ASSERT_OK(next.status());
  EXPECT_EQ(Ids(*next), (std::vector<std::string>{"c3", "c4"}));
  auto last = txn->ListCustomers("c4", 100);
  ASSERT_OK(last.status());
  EXPECT_EQ(Ids(*last), (std::vector<std::string>{"c5"}));
  auto none = txn->ListCustomers("c5", 100);
  ASSERT_OK(none.status());
  EXPECT_TRUE(none->empty());
  auto zero = txn->ListCustomers("", 0);
  ASSERT_OK(zero.status());
  EXPECT_TRUE(zero->empty());
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].envelopes.size(), 2u) << "listed rows carry their envelopes";

  auto count = txn->CountCustomers();
  ASSERT_OK(count.status());
  EXPECT_EQ(*count, 5);
}

// --- wrapped keys ---

TEST_P(StoreSuite, AWrappedKeyIsStoredAndRewrapped) {
  auto txn = BeginOrDie();
  auto absent = txn->GetWrappedKey("c1");
  ASSERT_OK(absent.status());
  EXPECT_FALSE(absent->has_value());

  ASSERT_OK(txn->PutWrappedKey({"c1", 1, B("dek-under-kek-1")}));
  ASSERT_OK(txn->PutWrappedKey({"c1", 2, B("dek-under-kek-2")}));
  ASSERT_OK(txn->Commit());

  auto read = BeginOrDie();
  auto key = read->GetWrappedKey("c1");
  ASSERT_OK(key.status());
  ASSERT_TRUE(key->has_value());
  EXPECT_EQ((*key)->customer_id, "c1");
  EXPECT_EQ((*key)->kek_version, 2u);
  EXPECT_EQ((*key)->wrapped_dek, B("dek-under-kek-2"));
}

// The audited read's one statement (issue 14): the customer and its key together; a customer
// whose key is gone comes back without it, an unknown one not at all.
TEST_P(StoreSuite, ACustomerIsReadWithItsWrappedKeyInOneCall) {
  auto txn = BeginOrDie();
  ASSERT_OK(txn->InsertCustomer(Customer("c1")));
  ASSERT_OK(txn->PutWrappedKey({"c1", 3, B("dek-c1")}));
  ASSERT_OK(txn->InsertCustomer(Customer("c2")));
  ASSERT_OK(txn->Commit());

  auto read = BeginOrDie();
  auto both = read->GetCustomerWithKey("c1");
  ASSERT_OK(both.status());
  ASSERT_TRUE(both->has_value());
  EXPECT_EQ((*both)->row.customer_id, "c1");
  EXPECT_EQ((*both)->row.created_at_ms, 1000);
  ASSERT_EQ((*both)->row.envelopes.size(), 2u);
  EXPECT_EQ((*both)->row.envelopes[1].ciphertext, B("sealed-confidential"));
  ASSERT_TRUE((*both)->key.has_value());
  EXPECT_EQ((*both)->key->customer_id, "c1");
  EXPECT_EQ((*both)->key->kek_version, 3u);
  EXPECT_EQ((*both)->key->wrapped_dek, B("dek-c1"));

  auto keyless = read->GetCustomerWithKey("c2");
  ASSERT_OK(keyless.status());
  ASSERT_TRUE(keyless->has_value());
  EXPECT_EQ((*keyless)->row.customer_id, "c2");
  EXPECT_FALSE((*keyless)->key.has_value());

  auto nobody = read->GetCustomerWithKey("nobody");
  ASSERT_OK(nobody.status());
  EXPECT_FALSE(nobody->has_value());
}

// The differencing check reads the newest outputs of a profile and levels first (docs/deid.md,
// "Releases over time"), so a limit keeps the latest, which a recipient is likeliest to hold.
TEST_P(StoreSuite, ReleaseClassSizesAreListedNewestFirstPerProfileAndLevels) {
  auto txn = BeginOrDie();
  for (const char* id : {"01A", "01C", "01B"}) {
    ASSERT_OK(txn->InsertDeidReleaseClasses({id, "p", "1,0", R"({"aa":5})"}));
  }
  ASSERT_OK(txn->InsertDeidReleaseClasses({"01D", "p", "2,0", R"({"aa":5})"}));
  ASSERT_OK(txn->InsertDeidReleaseClasses({"01E", "q", "1,0", R"({"aa":5})"}));
  EXPECT_CODE(txn->InsertDeidReleaseClasses({"01A", "p", "1,0", "{}"}), Code::kConflict);
  ASSERT_OK(txn->Commit());
  auto read = BeginOrDie();
  auto rows = read->ListDeidReleaseClasses("p", "1,0", 2);
  ASSERT_OK(rows.status());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].release_id, "01C");
  EXPECT_EQ((*rows)[1].release_id, "01B");
  EXPECT_EQ((*rows)[0].counts, R"({"aa":5})");
}

// Key rotation (issue 6): the walk skips keys already at the new version, the replace happens
// only while the key is still under the version read, and counts are per version.
TEST_P(StoreSuite, ARotationWalksKeysNotYetAtAVersionAndNeverRevivesADestroyedOne) {
  auto txn = BeginOrDie();
  ASSERT_OK(txn->PutWrappedKey({"c1", 1, B("k1")}));
  ASSERT_OK(txn->PutWrappedKey({"c2", 2, B("k2")}));
  ASSERT_OK(txn->PutWrappedKey({"c3", 1, B("k3")}));
  ASSERT_OK(txn->PutWrappedKey({"c4", 1, B("k4")}));
  ASSERT_OK(txn->Commit());

  auto walk = BeginOrDie();
  auto first = walk->ListWrappedKeysNotAt(2, "", 2);
  ASSERT_OK(first.status());
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].customer_id, "c1");
  EXPECT_EQ((*first)[1].customer_id, "c3");  // c2 is at version 2 already
  auto rest = walk->ListWrappedKeysNotAt(2, "c3", 10);
  ASSERT_OK(rest.status());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].customer_id, "c4");
  auto replaced = walk->ReplaceWrappedKey({"c1", 2, B("k1-v2")}, 1);
  ASSERT_OK(replaced.status());
  EXPECT_TRUE(*replaced);
  auto stale = walk->ReplaceWrappedKey({"c2", 3, B("k2-v3")}, 1);  // c2 is not under v1
  ASSERT_OK(stale.status());
  EXPECT_FALSE(*stale);
  auto absent = walk->ReplaceWrappedKey({"c9", 2, B("k9")}, 1);  // destroyed: stays gone
  ASSERT_OK(absent.status());
  EXPECT_FALSE(*absent);
  ASSERT_OK(walk->Commit());

  auto read = BeginOrDie();
  auto counts = read->CountWrappedKeysByVersion();
  ASSERT_OK(counts.status());
  EXPECT_EQ(*counts, (std::vector<std::pair<uint32_t, int64_t>>{{1, 2}, {2, 2}}));
  auto c1 = read->GetWrappedKey("c1");
  ASSERT_OK(c1.status());
  EXPECT_EQ((*c1)->wrapped_dek, B("k1-v2"));
  auto c9 = read->GetWrappedKey("c9");
  ASSERT_OK(c9.status());
  EXPECT_FALSE(c9->has_value());
}

// --- blind index ---

TEST_P(StoreSuite, ASearchFindsTheCustomersHoldingAToken) {
  auto txn = BeginOrDie();
  ASSERT_OK(txn->PutIndexEntries("c2", {{"mobile", B("tok-a")}, {"email", B("tok-e")}}));
  ASSERT_OK(txn->PutIndexEntries("c1", {{"mobile", B("tok-a")}}));
  ASSERT_OK(txn->PutIndexEntries("c3", {{"mobile", B("tok-b")}}));

  auto both = txn->FindByIndex("mobile", B("tok-a"), 10);
  ASSERT_OK(both.status());
  EXPECT_EQ(*both, (std::vector<std::string>{"c1", "c2"}));
  auto limited = txn->FindByIndex("mobile", B("tok-a"), 1);
  ASSERT_OK(limited.status());
  EXPECT_EQ(*limited, (std::vector<std::string>{"c1"}));
  auto other_field = txn->FindByIndex("email", B("tok-a"), 10);
  ASSERT_OK(other_field.status());
  EXPECT_TRUE(other_field->empty()) << "a token only matches within its own field";
}

TEST_P(StoreSuite, PuttingIndexEntriesReplacesOnlyTheNamedFields) {
  auto txn = BeginOrDie();
  ASSERT_OK(txn->PutIndexEntries("c1", {{"mobile", B("old-mobile")},
                                        {"email", B("old-email")},
                                        {"alias", B("a1")},
                                        {"alias", B("a2")}}));
  // A new mobile number; email is not named and keeps its token; alias is replaced by one.
  ASSERT_OK(txn->PutIndexEntries("c1", {{"mobile", B("new-mobile")}, {"alias", B("a3")}}));

  auto find = [&](std::string_view field, std::string_view token) {
    auto ids = txn->FindByIndex(field, B(token), 10);
    EXPECT_TRUE(ids.ok()) << ids.status().ToString();
    return ids.ok() ? ids->size() : size_t{99};
  };
  EXPECT_EQ(find("mobile", "old-mobile"), 0u);
  EXPECT_EQ(find("mobile", "new-mobile"), 1u);
  EXPECT_EQ(find("email", "old-email"), 1u);
  EXPECT_EQ(find("alias", "a1"), 0u);
  EXPECT_EQ(find("alias", "a2"), 0u);
  EXPECT_EQ(find("alias", "a3"), 1u);
}

TEST_P(StoreSuite, IndexEntriesOfAnotherCustomerAreUntouched) {
  auto txn = BeginOrDie();
  ASSERT_OK(txn->PutIndexEntries("c1", {{"mobile", B("shared")}}));
  ASSERT_OK(txn->PutIndexEntries("c2", {{"mobile", B("shared")}}));
  ASSERT_OK(txn->PutIndexEntries("c1", {{"mobile", B("mine")}}));
  auto ids = txn->FindByIndex("mobile", B("shared"), 10);
  ASSERT_OK(ids.status());
  EXPECT_EQ(*ids, (std::vector<std::string>{"c2"}));
}

TEST_P(StoreSuite, StagedIndexEntriesAreFoundBeforeAndAfterTheMerge) {
  {
    auto txn = BeginOrDie();
    ASSERT_OK(txn->PutIndexEntries("c1", {{"mobile", B("tok-a")}}));
    ASSERT_OK(txn->StageIndexEntries("c2", {{"mobile", B("tok-a")}, {"email", B("tok-e")}}));
    ASSERT_OK(txn->StageIndexEntries("c3", {{"mobile", B("tok-b")}}));
    auto both = txn->FindByIndex("mobile", B("tok-a"), 10);
    ASSERT_OK(both.status());
    EXPECT_EQ(*both, (std::vector<std::string>{"c1", "c2"}));
    ASSERT_OK(txn->Commit());
  }
  ASSERT_OK(store_->MergeStagedIndex());
  ASSERT_OK(store_->MergeStagedIndex());  // nothing left: a no-op
  auto txn = BeginOrDie();
  auto both = txn->FindByIndex("mobile", B("tok-a"), 10);
  ASSERT_OK(both.status());
  EXPECT_EQ(*both, (std::vector<std::string>{"c1", "c2"}));
  EXPECT_EQ(txn->FindByIndex("email", B("tok-e"), 10)->size(), 1u);
  // A staged customer's tokens are replaceable like any other.
  ASSERT_OK(txn->PutIndexEntries("c3", {{"mobile", B("tok-c")}}));
  EXPECT_TRUE(txn->FindByIndex("mobile", B("tok-b"), 10)->empty());
  EXPECT_EQ(txn->FindByIndex("mobile", B("tok-c"), 10)->size(), 1u);
}

TEST_P(StoreSuite, ReplacingTokensOfAStillStagedCustomerDropsTheStagedOnes) {
  auto txn = BeginOrDie();
  ASSERT_OK(txn->StageIndexEntries("c1", {{"mobile", B("staged")}}));
  ASSERT_OK(txn->PutIndexEntries("c1", {{"mobile", B("fresh")}}));
  ASSERT_OK(txn->Commit());
  ASSERT_OK(store_->MergeStagedIndex());
  auto check = BeginOrDie();
  EXPECT_TRUE(check->FindByIndex("mobile", B("staged"), 10)->empty());
  EXPECT_EQ(check->FindByIndex("mobile", B("fresh"), 10)->size(), 1u);
}

// --- transactions and communication notes ---

TEST_P(StoreSuite, ACustomersTransactionsAreListedOldestFirst) {
  auto txn = BeginOrDie();
  ASSERT_OK(txn->InsertTransaction({"c1", "t-b", 200, "api", B("sealed-2")}));
  ASSERT_OK(txn->InsertTransaction({"c1", "t-a", 100, "api", B("sealed-1")}));
  ASSERT_OK(txn->InsertTransaction({"c2", "t-a", 50, "import:i:1", B("other")}));
  EXPECT_CODE(txn->InsertTransaction({"c1", "t-a", 300, "api", B("dup")}), Code::kConflict);

  auto list = txn->ListTransactions("c1");
  ASSERT_OK(list.status());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].txn_id, "t-a");
  EXPECT_EQ((*list)[0].created_at_ms, 100);
  EXPECT_EQ((*list)[0].ciphertext, B("sealed-1"));
  EXPECT_EQ((*list)[1].txn_id, "t-b");
  EXPECT_EQ((*list)[1].source, "api");
  auto none = txn->ListTransactions("nobody");
  ASSERT_OK(none.status());
  EXPECT_TRUE(none->empty());
}

TEST_P(StoreSuite, ANoteKeepsItsClassificationLevel) {
  auto txn = BeginOrDie();
  ASSERT_OK(txn->InsertNote({"c1", "n2", 20, "api", Level::kConfidential, B("sealed-n2")}));
  ASSERT_OK(txn->InsertNote({"c1", "n1", 10, "form", Level::kInternal, B("sealed-n1")}));
  EXPECT_CODE(txn->InsertNote({"c1", "n1", 30, "api", Level::kGeneral, B("dup")}), Code::kConflict);

  auto notes = txn->ListNotes("c1");
  ASSERT_OK(notes.status());
  ASSERT_EQ(notes->size(), 2u);
  EXPECT_EQ((*notes)[0].note_id, "n1");
  EXPECT_EQ((*notes)[0].level, Level::kInternal);
  EXPECT_EQ((*notes)[1].note_id, "n2");
  EXPECT_EQ((*notes)[1].level, Level::kConfidential);
  EXPECT_EQ((*notes)[1].ciphertext, B("sealed-n2"));
  auto none = txn->ListNotes("c2");
  ASSERT_OK(none.status());
  EXPECT_TRUE(none->empty());
}

// --- audit ---

TEST_P(StoreSuite, AnEmptyAuditLogHasNoHead) {
  auto txn = BeginOrDie();
  auto head = txn->GetAuditHead();
  ASSERT_OK(head.status());
  EXPECT_FALSE(head->has_value());
}

TEST_P(StoreSuite, TheAuditLogReadsBackInSeqOrderFromAnyPoint) {
  auto txn = BeginOrDie();
  for (int64_t seq = 1; seq <= 5; ++seq) ASSERT_OK(txn->AppendAudit(Audit(seq)));
  EXPECT_CODE(txn->AppendAudit(Audit(3)), Code::kConflict);
  ASSERT_OK(txn->Commit());

  auto read = BeginOrDie();
  auto head = read->GetAuditHead();
  ASSERT_OK(head.status());
  ASSERT_TRUE(head->has_value());
  EXPECT_EQ((*head)->seq, 5);
  EXPECT_EQ((*head)->hash, Bytes(32, 5));

  auto middle = read->ReadAudit(2, 3);
  ASSERT_OK(middle.status());
  ASSERT_EQ(middle->size(), 3u);
  EXPECT_EQ((*middle)[0].seq, 2);
  EXPECT_EQ((*middle)[2].seq, 4);
  const AuditRow& e = (*middle)[0];
  AuditRow want = Audit(2);
  EXPECT_EQ(e.ts_ms, want.ts_ms);
  EXPECT_EQ(e.actor, want.actor);
  EXPECT_EQ(e.action, want.action);
  EXPECT_EQ(e.target, want.target);
  EXPECT_EQ(e.purpose, want.purpose);
  EXPECT_EQ(e.channel, want.channel);
  EXPECT_EQ(e.decision, want.decision);
  EXPECT_EQ(e.reason, want.reason);
  EXPECT_EQ(e.fields, want.fields);
  EXPECT_EQ(e.request_id, want.request_id);
  EXPECT_EQ(e.prev_hash, want.prev_hash);
  EXPECT_EQ(e.hash, want.hash);

  auto tail = read->ReadAudit(4, 100);
  ASSERT_OK(tail.status());
  EXPECT_EQ(tail->size(), 2u);
  auto past_end = read->ReadAudit(6, 100);
  ASSERT_OK(past_end.status());
  EXPECT_TRUE(past_end->empty());
}

// Audit queries with text filters read the entries whose keys are in audit_keys through that
// table and the entries after them by seq (migration kAuditKeysMigration): a query answers the
// same entries, in seq order and page by page, wherever the indexed part ends.
TEST_P(StoreSuite, AuditQueriesAnswerTheSameWhereverTheQueryKeysEnd) {
  constexpr int64_t kEntries = 300;
  const std::vector<std::string> targets = {"customer:c1", "customer:c2", "customer:c3", "",
                                            "customer:c10"};
  const std::vector<std::string> actors = {"staff:alice", "staff:bob", "system"};
  const std::vector<std::string> actions = {"customer.read", "customer.search", "consent.grant",
                                            "audit.query"};
  const std::vector<std::string> decisions = {"allow", "deny", "mask"};
  const std::vector<std::string> purposes = {"support", "marketing", ""};
  std::vector<AuditRow> log;
  {
    auto txn = BeginOrDie();
    for (int64_t seq = 1; seq <= kEntries; ++seq) {
      AuditRow row = Audit(seq);
      row.target = targets[static_cast<size_t>(seq * 7 % 5)];
      row.actor = actors[static_cast<size_t>(seq * 5 % 3)];
      row.action = actions[static_cast<size_t>(seq * 3 % 4)];
      row.decision = decisions[static_cast<size_t>(seq * 11 % 3)];
      row.purpose = purposes[static_cast<size_t>(seq % 3)];
      row.ts_ms = 1000 + seq * 10 - (seq % 4 == 0 ? 15 : 0);  // time is not quite in seq order
      if (seq == 200) row.ts_ms = 50;                         // and once it went far back
      ASSERT_OK(txn->AppendAudit(row));
      log.push_back(row);
    }
    ASSERT_OK(txn->Commit());
  }
  auto expected = [&](const AuditFilter& f) {
    std::vector<int64_t> seqs;
    for (const AuditRow& r : log) {
      if ((!f.target.empty() && r.target != f.target) || (!f.actor.empty() && r.actor != f.actor) ||
          (!f.action.empty() && r.action != f.action) ||
          (!f.decision.empty() && r.decision != f.decision) ||
          (!f.purpose.empty() && r.purpose != f.purpose) || r.ts_ms < f.from_ms ||
          r.ts_ms >= f.to_ms || r.seq <= f.after_seq || r.seq > f.up_to_seq) {
        continue;
      }
      seqs.push_back(r.seq);
    }
    return seqs;
  };
  std::vector<AuditFilter> filters;
  auto add = [&](auto&& set) {
    AuditFilter f;
    set(f);
    filters.push_back(f);
  };
  add([](AuditFilter& f) { f.target = "customer:c1"; });
  add([](AuditFilter& f) { f.target = "customer:c10"; });
  add([](AuditFilter& f) { f.target = "customer:nobody"; });
  add([](AuditFilter& f) { f.actor = "staff:bob"; });
  add([](AuditFilter& f) { f.action = "consent.grant"; });
  add([](AuditFilter& f) { f.decision = "deny"; });
  add([](AuditFilter& f) { f.purpose = "marketing"; });
  add([](AuditFilter& f) {
    f.actor = "staff:alice";
    f.decision = "allow";
  });
  add([](AuditFilter& f) {
    f.target = "customer:c2";
    f.action = "customer.read";
    f.purpose = "support";
  });
  add([](AuditFilter& f) {
    f.actor = "system";
    f.from_ms = 1500;
    f.to_ms = 2600;
  });
  add([](AuditFilter& f) {
    f.target = "customer:c3";
    f.after_seq = 120;
    f.up_to_seq = 270;
  });
  add([](AuditFilter& f) {
    f.from_ms = 1995;
    f.to_ms = 2045;
  });
  // Time ranges alone (audit_time_spans, migration kAuditTimeSpansMigration): around the
  // entry the clock put far back, across the end of the spans, before and after every entry.
  add([](AuditFilter& f) { f.to_ms = 100; });
  add([](AuditFilter& f) {
    f.from_ms = 40;
    f.to_ms = 1200;
  });
  add([](AuditFilter& f) { f.from_ms = 3000; });
  add([](AuditFilter& f) {
    f.from_ms = 2000;
    f.to_ms = 3600;
  });
  add([](AuditFilter& f) {
    f.from_ms = 1;
    f.to_ms = 40;
  });
  add([](AuditFilter& f) { f.from_ms = 9000; });
  add([](AuditFilter& f) {
    f.from_ms = 2500;
    f.after_seq = 180;
    f.up_to_seq = 280;
  });
  add([](AuditFilter&) {});

  // The keys written in three steps of different sizes: none, 100 entries, 257, all.
  const int64_t steps[] = {0, 100, 157, 43};
  int64_t indexed = 0;
  for (int64_t step : steps) {
    if (step > 0) {
      auto txn = BeginOrDie();
      auto now = txn->IndexAuditKeys(kEntries, 1, static_cast<size_t>(step));
      ASSERT_OK(now.status());
      EXPECT_EQ(*now, indexed + step);
      ASSERT_OK(txn->Commit());
      indexed = *now;
    }
    auto read = BeginOrDie();
    auto at = read->AuditKeysIndexedSeq();
    ASSERT_OK(at.status());
    EXPECT_EQ(*at, indexed);
    for (size_t i = 0; i < filters.size(); ++i) {
      const AuditFilter& f = filters[i];
      SCOPED_TRACE(::testing::Message() << "filter " << i << ", keys up to entry " << indexed);
      const std::vector<int64_t> want = expected(f);
      auto all = read->QueryAudit(f, 1000);
      ASSERT_OK(all.status());
      std::vector<int64_t> got;
      for (const AuditRow& r : *all) got.push_back(r.seq);
      EXPECT_EQ(got, want);
      // Page by page (the cursor is the last seq of a page): nothing lost, nothing repeated.
      std::vector<int64_t> paged;
      AuditFilter page = f;
      while (true) {
        auto rows = read->QueryAudit(page, 7);
        ASSERT_OK(rows.status());
        for (const AuditRow& r : *rows) paged.push_back(r.seq);
        if (rows->size() < 7) break;
        page.after_seq = rows->back().seq;
      }
      EXPECT_EQ(paged, want);
    }
  }
  // A tail shorter than min_tail is left as it is.
  auto txn = BeginOrDie();
  AuditRow next = Audit(kEntries + 1);
  ASSERT_OK(txn->AppendAudit(next));
  auto kept = txn->IndexAuditKeys(kEntries + 1, 2, 100);
  ASSERT_OK(kept.status());
  EXPECT_EQ(*kept, kEntries);
  auto done = txn->IndexAuditKeys(kEntries + 1, 1, 100);
  ASSERT_OK(done.status());
  EXPECT_EQ(*done, kEntries + 1);
}

TEST_P(StoreSuite, SignedCheckpointsAreListedInSeqOrder) {
  auto txn = BeginOrDie();
  ASSERT_OK(txn->InsertCheckpoint({200, 2, B("h200"), B("sig200")}));
  ASSERT_OK(txn->InsertCheckpoint({100, 1, B("h100"), B("sig100")}));
  EXPECT_CODE(txn->InsertCheckpoint({100, 3, B("x"), B("y")}), Code::kConflict);
  auto list = txn->ListCheckpoints();
  ASSERT_OK(list.status());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].seq, 100);
  EXPECT_EQ((*list)[0].signature, B("sig100"));
  EXPECT_EQ((*list)[1].seq, 200);
  EXPECT_EQ((*list)[1].hash, B("h200"));
}

TEST_P(StoreSuite, AuditTreeNodesReadBackByKeyAndInTheOrderTheyComplete) {
  auto txn = BeginOrDie();
  auto none = txn->LastAuditNodeSize();
  ASSERT_OK(none.status());
  EXPECT_EQ(*none, 0);
  ASSERT_OK(txn->InsertAuditNode({64, 6, B("n64-6")}));
  ASSERT_OK(txn->InsertAuditNode({32, 5, B("n32-5")}));
  ASSERT_OK(txn->InsertAuditNode({64, 5, B("n64-5")}));
  ASSERT_OK(txn->InsertAuditNode({96, 5, B("n96-5")}));
  EXPECT_CODE(txn->InsertAuditNode({64, 5, B("other")}), Code::kConflict);
  auto node = txn->GetAuditNode(64, 6);
  ASSERT_OK(node.status());
  ASSERT_TRUE(node->has_value());
  EXPECT_EQ((*node)->hash, B("n64-6"));
  auto absent = txn->GetAuditNode(64, 7);
  ASSERT_OK(absent.status());
  EXPECT_FALSE(absent->has_value());
  auto last = txn->LastAuditNodeSize();
  ASSERT_OK(last.status());
  EXPECT_EQ(*last, 96);
  // In (tree_size, level) order, after a given key, at most `limit`.
  auto all = txn->ReadAuditNodes(0, -1, 10);
  ASSERT_OK(all.status());
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].hash, B("n32-5"));
  EXPECT_EQ((*all)[1].hash, B("n64-5"));
  EXPECT_EQ((*all)[2].hash, B("n64-6"));
  EXPECT_EQ((*all)[3].hash, B("n96-5"));
  auto after = txn->ReadAuditNodes(64, 5, 2);
  ASSERT_OK(after.status());
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].tree_size, 64);
  EXPECT_EQ((*after)[0].level, 6);
  EXPECT_EQ((*after)[1].tree_size, 96);
}

// --- staff ---

TEST_P(StoreSuite, StaffAccountsAreCreatedOnceAndListedById) {
  auto txn = BeginOrDie();
  ASSERT_OK(txn->InsertStaff({"s2", "Bob", "support", "support_agent", 10, "active"}));
  ASSERT_OK(txn->InsertStaff({"s1", "Alice", "security", "security_admin,dpo", 5, "active"}));
  EXPECT_CODE(txn->InsertStaff({"s1", "Mallory", "x", "y", 6, "active"}), Code::kConflict);

  auto alice = txn->GetStaff("s1");
  ASSERT_OK(alice.status());
  ASSERT_TRUE(alice->has_value());
  EXPECT_EQ((*alice)->display_name, "Alice");
  EXPECT_EQ((*alice)->roles, "security_admin,dpo");
  EXPECT_EQ((*alice)->created_at_ms, 5);
  auto nobody = txn->GetStaff("s9");
  ASSERT_OK(nobody.status());
  EXPECT_FALSE(nobody->has_value());
  auto all = txn->ListStaff();
  ASSERT_OK(all.status());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].staff_id, "s1");
  EXPECT_EQ((*all)[1].staff_id, "s2");
}

// --- bulk imports ---

TEST_P(StoreSuite, AnImportsProgressIsFoundByItsFileHash) {
  auto txn = BeginOrDie();
  auto none = txn->GetImportByFile("abc123");
  ASSERT_OK(none.status());
  EXPECT_FALSE(none->has_value());

  ImportRow row{"imp1", "abc123", "staff:alice", 100, 100, 0, 0, 0, "running"};
  ASSERT_OK(txn->PutImport(row));
  row.committed_lines = 1000;
  row.imported = 990;
  row.rejected = 10;
  row.updated_at_ms = 200;
  row.state = "done";
  ASSERT_OK(txn->PutImport(row));

  auto got = txn->GetImportByFile("abc123");
  ASSERT_OK(got.status());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->import_id, "imp1");
  EXPECT_EQ((*got)->actor, "staff:alice");
  EXPECT_EQ((*got)->started_at_ms, 100);
  EXPECT_EQ((*got)->updated_at_ms, 200);
  EXPECT_EQ((*got)->committed_lines, 1000);
  EXPECT_EQ((*got)->imported, 990);
  EXPECT_EQ((*got)->rejected, 10);
  EXPECT_EQ((*got)->state, "done");
}

TEST_P(StoreSuite, TheSameFileCannotBeImportedUnderTwoIds) {
  auto txn = BeginOrDie();
  ASSERT_OK(txn->PutImport({"imp1", "abc123", "a", 1, 1, 0, 0, 0, "running"}));
  EXPECT_CODE(txn->PutImport({"imp2", "abc123", "a", 2, 2, 0, 0, 0, "running"}), Code::kConflict);
}

// --- atomicity and durability ---

TEST_P(StoreSuite, ATransactionDroppedWithoutCommitLeavesNothing) {
  {
    auto txn = BeginOrDie();
    ASSERT_OK(txn->InsertCustomer(Customer("c1")));
    ASSERT_OK(txn->PutWrappedKey({"c1", 1, B("dek")}));
    ASSERT_OK(txn->AppendAudit(Audit(1)));
  }
  auto read = BeginOrDie();
  auto customer = read->GetCustomer("c1");
  ASSERT_OK(customer.status());
  EXPECT_FALSE(customer->has_value());
  auto key = read->GetWrappedKey("c1");
  ASSERT_OK(key.status());
  EXPECT_FALSE(key->has_value());
  auto head = read->GetAuditHead();
  ASSERT_OK(head.status());
  EXPECT_FALSE(head->has_value());
}

TEST_P(StoreSuite, CommittedWorkSurvivesReopening) {
  auto txn = BeginOrDie();
  ASSERT_OK(txn->InsertCustomer(Customer("c1")));
  ASSERT_OK(txn->AppendAudit(Audit(1)));
  ASSERT_OK(txn->Commit());
  txn.reset();
  auto version_before = store_->SchemaVersion();
  ASSERT_OK(version_before.status());

  Reopen();
  auto version_after = store_->SchemaVersion();
  ASSERT_OK(version_after.status());
  EXPECT_EQ(*version_after, *version_before) << "reopening applies no migration twice";
  EXPECT_GE(*version_after, 1);
  auto read = BeginOrDie();
  auto count = read->CountCustomers();
  ASSERT_OK(count.status());
  EXPECT_EQ(*count, 1);
  auto head = read->GetAuditHead();
  ASSERT_OK(head.status());
  ASSERT_TRUE(head->has_value());
  EXPECT_EQ((*head)->seq, 1);
}

TEST_P(StoreSuite, NothingCanBeDoneWithACommittedTransaction) {
  auto txn = BeginOrDie();
  ASSERT_OK(txn->Commit());
  EXPECT_FALSE(txn->InsertCustomer(Customer("c1")).ok());
  EXPECT_FALSE(txn->Commit().ok());
  auto next = BeginOrDie();  // the writer was released by Commit
  auto count = next->CountCustomers();
  ASSERT_OK(count.status());
  EXPECT_EQ(*count, 0);
}

TEST_P(StoreSuite, CheckpointSucceedsWithCommittedData) {
  auto txn = BeginOrDie();
  ASSERT_OK(txn->InsertCustomer(Customer("c1")));
  ASSERT_OK(txn->Commit());
  txn.reset();
  ASSERT_OK(store_->Checkpoint());
  auto read = BeginOrDie();
  auto got = read->GetCustomer("c1");
  ASSERT_OK(got.status());
  EXPECT_TRUE(got->has_value());
}

TEST_P(StoreSuite, FourConcurrentWritersAllLand) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 1000;
  constexpr int kBatch = 50;
  std::vector<std::thread> threads;
  std::vector<std::string> failures(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int start = 0; start < kPerThread; start += kBatch) {
        auto txn = store_->Begin();
        if (!txn.ok()) {
          failures[static_cast<size_t>(t)] = txn.status().ToString();
          return;
        }
        for (int i = start; i < start + kBatch; ++i) {
          std::string id = "t" + std::to_string(t) + "-" + std::to_string(10000 + i);
          Status s = (*txn)->InsertCustomer(Customer(id));
          if (s.ok()) s = (*txn)->PutIndexEntries(id, {{"mobile", B(id)}});
          if (!s.ok()) {
            failures[static_cast<size_t>(t)] = s.ToString();
            return;
          }
        }
        Status c = (*txn)->Commit();
        if (!c.ok()) {
          failures[static_cast<size_t>(t)] = c.ToString();
          return;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& failure : failures) EXPECT_EQ(failure, "");

  auto read = BeginOrDie();
  auto count = read->CountCustomers();
  ASSERT_OK(count.status());
  EXPECT_EQ(*count, kThreads * kPerThread);
  auto found = read->FindByIndex("mobile", B("t3-10999"), 10);
  ASSERT_OK(found.status());
  EXPECT_EQ(*found, (std::vector<std::string>{"t3-10999"}));
}

TEST_P(StoreSuite, ATransactionMayMoveToAnotherThread) {
  auto txn = BeginOrDie();
  ASSERT_OK(txn->InsertCustomer(Customer("c1")));
  Status committed;
  std::thread([&] {
    committed = txn->Commit();
    txn.reset();
  }).join();
  ASSERT_OK(committed);
  auto read = BeginOrDie();
  auto count = read->CountCustomers();
  ASSERT_OK(count.status());
  EXPECT_EQ(*count, 1);
}

// --- fault injection ---

TEST_P(StoreSuite, AFailedCommitLeavesNothingVisible) {
  FaultInjectingStore faulty(std::move(store_));
  auto txn = faulty.Begin();
  ASSERT_OK(txn.status());
  ASSERT_OK((*txn)->InsertCustomer(Customer("c1")));
  ASSERT_OK((*txn)->PutWrappedKey({"c1", 1, B("dek")}));
  ASSERT_OK((*txn)->AppendAudit(Audit(1)));
  faulty.FailAfter(1, Code::kUnavailable);  // the next write is the commit
  EXPECT_CODE((*txn)->Commit(), Code::kUnavailable);
  txn.value().reset();
  faulty.Heal();

  auto read = faulty.Begin();
  ASSERT_OK(read.status());
  auto customer = (*read)->GetCustomer("c1");
  ASSERT_OK(customer.status());
  EXPECT_FALSE(customer->has_value());
  auto key = (*read)->GetWrappedKey("c1");
  ASSERT_OK(key.status());
  EXPECT_FALSE(key->has_value());
  auto head = (*read)->GetAuditHead();
  ASSERT_OK(head.status());
  EXPECT_FALSE(head->has_value());
}

TEST_P(StoreSuite, AnInjectedFaultHitsTheChosenWriteAndStaysUntilHealed) {
  FaultInjectingStore faulty(std::move(store_));
  faulty.FailAfter(2, Code::kUnavailable);
  {
    auto txn = faulty.Begin();
    ASSERT_OK(txn.status());
    ASSERT_OK((*txn)->InsertCustomer(Customer("c1")));               // write 1
    EXPECT_CODE((*txn)->AppendAudit(Audit(1)), Code::kUnavailable);  // write 2: fails
    EXPECT_CODE((*txn)->PutMeta("k", B("v")), Code::kUnavailable);   // a failed disk stays failed
    auto read = (*txn)->GetCustomer("c1");                           // reads pass through
    ASSERT_OK(read.status());
  }  // dropped: rolled back
  EXPECT_EQ(faulty.WriteCount(), 3);
  faulty.Heal();

  auto txn = faulty.Begin();
  ASSERT_OK(txn.status());
  auto customer = (*txn)->GetCustomer("c1");
  ASSERT_OK(customer.status());
  EXPECT_FALSE(customer->has_value()) << "the first write was rolled back with the transaction";
  ASSERT_OK((*txn)->InsertCustomer(Customer("c1")));
  ASSERT_OK((*txn)->Commit());
}

TEST_P(StoreSuite, EveryCrashPointOfAWriterLeavesAllOrNothing) {
  FaultInjectingStore faulty(std::move(store_));
  // One customer creation as the vault will do it: five writes and the commit.
  auto create = [&](Store& store) -> Status {
    CUSTOS_ASSIGN_OR_RETURN(auto txn, store.Begin());
    CUSTOS_RETURN_IF_ERROR(txn->PutWrappedKey({"c1", 1, B("dek")}));
    CUSTOS_RETURN_IF_ERROR(txn->InsertCustomer(Customer("c1")));
    CUSTOS_RETURN_IF_ERROR(txn->PutIndexEntries("c1", {{"mobile", B("tok")}}));
    CUSTOS_RETURN_IF_ERROR(txn->AppendAudit(Audit(1)));
    return txn->Commit();
  };
  auto visible = [&]() -> std::vector<bool> {
    auto txn = faulty.Begin();
    EXPECT_TRUE(txn.ok());
    if (!txn.ok()) return {};
    auto c = (*txn)->GetCustomer("c1");
    auto k = (*txn)->GetWrappedKey("c1");
    auto i = (*txn)->FindByIndex("mobile", B("tok"), 1);
    auto a = (*txn)->GetAuditHead();
    return {c.ok() && c->has_value(), k.ok() && k->has_value(), i.ok() && !i->empty(),
            a.ok() && a->has_value()};
  };
  for (int64_t crash_at = 1; crash_at <= 5; ++crash_at) {
    faulty.FailAfter(crash_at, Code::kUnavailable);
    EXPECT_CODE(create(faulty), Code::kUnavailable) << "crash at write " << crash_at;
    faulty.Heal();
    EXPECT_EQ(visible(), (std::vector<bool>{false, false, false, false}))
        << "crash at write " << crash_at;
  }
  const int64_t before = faulty.WriteCount();
  ASSERT_OK(create(faulty));
  EXPECT_EQ(faulty.WriteCount() - before, 5) << "four writes and a commit: all were tried";
  EXPECT_EQ(visible(), (std::vector<bool>{true, true, true, true}));
}

Status AppendSpanEntries(Transaction& txn, int64_t count, bool varied, std::vector<AuditRow>* log) {
  for (int64_t seq = 1; seq <= count; ++seq) {
    AuditRow row;
    row.seq = seq;
    row.ts_ms = 1000 + seq;
    row.actor = varied && seq % 3 == 0 ? "staff:carol" : "staff:alice";
    row.action = "customer.read";
    row.target = "customer:c" + std::to_string(seq % 50);
    row.decision = varied && seq % 7 == 0 ? "deny" : "allow";
    row.purpose = "support";
    row.prev_hash = Bytes(32, 0);
    row.hash = Bytes(32, 1);
    CUSTOS_RETURN_IF_ERROR(txn.AppendAudit(row));
    if (log != nullptr) log->push_back(std::move(row));
  }
  return Status::Ok();
}

void ExpectCarolsReadsOfC7(Transaction& txn, const std::vector<AuditRow>& log) {
  AuditFilter about;
  about.target = "customer:c7";
  about.actor = "staff:carol";
  std::vector<int64_t> want;
  for (const AuditRow& r : log) {
    if (r.target == about.target && r.actor == about.actor) want.push_back(r.seq);
  }
  ASSERT_FALSE(want.empty());
  auto rows = txn.QueryAudit(about, 100);
  ASSERT_OK(rows.status());
  std::vector<int64_t> got;
  for (const AuditRow& r : *rows) got.push_back(r.seq);
  EXPECT_EQ(got, want);
}

}  // namespace custos::store::testing
