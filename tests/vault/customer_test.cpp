// Customers through the one door: intake validation (P3.1c), sealing (P3.2c), audit.
#include <sstream>

#include "audit/audit_log.h"
#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

int64_t CountCustomers(Vault& v, const Context& ctx) {
  int64_t n = 0;
  std::string after;
  while (true) {
    auto page = v.customers().List(ctx, after, 1000);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) return -1;
    n += static_cast<int64_t>(page->customers.size());
    if (page->next_after.empty()) return n;
    after = page->next_after;
  }
}

std::string AuditText(Vault& v) {
  std::ostringstream out;
  EXPECT_TRUE(v.audit().Export(Context{"dpo", "customer_service", Channel::kCli, ""}, out).ok());
  return out.str();
}

TEST_F(VaultTest, ACustomerIsStoredNormalisedAndReadBack) {
  auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto view = vault_->customers().Get(Agent(), *id, {});
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(view->fields.at("name"), "王芳");
  EXPECT_EQ(view->fields.at("id_number"), "11010519491231002X");  // lower-case x normalised
  EXPECT_EQ(view->fields.at("phone"), "13800138000");             // +86, dashes, spaces gone
  EXPECT_EQ(view->fields.at("gender"), "F");
  EXPECT_EQ(view->source, "form");
}

TEST_F(VaultTest, AFieldSelectionReturnsOnlyThoseFields) {
  auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  ASSERT_TRUE(id.ok());
  auto view = vault_->customers().Get(Agent(), *id, {"phone"});
  ASSERT_TRUE(view.ok());
  ASSERT_EQ(view->fields.size(), 1u);
  EXPECT_EQ(view->fields.at("phone"), "13800138000");
}

struct BadInput {
  std::string field;
  std::string value;
  std::string expected_in_message;
};

class IntakeValidation : public VaultTest, public ::testing::WithParamInterface<BadInput> {};

TEST_P(IntakeValidation, BadInputNamesTheFieldAndNothingIsWritten) {
  FieldValues f = WangFang();
  f[GetParam().field] = GetParam().value;
  auto id = vault_->customers().Create(Agent(), f, "form", Consented());
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), Code::kInvalidArgument);
  EXPECT_NE(id.status().message().find("field '" + GetParam().field + "'"), std::string::npos)
      << id.status().message();
  EXPECT_NE(id.status().message().find(GetParam().expected_in_message), std::string::npos)
      << id.status().message();
  // The value itself never appears in the error.
  EXPECT_EQ(id.status().message().find(GetParam().value), std::string::npos);
  EXPECT_EQ(CountCustomers(*vault_, Agent()), 0);
  // The refusal is audited, with field names only.
  const std::string log = AuditText(*vault_);
  EXPECT_NE(log.find("\"deny\""), std::string::npos);
  EXPECT_EQ(log.find(GetParam().value), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    P3_1c, IntakeValidation,
    ::testing::Values(BadInput{"id_number", "110105194912310021", "check"},
                      BadInput{"id_number", "110105194913310021", "date"},
                      BadInput{"id_number", "1101051949123100", ""},
                      BadInput{"phone", "12800138000", ""}, BadInput{"phone", "1380013800", ""},
                      BadInput{"email", "not-an-email", ""},
                      BadInput{"birth_date", "1950-01-01", "GB 11643"},
                      BadInput{"gender", "男", "GB 11643"},
                      BadInput{"shoe_size", "XL-42-wide", "not in the field catalogue"}));

TEST_F(VaultTest, AnUnknownStaffMemberIsRefusedAndTheRefusalAudited) {
  Context stranger{"mallory", "customer_service", Channel::kCli, ""};
  auto id = vault_->customers().Create(stranger, WangFang(), "form", Consented());
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), Code::kUnauthenticated);
  const std::string log = AuditText(*vault_);
  // An id that names no staff member is recorded as "(unknown)", not echoed (issue 12 item 7).
  EXPECT_EQ(log.find("mallory"), std::string::npos);
  EXPECT_NE(log.find("\"(unknown)\""), std::string::npos);
  EXPECT_NE(log.find("\"deny\""), std::string::npos);
}

TEST_F(VaultTest, APurposeOutsideTheCatalogueIsRefused) {
  auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  ASSERT_TRUE(id.ok());
  auto view = vault_->customers().Get(Agent("curiosity"), *id, {});
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.status().code(), Code::kPermissionDenied);
}

TEST_F(VaultTest, EveryReadIsAuditedWithFieldNamesNeverValues) {
  auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(vault_->customers().Get(Agent(), *id, {"phone", "name"}).ok());
  const std::string log = AuditText(*vault_);
  EXPECT_NE(log.find("customer.read"), std::string::npos);
  EXPECT_NE(log.find("phone"), std::string::npos);
  for (const auto& [name, value] : WangFang()) {
    EXPECT_EQ(log.find(value), std::string::npos) << name;
  }
  EXPECT_EQ(log.find("13800138000"), std::string::npos);
}

TEST_F(VaultTest, FindByPhoneMatchesAnySpellingOfTheNumber) {
  auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  ASSERT_TRUE(id.ok());
  auto hits = vault_->customers().Find(Agent(), "phone", "138 0013 8000");
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ(hits->front(), *id);
  auto none = vault_->customers().Find(Agent(), "phone", "13900139000");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto by_id = vault_->customers().Find(Agent(), "id_number", "11010519491231002X");
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(by_id->size(), 1u);
}

TEST_F(VaultTest, FindRefusesAFieldThatIsNotSearchable) {
  auto hits = vault_->customers().Find(Agent(), "address", "北京");
  ASSERT_FALSE(hits.ok());
  EXPECT_EQ(hits.status().code(), Code::kInvalidArgument);
}

TEST_F(VaultTest, AnUpdateChangesTheValueAndTheIndex) {
  auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(vault_->customers().Update(Agent(), *id, {{"phone", "13900139000"}}).ok());
  auto view = vault_->customers().Get(Agent(), *id, {"phone"});
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->fields.at("phone"), "13900139000");
  EXPECT_TRUE(vault_->customers().Find(Agent(), "phone", "13800138000")->empty());
  EXPECT_EQ(vault_->customers().Find(Agent(), "phone", "13900139000")->size(), 1u);
  // Removing an optional searchable field removes its index token too.
  ASSERT_TRUE(vault_->customers().Update(Agent(), *id, {{"phone", ""}}).ok());
  EXPECT_TRUE(vault_->customers().Find(Agent(), "phone", "13900139000")->empty());
}

TEST_F(VaultTest, AnInvalidUpdateChangesNothing) {
  auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  ASSERT_TRUE(id.ok());
  Status st = vault_->customers().Update(Agent(), *id, {{"phone", "12345"}});
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_EQ(vault_->customers().Get(Agent(), *id, {"phone"})->fields.at("phone"), "13800138000");
}

TEST_F(VaultTest, AnUnknownCustomerIsNotFound) {
  auto view = vault_->customers().Get(Agent(), "01ARZ3NDEKTSV4RRFFQ69G5FAV", {});
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.status().code(), Code::kNotFound);
  auto bad = vault_->customers().Get(Agent(), "'; DROP TABLE customers; --", {});
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
}

TEST_F(VaultTest, AnAccountPasswordIsOnlyAHashThatCanBeVerifiedNeverRead) {
  FieldValues f = WangFang();
  f["password"] = "correct horse battery";
  auto id = vault_->customers().Create(Agent(), f, "form", Consented());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto view = vault_->customers().Get(Agent(), *id, {});
  ASSERT_TRUE(view.ok());
  EXPECT_FALSE(view->fields.contains("password"));
  auto asked = vault_->customers().Get(Agent(), *id, {"password"});
  EXPECT_EQ(asked.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(
      *vault_->customers().VerifyPassword(Agent(), *id, "password", "correct horse battery"));
  EXPECT_FALSE(
      *vault_->customers().VerifyPassword(Agent(), *id, "password", "wrong horse battery"));
}

TEST_F(VaultTest, TransactionsAndNotesAreSealedWithTheOwnersKey) {
  auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  ASSERT_TRUE(id.ok());
  auto t = vault_->records().AddTransaction(
      Agent(), *id,
      {{"occurred_at", "2026-11-01"}, {"product", "理财产品A"}, {"amount", "1000.50"}}, "api");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto bad = vault_->records().AddTransaction(
      Agent(), *id, {{"occurred_at", "2026-11-01"}, {"product", "x"}, {"amount", "1e9"}}, "api");
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  auto txns = vault_->records().ListTransactions(Agent(), *id);
  ASSERT_TRUE(txns.ok());
  ASSERT_EQ(txns->size(), 1u);
  EXPECT_EQ(txns->front().fields.at("currency"), "CNY");
  EXPECT_EQ(txns->front().source, "api");

  auto n = vault_->records().AddNote(Agent(), *id, "客户来电咨询理财产品", "phone");
  ASSERT_TRUE(n.ok());
  auto notes = vault_->records().ListNotes(Agent(), *id);
  ASSERT_TRUE(notes.ok());
  ASSERT_EQ(notes->size(), 1u);
  EXPECT_EQ(notes->front().text, "客户来电咨询理财产品");
  EXPECT_EQ(notes->front().source, "phone");
}

TEST_F(VaultTest, TheAuditChainVerifiesAfterEveryKindOfOperation) {
  auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(vault_->customers().Get(Agent(), *id, {}).ok());
  ASSERT_FALSE(vault_->customers().Get(Agent("nope"), *id, {}).ok());
  Reopen();
  auto report = vault_->audit().Verify(Agent());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_GE(report->entries, 4);
}

TEST_F(VaultTest, TheSm4SuiteWorksEndToEnd) {
  InitVault("sm4gcm");
  auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(vault_->customers().Get(Agent(), *id, {"name"})->fields.at("name"), "王芳");
  EXPECT_EQ(vault_->customers().Find(Agent(), "phone", "13800138000")->size(), 1u);
  auto report = vault_->audit().Verify(Agent());
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
}

TEST_F(VaultTest, AVaultDoesNotOpenWithAnotherKeyfile) {
  vault_.reset();
  const auto other = root_ / "other";
  InitOptions init;
  init.dir = other;
  ASSERT_TRUE(Vault::Init(init).ok());
  std::filesystem::copy_file(other / "kek.key", dir_ / "kek.key",
                             std::filesystem::copy_options::overwrite_existing);
  OpenOptions open;
  open.dir = dir_;
  auto v = Vault::Open(open);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Code::kDataLoss);
}

TEST_F(VaultTest, InitRefusesADirectoryThatHoldsAVault) {
  InitOptions init;
  init.dir = dir_;
  auto again = Vault::Init(init);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Code::kConflict);
}

// Issue 12 item 8: a CSV export never hands a spreadsheet a formula a customer (or an intake
// channel) typed: formula-leading cells get a leading ' (quoted); kCsvRaw writes them as stored
// and says so in the audit log.
TEST_F(VaultTest, CsvExportNeutralisesFormulaCellsUnlessRawIsAsked) {
  const std::vector<std::string> sources = {"=HYPERLINK(\"http://x.test\",\"open\")", "+1+1",
                                            "-2+3", "@SUM(A1)", "web-form"};
  for (const std::string& source : sources) {
    auto id = vault_->customers().Create(Agent(), WangFang(), source,
                                         Consented({"customer_service", "risk_control"}));
    ASSERT_TRUE(id.ok()) << source << ": " << id.status().ToString();
  }
  // A field value with a full-width ＝, which spreadsheets in a Chinese locale also run.
  FieldValues wide = WangFang();
  wide["address"] = "\xEF\xBC\x9DSUM(A1)";
  ASSERT_TRUE(vault_->customers()
                  .Create(Agent(), wide, "form", Consented({"customer_service", "risk_control"}))
                  .ok());
  std::ostringstream csv;
  ASSERT_TRUE(vault_->customers().Export(RiskOfficer(), ExportFormat::kCsv, csv).ok());
  std::ostringstream raw;
  ASSERT_TRUE(vault_->customers().Export(RiskOfficer(), ExportFormat::kCsvRaw, raw).ok());
  // The third column is the source; a neutralised cell is quoted and starts with '.
  EXPECT_NE(csv.str().find(",\"'=HYPERLINK(\"\"http://x.test\"\",\"\"open\"\")\","),
            std::string::npos)
      << csv.str();
  for (const std::string cell : {"'+1+1", "'-2+3", "'@SUM(A1)"}) {
    EXPECT_NE(csv.str().find(",\"" + cell + "\","), std::string::npos) << cell;
  }
  for (const std::string cell : {",+1+1,", ",-2+3,", ",@SUM(A1),"}) {
    EXPECT_NE(raw.str().find(cell), std::string::npos) << cell;
    EXPECT_EQ(csv.str().find(cell), std::string::npos) << cell;
  }
  // The address as stored (the text rule may have folded ＝ to =) leads no unquoted cell.
  const bool raw_wide = raw.str().find(",\xEF\xBC\x9DSUM(A1)") != std::string::npos;
  const bool raw_folded = raw.str().find(",=SUM(A1)") != std::string::npos;
  EXPECT_TRUE(raw_wide || raw_folded) << raw.str();
  EXPECT_EQ(csv.str().find(",\xEF\xBC\x9DSUM(A1)"), std::string::npos);
  EXPECT_EQ(csv.str().find(",=SUM(A1)"), std::string::npos);
  EXPECT_TRUE(csv.str().find(",\"'\xEF\xBC\x9DSUM(A1)\"") != std::string::npos ||
              csv.str().find(",\"'=SUM(A1)\"") != std::string::npos)
      << csv.str();
  // A plain cell is written as it is either way.
  EXPECT_NE(csv.str().find(",web-form,"), std::string::npos);
  EXPECT_NE(raw.str().find(",web-form,"), std::string::npos);
  const std::string log = AuditText(*vault_);
  EXPECT_NE(log.find("format csv;"), std::string::npos);
  EXPECT_NE(log.find("format csv-raw;"), std::string::npos);
}

}  // namespace
}  // namespace custos::vault::testing

namespace custos::vault::testing {
namespace {

TEST_F(VaultTest, ANoteHoldingAnIdNumberIsSealedConfidentialAndItsPiiTypesRecorded) {
  auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(vault_->records()
                  .AddNote(Agent(), *id,
                           "客户来电，报身份证号11010519491231002X，回拨 139-0013-9000", "phone")
                  .ok());
  ASSERT_TRUE(vault_->records().AddNote(Agent(), *id, "客户咨询理财产品的收益", "chat").ok());
  auto notes = vault_->records().ListNotes(Agent(), *id);
  ASSERT_TRUE(notes.ok());
  ASSERT_EQ(notes->size(), 2u);
  const NoteView& sensitive = (*notes)[0];
  EXPECT_EQ(sensitive.level, Level::kConfidential);
  EXPECT_NE(std::find(sensitive.pii_types.begin(), sensitive.pii_types.end(), "id_card"),
            sensitive.pii_types.end());
  EXPECT_NE(std::find(sensitive.pii_types.begin(), sensitive.pii_types.end(), "mobile"),
            sensitive.pii_types.end());
  const NoteView& plain = (*notes)[1];
  EXPECT_EQ(plain.level, Level::kInternal);  // the record kind's level (P2.2)
  EXPECT_TRUE(plain.pii_types.empty());
  // The audit log names the types found, never the values.
  std::ostringstream log;
  ASSERT_TRUE(vault_->audit().Export(Agent(), log).ok());
  EXPECT_NE(log.str().find("id_card"), std::string::npos);
  EXPECT_EQ(log.str().find("11010519491231002X"), std::string::npos);
  EXPECT_EQ(log.str().find("13900139000"), std::string::npos);
}

// The fixture's DPO has a first password stored as its hash (kDpoPasswordHash): the hash is
// the password's, and the DPO logs in with it.
TEST_F(VaultTest, TheFixturesDpoPasswordHashIsThePasswords) {
  EXPECT_TRUE(
      vault_->staff().IssueToken("dpo", kDpoPassword, "", 3600 * 1000, "", Channel::kCli).ok());
  EXPECT_FALSE(vault_->staff()
                   .IssueToken("dpo", "not the dpo's password", "", 3600 * 1000, "", Channel::kCli)
                   .ok());
}

}  // namespace
}  // namespace custos::vault::testing
