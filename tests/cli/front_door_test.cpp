// What a new user meets first (issue 22 point 1): the version, hints for mistyped commands and
// flags, a purpose-required error that says how to give one, the global flags in every
// --help, tables for people and the API's JSON shapes, and progress that never writes "\r"
// into a pipe. The binary runs as a real process, as a user would run it.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "cli/front_door.h"

namespace custos::cli {
namespace {

namespace fs = std::filesystem;

struct Outcome {
  int code;
  std::string out;  // stdout
  std::string err;  // stderr
};

class FrontDoorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("custos-door-" + std::to_string(std::random_device{}()));
    fs::create_directories(root_);
    vault_ = (root_ / "vault").string();
  }
  void TearDown() override { fs::remove_all(root_); }

  // Runs custos with `env` assignments; stdout and stderr apart (stdin is /dev/null).
  Outcome Run(const std::string& args, const std::string& env = "") {
    const std::string err_file = (root_ / "stderr").string();
    const std::string cmd = "env -u CUSTOS_PURPOSE -u CUSTOS_TOKEN CUSTOS_VAULT='" + vault_ + "' " +
                            env + " " CUSTOS_BINARY " " + args + " 2>'" + err_file + "' </dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int status = pclose(p);
    std::ifstream in(err_file);
    std::stringstream err;
    err << in.rdbuf();
    return Outcome{WIFEXITED(status) ? WEXITSTATUS(status) : -1, out, err.str()};
  }

  // A new vault; keeps the administrator's token.
  void Init() {
    Outcome init = Run("--json init " + vault_);
    ASSERT_EQ(init.code, 0) << init.out << init.err;
    const nlohmann::json tokens = nlohmann::json::parse(init.out);
    admin_ = tokens["admin_token"];
    // The DPO (who reads the audit log; the administrator does not) sets a first password
    // with the one-time token of `init`, then logs in.
    const std::string pw = "'dpo own password 1'";
    ASSERT_EQ(Run("staff passwd dpo", "CUSTOS_TOKEN='" + tokens["dpo_token"].get<std::string>() +
                                          "' CUSTOS_NEW_PASSWORD=" + pw)
                  .code,
              0);
    Outcome login = Run("--json token issue dpo", "CUSTOS_PASSWORD=" + pw);
    ASSERT_EQ(login.code, 0) << login.err;
    dpo_ = nlohmann::json::parse(login.out)["token"];
  }
  // A support agent (customer_service, trained), logged in after changing the initial password.
  std::string AgentToken() {
    const std::string initial = "CUSTOS_NEW_PASSWORD='correct horse battery'";
    Outcome added =
        Run("staff add agent --name Agent --post support_agent --role customer_service "
            "--with-password",
            "CUSTOS_TOKEN='" + admin_ + "' " + initial);
    EXPECT_EQ(added.code, 0) << added.err;
    EXPECT_EQ(Admin("training add agent --course privacy-basics --completed 2025-01-01 "
                    "--valid-until 2034-01-01")
                  .code,
              0);
    Outcome login = Run("--json token issue agent --new-password",
                        "CUSTOS_PASSWORD='correct horse battery' "
                        "CUSTOS_NEW_PASSWORD='agent own password 1'");
    EXPECT_EQ(login.code, 0) << login.err;
    return login.code == 0 ? nlohmann::json::parse(login.out)["token"].get<std::string>() : "";
  }
  Outcome Dpo(const std::string& args, const std::string& purpose = "legal_obligation") {
    return Run(args, "CUSTOS_TOKEN='" + dpo_ + "' CUSTOS_PURPOSE=" + purpose);
  }
  Outcome Admin(const std::string& args, const std::string& purpose = "") {
    return Run(args, "CUSTOS_TOKEN='" + admin_ + "'" +
                         (purpose.empty() ? "" : " CUSTOS_PURPOSE=" + purpose));
  }

  fs::path root_;
  std::string vault_;
  std::string admin_;
  std::string dpo_;
};

TEST_F(FrontDoorTest, VersionIsAFlagACommandAndJson) {
  Outcome flag = Run("--version");
  EXPECT_EQ(flag.code, 0) << flag.err;
  EXPECT_EQ(flag.out, "custos " + std::string(CustosVersion()) + "\n");
  Outcome cmd = Run("version");
  EXPECT_EQ(cmd.code, 0) << cmd.err;
  EXPECT_EQ(cmd.out, flag.out);
  Outcome json = Run("--json --version");
  ASSERT_EQ(json.code, 0) << json.err;
  EXPECT_EQ(nlohmann::json::parse(json.out)["version"], std::string(CustosVersion()));
  EXPECT_EQ(Run("--version --json").out, json.out);
}

TEST_F(FrontDoorTest, AMistypedCommandOrFlagGetsASuggestion) {
  Outcome cmd = Run("custmer get X");
  EXPECT_EQ(cmd.code, 2);
  EXPECT_NE(cmd.err.find("unknown command 'custmer'"), std::string::npos) << cmd.err;
  EXPECT_NE(cmd.err.find("did you mean 'customer'?"), std::string::npos) << cmd.err;
  Outcome sub = Run("customer lst");
  EXPECT_EQ(sub.code, 2);
  EXPECT_NE(sub.err.find("did you mean 'list'?"), std::string::npos) << sub.err;
  Outcome flag = Run("customer list --purpse customer_service");
  EXPECT_EQ(flag.code, 2);
  EXPECT_NE(flag.err.find("unknown option '--purpse'"), std::string::npos) << flag.err;
  EXPECT_NE(flag.err.find("did you mean '--purpose'?"), std::string::npos) << flag.err;
  Outcome local = Run("customer list --limt 5");
  EXPECT_NE(local.err.find("did you mean '--limit'?"), std::string::npos) << local.err;
  Outcome far = Run("zzzzzzzz");
  EXPECT_EQ(far.code, 2);
  EXPECT_NE(far.err.find("one of: "), std::string::npos) << far.err;
}

TEST_F(FrontDoorTest, EveryHelpShowsTheGlobalFlagsAndEnvironment) {
  for (const std::string cmd : {"", "customer list ", "audit tail ", "key rotate "}) {
    Outcome help = Run(cmd + "--help");
    EXPECT_EQ(help.code, 0) << cmd;
    for (const char* want : {"--vault", "--purpose", "--token-file", "--json", "CUSTOS_VAULT",
                             "CUSTOS_TOKEN", "CUSTOS_PURPOSE", "Exit codes"}) {
      EXPECT_NE(help.out.find(want), std::string::npos) << cmd << " lacks " << want;
    }
  }
}

TEST_F(FrontDoorTest, NoPurposeIsToldAsRequiredNamingFlagAndVariable) {
  Init();
  Outcome verify = Dpo("audit verify", "");
  EXPECT_EQ(verify.code, 4);
  EXPECT_NE(verify.err.find("purpose required"), std::string::npos) << verify.err;
  EXPECT_NE(verify.err.find("--purpose"), std::string::npos) << verify.err;
  EXPECT_NE(verify.err.find("CUSTOS_PURPOSE"), std::string::npos) << verify.err;
  Outcome unknown = Dpo("audit verify", "astrology");
  EXPECT_EQ(unknown.code, 4);
  EXPECT_NE(unknown.err.find("not in the purpose catalogue"), std::string::npos) << unknown.err;
  EXPECT_EQ(Dpo("audit verify").code, 0);
}

TEST_F(FrontDoorTest, ListsAreTablesForPeopleAndTheApiShapesInJson) {
  Init();
  Outcome staff = Admin("staff list");
  ASSERT_EQ(staff.code, 0) << staff.err;
  EXPECT_EQ(staff.out.rfind("staff ", 0), 0u) << "a header row: " << staff.out;
  EXPECT_NE(staff.out.find("roles"), std::string::npos) << staff.out;
  nlohmann::json staff_json = nlohmann::json::parse(Admin("--json staff list").out);
  ASSERT_TRUE(staff_json["staff"].is_array()) << staff_json;

  Outcome tail = Dpo("audit tail -n 3");
  ASSERT_EQ(tail.code, 0) << tail.err;
  EXPECT_EQ(tail.out.rfind("seq ", 0), 0u) << tail.out;
  EXPECT_EQ(tail.out.find('{'), std::string::npos) << "no raw JSON: " << tail.out;
  nlohmann::json entries = nlohmann::json::parse(Dpo("--json audit tail -n 3").out);
  ASSERT_EQ(entries["entries"].size(), 3u) << entries;
  EXPECT_TRUE(entries["entries"][0].contains("hash"));

  nlohmann::json dsr = nlohmann::json::parse(Dpo("--json dsr list").out);
  EXPECT_TRUE(dsr["subject_requests"].is_array()) << dsr;
  const std::string agent = "CUSTOS_TOKEN='" + AgentToken() + "' CUSTOS_PURPOSE=customer_service";
  Outcome empty = Run("customer list", agent);
  EXPECT_EQ(empty.code, 0) << empty.err;
  EXPECT_EQ(empty.out, "no customers\n");
  nlohmann::json customers = nlohmann::json::parse(Run("--json customer list", agent).out);
  EXPECT_TRUE(customers["customers"].is_array()) << customers;
  EXPECT_TRUE(customers["next_after"].is_null()) << "null as in the API: " << customers;
  nlohmann::json plans = nlohmann::json::parse(Dpo("--json retention list").out);
  EXPECT_TRUE(plans["plans"].is_array()) << plans;
  nlohmann::json holds = nlohmann::json::parse(Dpo("--json hold list").out);
  EXPECT_TRUE(holds["holds"].is_array()) << holds;
  nlohmann::json tokens = nlohmann::json::parse(Admin("--json token list").out);
  EXPECT_TRUE(tokens["tokens"].is_array()) << tokens;
}

TEST_F(FrontDoorTest, ImportProgressInAPipeIsPlainLines) {
  Init();
  // A key rotation with its progress on a pipe: no carriage return anywhere.
  Outcome rotate = Admin("key rotate");
  ASSERT_EQ(rotate.code, 0) << rotate.err;
  EXPECT_EQ(rotate.err.find('\r'), std::string::npos) << rotate.err;
  EXPECT_EQ(rotate.out.find('\r'), std::string::npos) << rotate.out;
}

TEST(UsageHintTest, ClosestNeedsALikelyTypo) {
  EXPECT_EQ(Closest("custmer", {"customer", "consent", "key"}), "customer");
  EXPECT_EQ(Closest("ky", {"customer", "consent", "key"}), "key");
  EXPECT_EQ(Closest("cust", {"customer", "consent", "key"}), "customer") << "a prefix";
  EXPECT_EQ(Closest("zzzzzzzz", {"customer", "consent", "key"}), std::nullopt);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
}

TEST(TableTest, ColumnsAlignOnDisplayWidth) {
  const std::string t = Table({"id", "name"}, {{"1", "张三"}, {"22", "Li"}});
  EXPECT_EQ(t, "id  name\n1   张三\n22  Li\n");
  EXPECT_EQ(DisplayWidth("张三x"), 5u);
  EXPECT_EQ(Table({"a", "b", "c"}, {{"x"}}), "a  b  c\nx\n") << "short rows, no trailing spaces";
}

TEST(ProgressTest, ATerminalGetsOneLineAPipePlainLinesWithTotalAndEta) {
  EXPECT_EQ(Progress("rows", 5000, false, std::cerr).Line(1200, 2.0),
            "1200 of 5000 rows (24%), 600 rows/s, about 6s left");
  EXPECT_EQ(Progress("rows", 0, false, std::cerr).Line(10, 1.0), "10 rows, 10 rows/s");
  std::ostringstream pipe;
  {
    Progress p("rows", 3, false, pipe, std::chrono::milliseconds(0));
    p.Update(1);
    p.Update(2);
    p.Update(3);
    p.Done();
  }
  EXPECT_EQ(pipe.str().find('\r'), std::string::npos) << pipe.str();
  EXPECT_NE(pipe.str().find("1 of 3 rows"), std::string::npos) << pipe.str();
  EXPECT_NE(pipe.str().find("3 of 3 rows (100%)"), std::string::npos) << pipe.str();
  std::ostringstream tty;
  Progress t("DEKs", 10, true, tty);
  t.Update(10);
  t.Done();
  EXPECT_EQ(tty.str().front(), '\r') << "rewritten in place on a terminal";
  EXPECT_EQ(tty.str().back(), '\n');
  EXPECT_EQ(FormatSeconds(185), "3m05s");
}

}  // namespace
}  // namespace custos::cli
