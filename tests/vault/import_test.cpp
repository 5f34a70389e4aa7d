// Bulk import: bad rows named by line and rule, resumable after a kill, never duplicated, and
// every imported customer traceable to its import in the audit log.
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>

#include "core/validators.h"
#include "gen/generator.h"
#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

class ImportTest : public VaultTest {
 protected:
  std::filesystem::path WriteFile(const std::string& name, const std::string& text) {
    auto p = root_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  std::filesystem::path Generated(int64_t count, uint64_t seed) {
    gen::GenOptions opt;
    opt.count = count;
    opt.seed = seed;
    auto p = root_ / ("gen-" + std::to_string(seed) + ".csv");
    std::ofstream out(p, std::ios::binary);
    EXPECT_TRUE(gen::WriteCustomersCsv(opt, out).ok());
    return p;
  }
  int64_t Count() {
    int64_t n = 0;
    std::string after;
    while (true) {
      auto page = vault_->customers().List(Agent(), after, 1000);
      if (!page.ok()) return -1;
      n += static_cast<int64_t>(page->customers.size());
      if (page->next_after.empty()) return n;
      after = page->next_after;
    }
  }
};

const char* kHeader =
    "name,gender,birth_date,id_number,phone,email,address,interests,preferences\n";

TEST_F(ImportTest, BadRowsAreReportedWithLineAndRuleAndTheRestIsImported) {
  std::string csv = kHeader;
  csv += "王芳,女,1949-12-31,11010519491231002X,13800138000,a@example.com,北京市朝阳区,,\n";
  csv += "李四,男,1990-03-07,110105199003070031,13800138001,b@example.com,北京市,,\n";  // bad check
  csv += "\"赵,六\",,,,12800138000,c@example.com,上海市,,\n";                           // bad phone
  csv += "钱七,,,,13800138002,d@example.com,\"上海市\n徐汇区\",,\n";  // 2-line address
  csv += "孙八,,,,13800138003,not-mail,上海市,,\n";                   // bad e-mail
  auto file = WriteFile("mixed.csv", csv);
  auto report = vault_->customers().ImportCsv(Agent(), file, Consenting());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->imported, 2);
  EXPECT_EQ(report->rejected, 3);
  ASSERT_EQ(report->errors.size(), 3u);
  EXPECT_EQ(report->errors[0].line, 3);
  EXPECT_NE(report->errors[0].message.find("field 'id_number'"), std::string::npos);
  EXPECT_EQ(report->errors[1].line, 4);
  EXPECT_NE(report->errors[1].message.find("field 'phone'"), std::string::npos);
  EXPECT_EQ(report->errors[2].line, 7);  // the quoted address spans lines 5 and 6
  EXPECT_NE(report->errors[2].message.find("field 'email'"), std::string::npos);
  EXPECT_EQ(Count(), 2);
}

// Issue 15 item 3: a real ID of an abolished region (4204xx 沙市, until 1994) is imported, and
// its row is flagged for review in its audit entry and counted in the report.
TEST_F(ImportTest, AnIdOfAnUnlistedRegionIsImportedAndFlagged) {
  const std::string first17 = "42040219491231002";
  const std::string shashi = first17 + core::IdCardCheckChar(first17);
  std::string csv = kHeader;
  csv += "王芳,女,1949-12-31," + shashi + ",13800138000,a@example.com,湖北省荆州市,,\n";
  csv += "李四,女,1949-12-31,11010519491231002X,13800138001,b@example.com,北京市,,\n";
  auto report = vault_->customers().ImportCsv(Agent(), WriteFile("flagged.csv", csv), Consenting());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->imported, 2);
  EXPECT_EQ(report->rejected, 0);
  EXPECT_EQ(report->flagged, 1);
  std::ostringstream log;
  ASSERT_TRUE(vault_->audit().Export(Agent(), log).ok());
  const std::string flag = "flagged: id_number region not in the GB/T 2260 tables";
  const size_t at = log.str().find(flag);
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(log.str().find(flag, at + 1), std::string::npos) << "one row flagged, not two";
  EXPECT_EQ(log.str().find(shashi), std::string::npos);
}

TEST_F(ImportTest, RejectFileModeImportsNothingWhenAnyRowIsBad) {
  std::string csv = kHeader;
  csv += "王芳,女,1949-12-31,11010519491231002X,13800138000,a@example.com,北京市朝阳区,,\n";
  csv += "李四,男,,,12800138001,b@example.com,北京市,,\n";
  auto file = WriteFile("bad.csv", csv);
  ImportOptions opt = Consenting();
  opt.on_error = OnError::kRejectFile;
  auto report = vault_->customers().ImportCsv(Agent(), file, opt);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->imported, 0);
  EXPECT_EQ(report->rejected, 1);
  EXPECT_EQ(Count(), 0);
}

TEST_F(ImportTest, AnUnknownColumnStopsTheImportNamingLineOne) {
  auto file = WriteFile("cols.csv", "name,shoe_size\n王芳,42\n");
  auto report = vault_->customers().ImportCsv(Agent(), file, Consenting());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), Code::kInvalidArgument);
  EXPECT_NE(report.status().message().find("line 1"), std::string::npos);
  EXPECT_NE(report.status().message().find("shoe_size"), std::string::npos);
}

TEST_F(ImportTest, TheSameFileImportedTwiceCreatesNoDuplicates) {
  auto file = Generated(500, 7);
  auto first = vault_->customers().ImportCsv(Agent(), file, Consenting());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->imported, 500);
  auto second = vault_->customers().ImportCsv(Agent(), file, Consenting());
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->already_complete);
  EXPECT_EQ(Count(), 500);
}

TEST_F(ImportTest, AnImportKilledHalfWayResumesWithoutDuplicatesOrGaps) {
  const int64_t total = 2300;
  auto file = Generated(total, 11);
  vault_.reset();
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    OpenOptions open;
    open.dir = dir_;
    auto v = Vault::Open(open);
    if (!v.ok()) _exit(2);
    ImportOptions opt = Consenting();
    opt.batch_size = 500;
    // Killed right after the second batch is committed.
    opt.progress = [](int64_t lines) {
      if (lines >= 1000) ::kill(::getpid(), SIGKILL);
    };
    (void)(*v)->customers().ImportCsv(Context{"operator", "customer_service", Channel::kCli, ""},
                                      file, opt);
    _exit(3);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child was meant to be killed";
  Reopen();
  EXPECT_EQ(Count(), 1000);
  ImportOptions opt = Consenting();
  opt.batch_size = 500;
  auto resumed = vault_->customers().ImportCsv(Agent(), file, opt);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ(resumed->skipped_already_done, 1000);
  EXPECT_EQ(resumed->imported, total - 1000);
  EXPECT_EQ(Count(), total);
  // No duplicates: every phone of the file finds exactly one customer.
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  int checked = 0;
  while (std::getline(in, line) && checked < 300) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) cells.push_back(cell);
    auto hits = vault_->customers().Find(Agent(), "id_number", cells.at(3));
    ASSERT_TRUE(hits.ok());
    EXPECT_EQ(hits->size(), 1u) << "line " << checked + 2;
    ++checked;
  }
  auto audit = vault_->audit().Verify(Agent());
  ASSERT_TRUE(audit.ok());
  EXPECT_TRUE(audit->ok) << audit->problem;
}

// The worker reads and seals the next batch while the writer commits the current one: a bad
// row in any batch is still named by its line and rule, and malformed CSV after some batches
// keeps every row before it (whole batches and the part of the batch it ends) and refuses the
// rest of the file, naming its line.
TEST_F(ImportTest, RowsBeforeMalformedCsvAreKeptAndTheErrorNamesItsLine) {
  std::string csv = kHeader;
  for (int i = 0; i < 7; ++i) {  // lines 2-8
    csv += "客户" + std::to_string(i) + ",,,,1380013800" + std::to_string(i) + ",c" +
           std::to_string(i) + "@example.com,上海市,,\n";
  }
  csv += "孙八,,,,13800139003,not-mail,上海市,,\n";          // line 9: bad e-mail
  csv += "周九,,,,13800139004,e@example.com,\"上海\"x,,\n";  // line 10: a stray quote
  csv += "吴十,,,,13800139005,f@example.com,上海市,,\n";     // never read
  auto file = WriteFile("broken.csv", csv);
  ImportOptions opt = Consenting();
  opt.batch_size = 3;  // batches: lines 2-4, 5-7, then 8-9 ended by the malformed line
  auto report = vault_->customers().ImportCsv(Agent(), file, opt);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), Code::kInvalidArgument);
  EXPECT_NE(report.status().message().find("line 10"), std::string::npos)
      << report.status().ToString();
  EXPECT_EQ(Count(), 7);
  std::ostringstream log;
  ASSERT_TRUE(vault_->audit().Export(Agent(), log).ok());
  const std::string text = log.str();
  EXPECT_NE(text.find("line 9: field 'email'"), std::string::npos);  // its reject_row entry
  EXPECT_EQ(text.find("line 11"), std::string::npos);
  auto audit = vault_->audit().Verify(Agent());
  ASSERT_TRUE(audit.ok());
  EXPECT_TRUE(audit->ok) << audit->problem;
}

TEST_F(ImportTest, TheAuditLogTellsWhichImportCreatedACustomer) {
  auto file = Generated(3, 5);
  auto report = vault_->customers().ImportCsv(Agent(), file, Consenting());
  ASSERT_TRUE(report.ok());
  auto page = vault_->customers().List(Agent(), "", 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->customers.size(), 3u);
  const std::string& id = page->customers[0].customer_id;
  EXPECT_EQ(page->customers[0].source.rfind("import:" + report->import_id + ":", 0), 0u);
  std::ostringstream log;
  ASSERT_TRUE(vault_->audit().Export(Agent(), log).ok());
  const std::string text = log.str();
  // The customer's creation names the import; the import's start names the file hash and actor.
  EXPECT_NE(text.find("customer:" + id), std::string::npos);
  EXPECT_NE(text.find("import " + report->import_id), std::string::npos);
  EXPECT_NE(text.find(report->file_sha256), std::string::npos);
}

}  // namespace
}  // namespace custos::vault::testing
