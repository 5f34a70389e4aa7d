// The custos command end to end: a real process, real files, exit codes as documented.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace {

namespace fs = std::filesystem;

struct Outcome {
  int code;
  std::string out;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("custos-cli-" + std::to_string(std::random_device{}()));
    fs::create_directories(root_);
    vault_ = (root_ / "vault").string();
  }
  void TearDown() override { fs::remove_all(root_); }

  // Runs custos with the vault and staff set; stderr is captured with stdout.
  Outcome Custos(const std::string& args, const std::string& staff = "admin",
             const std::string& purpose = "customer_service") {
    const std::string cmd = "CUSTOS_VAULT='" + vault_ + "' CUSTOS_STAFF='" + staff +
                            "' CUSTOS_PURPOSE='" + purpose + "' " CUSTOS_BINARY " " + args +
                            " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int status = pclose(p);
    return Outcome{WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
  }

  static std::string JsonString(const std::string& json, const std::string& key) {
    const std::string k = "\"" + key + "\":\"";
    const size_t at = json.find(k);
    if (at == std::string::npos) return "";
    const size_t start = at + k.size();
    return json.substr(start, json.find('"', start) - start);
  }

  fs::path root_;
  std::string vault_;
};

TEST_F(CliTest, InitAddGetFindAndVerifyTheAudit) {
  Outcome init = Custos("init " + vault_);
  ASSERT_EQ(init.code, 0) << init.out;
  Outcome add = Custos(
      "customer add --json --set name=张三 --set gender=男 --set birth_date=1990-03-07 "
      "--set id_number=110105199003070033 --set 'phone=+86 138-0013-8000'");
  ASSERT_EQ(add.code, 0) << add.out;
  const std::string id = JsonString(add.out, "customer_id");
  ASSERT_EQ(id.size(), 26u) << add.out;
  Outcome get = Custos("customer get " + id + " --json");
  ASSERT_EQ(get.code, 0) << get.out;
  EXPECT_NE(get.out.find("\"phone\":\"13800138000\""), std::string::npos) << get.out;
  Outcome find = Custos("customer find phone 138-0013-8000 --json");
  ASSERT_EQ(find.code, 0) << find.out;
  EXPECT_NE(find.out.find(id), std::string::npos);
  Outcome verify = Custos("audit verify");
  EXPECT_EQ(verify.code, 0) << verify.out;
  Outcome tail = Custos("audit tail -n 2", "dpo");
  EXPECT_EQ(tail.code, 0) << tail.out;
  EXPECT_NE(tail.out.find("audit.verify"), std::string::npos) << tail.out;
}

TEST_F(CliTest, ExitCodesSayWhatWentWrong) {
  ASSERT_EQ(Custos("init " + vault_).code, 0);
  // Bad input: 3, and the error names the field and the rule.
  Outcome bad = Custos("customer add --set name=李四 --set id_number=110105199003070031");
  EXPECT_EQ(bad.code, 3) << bad.out;
  EXPECT_NE(bad.out.find("field 'id_number'"), std::string::npos) << bad.out;
  Outcome bad_json = Custos("customer add --json --set name=李四 --set phone=123");
  EXPECT_EQ(bad_json.code, 3);
  EXPECT_NE(bad_json.out.find("{\"error\":{\"code\":\"invalid_argument\""), std::string::npos)
      << bad_json.out;
  // Unknown staff: 4. Unknown customer: 5. Init on a vault: 6. Usage: 2.
  EXPECT_EQ(Custos("customer list", "mallory").code, 4);
  EXPECT_EQ(Custos("customer get 01ARZ3NDEKTSV4RRFFQ69G5FAV").code, 5);
  EXPECT_EQ(Custos("init " + vault_).code, 6);
  EXPECT_EQ(Custos("customer frobnicate").code, 2);
}

TEST_F(CliTest, AuditVerifyFailsAndNamesTheEntryWhenTheLogIsEdited) {
  ASSERT_EQ(Custos("init " + vault_).code, 0);
  ASSERT_EQ(Custos("customer add --set name=王芳 --set phone=13800138000").code, 0);
  ASSERT_EQ(Custos("customer list").code, 0);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((fs::path(vault_) / "custos.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE audit_log SET actor = 'dpo' WHERE seq = 2", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  Outcome verify = Custos("audit verify --json");
  EXPECT_EQ(verify.code, 8) << verify.out;
  EXPECT_NE(verify.out.find("\"first_bad_seq\":2"), std::string::npos) << verify.out;
}

TEST_F(CliTest, GenIsDeterministicAndImportIsResumableAndIdempotent) {
  ASSERT_EQ(Custos("init " + vault_).code, 0);
  const std::string a = (root_ / "a.csv").string(), b = (root_ / "b.csv").string();
  ASSERT_EQ(Custos("gen --count 200 --seed 9 --out " + a).code, 0);
  ASSERT_EQ(Custos("gen --count 200 --seed 9 --out " + b).code, 0);
  std::ifstream fa(a), fb(b);
  std::string ta((std::istreambuf_iterator<char>(fa)), {}), tb((std::istreambuf_iterator<char>(fb)), {});
  EXPECT_EQ(ta, tb);
  EXPECT_GT(ta.size(), 200u * 50);
  Outcome imp = Custos("import --json " + a);
  ASSERT_EQ(imp.code, 0) << imp.out;
  EXPECT_NE(imp.out.find("\"imported\":200"), std::string::npos) << imp.out;
  Outcome again = Custos("import --json " + a);
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_NE(again.out.find("\"already_complete\":true"), std::string::npos) << again.out;
  Outcome exp = Custos("export --format jsonl");
  ASSERT_EQ(exp.code, 0);
  EXPECT_EQ(std::count(exp.out.begin(), exp.out.end(), '\n'), 200);
}

}  // namespace
