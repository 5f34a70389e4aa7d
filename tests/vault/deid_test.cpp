// De-identified releases through the vault (issue 16): an analyst releases under a profile, the
// file meets k and l by a count made here (not by the release code), pseudonyms change with
// every release unless the profile is joinable, the project's scanner finds no direct
// identifier in the file, a profile that cannot be met is refused with its best figures, and
// every release is in the register with the SHA-256 of its file. Both backends.
#include <botan/hash.h>
#include <fmt/format.h>

#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "core/validators.h"
#include "crypto/primitives.h"
#include "scan/scan_text.h"
#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

constexpr int kCustomers = 160;

size_t Column(const std::vector<std::string>& header, std::string_view name) {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return i;
  }
  ADD_FAILURE() << "no column " << name;
  return 0;
}

// The test's own k and distinct l over `quasi` and `sensitive`.
std::pair<size_t, size_t> KAndL(const std::vector<std::vector<std::string>>& rows,
                                const std::vector<std::string>& quasi,
                                const std::string& sensitive) {
  std::map<std::string, std::pair<size_t, std::set<std::string>>> classes;
  for (size_t r = 1; r < rows.size(); ++r) {
    std::string key;
    for (const std::string& q : quasi) key += rows[r][Column(rows[0], q)] + "|";
    classes[key].first++;
    classes[key].second.insert(rows[r][Column(rows[0], sensitive)]);
  }
  size_t k = SIZE_MAX;
  size_t l = SIZE_MAX;
  for (const auto& [key, c] : classes) {
    k = std::min(k, c.first);
    l = std::min(l, c.second.size());
  }
  return {k, l};
}

std::string Sha256(const std::string& text) {
  auto h = Botan::HashFunction::create_or_throw("SHA-256");
  h->update(text);
  return crypto::ToHex(h->final_stdvec());
}

class DeidTest : public VaultTest {
 protected:
  void SetUp() override {
    VaultTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    const Context admin{"admin", "", Channel::kCli, "req-setup"};
    ASSERT_TRUE(vault_->staff()
                    .Create(admin, StaffSpec{"wu.lei", "wu.lei", "data_analyst", {"analyst"}, ""})
                    .ok());
    AddCustomers();
  }

  // kCustomers customers in three cities, born 1950-1999; every fifth has not consented to
  // analytics.
  void AddCustomers() {
    const char* cities[] = {"广东省深圳市南山区科技园路1号", "北京市朝阳区建国路88号",
                            "上海市浦东新区世纪大道100号"};
    const char* region_codes[] = {"440305", "110105", "310115"};
    const char* interests[] = {"理财", "保险", "基金", "贷款"};
    for (int i = 0; i < kCustomers; ++i) {
      const int year = 1950 + (i * 7) % 50;
      const std::string birth = fmt::format("{}-{:02}-{:02}", year, 1 + i % 12, 1 + i % 28);
      const std::string seq = fmt::format("{:03}", 100 + i % 800);
      const std::string first17 =
          fmt::format("{}{}{:02}{:02}{}", region_codes[i % 3], year, 1 + i % 12, 1 + i % 28, seq);
      const std::string id = first17 + core::IdCardCheckChar(first17);
      const bool male = (100 + i % 800) % 2 == 1;
      FieldValues f{{"name", fmt::format("客户{}", i)},
                    {"gender", male ? "M" : "F"},
                    {"birth_date", birth},
                    {"id_number", id},
                    {"phone", fmt::format("138{:08}", 10000000 + i)},
                    {"email", fmt::format("c{}@example.com", i)},
                    {"address", cities[i % 3]},
                    {"interests", interests[(i / 3) % 4]}};
      std::vector<std::string> purposes = {"customer_service", "account_management"};
      if (i % 5 != 0) purposes.push_back("analytics");
      auto id_or = vault_->customers().Create(Agent("account_management"), f, "form",
                                              Consented(purposes, true));
      ASSERT_TRUE(id_or.ok()) << id_or.status().ToString();
      ids_.push_back(*id_or);
    }
  }

  // Transactions: customer i has i % 4 of them (the second of three in USD, so that customer
  // has no sum), each 100.5, in January, February, March 2026.
  void AddTransactions() {
    for (size_t i = 0; i < ids_.size(); ++i) {
      const size_t n = i % 4;
      for (size_t j = 0; j < n; ++j) {
        auto t =
            vault_->records().AddTransaction(Agent(), ids_[i],
                                             {{"occurred_at", fmt::format("2026-{:02}-15", j + 1)},
                                              {"product", "基金"},
                                              {"amount", "100.5"},
                                              {"currency", n == 3 && j == 1 ? "USD" : "CNY"},
                                              {"payment_method", "card"}},
                                             "pos");
        ASSERT_TRUE(t.ok()) << t.status().ToString();
      }
    }
  }

  // Customer 1's twin: the same birth date, gender, city and interest (so the same class of
  // interests_by_age_region), consenting to analytics.
  void AddTwinOfCustomer1() {
    const int i = 1;
    const int year = 1950 + (i * 7) % 50;
    const std::string first17 =
        fmt::format("110105{}{:02}{:02}{}", year, 1 + i % 12, 1 + i % 28, "903");
    FieldValues twin{{"name", "新客户"},
                     {"gender", "M"},
                     {"birth_date", fmt::format("{}-{:02}-{:02}", year, 1 + i % 12, 1 + i % 28)},
                     {"id_number", first17 + core::IdCardCheckChar(first17)},
                     {"phone", "13899990001"},
                     {"email", "twin@example.com"},
                     {"address", "北京市朝阳区建国路88号"},
                     {"interests", "理财"}};
    auto added = vault_->customers().Create(
        Agent("account_management"), twin, "form",
        Consented({"customer_service", "account_management", "analytics"}, true));
    ASSERT_TRUE(added.ok()) << added.status().ToString();
  }

  std::vector<std::string> ids_;  // in creation order: ids_[i] is customer i

  // Appends a profile to this vault's custos.toml and reopens.
  void AddProfile(const std::string& toml) {
    std::ofstream(dir_ / "custos.toml", std::ios::app) << "\n" << toml;
    Reopen();
  }

  Context Analyst(const std::string& purpose = "analytics") const {
    return Context{"wu.lei", purpose, Channel::kCli, "req-deid"};
  }

  Result<DeidReleaseReport> Release(const std::string& profile, std::string& file) {
    std::ostringstream out;
    auto r = ReleaseTo(profile, out);
    file = out.str();
    return r;
  }

  // The analyst's release of `profile` written to `out`.
  Result<DeidReleaseReport> ReleaseTo(const std::string& profile, std::ostream& out) {
    DeidReleaseOptions options;
    options.profile = profile;
    options.recipients = "marketing analytics team";
    options.page_size = 37;  // several pages in each pass
    return vault_->deid().Release(Analyst(), options, out);
  }
};

TEST_F(DeidTest, AnAnalystReleasesAFileThatMeetsKAndLByAnIndependentCount) {
  std::string file;
  auto r = Release("interests_by_age_region", file);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->met) << r->reason;
  const auto rows = ParseCsv(file);
  ASSERT_GE(rows.size(), 2u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"customer_id", "birth_date", "gender",
                                               "address_region", "interests"}));
  EXPECT_EQ(static_cast<int64_t>(rows.size()) - 1, r->rows_written);
  // Only those who consented to analytics: 4 in 5.
  EXPECT_EQ(r->figures.records, static_cast<uint64_t>(kCustomers * 4 / 5));
  EXPECT_LE(r->figures.suppressed, r->figures.records / 20);
  const auto [k, l] = KAndL(rows, {"birth_date", "gender", "address_region"}, "interests");
  EXPECT_GE(k, 5u);
  EXPECT_GE(l, 2u);
  EXPECT_EQ(k, r->figures.smallest_class);
  // The vault's own check, which shares no code with the release, agrees.
  std::istringstream in(file);
  auto check =
      vault_->deid().Check(Analyst(), "interests_by_age_region", deid::FileFormat::kCsv, in);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE(check->meets);
  EXPECT_EQ(check->figures.smallest_class, k);
  EXPECT_DOUBLE_EQ(check->figures.prosecutor.highest, r->figures.prosecutor.highest);
  // Pseudonyms are distinct per customer.
  std::set<std::string> pseudonyms;
  for (size_t i = 1; i < rows.size(); ++i) pseudonyms.insert(rows[i][0]);
  EXPECT_EQ(pseudonyms.size(), rows.size() - 1);
}

TEST_F(DeidTest, TheScannerFindsNoDirectIdentifierInTheFile) {
  std::string file;
  auto r = Release("interests_by_age_region", file);
  ASSERT_TRUE(r.ok() && r->met);
  auto findings = scan::ScanText(file);
  ASSERT_TRUE(findings.ok()) << findings.status().ToString();
  for (const scan::Finding& f : *findings) {
    ADD_FAILURE() << "found " << scan::TypeName(f.type) << " at line " << f.line;
  }
  EXPECT_EQ(file.find("客户"), std::string::npos);
  EXPECT_EQ(file.find("example.com"), std::string::npos);
}

TEST_F(DeidTest, PseudonymsDifferAcrossReleasesUnlessTheProfileIsJoinable) {
  std::string a;
  std::string b;
  ASSERT_TRUE(Release("interests_by_age_region", a).ok());
  ASSERT_TRUE(Release("interests_by_age_region", b).ok());
  std::set<std::string> first;
  for (size_t i = 1; i < ParseCsv(a).size(); ++i) first.insert(ParseCsv(a)[i][0]);
  for (const auto& row : ParseCsv(b)) EXPECT_EQ(first.count(row[0]), 0u);

  AddProfile(R"([deid.profiles.joinable_cohort]
description = "joinable test profile"
purpose = "analytics"
roles = ["analyst"]
k = 3
joinable = true
max_suppression = 0.1
[deid.profiles.joinable_cohort.fields]
customer_id = { transform = "pseudonymise" }
id_birth_year = { transform = "generalise", hierarchy = "birth_date" }
id_region = { transform = "generalise", hierarchy = "region" }
)");
  ASSERT_TRUE(Release("joinable_cohort", a).ok());
  ASSERT_TRUE(Release("joinable_cohort", b).ok());
  std::set<std::string> ja;
  std::set<std::string> jb;
  for (const auto& row : ParseCsv(a)) ja.insert(row[0]);
  for (const auto& row : ParseCsv(b)) jb.insert(row[0]);
  EXPECT_EQ(ja, jb);
  EXPECT_GT(ja.size(), 10u);
  // The joinable key survives a reopen (it is kept KEK-wrapped in the vault).
  Reopen();
  std::string c;
  ASSERT_TRUE(Release("joinable_cohort", c).ok());
  std::set<std::string> jc;
  for (const auto& row : ParseCsv(c)) jc.insert(row[0]);
  EXPECT_EQ(ja, jc);
}

// Differencing (docs/deid.md, "Releases over time"): one customer joins between two releases
// of a k-anonymous profile. A recipient of both could subtract the class the customer joined
// and learn their sensitive value, so the second release leaves that class out, and so does a
// third, although the second did not carry it: it is compared with every earlier release.
TEST_F(DeidTest, AClassWhoseSizeChangedByFewerThanKSinceAnEarlierReleaseIsLeftOut) {
  std::string first_file;
  auto first = Release("interests_by_age_region", first_file);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(first->met) << first->reason;
  EXPECT_EQ(first->differencing_classes, 0u);

  AddTwinOfCustomer1();

  std::string second_file;
  auto second = Release("interests_by_age_region", second_file);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_TRUE(second->met) << second->reason;
  ASSERT_EQ(second->figures.levels, first->figures.levels);
  EXPECT_EQ(second->differencing_classes, 1u);
  // The class the twin joined, every one of its customers left out.
  EXPECT_EQ(second->rows_written + static_cast<int64_t>(second->differencing_customers),
            first->rows_written + 1);
  EXPECT_EQ(second->figures.records, first->figures.records + 1);
  // The figures are those of the file: the class left out counts as suppressed.
  EXPECT_EQ(second->figures.records - second->figures.suppressed,
            static_cast<uint64_t>(second->rows_written));
  EXPECT_EQ(second->figures.classes, first->figures.classes - 1);

  std::string third_file;
  auto third = Release("interests_by_age_region", third_file);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(third->differencing_classes, 1u);
  EXPECT_EQ(third->rows_written, second->rows_written);
  EXPECT_EQ(third_file.size(), second_file.size());
}

// A string buffer that runs `hook` once, before the first byte is written to it.
class HookedBuffer : public std::stringbuf {
 public:
  explicit HookedBuffer(std::function<void()> hook) : hook_(std::move(hook)) {}

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    Fire();
    return std::stringbuf::xsputn(s, n);
  }
  int_type overflow(int_type c) override {
    Fire();
    return std::stringbuf::overflow(c);
  }

 private:
  void Fire() {
    if (!hook_) return;
    auto hook = std::move(hook_);
    hook_ = nullptr;
    hook();
  }
  std::function<void()> hook_;
};

// Two releases of one profile made at the same moment: each read the history before the other
// was registered, so neither left out the class the twin joined between their first passes.
// The one registered last is refused (Conflict, recorded, not in the register): a recipient of
// both could have subtracted them.
TEST_F(DeidTest, OfTwoReleasesMadeAtOnceThatDifferByFewerThanKTheLaterIsRefused) {
  std::string inner_file;
  Result<DeidReleaseReport> inner = FailedPrecondition("not run");
  // The outer release's second pass is writing its first row when the twin joins and the inner
  // release is made and registered.
  HookedBuffer buffer([&] {
    AddTwinOfCustomer1();
    inner = Release("interests_by_age_region", inner_file);
  });
  std::ostream out(&buffer);
  auto outer = ReleaseTo("interests_by_age_region", out);
  ASSERT_TRUE(inner.ok()) << inner.status().ToString();
  ASSERT_TRUE(inner->met) << inner->reason;
  EXPECT_EQ(inner->differencing_classes, 0u);  // no earlier release was registered
  ASSERT_FALSE(outer.ok());
  EXPECT_EQ(outer.status().code(), Code::kConflict) << outer.status().ToString();
  EXPECT_NE(outer.status().message().find("fewer than k"), std::string::npos);

  auto registered = vault_->deid().Releases(Analyst(), 100);
  ASSERT_TRUE(registered.ok()) << registered.status().ToString();
  ASSERT_EQ(registered->size(), 1u);
  EXPECT_EQ(registered->front().release_id, inner->release_id);
  AuditQuery q;
  q.action = "deid.release.refused";
  auto refused = vault_->audit().Query(Context{"dpo", "legal_obligation", Channel::kCli, "r"}, q);
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  ASSERT_EQ(refused->entries.size(), 1u);
  EXPECT_NE(refused->entries[0].reason.find("fewer than k"), std::string::npos);

  // Made again, it is checked against the inner release, whose population it has (the twin
  // included): nothing differs, nothing is left out.
  std::string again_file;
  auto again = Release("interests_by_age_region", again_file);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->differencing_classes, 0u);  // the same population as the inner release
}

// A class that matched an earlier release in the first pass and lost a customer before the
// second (a withdrawal of consent) differs from it by one: the release is void (Conflict), not
// registered, and a recipient of both cannot subtract them.
TEST_F(DeidTest, AReleaseWhoseClassLostACustomerBetweenItsPassesIsVoid) {
  std::string first_file;
  auto first = Release("interests_by_age_region", first_file);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(first->met) << first->reason;
  // The last customer (consenting to analytics: 159 % 5 != 0) is read late in the second pass,
  // which is writing its first row when they withdraw.
  HookedBuffer buffer([&] {
    ConsentRequest withdraw;
    withdraw.action = "withdraw";
    withdraw.purpose = "analytics";
    withdraw.channel = "app";
    withdraw.evidence_ref = "app-session-7";
    auto seq = vault_->consent().Record(Agent(), ids_.back(), withdraw);
    ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  });
  std::ostream out(&buffer);
  auto second = ReleaseTo("interests_by_age_region", out);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kConflict);
  EXPECT_NE(second.status().message().find("differs by fewer than k"), std::string::npos)
      << second.status().ToString();
  auto registered = vault_->deid().Releases(Analyst(), 100);
  ASSERT_TRUE(registered.ok()) << registered.status().ToString();
  EXPECT_EQ(registered->size(), 1u);

  // Made again, the class the customer left is left out.
  std::string again_file;
  auto again = Release("interests_by_age_region", again_file);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->differencing_classes, 1u);
}

TEST_F(DeidTest, AProfileThatCannotBeMetIsRefusedWithTheBestAchievableFigures) {
  AddProfile(R"([deid.profiles.too_strict]
description = "cannot be met"
purpose = "analytics"
roles = ["analyst"]
k = 2
diversity = "distinct"
l = 5
[deid.profiles.too_strict.fields]
birth_date = { transform = "generalise", hierarchy = "birth_date" }
interests = { transform = "keep", sensitive = true }
)");
  std::string file;
  auto r = Release("too_strict", file);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->met);
  EXPECT_NE(r->reason.find("l=5"), std::string::npos) << r->reason;
  EXPECT_EQ(r->figures.records, static_cast<uint64_t>(kCustomers * 4 / 5));
  EXPECT_TRUE(file.empty());
  auto register_rows = vault_->deid().Releases(Analyst(), 100);
  ASSERT_TRUE(register_rows.ok());
  EXPECT_TRUE(register_rows->empty());
}

TEST_F(DeidTest, EveryReleaseIsInTheRegisterWithTheHashOfItsFile) {
  std::string file;
  auto r = Release("interests_by_age_region", file);
  ASSERT_TRUE(r.ok() && r->met);
  EXPECT_EQ(r->file_sha256, Sha256(file));
  auto rows = vault_->deid().Releases(Context{"dpo", "", Channel::kCli, "req-dpo"}, 100);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  const store::DeidReleaseRow& row = (*rows)[0];
  EXPECT_EQ(row.release_id, r->release_id);
  EXPECT_EQ(row.actor, "wu.lei");
  EXPECT_EQ(row.purpose, "analytics");
  EXPECT_EQ(row.profile, "interests_by_age_region");
  EXPECT_EQ(row.profile_sha256, r->profile_sha256);
  EXPECT_EQ(row.file_sha256, Sha256(file));
  EXPECT_EQ(row.row_count, r->rows_written);
  EXPECT_EQ(row.recipients, "marketing analytics team");
  EXPECT_NE(row.parameters.find("\"k\":5"), std::string::npos) << row.parameters;
  EXPECT_NE(row.figures.find("\"smallest_class\""), std::string::npos);
}

TEST_F(DeidTest, OnlyTheProfilesRolesMayReleaseAndOnlyForItsPurpose) {
  std::ostringstream out;
  DeidReleaseOptions options;
  options.profile = "interests_by_age_region";
  auto r = vault_->deid().Release(SupportAgent(), options, out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kPermissionDenied);
  r = vault_->deid().Release(Analyst("marketing"), options, out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kPermissionDenied);
  options.profile = "no_such_profile";
  r = vault_->deid().Release(Analyst(), options, out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_TRUE(out.str().empty());
  // The analyst still reads no customer.
  auto list = vault_->customers().List(Analyst(), "", 10);
  EXPECT_FALSE(list.ok());
}

TEST_F(DeidTest, AnAnonymisedProfileReleasesEveryCustomerAsJsonLines) {
  std::ostringstream out;
  DeidReleaseOptions options;
  options.profile = "interests_anonymised";
  options.format = deid::FileFormat::kJsonl;
  auto r = vault_->deid().Release(Analyst(), options, out);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->met) << r->reason;
  EXPECT_EQ(r->figures.records, static_cast<uint64_t>(kCustomers));
  std::istringstream in(out.str());
  auto check =
      vault_->deid().Check(Analyst(), "interests_anonymised", deid::FileFormat::kJsonl, in);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE(check->meets);
  EXPECT_GE(check->figures.smallest_class, 10u);
  EXPECT_EQ(static_cast<int64_t>(check->figures.rows), r->rows_written);
}

// PIPL Art. 44: a customer who restricted processing enters no release, not even an
// anonymised one (reading them to anonymise is processing).
TEST_F(DeidTest, ACustomerUnderARestrictionOfProcessingEntersNoRelease) {
  const Context desk{"li.na", "", Channel::kCli, "req-desk"};
  auto opened = vault_->subject_requests().Open(
      desk, SubjectRequestSpec{ids_[1], "restriction", "TCK-2026-0044", {}});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  // Whoever opened the request neither verifies nor fulfils it: the DPO does.
  const Context dpo{"dpo", "", Channel::kCli, "req-dpo"};
  ASSERT_TRUE(vault_->subject_requests()
                  .Verify(dpo, opened->request_id,
                          Verification{"in_person_id_document", "CASE-2026-0044-ID"})
                  .ok());
  auto done = vault_->subject_requests().Fulfil(dpo, opened->request_id);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  ASSERT_EQ(done->answer, "fulfilled");
  std::ostringstream out;
  DeidReleaseOptions options;
  options.profile = "interests_anonymised";
  auto r = vault_->deid().Release(Analyst(), options, out);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->met) << r->reason;
  EXPECT_EQ(r->figures.records, static_cast<uint64_t>(kCustomers - 1));
}

// --- transactions per customer (issue 16 item 1) ---

TEST_F(DeidTest, TransactionsAreReleasedPerCustomerAsCountSumAndLastMonth) {
  AddTransactions();
  AddProfile(R"([deid.profiles.txn_values]
description = "the transaction values as derived"
purpose = "analytics"
roles = ["analyst"]
k = 1
[deid.profiles.txn_values.fields]
gender = { transform = "generalise", hierarchy = "gender" }
txn_count = { transform = "keep" }
txn_sum = { transform = "keep" }
txn_last_month = { transform = "keep" }
)");
  std::string file;
  auto r = Release("txn_values", file);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->met) << r->reason;
  const auto rows = ParseCsv(file);
  ASSERT_EQ(rows[0],
            (std::vector<std::string>{"gender", "txn_count", "txn_sum", "txn_last_month"}));
  std::multiset<std::string> expected;
  for (int i = 0; i < kCustomers; ++i) {
    if (i % 5 == 0) continue;  // not consented to analytics
    // i % 4 transactions of 100.5; of three, the second is in USD: no sum.
    const char* row[] = {"0,0,", "1,100.50,2026-01", "2,201,2026-02", "3,,2026-03"};
    expected.insert(row[i % 4]);
  }
  std::multiset<std::string> actual;
  for (size_t i = 1; i < rows.size(); ++i) {
    actual.insert(rows[i][1] + "," + rows[i][2] + "," + rows[i][3]);
  }
  EXPECT_EQ(actual, expected);
}

TEST_F(DeidTest, TheShippedSpendingProfileGeneralisesTheTransactionValuesToMeetK) {
  AddTransactions();
  std::string file;
  auto r = Release("spending_by_age_gender", file);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->met) << r->reason;
  const auto rows = ParseCsv(file);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"customer_id", "birth_date", "gender", "txn_count",
                                               "txn_sum", "txn_last_month"}));
  std::map<std::string, size_t> classes;
  for (size_t i = 1; i < rows.size(); ++i) {
    classes[rows[i][1] + "|" + rows[i][2] + "|" + rows[i][3] + "|" + rows[i][4] + "|" +
            rows[i][5]]++;
  }
  for (const auto& [key, n] : classes) EXPECT_GE(n, 5u) << key;
  std::istringstream in(file);
  auto check =
      vault_->deid().Check(Analyst(), "spending_by_age_gender", deid::FileFormat::kCsv, in);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE(check->meets);
}

// --- transactions as rows (issue 16 item 1; docs/deid.md, "Transactions as rows") ---

constexpr std::string_view kTxnRows = R"([deid.profiles.txn_rows]
description = "one row per transaction"
purpose = "analytics"
roles = ["analyst"]
k = 5
[deid.profiles.txn_rows.fields]
customer_id = { transform = "pseudonymise" }
birth_date = { transform = "generalise", hierarchy = "birth_date" }
gender = { transform = "generalise", hierarchy = "gender" }
[deid.profiles.txn_rows.transaction_fields]
occurred_at = { transform = "generalise", hierarchy = "date", level = 2 }
product = { transform = "keep" }
amount = { transform = "round", base = 10 }
currency = { transform = "keep" }
payment_method = { transform = "drop" }
)";

TEST_F(DeidTest, TransactionsAreReleasedAsRowsWithTheCustomerPseudonymised) {
  AddTransactions();
  AddProfile(std::string(kTxnRows));
  std::string file;
  auto r = Release("txn_rows", file);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->met) << r->reason;
  const auto rows = ParseCsv(file);
  ASSERT_EQ(rows[0],
            (std::vector<std::string>{"customer_id", "birth_date", "gender", "txn_occurred_at",
                                      "txn_product", "txn_amount", "txn_currency"}));
  EXPECT_EQ(static_cast<int64_t>(rows.size()) - 1, r->rows_written);
  // No suppression is allowed (max_suppression 0): every consented customer is in the file,
  // with one row per transaction, or one row of empty transaction cells without any.
  EXPECT_EQ(r->figures.suppressed, 0u);
  std::multiset<size_t> expected_rows;
  size_t expected_usd = 0;
  size_t expected_empty = 0;
  for (int i = 0; i < kCustomers; ++i) {
    if (i % 5 == 0) continue;
    expected_rows.insert(std::max(1, i % 4));
    if (i % 4 == 3) ++expected_usd;
    if (i % 4 == 0) ++expected_empty;
  }
  std::map<std::string, size_t> rows_of;
  std::map<std::string, std::string> class_of;
  size_t usd = 0;
  size_t empty = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    const auto& row = rows[i];
    ++rows_of[row[0]];
    // One customer's rows are all in one class.
    const std::string cls = row[1] + "|" + row[2];
    auto [it, first] = class_of.try_emplace(row[0], cls);
    EXPECT_TRUE(first || it->second == cls) << "row " << i;
    if (row[4].empty()) {
      ++empty;
      EXPECT_TRUE(row[3].empty() && row[5].empty() && row[6].empty()) << "row " << i;
      continue;
    }
    EXPECT_EQ(row[3], "2026-Q1");  // the quarter, never the day
    EXPECT_EQ(row[4], "基金");
    EXPECT_EQ(row[5], "100");  // 100.5 rounded to a multiple of 10
    if (row[6] == "USD") ++usd;
  }
  std::multiset<size_t> actual_rows;
  for (const auto& [pseudonym, n] : rows_of) actual_rows.insert(n);
  EXPECT_EQ(actual_rows, expected_rows);
  EXPECT_EQ(usd, expected_usd);
  EXPECT_EQ(empty, expected_empty);
  EXPECT_EQ(rows_of.size(), r->figures.records);
  // k counted by the test over customers (pseudonyms), not rows.
  std::map<std::string, std::set<std::string>> people;
  for (const auto& [pseudonym, cls] : class_of) people[cls].insert(pseudonym);
  size_t k = SIZE_MAX;
  for (const auto& [cls, who] : people) k = std::min(k, who.size());
  EXPECT_GE(k, 5u);
  EXPECT_EQ(k, r->figures.smallest_class);
  // The vault's check agrees, and counts people.
  std::istringstream in(file);
  auto check = vault_->deid().Check(Analyst(), "txn_rows", deid::FileFormat::kCsv, in);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE(check->meets);
  EXPECT_EQ(check->figures.rows, rows.size() - 1);
  EXPECT_EQ(check->figures.individuals, rows_of.size());
  EXPECT_EQ(check->figures.smallest_class, k);
  // A second release pseudonymises under a new key: no customer can be followed across them.
  std::string again;
  auto r2 = Release("txn_rows", again);
  ASSERT_TRUE(r2.ok() && r2->met);
  const auto rows2 = ParseCsv(again);
  for (size_t i = 1; i < rows2.size(); ++i) EXPECT_EQ(rows_of.count(rows2[i][0]), 0u);
  // No direct identifier in the file.
  auto findings = scan::ScanText(file);
  ASSERT_TRUE(findings.ok()) << findings.status().ToString();
  EXPECT_TRUE(findings->empty());
}

// The check counts people: five rows of two customers in one class are k = 2, not 5; and one
// customer's rows in two classes are refused (they would be counted twice).
TEST_F(DeidTest, TheCheckOfTransactionRowsCountsCustomersNotRows) {
  AddProfile(std::string(kTxnRows));
  const std::string header =
      "customer_id,birth_date,gender,txn_occurred_at,txn_product,txn_amount,txn_currency\n";
  std::istringstream two(header +
                         "aa,1990-1999,*,2026-Q1,x,100,CNY\n"
                         "aa,1990-1999,*,2026-Q1,x,100,CNY\n"
                         "aa,1990-1999,*,2026-Q2,x,100,CNY\n"
                         "bb,1990-1999,*,2026-Q1,x,100,CNY\n"
                         "bb,1990-1999,*,2026-Q3,x,100,CNY\n");
  auto check = vault_->deid().Check(Analyst(), "txn_rows", deid::FileFormat::kCsv, two);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_EQ(check->figures.rows, 5u);
  EXPECT_EQ(check->figures.individuals, 2u);
  EXPECT_EQ(check->figures.smallest_class, 2u);
  EXPECT_FALSE(check->meets);
  std::istringstream split(header +
                           "aa,1990-1999,*,2026-Q1,x,100,CNY\n"
                           "aa,1980-1989,*,2026-Q1,x,100,CNY\n");
  check = vault_->deid().Check(Analyst(), "txn_rows", deid::FileFormat::kCsv, split);
  ASSERT_FALSE(check.ok());
  EXPECT_NE(check.status().message().find("line 3"), std::string::npos)
      << check.status().ToString();
}

// --- differentially private aggregates (issue 16 item 4) ---

class DeidAggregateTest : public DeidTest {
 protected:
  Result<DeidAggregateReport> Ask(const std::string& profile, const std::string& epsilon,
                                  std::vector<std::string> by = {}, const std::string& sum = "") {
    DeidAggregateOptions o;
    o.profile = profile;
    o.epsilon = epsilon;
    o.by = std::move(by);
    o.sum = sum;
    o.page_size = 64;
    return vault_->deid().Aggregate(Analyst(), o);
  }

  // A profile with a budget large enough for many answers.
  void AddLargeBudgetProfile() {
    AddProfile(R"([deid.profiles.many_answers]
description = "a large budget, for the statistics of the noise"
purpose = "analytics"
roles = ["analyst"]
epsilon_budget = 1000
[deid.profiles.many_answers.fields]
gender = { transform = "generalise", hierarchy = "gender" }
birth_date = { transform = "generalise", hierarchy = "birth_date" }
)");
  }

  std::vector<store::AuditRow> Entries(const std::string& action) {
    AuditQuery q;
    q.action = action;
    q.limit = 1000;
    auto page =
        vault_->audit().Query(Context{"dpo", "legal_obligation", Channel::kCli, "req-dpo"}, q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->entries : std::vector<store::AuditRow>{};
  }
};

// kCustomers * 4 / 5 consented to analytics.
constexpr int64_t kPopulation = kCustomers * 4 / 5;

TEST_F(DeidAggregateTest, ACountIsNoisyAndWithinAStatisticalBoundOfTheTruth) {
  AddLargeBudgetProfile();
  // epsilon 0.5: discrete Laplace of scale 2, P(0) = tanh(1/4) = 0.245, standard deviation
  // about 2.7. Over 40 answers: not all exact (0.245^40), every one within 30 (P(|Y| > 30)
  // = 2 e^-15.5 / (1 + e^-0.5) each), and their mean within 3 of the truth (sd of the mean
  // 0.43: 7 sigma).
  constexpr int kRuns = 40;
  int exact = 0;
  int64_t total = 0;
  for (int i = 0; i < kRuns; ++i) {
    auto r = Ask("many_answers", "0.5");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->groups.size(), 1u);
    const int64_t noise = r->groups[0].count - kPopulation;
    EXPECT_LE(std::abs(noise), 30) << "run " << i;
    exact += noise == 0 ? 1 : 0;
    total += noise;
  }
  EXPECT_LT(exact, kRuns);
  EXPECT_LE(std::abs(static_cast<double>(total) / kRuns), 3.0);
}

TEST_F(DeidAggregateTest, TheBudgetIsSpentPersistsAcrossReopenAndRefusesWhatIsNotLeft) {
  auto r = Ask("spending_by_age_gender", "0.4");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_DOUBLE_EQ(r->epsilon, 0.4);
  EXPECT_DOUBLE_EQ(r->epsilon_left, 0.6);
  r = Ask("spending_by_age_gender", "0.4", {"gender"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NEAR(r->epsilon_left, 0.2, 1e-9);
  r = Ask("spending_by_age_gender", "0.4");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("0.2 left of 1"), std::string::npos) << r.status().message();

  Reopen();
  r = Ask("spending_by_age_gender", "0.3");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("0.2 left"), std::string::npos) << r.status().message();
  r = Ask("spending_by_age_gender", "0.2");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_DOUBLE_EQ(r->epsilon_left, 0);
  r = Ask("spending_by_age_gender", "0.000001");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("0 left"), std::string::npos) << r.status().message();

  auto budgets = vault_->deid().Budgets(Analyst());
  ASSERT_TRUE(budgets.ok()) << budgets.status().ToString();
  ASSERT_EQ(budgets->size(), 1u);
  EXPECT_EQ((*budgets)[0].profile, "spending_by_age_gender");
  EXPECT_DOUBLE_EQ((*budgets)[0].epsilon_spent, 1.0);
  EXPECT_EQ((*budgets)[0].answers, 3);
  EXPECT_NEAR((*budgets)[0].delta_spent, 1e-7, 1e-15);  // one grouped answer

  // Every answer audited with the epsilon spent and in the register; the refusals audited.
  const auto done = Entries("deid.aggregate.complete");
  ASSERT_EQ(done.size(), 3u);
  EXPECT_NE(done[0].reason.find("epsilon 0.4 spent"), std::string::npos) << done[0].reason;
  EXPECT_NE(done[2].reason.find("epsilon 0.2 spent"), std::string::npos) << done[2].reason;
  const auto admitted = Entries("deid.aggregate");
  EXPECT_EQ(std::count_if(admitted.begin(), admitted.end(),
                          [](const store::AuditRow& e) { return e.decision == "deny"; }),
            3);
  auto rows = vault_->deid().Releases(Analyst(), 100);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_NE((*rows)[1].parameters.find("\"by\":[\"gender\"]"), std::string::npos)
      << (*rows)[1].parameters;
  EXPECT_NE((*rows)[1].parameters.find("\"epsilon\":\"0.4\""), std::string::npos);
}

TEST_F(DeidAggregateTest, EachAnalystHasABudgetOfTheirOwn) {
  const Context admin{"admin", "", Channel::kCli, "req-setup"};
  ASSERT_TRUE(vault_->staff()
                  .Create(admin, StaffSpec{"chen.jie", "chen.jie", "data_analyst", {"analyst"}, ""})
                  .ok());
  ASSERT_TRUE(Ask("spending_by_age_gender", "1").ok());
  EXPECT_FALSE(Ask("spending_by_age_gender", "0.1").ok());
  DeidAggregateOptions o;
  o.profile = "spending_by_age_gender";
  o.epsilon = "1";
  auto r = vault_->deid().Aggregate(Context{"chen.jie", "analytics", Channel::kCli, "req-2"}, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
}

TEST_F(DeidAggregateTest, GroupedCountsAreReleasedAboveTheThresholdOnly) {
  AddLargeBudgetProfile();
  auto r = Ask("many_answers", "1", {"gender"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // scale 1, delta 1e-7: m = ceil((ln 1e7 - ln(1 + e^-1)) / 1) = 16, threshold 17.
  EXPECT_EQ(r->threshold, 17);
  EXPECT_DOUBLE_EQ(r->delta, 1e-7);
  ASSERT_EQ(r->groups.size(), 2u);
  int64_t total = 0;
  for (const DeidAggregateGroup& g : r->groups) {
    ASSERT_EQ(g.key.size(), 1u);
    EXPECT_TRUE(g.key[0] == "M" || g.key[0] == "F") << g.key[0];
    total += g.count;
  }
  EXPECT_NEAR(static_cast<double>(total), static_cast<double>(kPopulation), 30);
  // By exact birth date nearly every group holds one or two customers: none reaches 17.
  r = Ask("many_answers", "1", {"birth_date"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->groups.empty());
  // At the 10-year band (level 3) the five bands are released.
  r = Ask("many_answers", "1", {"birth_date:3"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->groups.size(), 5u);
}

// A grouped sum (`--sum F --by G`): each released group carries a noisy count and a noisy
// clamped sum near the test's own totals, and epsilon is split in two — the threshold is that
// of half the epsilon (2 -> 1: 17, not 9 as for a count at 2) — while the whole is spent.
TEST_F(DeidAggregateTest, AGroupedSumSplitsEpsilonAndReleasesACountAndASumPerGroup) {
  AddTransactions();
  AddProfile(R"([deid.profiles.txn_by_gender]
description = "transactions per customer by gender, for sums"
purpose = "analytics"
roles = ["analyst"]
epsilon_budget = 100
[deid.profiles.txn_by_gender.fields]
gender = { transform = "generalise", hierarchy = "gender" }
txn_count = { transform = "keep", bounds = [0, 3] }
)");
  // The truth: customer i (analytics consent unless i % 5 == 0) is M when i is odd and has
  // i % 4 transactions.
  std::map<std::string, std::pair<int64_t, int64_t>> truth;  // gender -> customers, Σ count
  for (int i = 0; i < kCustomers; ++i) {
    if (i % 5 == 0) continue;
    auto& t = truth[i % 2 == 1 ? "M" : "F"];
    ++t.first;
    t.second += i % 4;
  }
  auto r = Ask("txn_by_gender", "2", {"gender"}, "txn_count");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->query, "sum");
  EXPECT_EQ(r->sum_field, "txn_count");
  EXPECT_EQ(r->lower, 0);
  EXPECT_EQ(r->upper, 3);
  EXPECT_DOUBLE_EQ(r->epsilon, 2);
  EXPECT_DOUBLE_EQ(r->epsilon_left, 98);
  EXPECT_DOUBLE_EQ(r->delta, 1e-7);
  EXPECT_EQ(r->threshold, 17);  // Threshold(1, 1e-7); at the whole epsilon 2 it would be 9
  // 64 customers in each group, far above 17: both released. Count noise of scale 1, sum noise
  // of scale 3 / 1: each within 60 of the truth (P(|Y| > 60) < 2 e^-20 each).
  ASSERT_EQ(r->groups.size(), 2u);
  for (const DeidAggregateGroup& g : r->groups) {
    ASSERT_EQ(g.key.size(), 1u);
    ASSERT_EQ(truth.count(g.key[0]), 1u) << g.key[0];
    const auto& [customers, total] = truth[g.key[0]];
    EXPECT_NEAR(static_cast<double>(g.count), static_cast<double>(customers), 60) << g.key[0];
    ASSERT_TRUE(g.sum.has_value()) << g.key[0];
    EXPECT_NEAR(static_cast<double>(*g.sum), static_cast<double>(total), 60) << g.key[0];
  }
  auto rows = vault_->deid().Releases(Analyst(), 100);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_NE((*rows)[0].parameters.find("\"sum\":\"txn_count\""), std::string::npos)
      << (*rows)[0].parameters;
  EXPECT_NE((*rows)[0].parameters.find("\"by\":[\"gender\"]"), std::string::npos)
      << (*rows)[0].parameters;
}

TEST_F(DeidAggregateTest, AMalformedQueryIsRefusedNamingTheFieldAndNothingIsSpent) {
  auto r = Ask("spending_by_age_gender", "abc");
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("epsilon"), std::string::npos);
  r = Ask("spending_by_age_gender", "0");
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  r = Ask("spending_by_age_gender", "0.1", {"customer_id"});
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("pseudonymise"), std::string::npos) << r.status().message();
  r = Ask("spending_by_age_gender", "0.1", {"phone"});
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  r = Ask("spending_by_age_gender", "0.1", {"gender:7"});
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  r = Ask("spending_by_age_gender", "0.1", {}, "birth_date");
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("bounds"), std::string::npos) << r.status().message();
  // A profile without epsilon_budget answers no aggregate.
  r = Ask("interests_by_age_region", "0.1");
  EXPECT_EQ(r.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("epsilon_budget"), std::string::npos);
  // Not the analyst's role or purpose.
  DeidAggregateOptions o;
  o.profile = "spending_by_age_gender";
  o.epsilon = "0.1";
  EXPECT_EQ(vault_->deid().Aggregate(SupportAgent(), o).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(vault_->deid().Aggregate(Analyst("marketing"), o).status().code(),
            Code::kPermissionDenied);
  o.profile = "nope";
  EXPECT_EQ(vault_->deid().Aggregate(Analyst(), o).status().code(), Code::kNotFound);
  // The whole budget is still there.
  EXPECT_TRUE(Ask("spending_by_age_gender", "1").ok());
}

}  // namespace
}  // namespace custos::vault::testing
