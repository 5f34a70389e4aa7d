// The custos command end to end: a real process, real files, exit codes as documented.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "access/totp.h"

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

  // Runs custos as `staff` (authenticated by an API token in CUSTOS_TOKEN: there is no other
  // way in, P4a); stderr is captured with stdout. `init` also keeps the administrator's
  // one-time token; other staff get theirs on first use (docs/access.md).
  // The DPO publishes notice v2 (customer_service, account_management) naming `target` as a
  // recipient: a sharing consent needs a notice naming it (PIPL Art. 23).
  void PublishNoticeNaming(const std::string& target) {
    const fs::path text = root_ / "notice-shares.md";
    std::ofstream(text) << "版本二，列明接收方 / version 2, naming the recipients";
    Outcome published = Custos(
        "--json notice publish --text-file " + text.string() +
            " --purposes customer_service,account_management,risk_control --shares " + target,
        "dpo", "legal_obligation");
    ASSERT_EQ(published.code, 0) << published.out;
    EXPECT_NE(published.out.find("\"shares\":[\"" + target + "\"]"), std::string::npos)
        << published.out;
  }

  Outcome Custos(const std::string& args, const std::string& staff = "admin",
                 const std::string& purpose = "customer_service") {
    if (args.rfind("init ", 0) == 0) {
      Outcome init = Run("--json " + args, "", "", "");
      if (init.code == 0) {
        tokens_["admin"] = JsonString(init.out, "admin_token");
        dpo_init_token_ = JsonString(init.out, "dpo_token");
      }
      return init;
    }
    return Run(args, TokenFor(staff), purpose, "");
  }

  // Runs custos with the given token and purpose and extra environment assignments.
  Outcome Run(const std::string& args, const std::string& token, const std::string& purpose,
              const std::string& env) {
    const std::string cmd = "CUSTOS_VAULT='" + vault_ + "' CUSTOS_TOKEN='" + token +
                            "' CUSTOS_PURPOSE='" + purpose + "' " + env + " " CUSTOS_BINARY " " +
                            args + " 2>&1 </dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int status = pclose(p);
    return Outcome{WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
  }

  // The staff member's token. The DPO sets their own first password with the one-time token
  // `init` gave them (on the vault host: an account nobody else changed, so it may approve
  // the administrator's requests); other staff are created by the administrator with an
  // initial password (`staff add`), which they change at their first login (issue 12).
  // Unknown names ("mallory") get a well-formed token the vault never issued.
  std::string TokenFor(const std::string& staff) {
    if (auto it = tokens_.find(staff); it != tokens_.end()) return it->second;
    const std::string admin = tokens_["admin"];
    const std::string pw = "CUSTOS_NEW_PASSWORD='correct horse battery'";
    const std::string own = "CUSTOS_NEW_PASSWORD='" + staff + " own password 1'";
    std::string password = "CUSTOS_PASSWORD='correct horse battery' " + own;
    std::string change = " --new-password";
    if (staff == "dpo") {
      Run("staff passwd dpo", dpo_init_token_, "", own);
      password = "CUSTOS_PASSWORD='" + staff + " own password 1'";
      change.clear();
    } else if (staff == "agent" || staff == "clerk" || staff == "risk" || staff == "sec" ||
               staff == "sec2" || staff == "pm") {
      const bool sec = staff == "sec" || staff == "sec2";
      if (staff == "risk") GrantRole(admin, "risk", "risk_officer");
      if (sec) GrantRole(admin, staff, "security_admin");
      const std::string post = staff == "agent"   ? "support_agent --role customer_service"
                               : staff == "clerk" ? "sales_rep --role sales"
                               : sec              ? "security_administrator --role security_admin"
                               : staff == "pm"    ? "partnership_manager --role partnership_manager"
                                                  : "risk_officer --role risk_officer";
      Run("staff add " + staff + " --name " + staff + " --post " + post + " --with-password", admin,
          "", pw);
      Run("training add " + staff +
              " --course privacy-basics --completed 2025-01-01 --valid-until 2034-01-01",
          admin, "", "");
    } else {
      return "cst_" + std::string(52, 'a');
    }
    std::string totp;
    if (staff == "risk") {  // reads confidential fields: a second factor, enrolled by its owner
      Outcome enrolled = Run("--json token issue risk --enroll-totp", "", "",
                             "CUSTOS_PASSWORD='correct horse battery'");
      totp = " --totp " + TotpNow(JsonString(enrolled.out, "secret"));
    }
    Outcome login = Run("--json token issue " + staff + totp + change, "", "", password);
    return tokens_[staff] = JsonString(login.out, "token");
  }

  // Dual control (issue 12): risk_officer reads confidential fields and security_admin decides
  // approvals, so the administrator asks for a role_grant and the DPO approves it.
  void GrantRole(const std::string& admin, const std::string& staff, const std::string& role) {
    const std::string dpo = TokenFor("dpo");
    Outcome asked = Run("--json approval request --kind role_grant --staff " + staff + " --role " +
                            role + " --justification 'joins the team' --duration 1h",
                        admin, "", "");
    Run("approval approve " + JsonString(asked.out, "approval_id"), dpo, "", "");
  }

  // The current code for a base32 secret, as an authenticator app computes it.
  static std::string TotpNow(const std::string& base32) {
    static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    custos::crypto::SecretBytes secret;
    uint32_t buffer = 0;
    int bits = 0;
    for (char c : base32) {
      buffer = (buffer << 5) | static_cast<uint32_t>(kAlphabet.find(c));
      bits += 5;
      if (bits >= 8) {
        secret.push_back(static_cast<uint8_t>(buffer >> (bits - 8)));
        bits -= 8;
      }
    }
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    auto code = custos::access::TotpCode(secret, now, 6);
    return code.ok() ? fmt::format("{:06}", *code) : "";
  }

  // `init`, then a sales clerk adds 张三 (consenting to customer service and account
  // management); returns the customer id.
  std::string InitWithACustomer() {
    EXPECT_EQ(Custos("init " + vault_).code, 0);
    Outcome add = Custos(
        "customer add --consent-purposes customer_service,account_management --notice-version 1 "
        "--json --set name=张三 --set 'phone=13800138000'",
        "clerk", "account_management");
    EXPECT_EQ(add.code, 0) << add.out;
    return JsonString(add.out, "customer_id");
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
  std::map<std::string, std::string> tokens_;
  std::string dpo_init_token_;  // the DPO's one-time token from `init`
};

TEST_F(CliTest, InitAddGetFindAndVerifyTheAudit) {
  Outcome init = Custos("init " + vault_);
  ASSERT_EQ(init.code, 0) << init.out;
  // A sales clerk opens the account (account_management); the DPO checks the log.
  Outcome add = Custos(
      "customer add --consent-purposes customer_service,account_management --sensitive-consent "
      "--notice-version 1 --json --set name=张三 --set gender=男 --set birth_date=1990-03-07 "
      "--set id_number=110105199003070033 --set 'phone=+86 138-0013-8000'",
      "clerk", "account_management");
  ASSERT_EQ(add.code, 0) << add.out;
  const std::string id = JsonString(add.out, "customer_id");
  ASSERT_EQ(id.size(), 26u) << add.out;
  Outcome get = Custos("customer get " + id + " --json", "clerk", "account_management");
  ASSERT_EQ(get.code, 0) << get.out;
  EXPECT_NE(get.out.find("\"phone\":\"13800138000\""), std::string::npos) << get.out;
  Outcome find = Custos("customer find phone 138-0013-8000 --json", "clerk", "account_management");
  ASSERT_EQ(find.code, 0) << find.out;
  EXPECT_NE(find.out.find(id), std::string::npos);
  Outcome verify = Custos("audit verify", "dpo", "legal_obligation");
  EXPECT_EQ(verify.code, 0) << verify.out;
  Outcome tail = Custos("audit tail -n 5", "dpo", "legal_obligation");
  EXPECT_EQ(tail.code, 0) << tail.out;
  EXPECT_NE(tail.out.find("audit.verify"), std::string::npos) << tail.out;
}

// Issue 20: `agreement show` says an agreement is suspended by an incident's containment, in
// text and in --json, and stops saying so once the suspension is lifted.
TEST_F(CliTest, AgreementShowSaysSuspendedByAnIncident) {
  ASSERT_EQ(Custos("init " + vault_).code, 0);
  const fs::path key = root_ / "acme-key.pem";
  const fs::path cert = root_ / "acme-cert.pem";
  const fs::path doc = root_ / "agreement.txt";
  ASSERT_EQ(std::system(fmt::format("openssl req -x509 -newkey rsa:2048 -nodes -keyout {} -out {} "
                                    "-subj /CN=acme-partner -days 3650 >/dev/null 2>&1",
                                    key.string(), cert.string())
                            .c_str()),
            0);
  std::ofstream(doc) << "signed agreement text";
  Outcome partner = Custos(
      "partner add acme-pay --name 'Acme Payments' --uscc 91350100M000100Y43 --category "
      "payment_processor --cert " +
          cert.string(),
      "pm", "");
  ASSERT_EQ(partner.code, 0) << partner.out;
  Outcome proposed =
      Custos("--json agreement add acme-2026 --partner acme-pay --document " + doc.string() +
                 " --purposes risk_control --fields phone,email --until "
                 "2027-06-01 --impact-assessment PIA-2026-007 --justification "
                 "'fraud screening'",
             "pm", "");
  ASSERT_EQ(proposed.code, 0) << proposed.out;
  Outcome approved =
      Custos("approval approve " + JsonString(proposed.out, "approval_id"), "dpo", "");
  ASSERT_EQ(approved.code, 0) << approved.out;
  Outcome before = Custos("agreement show acme-2026", "pm", "");
  ASSERT_EQ(before.code, 0) << before.out;
  EXPECT_EQ(before.out.find("suspended by incident"), std::string::npos) << before.out;

  Outcome opened = Custos("--json incident open --title 'partner suspected of a leak'", "sec", "");
  const std::string incident = JsonString(opened.out, "incident_id");
  ASSERT_FALSE(incident.empty()) << opened.out;
  Outcome contained = Custos(
      "incident contain " + incident + " --action suspend_sharing --target acme-2026", "sec", "");
  ASSERT_EQ(contained.code, 0) << contained.out;
  Outcome text = Custos("agreement show acme-2026", "pm", "");
  ASSERT_EQ(text.code, 0) << text.out;
  EXPECT_NE(text.out.find("suspended by incident " + incident), std::string::npos) << text.out;
  Outcome json = Custos("--json agreement show acme-2026", "pm", "");
  ASSERT_EQ(json.code, 0) << json.out;
  EXPECT_NE(json.out.find("\"suspended\":true"), std::string::npos) << json.out;
  EXPECT_EQ(JsonString(json.out, "suspended_by_incident"), incident) << json.out;
  EXPECT_EQ(JsonString(json.out, "state"), "active") << json.out;
  Outcome listed = Custos("agreement list", "pm", "");
  ASSERT_EQ(listed.code, 0) << listed.out;
  EXPECT_NE(listed.out.find("suspended by"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find(incident), std::string::npos) << listed.out;

  ASSERT_EQ(Custos("incident contain " + incident + " --action resume_sharing --target acme-2026",
                   "sec", "")
                .code,
            0);
  Outcome lifted = Custos("--json agreement show acme-2026", "pm", "");
  EXPECT_NE(lifted.out.find("\"suspended\":false"), std::string::npos) << lifted.out;
  Outcome relisted = Custos("agreement list", "pm", "");
  ASSERT_EQ(relisted.code, 0) << relisted.out;
  EXPECT_EQ(relisted.out.find(incident), std::string::npos) << relisted.out;
}

TEST_F(CliTest, ExitCodesSayWhatWentWrong) {
  ASSERT_EQ(Custos("init " + vault_).code, 0);
  // Bad input: 3, and the error names the field and the rule.
  Outcome bad = Custos(
      "customer add --consent-purposes customer_service --notice-version 1 --set name=李四 --set "
      "id_number=110105199003070031");
  EXPECT_EQ(bad.code, 3) << bad.out;
  EXPECT_NE(bad.out.find("field 'id_number'"), std::string::npos) << bad.out;
  Outcome bad_json = Custos(
      "customer add --consent-purposes customer_service --notice-version 1 --json --set name=李四 "
      "--set phone=123");
  EXPECT_EQ(bad_json.code, 3);
  EXPECT_NE(bad_json.out.find("{\"error\":{\"code\":\"invalid_argument\""), std::string::npos)
      << bad_json.out;
  // Unknown staff: 4. Unknown customer: 5. Init on a vault: 6. Usage: 2.
  EXPECT_EQ(Custos("customer list", "mallory").code, 4);
  EXPECT_EQ(Custos("customer get 01ARZ3NDEKTSV4RRFFQ69G5FAV").code, 5);
  EXPECT_EQ(Custos("init " + vault_).code, 6);
  EXPECT_EQ(Custos("customer frobnicate").code, 2);
}

// Issue 15 item 4: a pipeline can gate on a scan. Without --fail-on-findings a scan that finds
// personal data succeeds (0); with it, 10 — for any type, or only the types named.
TEST_F(CliTest, ScanFailOnFindingsGivesItsOwnExitCode) {
  const fs::path note = root_ / "note.txt";
  std::ofstream(note) << "联系人 张伟 手机 13812345678\n";
  const fs::path clean = root_ / "clean.txt";
  std::ofstream(clean) << "nothing personal here\n";
  EXPECT_EQ(Run("scan " + note.string(), "", "", "").code, 0);
  Outcome gated = Run("scan --fail-on-findings " + note.string(), "", "", "");
  EXPECT_EQ(gated.code, 10) << gated.out;
  EXPECT_EQ(Run("scan --fail-on-findings=mobile " + note.string(), "", "", "").code, 10);
  EXPECT_EQ(Run("scan --fail-on-findings=id_card,bank_card " + note.string(), "", "", "").code, 0);
  EXPECT_EQ(Run("scan --fail-on-findings " + clean.string(), "", "", "").code, 0);
  Outcome bad = Run("scan --fail-on-findings=idcard " + note.string(), "", "", "");
  EXPECT_EQ(bad.code, 3) << bad.out;
  EXPECT_NE(bad.out.find("--fail-on-findings: unknown type 'idcard'"), std::string::npos)
      << bad.out;
}

// `deid profiles --json` prints what GET /v1/deid/profiles answers: {"profiles": [...]}, each
// profile with the same keys (one shape for the CLI and the API).
TEST_F(CliTest, DeidProfilesJsonHasTheApisShape) {
  ASSERT_EQ(Custos("init " + vault_).code, 0);
  Outcome listed = Custos("--json deid profiles", "dpo", "");
  ASSERT_EQ(listed.code, 0) << listed.out;
  const nlohmann::json doc = nlohmann::json::parse(listed.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << listed.out;
  ASSERT_TRUE(doc.contains("profiles") && doc["profiles"].is_array()) << listed.out;
  ASSERT_FALSE(doc["profiles"].empty());
  for (const auto& p : doc["profiles"]) {
    for (const char* key : {"name", "description", "purpose", "roles", "k", "diversity", "l",
                            "population", "columns", "epsilon_budget", "sha256"}) {
      EXPECT_TRUE(p.contains(key)) << p.value("name", "?") << " lacks " << key;
    }
  }
}

TEST_F(CliTest, ConsentIsGivenAtCollectionWithdrawnAndListed) {
  ASSERT_EQ(Custos("init " + vault_).code, 0);
  Outcome missing = Custos("customer add --set name=王芳", "clerk", "account_management");
  EXPECT_EQ(missing.code, 2) << "no consent flags, no customer: " << missing.out;
  Outcome add = Custos(
      "customer add --json --set name=王芳 --consent-purposes "
      "customer_service,marketing,account_management "
      "--notice-version 1 --sensitive-consent --evidence form-0042",
      "clerk", "account_management");
  ASSERT_EQ(add.code, 0) << add.out;
  const std::string id = JsonString(add.out, "customer_id");
  Outcome notices = Custos("notice list --json", "clerk", "account_management");
  ASSERT_EQ(notices.code, 0) << notices.out;
  EXPECT_NE(notices.out.find("\"version\":1"), std::string::npos) << notices.out;
  Outcome withdraw =
      Custos("consent withdraw " + id + " --purpose marketing --evidence call-0043 --json", "clerk",
             "account_management");
  ASSERT_EQ(withdraw.code, 0) << withdraw.out;
  Outcome list = Custos("consent list " + id + " --json", "clerk", "account_management");
  ASSERT_EQ(list.code, 0) << list.out;
  EXPECT_NE(list.out.find("\"granted_purposes\":[\"customer_service\",\"account_management\"]"),
            std::string::npos)
      << list.out;
  EXPECT_NE(list.out.find("\"evidence_ref\":\"form-0042\""), std::string::npos) << list.out;
  Outcome unlisted =
      Custos("consent grant " + id + " --purpose legal_obligation --notice-version 1", "clerk",
             "account_management");
  EXPECT_EQ(unlisted.code, 3) << unlisted.out;
  fs::path text = root_ / "notice-v2.md";
  std::ofstream(text) << "版本二 / version 2";
  Outcome publish =
      Custos("notice publish --text-file " + text.string() + " --purposes customer_service --json",
             "dpo", "legal_obligation");
  ASSERT_EQ(publish.code, 0) << publish.out;
  EXPECT_NE(publish.out.find("\"version\":2"), std::string::npos) << publish.out;
}

TEST_F(CliTest, AuditVerifyFailsAndNamesTheEntryWhenTheLogIsEdited) {
  ASSERT_EQ(Custos("init " + vault_).code, 0);
  ASSERT_EQ(Custos("customer add --consent-purposes account_management --notice-version 1 --set "
                   "name=王芳 --set phone=13800138000",
                   "clerk", "account_management")
                .code,
            0);
  ASSERT_EQ(Custos("customer list", "clerk", "account_management").code, 0);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((fs::path(vault_) / "custos.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE audit_log SET actor = 'dpo' WHERE seq = 2", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  Outcome verify = Custos("audit verify --json", "dpo", "legal_obligation");
  EXPECT_EQ(verify.code, 8) << verify.out;
  EXPECT_NE(verify.out.find("\"first_bad_seq\":2"), std::string::npos) << verify.out;
}

// Issue 13: a deleted head file and a cut tail (which used to fail with exit 7 and a constraint
// error) each make `custos audit verify` exit 8 naming the head file or the entry; the vault
// closing does not sign over them.
TEST_F(CliTest, AuditVerifyNamesAMissingHeadFileAndACutTail) {
  ASSERT_EQ(Custos("init " + vault_).code, 0);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Custos("customer list", "clerk", "account_management").code, 0);
  }
  Outcome ok = Custos("audit verify", "dpo", "legal_obligation");
  ASSERT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(ok.out.find("checked against: signed tip, head file"), std::string::npos) << ok.out;
  const fs::path db_path = fs::path(vault_) / "custos.db";
  auto exec = [&](const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  };
  auto last_seq = [&] {
    sqlite3* db = nullptr;
    sqlite3_open(db_path.c_str(), &db);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT MAX(seq) FROM audit_log", -1, &st, nullptr);
    sqlite3_step(st);
    const int64_t seq = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return seq;
  };

  // The head file removed: named, and not recreated by the vault closing.
  fs::remove(fs::path(vault_) / "audit.head");
  Outcome headless = Custos("audit verify", "dpo", "legal_obligation");
  EXPECT_EQ(headless.code, 8) << headless.out;
  EXPECT_NE(headless.out.find("head file audit.head is missing"), std::string::npos)
      << headless.out;
  EXPECT_FALSE(fs::exists(fs::path(vault_) / "audit.head"));

  // The tail cut, checkpoints untouched: named by the signed tip.
  const int64_t last = last_seq();
  exec(fmt::format("DELETE FROM audit_log WHERE seq > {}", last - 2).c_str());
  Outcome cut = Custos("audit verify", "dpo", "legal_obligation");
  EXPECT_EQ(cut.code, 8) << cut.out;
  EXPECT_NE(cut.out.find(fmt::format("BROKEN at entry {}", last - 1)), std::string::npos)
      << cut.out;
  EXPECT_NE(cut.out.find("log truncated"), std::string::npos) << cut.out;
}

// Issue 13: with the head file lost, every command's close used to fail (the head is not
// sealed), so the dual-controlled recovery itself exited non-zero at each step. Now the close
// warns and keeps the command's exit code; the loss stays reported by verify until the reseal.
TEST_F(CliTest, WithTheHeadFileLostTheStepsOfTheResealSucceedAndVerifyThenPasses) {
  ASSERT_EQ(Custos("init " + vault_).code, 0);
  ASSERT_EQ(Custos("customer list", "clerk", "account_management").code, 0);
  TokenFor("dpo");
  TokenFor("sec");
  const fs::path head = fs::path(vault_) / "audit.head";
  fs::remove(head);

  // A command whose work succeeded exits 0, warning that the head was not sealed.
  Outcome list = Custos("customer list", "clerk", "account_management");
  EXPECT_EQ(list.code, 0) << list.out;
  EXPECT_NE(list.out.find("warning: the audit head was not sealed"), std::string::npos) << list.out;
  EXPECT_FALSE(fs::exists(head));
  Outcome broken = Custos("audit verify", "dpo", "legal_obligation");
  EXPECT_EQ(broken.code, 8) << broken.out;

  // The DPO asks, a security administrator approves, the DPO reseals: each step exits 0.
  Outcome asked = Custos(
      "--json approval request --kind audit_reseal --justification 'audit.head lost with the old "
      "disk, ticket 42' --duration 1h",
      "dpo", "legal_obligation");
  ASSERT_EQ(asked.code, 0) << asked.out;
  const std::string id = JsonString(asked.out, "approval_id");
  ASSERT_FALSE(id.empty()) << asked.out;
  Outcome approved = Custos("approval approve " + id, "sec", "");
  EXPECT_EQ(approved.code, 0) << approved.out;
  Outcome resealed = Custos("audit reseal", "dpo", "legal_obligation");
  EXPECT_EQ(resealed.code, 0) << resealed.out;
  EXPECT_NE(resealed.out.find("audit head re-signed at entry"), std::string::npos) << resealed.out;
  ASSERT_TRUE(fs::exists(head));
  Outcome verified = Custos("audit verify", "dpo", "legal_obligation");
  EXPECT_EQ(verified.code, 0) << verified.out;
  EXPECT_NE(verified.out.find("audit log OK"), std::string::npos) << verified.out;
  EXPECT_EQ(verified.out.find("warning"), std::string::npos) << verified.out;
}

// A damaged audit journal (docs/audit.md, "A damaged journal"): writes fail closed naming it,
// the doctor reports it, `audit journals` lists it (exit 8 while damaged), and only the
// security administrator's `audit quarantine-journal` sets it aside, after which writes work.
TEST_F(CliTest, ADamagedAuditJournalIsReportedAndQuarantinedBySecurity) {
  InitWithACustomer();
  TokenFor("dpo");
  TokenFor("sec");
  // A journal of an ended process whose one record fails its check.
  const std::string id = "0123456789abcdef0123456789abcdef";
  const fs::path journal = fs::path(vault_) / "audit-journal" / (id + ".journal");
  fs::create_directories(journal.parent_path());
  std::string record(4 + 20 + 32, 'x');
  record[0] = 20;
  record[1] = record[2] = record[3] = 0;
  std::ofstream(journal, std::ios::binary) << "CUSTOSJ1" << id << record;

  Outcome refused = Custos(
      "customer add --consent-purposes account_management --notice-version 1 --set name=李四",
      "clerk", "account_management");
  EXPECT_EQ(refused.code, 7) << refused.out;  // the audit log cannot be written: no data
  EXPECT_NE(refused.out.find(id), std::string::npos) << refused.out;
  Outcome doctor = Custos("doctor", "dpo", "");
  EXPECT_EQ(doctor.code, 2) << doctor.out;
  EXPECT_NE(doctor.out.find("audit.journals"), std::string::npos) << doctor.out;
  EXPECT_NE(doctor.out.find("quarantine-journal"), std::string::npos) << doctor.out;
  Outcome listed = Custos("audit journals", "sec", "");
  EXPECT_EQ(listed.code, 8) << listed.out;
  EXPECT_NE(listed.out.find("DAMAGED"), std::string::npos) << listed.out;

  Outcome not_theirs = Custos("audit quarantine-journal " + id, "dpo", "");
  EXPECT_EQ(not_theirs.code, 4) << not_theirs.out;
  EXPECT_TRUE(fs::exists(journal));
  Outcome done = Custos("--json audit quarantine-journal " + id, "sec", "");
  EXPECT_EQ(done.code, 0) << done.out;
  EXPECT_NE(done.out.find("\"folded\":0"), std::string::npos) << done.out;
  EXPECT_FALSE(fs::exists(journal));
  EXPECT_TRUE(fs::exists(journal.parent_path() / "quarantine" / (id + ".journal")));

  Outcome added = Custos(
      "customer add --consent-purposes account_management --notice-version 1 --set name=李四",
      "clerk", "account_management");
  EXPECT_EQ(added.code, 0) << added.out;
  Outcome after = Custos("--json audit journals", "sec", "");
  EXPECT_EQ(after.code, 0) << after.out;
  EXPECT_NE(after.out.find("\"quarantined\":[\"" + id + "\"]"), std::string::npos) << after.out;
  Outcome verified = Custos("audit verify", "dpo", "legal_obligation");
  EXPECT_EQ(verified.code, 0) << verified.out;
}

// Issue 13 item 5: the DPO asks "who touched this customer" of the server, pages through the
// answer, and exports it as JSON lines or RFC 5424 syslog lines; bad flags are usage errors
// naming the flag; a support agent may not ask; follow streams until SIGTERM.
TEST_F(CliTest, TheDpoQueriesTheLogByCustomerPagesAndExportsItForASiem) {
  const std::string id = InitWithACustomer();
  ASSERT_EQ(id.size(), 26u);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Custos("customer get " + id, "clerk", "account_management").code, 0);
  }
  auto lines = [](const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  };
  Outcome jsonl = Custos("audit query --customer " + id + " --since 2020-01-01 --format jsonl",
                         "dpo", "legal_obligation");
  ASSERT_EQ(jsonl.code, 0) << jsonl.out;
  const std::vector<std::string> entries = lines(jsonl.out);
  ASSERT_GE(entries.size(), 4u) << jsonl.out;  // the creation and three reads
  for (const std::string& e : entries) {
    EXPECT_EQ(e.rfind("{\"seq\":", 0), 0u) << e;
    EXPECT_NE(e.find("\"target\":\"customer:" + id + "\""), std::string::npos) << e;
  }
  Outcome none = Custos("audit query --customer " + id + " --until 2020-01-01 --format jsonl",
                        "dpo", "legal_obligation");
  EXPECT_EQ(none.code, 0) << none.out;
  EXPECT_EQ(none.out, "");

  Outcome syslog =
      Custos("audit query --customer " + id + " --action customer.read --format syslog", "dpo",
             "legal_obligation");
  ASSERT_EQ(syslog.code, 0) << syslog.out;
  const std::vector<std::string> reads = lines(syslog.out);
  ASSERT_EQ(reads.size(), 3u) << syslog.out;
  for (const std::string& l : reads) {
    EXPECT_EQ(l.rfind("<110>1 ", 0), 0u) << l;
    EXPECT_NE(l.find(" custos - customer.read [custos@32473 seq=\""), std::string::npos) << l;
    EXPECT_NE(l.find(" action=\"customer.read\""), std::string::npos) << l;
  }

  // One entry a page: the cursor printed continues it.
  Outcome first = Custos("audit query --customer " + id + " --action customer.read --limit 2",
                         "dpo", "legal_obligation");
  ASSERT_EQ(first.code, 0) << first.out;
  const size_t at = first.out.find("--cursor ");
  ASSERT_NE(at, std::string::npos) << first.out;
  const std::string cursor = first.out.substr(at + 9, 34);
  Outcome second = Custos(
      "audit query --customer " + id + " --action customer.read --limit 2 " + "--cursor " + cursor,
      "dpo", "legal_obligation");
  ASSERT_EQ(second.code, 0) << second.out;
  EXPECT_EQ(lines(second.out).size(), 1u) << second.out;
  EXPECT_EQ(second.out.find("--cursor"), std::string::npos) << second.out;

  // Bad input: exit 2, naming the flag, never the value.
  struct Bad {
    std::string flags;
    std::string names;
  };
  for (const Bad& b : {Bad{"--action customer.frobnicate", "action:"},
                       Bad{"--since 2026-13-01", "--since:"}, Bad{"--until tomorrow", "--until:"},
                       Bad{"--cursor c1zzzz", "cursor:"}, Bad{"--decision maybe", "decision:"},
                       Bad{"--customer 110105199003070033", "customer_id:"}}) {
    Outcome o = Custos("audit query " + b.flags, "dpo", "legal_obligation");
    EXPECT_EQ(o.code, 2) << b.flags << ": " << o.out;
    EXPECT_NE(o.out.find(b.names), std::string::npos) << o.out;
    EXPECT_EQ(o.out.find("110105199003070033"), std::string::npos) << o.out;
  }
  // A support agent has no audit.read.
  EXPECT_EQ(Custos("audit query --customer " + id, "agent").code, 4);

  // follow: the entries from seq 1, then new ones, until SIGTERM (exit 0).
  const fs::path streamed = root_ / "follow.jsonl";
  Outcome follow = Custos("audit follow --from-seq 1 --format jsonl >'" + streamed.string() +
                              "' & pid=$!; sleep 5; kill -TERM $pid; wait $pid; echo rc=$?",
                          "dpo", "legal_obligation");
  EXPECT_NE(follow.out.find("rc=0"), std::string::npos) << follow.out;
  std::ifstream in(streamed);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(line.rfind("{\"seq\":1,", 0), 0u) << line;
}

TEST_F(CliTest, GenIsDeterministicAndImportIsResumableAndIdempotent) {
  ASSERT_EQ(Custos("init " + vault_).code, 0);
  const std::string a = (root_ / "a.csv").string(), b = (root_ / "b.csv").string();
  ASSERT_EQ(Custos("gen --count 200 --seed 9 --out " + a).code, 0);
  ASSERT_EQ(Custos("gen --count 200 --seed 9 --out " + b).code, 0);
  std::ifstream fa(a), fb(b);
  std::string ta((std::istreambuf_iterator<char>(fa)), {}),
      tb((std::istreambuf_iterator<char>(fb)), {});
  EXPECT_EQ(ta, tb);
  EXPECT_GT(ta.size(), 200u * 50);
  // A sales clerk imports the onboarding batch; a risk officer (second factor, training)
  // exports it for a legal obligation.
  const std::string consent =
      " --notice-version 1 --sensitive-consent --consent-purposes account_management,risk_control ";
  Outcome imp = Custos("import --json" + consent + a, "clerk", "account_management");
  ASSERT_EQ(imp.code, 0) << imp.out;
  EXPECT_NE(imp.out.find("\"imported\":200"), std::string::npos) << imp.out;
  Outcome again = Custos("import --json" + consent + a, "clerk", "account_management");
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_NE(again.out.find("\"already_complete\":true"), std::string::npos) << again.out;
  Outcome exp = Custos("export --format jsonl", "risk", "legal_obligation");
  ASSERT_EQ(exp.code, 0);
  EXPECT_EQ(std::count(exp.out.begin(), exp.out.end(), '\n'), 200);
}

// Long commands on a pipe (issue 22): plain progress lines with the total, never a "\r"
// (CUSTOS_PROGRESS_MS=0 draws every update instead of one line every five seconds).
TEST_F(CliTest, BackupRestoreAndExportShowProgressWithATotalOnAPipe) {
  ASSERT_EQ(Custos("init " + vault_).code, 0);
  const std::string csv = (root_ / "c.csv").string();
  ASSERT_EQ(Custos("gen --count 120 --seed 4 --out " + csv).code, 0);
  ASSERT_EQ(Custos("import --notice-version 1 --sensitive-consent --consent-purposes "
                   "account_management,risk_control " +
                       csv,
                   "clerk", "account_management")
                .code,
            0);
  const std::string every = "CUSTOS_PROGRESS_MS=0";
  Outcome exp = Run("export --format jsonl -o " + (root_ / "out.jsonl").string(), TokenFor("risk"),
                    "legal_obligation", every);
  ASSERT_EQ(exp.code, 0) << exp.out;
  EXPECT_NE(exp.out.find("120 of 120 customers (100%)"), std::string::npos) << exp.out;
  EXPECT_EQ(exp.out.find('\r'), std::string::npos) << exp.out;

  const std::string backups = (root_ / "backups").string();
  Outcome backup = Run("--json backup --to " + backups, TokenFor("admin"), "", every);
  ASSERT_EQ(backup.code, 0) << backup.out;
  EXPECT_NE(backup.out.find(" rows (100%)"), std::string::npos) << backup.out;
  EXPECT_NE(backup.out.find(" of "), std::string::npos) << backup.out;
  EXPECT_EQ(backup.out.find('\r'), std::string::npos) << backup.out;
  // The JSON document is whole on its own line: progress went to standard error.
  const size_t brace = backup.out.find("\n{\"");
  ASSERT_NE(brace, std::string::npos) << backup.out;
  EXPECT_EQ(backup.out.find("}\n", brace), backup.out.size() - 2) << backup.out;
  const std::string id = JsonString(backup.out, "backup_id");

  Outcome restore = Run("restore " + backups + "/" + id + " --dir " +
                            (root_ / "restored").string() + " --keyfile " + vault_ + "/kek.key",
                        "", "", every);
  ASSERT_EQ(restore.code, 0) << restore.out;
  EXPECT_NE(restore.out.find(" rows (100%)"), std::string::npos) << restore.out;
  EXPECT_EQ(restore.out.find('\r'), std::string::npos) << restore.out;

  // Without the setting a short run on a pipe stays quiet (a line every five seconds).
  Outcome quiet = Run("backup --to " + backups, TokenFor("admin"), "", "");
  ASSERT_EQ(quiet.code, 0) << quiet.out;
  EXPECT_EQ(quiet.out.find(" rows ("), std::string::npos) << quiet.out;
}

// `backup list` (issue 21's GET /v1/backups on the command line): the backups of the
// configured [backup] dir with their last verification, in text and --json; only a role with
// backup.run may list them.
TEST_F(CliTest, BackupListNamesEachBackupAndItsLastVerification) {
  ASSERT_EQ(Custos("init " + vault_).code, 0);
  Outcome none = Custos("backup list", "admin", "");
  ASSERT_EQ(none.code, 0) << none.out;
  EXPECT_NE(none.out.find("no backup"), std::string::npos) << none.out;
  Outcome taken = Custos("--json backup", "admin", "");
  ASSERT_EQ(taken.code, 0) << taken.out;
  const std::string id = JsonString(taken.out, "backup_id");
  const std::string path = JsonString(taken.out, "path");
  ASSERT_FALSE(id.empty()) << taken.out;
  Outcome listed = Custos("--json backup list", "admin", "");
  ASSERT_EQ(listed.code, 0) << listed.out;
  EXPECT_EQ(JsonString(listed.out, "backup_id"), id) << listed.out;
  EXPECT_EQ(JsonString(listed.out, "verified"), "never") << listed.out;
  ASSERT_EQ(Custos("backup verify " + path, "admin", "").code, 0);
  Outcome text = Custos("backup list", "admin", "");
  ASSERT_EQ(text.code, 0) << text.out;
  EXPECT_NE(text.out.find(id), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(" ok 20"), std::string::npos) << text.out;
  Outcome agent = Custos("backup list", "agent", "customer_service");
  EXPECT_EQ(agent.code, 4) << agent.out;
}

TEST_F(CliTest, ThereIsNoWayInWithoutAToken) {
  ASSERT_EQ(Custos("init " + vault_).code, 0);
  Outcome no_token = Run("customer list", "", "customer_service", "CUSTOS_STAFF=admin");
  EXPECT_EQ(no_token.code, 4) << "CUSTOS_STAFF is no longer a way in: " << no_token.out;
  Outcome old_flag = Run("--staff admin customer list", "", "customer_service", "");
  EXPECT_EQ(old_flag.code, 2) << old_flag.out;
  Outcome forged = Run("customer list", "cst_" + std::string(52, 'b'), "customer_service", "");
  EXPECT_EQ(forged.code, 4) << forged.out;
  const fs::path token_file = root_ / "token";
  std::ofstream(token_file) << tokens_["admin"] << "\n";
  Outcome from_file = Run("--token-file " + token_file.string() + " staff list --json", "", "", "");
  EXPECT_EQ(from_file.code, 0) << from_file.out;
  EXPECT_NE(from_file.out.find("\"staff_id\":\"dpo\""), std::string::npos) << from_file.out;
}

TEST_F(CliTest, StaffLogInGetTrainedAndAskForBreakGlassWhichAnotherApproves) {
  ASSERT_EQ(Custos("init " + vault_).code, 0);
  const std::string agent = TokenFor("agent");
  ASSERT_EQ(agent.size(), 56u) << "agent logged in";
  Outcome wrong = Run("token issue agent", "", "", "CUSTOS_PASSWORD='wrong password!!'");
  EXPECT_EQ(wrong.code, 4) << wrong.out;
  Outcome trained = Custos(
      "training add agent --course privacy-basics --completed 2026-01-01 --valid-until "
      "2035-01-01");
  EXPECT_EQ(trained.code, 0) << trained.out;
  Outcome denied = Custos("staff add eve --name Eve --post x --role admin", "agent");
  EXPECT_EQ(denied.code, 4) << "a support agent manages no staff: " << denied.out;
  Outcome request = Custos(
      "--json approval request --customer 01ARZ3NDEKTSV4RRFFQ69G5FAV --level confidential "
      "--for-purpose customer_service --justification 'caller verification ticket 7781' "
      "--duration 2h",
      "agent");
  ASSERT_EQ(request.code, 0) << request.out;
  const std::string id = JsonString(request.out, "approval_id");
  EXPECT_EQ(Custos("approval approve " + id, "agent").code, 4) << "never one's own";
  Outcome approve = Custos("approval approve " + id, "dpo");
  EXPECT_EQ(approve.code, 0) << approve.out;
  Outcome list = Custos("--json approval list --state approved", "dpo");
  ASSERT_EQ(list.code, 0) << list.out;
  EXPECT_NE(list.out.find(id), std::string::npos) << list.out;
  Outcome tokens = Custos("--json token list", "agent");
  ASSERT_EQ(tokens.code, 0) << tokens.out;
  EXPECT_EQ(tokens.out.find(agent), std::string::npos) << "a token is shown once only";
  const std::string token_id = JsonString(tokens.out, "token_id");
  EXPECT_EQ(Custos("token revoke " + token_id, "agent").code, 0);
  EXPECT_EQ(Custos("token list", "agent").code, 4) << "the revoked token no longer works";
}

}  // namespace

namespace {

// `custos key rotate|status|retire` (issue 6, docs/keys.md): the administrator rotates, the
// status shows both versions with their counts, and the old version is retired.
TEST_F(CliTest, TheAdministratorRotatesTheKekSeesTheStatusAndRetiresTheOldVersion) {
  const std::string id = InitWithACustomer();
  ASSERT_EQ(id.size(), 26u);
  Outcome rotate = Custos("--json key rotate --batch 10", "admin", "account_management");
  ASSERT_EQ(rotate.code, 0) << rotate.out;
  EXPECT_NE(rotate.out.find("\"to_version\":2"), std::string::npos) << rotate.out;
  // The customer's DEK is under the epoch key; the KEK rewraps the epoch key file (issue 23).
  EXPECT_NE(rotate.out.find("\"epoch_keys\":1"), std::string::npos) << rotate.out;
  EXPECT_TRUE(fs::exists(fs::path(vault_) / "kek.v2.key"));
  Outcome status = Custos("key status", "admin", "account_management");
  ASSERT_EQ(status.code, 0) << status.out;
  EXPECT_NE(status.out.find("active KEK version 2"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("retiring"), std::string::npos) << status.out;
  Outcome retire_active = Custos("key retire 2", "admin", "account_management");
  EXPECT_EQ(retire_active.code, 6) << retire_active.out;  // failed precondition
  Outcome retire = Custos("key retire 1", "admin", "account_management");
  ASSERT_EQ(retire.code, 0) << retire.out;
  EXPECT_FALSE(fs::exists(fs::path(vault_) / "kek.key"));
  Outcome json = Custos("--json key status", "dpo", "legal_obligation");
  ASSERT_EQ(json.code, 0) << json.out;
  EXPECT_NE(json.out.find("\"state\":\"retired\""), std::string::npos) << json.out;
  Outcome get = Custos("customer get " + id + " --json", "clerk", "account_management");
  ASSERT_EQ(get.code, 0) << get.out;
  EXPECT_NE(get.out.find("\"phone\":\"13800138000\""), std::string::npos) << get.out;
  // A support agent may neither rotate nor look.
  EXPECT_EQ(Custos("key rotate", "agent", "customer_service").code, 4);
  // Epoch keys (issue 23): a new epoch by hand, the customer re-wrapped under it.
  Outcome epoch = Custos("--json key epoch rotate", "admin", "account_management");
  ASSERT_EQ(epoch.code, 0) << epoch.out;
  EXPECT_NE(epoch.out.find("\"created\":2"), std::string::npos) << epoch.out;
  EXPECT_NE(epoch.out.find("\"rewrapped\":1"), std::string::npos) << epoch.out;
  Outcome epochs = Custos("key epoch status", "dpo", "legal_obligation");
  ASSERT_EQ(epochs.code, 0) << epochs.out;
  EXPECT_NE(epochs.out.find("current epoch 2"), std::string::npos) << epochs.out;
  Outcome epochs_json = Custos("--json key epoch status", "dpo", "legal_obligation");
  ASSERT_EQ(epochs_json.code, 0) << epochs_json.out;
  EXPECT_NE(epochs_json.out.find("\"current\":2"), std::string::npos) << epochs_json.out;
  EXPECT_EQ(Custos("key epoch rotate", "agent", "customer_service").code, 4);
  get = Custos("customer get " + id + " --json", "clerk", "account_management");
  ASSERT_EQ(get.code, 0) << get.out;
  EXPECT_EQ(Custos("audit verify", "dpo", "legal_obligation").code, 0);
}

}  // namespace

namespace {

// `custos dsr open|close|list` (PIPL Art. 44-50, docs/subject_requests.md): a support agent
// logs a customer's request and closes it; the DPO lists the register; a sales clerk may not.
TEST_F(CliTest, ASupportAgentLogsAndClosesADataSubjectRequest) {
  const std::string customer = InitWithACustomer();
  ASSERT_EQ(customer.size(), 26u);
  Outcome open =
      Custos("dsr open --customer " + customer + " --kind access --reference TCK-42", "agent");
  ASSERT_EQ(open.code, 0) << open.out;
  EXPECT_NE(open.out.find("answer due by 20"), std::string::npos) << open.out;
  Outcome json = Custos(
      "--json dsr open --customer " + customer + " --kind deletion --reference TCK-43", "agent");
  ASSERT_EQ(json.code, 0) << json.out;
  const std::string id = JsonString(json.out, "request_id");
  ASSERT_EQ(id.size(), 26u) << json.out;
  Outcome bad =
      Custos("dsr open --customer " + customer + " --kind erasure --reference TCK-44", "agent");
  EXPECT_EQ(bad.code, 3) << bad.out;
  EXPECT_NE(bad.out.find("kind: must be one of"), std::string::npos) << bad.out;
  EXPECT_EQ(Custos("dsr close " + id + " --outcome fulfilled", "agent").code, 0);
  EXPECT_EQ(Custos("dsr close " + id + " --outcome fulfilled", "agent").code, 5) << "closes once";
  Outcome list = Custos("dsr list --customer " + customer, "dpo", "legal_obligation");
  ASSERT_EQ(list.code, 0) << list.out;
  EXPECT_NE(list.out.find("request"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find(" access "), std::string::npos) << list.out;
  EXPECT_NE(list.out.find(" fulfilled "), std::string::npos) << list.out;
  EXPECT_NE(list.out.find(" open "), std::string::npos) << list.out;
  Outcome open_only = Custos("--json dsr list --open", "dpo", "legal_obligation");
  ASSERT_EQ(open_only.code, 0) << open_only.out;
  EXPECT_EQ(open_only.out.find(id), std::string::npos) << open_only.out;
  EXPECT_NE(open_only.out.find("\"kind\":\"access\""), std::string::npos) << open_only.out;
  EXPECT_EQ(Custos("dsr list", "clerk", "account_management").code, 4);
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Issue 17 (audit GAP 8): the sharing commands end to end. `share create --out` writes the
// package (which `openssl cms -decrypt` opens with the partner's key), FILE.manifest.json and
// FILE.manifest.sig (which verifies with OpenSSL under the public key `custos audit head`
// prints: docs/sharing.md, "Checking the manifest"); `share list` names the share; `share
// trace` of a shuffled copy of a tenth of the rows without the `ref` column names the share,
// agreement and partner; `agreement revoke` opens the partner's deletion and
// `agreement confirm-deletion` closes it.
TEST_F(CliTest, ShareCreateWritesThePackageAndSignedManifestListsAndTracesACutCopy) {
  ASSERT_EQ(Custos("init " + vault_).code, 0);
  const fs::path key = root_ / "acme-key.pem";
  const fs::path cert = root_ / "acme-cert.pem";
  const fs::path doc = root_ / "agreement.txt";
  ASSERT_EQ(std::system(fmt::format("openssl req -x509 -newkey rsa:2048 -nodes -keyout {} -out {} "
                                    "-subj /CN=acme-partner -days 3650 >/dev/null 2>&1",
                                    key.string(), cert.string())
                            .c_str()),
            0);
  std::ofstream(doc) << "signed agreement text";
  Outcome partner = Custos(
      "partner add acme-pay --name 'Acme Payments' --uscc 91350100M000100Y43 --category "
      "payment_processor --cert " +
          cert.string(),
      "pm", "");
  ASSERT_EQ(partner.code, 0) << partner.out;
  EXPECT_NE(partner.out.find("partner acme-pay registered"), std::string::npos) << partner.out;
  Outcome proposed =
      Custos("--json agreement add acme-2026 --partner acme-pay --document " + doc.string() +
                 " --purposes risk_control --fields phone,email,birth_date --until 2027-06-01 "
                 "--impact-assessment PIA-2026-007 --justification 'fraud screening'",
             "pm", "");
  ASSERT_EQ(proposed.code, 0) << proposed.out;
  ASSERT_EQ(Custos("approval approve " + JsonString(proposed.out, "approval_id"), "dpo", "").code,
            0);
  const fs::path gen = root_ / "gen.csv";
  ASSERT_EQ(Custos("gen --count 150 --seed 1 --out " + gen.string()).code, 0);
  // Notice v1 names no recipient: consent to share with acme-pay cannot be given under it.
  Outcome unnamed = Custos(
      "import --notice-version 1 --sensitive-consent --consent-purposes "
      "customer_service,account_management --share-consent partner:acme-pay " +
          gen.string(),
      "clerk", "account_management");
  EXPECT_EQ(unnamed.code, 3) << unnamed.out;
  EXPECT_NE(unnamed.out.find("privacy notice version 1 does not name 'partner:acme-pay'"),
            std::string::npos)
      << unnamed.out;
  ASSERT_NO_FATAL_FAILURE(PublishNoticeNaming("partner:acme-pay"));
  Outcome imported = Custos(
      "import --notice-version 2 --sensitive-consent --consent-purposes "
      "customer_service,account_management --share-consent partner:acme-pay " +
          gen.string(),
      "clerk", "account_management");
  ASSERT_EQ(imported.code, 0) << imported.out;

  const fs::path out = root_ / "out" / "acme.p7m";
  fs::create_directories(out.parent_path());
  Outcome made = Custos("share create --agreement acme-2026 --out " + out.string(), "pm", "");
  ASSERT_EQ(made.code, 0) << made.out;
  EXPECT_NE(made.out.find("to partner acme-pay: 150 customers (0 left out"), std::string::npos)
      << made.out;
  const std::string share_id = made.out.substr(6, 26);  // "share ID to partner ..."
  for (const char* suffix : {"", ".manifest.json", ".manifest.sig"}) {
    const fs::path file = out.string() + suffix;
    ASSERT_TRUE(fs::exists(file)) << file;
    EXPECT_EQ(fs::status(file).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write)
        << file;
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(out.parent_path()), fs::directory_iterator()), 3);
  const auto manifest = nlohmann::json::parse(ReadAll(out.string() + ".manifest.json"));
  EXPECT_EQ(manifest["share_id"], share_id) << made.out;
  EXPECT_EQ(manifest["agreement_id"], "acme-2026");
  const fs::path csv = root_ / "acme.csv";
  ASSERT_EQ(std::system(fmt::format("openssl cms -decrypt -in {} -inkey {} -recip {} -out {}",
                                    out.string(), key.string(), cert.string(), csv.string())
                            .c_str()),
            0);
  std::vector<std::string> rows;
  {
    std::istringstream in(ReadAll(csv));
    for (std::string line; std::getline(in, line);) rows.push_back(line);
  }
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0], "ref,phone,email,birth_date");
  EXPECT_EQ(rows.size() - 1, manifest["rows"].get<size_t>());
  EXPECT_GT(rows.size() - 1, 150u) << "the customers and the canary rows";

  // The signature, under the key `custos audit head` prints (what the company gives the
  // partner out of band).
  Outcome head = Custos("audit head", "dpo", "legal_obligation");
  ASSERT_EQ(head.code, 0) << head.out;
  const std::string vault_key = JsonString(head.out, "public_key");
  ASSERT_EQ(vault_key.size(), 64u) << head.out;
  EXPECT_EQ(manifest["signature"]["public_key"], vault_key);
  std::ofstream(root_ / "vault.pub") << vault_key << "\n";
  const std::string cd = "cd '" + root_.string() + "' && ";
  ASSERT_EQ(std::system((cd + "(printf 302a300506032b6570032100; cat vault.pub) | xxd -r -p | "
                              "openssl pkey -pubin -inform DER -out vault-pub.pem && "
                              "xxd -r -p out/acme.p7m.manifest.sig > sig.bin")
                            .c_str()),
            0);
  EXPECT_EQ(std::system((cd + "openssl pkeyutl -verify -pubin -inkey vault-pub.pem -rawin -in "
                              "out/acme.p7m.manifest.json -sigfile sig.bin >/dev/null 2>&1")
                            .c_str()),
            0);

  Outcome listed = Custos("share list --agreement acme-2026", "dpo", "");
  ASSERT_EQ(listed.code, 0) << listed.out;
  EXPECT_NE(listed.out.find(share_id), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("acme-pay"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("150 rows"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("by pm"), std::string::npos) << listed.out;

  // A leaked copy: shuffled, a tenth of the rows kept, the `ref` column dropped.
  std::vector<std::string> body(rows.begin() + 1, rows.end());
  std::mt19937 rng(17);
  std::shuffle(body.begin(), body.end(), rng);
  body.resize(body.size() / 10);
  {
    std::ofstream leak(root_ / "leak.csv");
    for (const std::string& line : body) leak << line.substr(line.find(',') + 1) << "\n";
  }
  Outcome traced = Custos("share trace " + (root_ / "leak.csv").string(), "pm", "");
  ASSERT_EQ(traced.code, 0) << traced.out;
  EXPECT_NE(traced.out.find("comes from share " + share_id +
                            ": partner acme-pay, agreement "
                            "acme-2026"),
            std::string::npos)
      << traced.out;
  // Values that are in no share: the generated file as the vault was given it.
  {
    std::istringstream in(ReadAll(gen));
    std::string line;
    std::getline(in, line);
    std::ofstream plain(root_ / "plain.csv");
    for (int i = 0; i < 15 && std::getline(in, line); ++i) plain << line << "\n";
  }
  Outcome none = Custos("share trace " + (root_ / "plain.csv").string(), "pm", "");
  ASSERT_EQ(none.code, 0) << none.out;
  EXPECT_NE(none.out.find("matches no recorded share"), std::string::npos) << none.out;

  Outcome revoked = Custos("agreement revoke acme-2026 --reason 'contract ended'", "pm", "");
  ASSERT_EQ(revoked.code, 0) << revoked.out;
  EXPECT_NE(revoked.out.find("partner deletion: open"), std::string::npos) << revoked.out;
  Outcome again =
      Custos("share create --agreement acme-2026 --out " + out.string() + "2", "pm", "");
  EXPECT_EQ(again.code, 6) << again.out;
  EXPECT_NE(again.out.find("revoked on"), std::string::npos) << again.out;
  EXPECT_FALSE(fs::exists(out.string() + "2"));
  std::ofstream(root_ / "deletion.txt") << "deletion certificate";
  Outcome confirmed =
      Custos("agreement confirm-deletion acme-2026 --document " + (root_ / "deletion.txt").string(),
             "pm", "");
  ASSERT_EQ(confirmed.code, 0) << confirmed.out;
  Outcome shown = Custos("--json agreement show acme-2026", "pm", "");
  EXPECT_EQ(JsonString(shown.out, "deletion"), "confirmed") << shown.out;
}

// `custos partner renew-cert ID --cert FILE` (docs/sharing.md, "Renewing a partner's
// certificate"): the partner keeps its agreement and the customers' consents given at import;
// the next share opens with the new key only; `partner show --json` names the new certificate
// and the replaced one; a certificate of another subject is refused (exit 3) naming the rule;
// the renewal waits for a second staff member's approval of `approval request --kind
// partner_cert --partner ID --cert FILE`.
TEST_F(CliTest, PartnerRenewCertReplacesTheCertificateTheNextShareIsEncryptedTo) {
  ASSERT_EQ(Custos("init " + vault_).code, 0);
  const auto make_cert = [&](const std::string& who, const std::string& subject) {
    return std::system(fmt::format("openssl req -x509 -newkey rsa:2048 -nodes -keyout {} -out {} "
                                   "-subj /CN={} -days 3650 >/dev/null 2>&1",
                                   (root_ / (who + "-key.pem")).string(),
                                   (root_ / (who + "-cert.pem")).string(), subject)
                           .c_str());
  };
  ASSERT_EQ(make_cert("acme", "acme-partner"), 0);
  ASSERT_EQ(make_cert("acme-new", "acme-partner"), 0);
  ASSERT_EQ(make_cert("stranger", "stranger"), 0);
  const fs::path doc = root_ / "agreement.txt";
  std::ofstream(doc) << "signed agreement text";
  Outcome partner = Custos(
      "--json partner add acme-pay --name 'Acme Payments' --uscc 91350100M000100Y43 --category "
      "payment_processor --cert " +
          (root_ / "acme-cert.pem").string(),
      "pm", "");
  ASSERT_EQ(partner.code, 0) << partner.out;
  const std::string old_sha256 = JsonString(partner.out, "cert_sha256");
  Outcome proposed =
      Custos("--json agreement add acme-2026 --partner acme-pay --document " + doc.string() +
                 " --purposes risk_control --fields phone,email --until 2027-06-01 "
                 "--impact-assessment PIA-2026-007 --justification 'fraud screening'",
             "pm", "");
  ASSERT_EQ(proposed.code, 0) << proposed.out;
  ASSERT_EQ(Custos("approval approve " + JsonString(proposed.out, "approval_id"), "dpo", "").code,
            0);
  const fs::path gen = root_ / "gen.csv";
  ASSERT_EQ(Custos("gen --count 20 --seed 1 --out " + gen.string()).code, 0);
  ASSERT_NO_FATAL_FAILURE(PublishNoticeNaming("partner:acme-pay"));
  ASSERT_EQ(Custos("import --notice-version 2 --sensitive-consent --consent-purposes "
                   "customer_service,account_management --share-consent partner:acme-pay " +
                       gen.string(),
                   "clerk", "account_management")
                .code,
            0);

  Outcome refused = Custos(
      "partner renew-cert acme-pay --cert " + (root_ / "stranger-cert.pem").string(), "pm", "");
  EXPECT_EQ(refused.code, 3) << refused.out;
  EXPECT_NE(refused.out.find("cert: its subject must be the current certificate's"),
            std::string::npos)
      << refused.out;
  const std::string new_cert = (root_ / "acme-new-cert.pem").string();
  Outcome alone = Custos("partner renew-cert acme-pay --cert " + new_cert, "pm", "");
  EXPECT_NE(alone.code, 0) << alone.out;
  EXPECT_NE(alone.out.find("dual control: renewing a partner's certificate"), std::string::npos)
      << alone.out;
  Outcome requested =
      Custos("--json approval request --kind partner_cert --partner acme-pay --cert " + new_cert +
                 " --justification 'the partner rotated its key' --duration 1d",
             "pm", "");
  ASSERT_EQ(requested.code, 0) << requested.out;
  ASSERT_EQ(Custos("approval approve " + JsonString(requested.out, "approval_id"), "dpo", "").code,
            0);
  Outcome renewed = Custos("partner renew-cert acme-pay --cert " + new_cert, "pm", "");
  ASSERT_EQ(renewed.code, 0) << renewed.out;
  EXPECT_NE(renewed.out.find("partner acme-pay certificate renewed"), std::string::npos)
      << renewed.out;
  EXPECT_NE(renewed.out.find("replaced sha256 " + old_sha256), std::string::npos) << renewed.out;
  Outcome shown = Custos("--json partner show acme-pay", "pm", "");
  ASSERT_EQ(shown.code, 0) << shown.out;
  const auto view = nlohmann::json::parse(shown.out)["partners"][0];
  EXPECT_NE(view["cert_sha256"], old_sha256) << shown.out;
  EXPECT_EQ(view["previous_cert_sha256"], nlohmann::json::array({old_sha256})) << shown.out;

  const fs::path out = root_ / "acme.p7m";
  Outcome made = Custos("share create --agreement acme-2026 --out " + out.string(), "pm", "");
  ASSERT_EQ(made.code, 0) << made.out;
  EXPECT_NE(made.out.find("to partner acme-pay: 20 customers (0 left out"), std::string::npos)
      << made.out;
  const auto decrypt = [&](const std::string& who) {
    return std::system(fmt::format("openssl cms -decrypt -in {} -inkey {} -recip {} -out {} "
                                   ">/dev/null 2>&1",
                                   out.string(), (root_ / (who + "-key.pem")).string(),
                                   (root_ / (who + "-cert.pem")).string(),
                                   (root_ / (who + ".csv")).string())
                           .c_str());
  };
  EXPECT_EQ(decrypt("acme-new"), 0);
  EXPECT_NE(decrypt("acme"), 0) << "the replaced key opens no new share";
  EXPECT_EQ(ReadAll(root_ / "acme-new.csv").rfind("ref,phone,email\n", 0), 0u);
}

// `custos dsr verify|fulfil` (issue 18): the access request fulfilled writes the customer's
// report as JSON and HTML into --out, only once the requester is verified; the agent who
// opened the request neither verifies nor fulfils it (exit 4, naming the rule): the DPO does.
TEST_F(CliTest, TheDpoFulfilsAnAgentsAccessRequestIntoADirectory) {
  const std::string customer = InitWithACustomer();
  ASSERT_EQ(customer.size(), 26u);
  Outcome json = Custos(
      "--json dsr open --customer " + customer + " --kind access --reference TCK-45", "agent");
  ASSERT_EQ(json.code, 0) << json.out;
  const std::string id = JsonString(json.out, "request_id");
  const fs::path out = root_ / "report";
  const std::string fulfil = "dsr fulfil " + id + " --out " + out.string();
  Outcome early = Custos(fulfil, "dpo");
  EXPECT_NE(early.code, 0) << early.out;
  EXPECT_NE(early.out.find("not verified"), std::string::npos) << early.out;
  const std::string verify_args =
      "dsr verify " + id + " --method in_person_id_document --evidence-ref CASE-45";
  Outcome own = Custos(verify_args, "agent");
  EXPECT_EQ(own.code, 4) << own.out;
  EXPECT_NE(own.out.find("separation of duties"), std::string::npos) << own.out;
  Outcome verify = Custos(verify_args, "dpo");
  ASSERT_EQ(verify.code, 0) << verify.out;
  Outcome taken = Custos(fulfil, "agent");
  EXPECT_EQ(taken.code, 4) << taken.out;
  EXPECT_FALSE(fs::exists(out / "report.json"));
  Outcome done = Custos(fulfil, "dpo");
  ASSERT_EQ(done.code, 0) << done.out;
  EXPECT_NE(done.out.find("fulfilled"), std::string::npos) << done.out;
  const std::string report = ReadAll(out / "report.json");
  EXPECT_NE(report.find("custos.subject_access_report/1"), std::string::npos);
  EXPECT_NE(report.find(customer), std::string::npos);
  EXPECT_NE(ReadAll(out / "report.html").find("个人信息查阅报告"), std::string::npos);
  EXPECT_EQ(fs::status(out / "report.json").permissions() & fs::perms::others_read,
            fs::perms::none);
  Outcome list = Custos("--json dsr list --customer " + customer, "dpo", "legal_obligation");
  EXPECT_NE(list.out.find("\"step\":\"answered\""), std::string::npos) << list.out;
}

// `custos dsr open|list --json` say what separation of duties lets the caller do with each
// request, in the shape and with the values of the API's register (`caller`: may_verify,
// may_fulfil, refused_by): the agent who opened it may neither verify nor fulfil it and is told
// the rule; the DPO, another person, may. What it says is what the vault does.
TEST_F(CliTest, TheRegisterTellsTheOpenerTheRuleThatRefusesThemAndAnotherPersonThatTheyMay) {
  const std::string customer = InitWithACustomer();
  ASSERT_EQ(customer.size(), 26u);
  Outcome opened = Custos(
      "--json dsr open --customer " + customer + " --kind access --reference TCK-48", "agent");
  ASSERT_EQ(opened.code, 0) << opened.out;
  const nlohmann::json answer = nlohmann::json::parse(opened.out, nullptr, false);
  ASSERT_TRUE(answer.is_object()) << opened.out;
  const std::string id = answer.value("request_id", "");
  ASSERT_EQ(id.size(), 26u) << opened.out;
  ASSERT_TRUE(answer.contains("caller")) << opened.out;
  EXPECT_FALSE(answer["caller"].value("may_verify", true)) << opened.out;
  // The caller of `dsr list --json` as `staff`: the request's `caller` member.
  const auto caller_of = [&](const std::string& staff) {
    Outcome list = Custos("--json dsr list --customer " + customer, staff, "legal_obligation");
    EXPECT_EQ(list.code, 0) << list.out;
    const nlohmann::json doc = nlohmann::json::parse(list.out, nullptr, false);
    if (!doc.is_object() || !doc.contains("subject_requests")) return nlohmann::json();
    for (const nlohmann::json& r : doc["subject_requests"]) {
      if (r.value("request_id", "") == id && r.contains("caller")) return r["caller"];
    }
    return nlohmann::json();
  };
  const nlohmann::json opener = caller_of("agent");
  ASSERT_TRUE(opener.is_object()) << opener.dump();
  EXPECT_FALSE(opener.value("may_verify", true)) << opener.dump();
  EXPECT_FALSE(opener.value("may_fulfil", true)) << opener.dump();
  EXPECT_NE(opener.value("refused_by", "").find("separation of duties: whoever opened"),
            std::string::npos)
      << opener.dump();
  const nlohmann::json second = caller_of("dpo");
  ASSERT_TRUE(second.is_object()) << second.dump();
  EXPECT_TRUE(second.value("may_verify", false)) << second.dump();
  EXPECT_TRUE(second.value("may_fulfil", false)) << second.dump();
  EXPECT_EQ(second.value("refused_by", "?"), "") << second.dump();
  const std::string verify =
      "dsr verify " + id + " --method in_person_id_document --evidence-ref CASE-48";
  EXPECT_EQ(Custos(verify, "agent").code, 4);
  EXPECT_EQ(Custos(verify, "dpo").code, 0);
}

// `custos dsr fulfil` of a portability request writes the encrypted zip, its signed manifest
// and the letter, and prints the one-time passphrase once (nowhere in the files);
// `custos dsr refuse` answers with a letter and closes the request.
TEST_F(CliTest, APortabilityRequestPrintsItsPassphraseOnceAndARefusalWritesALetter) {
  const std::string customer = InitWithACustomer();
  ASSERT_EQ(customer.size(), 26u);
  Outcome json = Custos(
      "--json dsr open --customer " + customer + " --kind portability --reference TCK-46", "agent");
  ASSERT_EQ(json.code, 0) << json.out;
  const std::string id = JsonString(json.out, "request_id");
  ASSERT_EQ(
      Custos("dsr verify " + id + " --method callback_on_record --evidence-ref CASE-46", "dpo")
          .code,
      0);
  const fs::path out = root_ / "package";
  Outcome done = Custos("--json dsr fulfil " + id + " --out " + out.string(), "dpo");
  ASSERT_EQ(done.code, 0) << done.out;
  const std::string passphrase = JsonString(done.out, "passphrase");
  ASSERT_EQ(passphrase.size(), 29u) << done.out;
  for (const char* name : {"portability.zip", "manifest.json", "manifest.sig", "letter.html"}) {
    ASSERT_TRUE(fs::exists(out / name)) << name;
    EXPECT_EQ(ReadAll(out / name).find(passphrase), std::string::npos) << name;
  }
  EXPECT_NE(ReadAll(out / "manifest.json").find("custos.portability_manifest/1"),
            std::string::npos);

  Outcome other =
      Custos("--json dsr open --customer " + customer + " --kind copy --reference TCK-47", "agent");
  ASSERT_EQ(other.code, 0) << other.out;
  const std::string refused_id = JsonString(other.out, "request_id");
  const fs::path letter_dir = root_ / "refusal";
  Outcome refused =
      Custos("dsr refuse " + refused_id + " --reason \"identity could not be verified\" --out " +
                 letter_dir.string(),
             "agent");
  ASSERT_EQ(refused.code, 0) << refused.out;
  EXPECT_NE(ReadAll(letter_dir / "letter.html").find("identity could not be verified"),
            std::string::npos);
  Outcome list = Custos("--json dsr list --customer " + customer, "dpo", "legal_obligation");
  EXPECT_NE(list.out.find("\"outcome\":\"refused\""), std::string::npos) << list.out;
}

// `custos serve`'s scan loop and [ops] alert_command (issue 20 items 1 and 3), as a process: a
// honey record read over HTTPS while serving is an alert that a script on this machine receives
// as JSON; a read while the server is down is raised after the restart, from the stored
// position, and the first alert is not raised again; a failing command is logged, and serving
// goes on.
class ServeScanTest : public CliTest {
 protected:
  void TearDown() override {
    StopServe();
    CliTest::TearDown();
  }

  // custos.toml: any free port, a scan every 100 ms, and `command` as the alert command.
  void Configure(const std::string& command) {
    const fs::path toml = fs::path(vault_) / "custos.toml";
    std::string text = ReadAll(toml);
    auto replace = [&](const std::string& from, const std::string& to) {
      const size_t at = text.find(from);
      ASSERT_NE(at, std::string::npos) << from;
      text.replace(at, text.find('\n', at + 1) - at, to);
    };
    replace("\nport = ", "\nport = 0");
    replace("\nscan_interval_ms = ", "\nscan_interval_ms = 100");
    const size_t at = text.find("\nalert_command = ");
    if (at != std::string::npos) text.erase(at, text.find('\n', at + 1) - at);
    text.replace(text.find("\n[ops]\n"), 7, "\n[ops]\nalert_command = \"" + command + "\"\n");
    std::ofstream(toml, std::ios::trunc) << text;
  }

  // Starts `custos serve` (its output appended to serve.log) and waits for its URL.
  void StartServe() {
    log_ = root_ / "serve.log";
    const size_t from = fs::exists(log_) ? fs::file_size(log_) : 0;
    server_ = fork();
    ASSERT_GE(server_, 0);
    if (server_ == 0) {
      const std::string cmd = "CUSTOS_VAULT='" + vault_ + "' exec " CUSTOS_BINARY " serve >> '" +
                              log_.string() + "' 2>&1 </dev/null";
      execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 300 && url_.empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const std::string text = ReadAll(log_).substr(from);
      const size_t at = text.find("https://127.0.0.1:");
      if (at != std::string::npos && text.find("/v1", at) != std::string::npos) {
        url_ = text.substr(at, text.find("/v1", at) + 3 - at);
      }
    }
    ASSERT_FALSE(url_.empty()) << ReadAll(log_);
  }
  void StopServe() {
    if (server_ <= 0) return;
    kill(server_, SIGTERM);
    int status = 0;
    waitpid(server_, &status, 0);
    server_ = 0;
    url_.clear();
  }

  // The HTTP status of a GET of `path` under the server's /v1.
  std::string Get(const std::string& path, const std::string& token) {
    const std::string auth = token.empty() ? "" : " -H 'Authorization: Bearer " + token + "'";
    const std::string cmd = "curl -sk -o /dev/null -w '%{http_code}'" + auth +
                            " -H 'X-Custos-Purpose: customer_service' '" + url_ + path + "'";
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[64];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    pclose(p);
    return out;
  }

  // The lines of `file` once `ready` holds of its text (or after 30 s).
  static std::vector<std::string> WaitFor(const fs::path& file,
                                          const std::function<bool(const std::string&)>& ready) {
    std::string text;
    for (int i = 0; i < 300; ++i) {
      text = fs::exists(file) ? ReadAll(file) : "";
      if (ready(text)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) lines.push_back(line);
    }
    return lines;
  }
  // The lines naming a honey_record alert (the clock may add an off_hours one: the support
  // desk's hours are 08:00-20:00 at +08:00).
  static std::vector<std::string> Honey(const std::vector<std::string>& lines) {
    std::vector<std::string> out;
    for (const std::string& l : lines) {
      if (l.find("\"rule\":\"honey_record\"") != std::string::npos) out.push_back(l);
    }
    return out;
  }
  static size_t Count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  }

  pid_t server_ = 0;
  std::string url_;
  fs::path log_;
};

TEST_F(ServeScanTest, AlertsAreRaisedWhileServingSurviveARestartAndReachTheAlertCommand) {
  ASSERT_EQ(Custos("init " + vault_).code, 0);
  const fs::path alerts = root_ / "alerts.jsonl";
  // The script: the alert's JSON on its standard input, one line per alert.
  Configure("{ cat; echo; } >> '" + alerts.string() + "'");
  Outcome added = Custos("ops honey add 2 --seed 5", "sec");
  ASSERT_EQ(added.code, 0) << added.out;
  Outcome listed = Custos("--json ops honey list", "sec");
  ASSERT_EQ(listed.code, 0) << listed.out;
  const size_t first = listed.out.find("\"honey_records\":[\"");
  ASSERT_NE(first, std::string::npos) << listed.out;
  const std::string honey1 = listed.out.substr(first + 18, 26);
  const std::string honey2 = listed.out.substr(first + 18 + 29, 26);
  const std::string agent = TokenFor("agent");

  StartServe();
  ASSERT_EQ(Get("/customers/" + honey1, agent), "200");  // a customer like any other
  auto lines =
      Honey(WaitFor(alerts, [](const std::string& t) { return t.find("honey_record") != t.npos; }));
  ASSERT_EQ(lines.size(), 1u) << ReadAll(log_);
  EXPECT_EQ(JsonString(lines[0], "rule"), "honey_record");
  EXPECT_EQ(JsonString(lines[0], "severity"), "critical");
  EXPECT_EQ(JsonString(lines[0], "subject"), "customer:" + honey1);
  const std::string alert1 = JsonString(lines[0], "alert_id");
  ASSERT_EQ(alert1.size(), 26u) << lines[0];
  // The server logged it too (no customer value: ids and the rule).
  EXPECT_NE(ReadAll(log_).find("ops.alert"), std::string::npos);
  StopServe();

  // Read while the server is down; the next server starts from the stored position. Its
  // command fails (exit 3) after taking the alert: logged, serving goes on.
  Outcome down = Custos("customer get " + honey2 + " --json", "agent");
  ASSERT_EQ(down.code, 0) << down.out;
  Configure("{ cat; echo; } >> '" + alerts.string() + "'; exit 3");
  StartServe();
  lines =
      Honey(WaitFor(alerts, [](const std::string& t) { return Count(t, "honey_record") >= 2; }));
  ASSERT_EQ(lines.size(), 2u) << ReadAll(log_);
  EXPECT_EQ(JsonString(lines[1], "subject"), "customer:" + honey2);
  EXPECT_NE(JsonString(lines[1], "alert_id"), alert1);
  WaitFor(log_, [](const std::string& t) { return t.find("ops.alert_command.failed") != t.npos; });
  const std::string log = ReadAll(log_);
  EXPECT_NE(log.find("ops.alert_command.failed"), std::string::npos) << log;
  EXPECT_EQ(Get("/health", ""), "200");
  // Several scans later: still two alerts, none raised twice.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(Count(ReadAll(alerts), "honey_record"), 2u);
  Outcome stored = Custos("--json ops alerts", "sec");
  ASSERT_EQ(stored.code, 0) << stored.out;
  EXPECT_EQ(Count(stored.out, "\"rule\":\"honey_record\""), 2u) << stored.out;
}

// `custos serve`'s daily doctor (docs/dpo.md), a daily [backup] every and a daily [lifecycle]
// plan_every: a server started on a vault where none of them ever ran runs each at once, as the
// system job; a server restarted within the day runs none again (each schedule counts from the last
// run, so restarts more often than daily do not keep them from running daily).
TEST_F(ServeScanTest, TheDailyJobsRunAtOnceWhenDueAndNotAgainAfterARestart) {
  ASSERT_EQ(Custos("init " + vault_).code, 0);
  Configure("cat > /dev/null");
  // A daily backup too: the first one at once (none yet), none again after the restart.
  const fs::path toml = fs::path(vault_) / "custos.toml";
  std::string text = ReadAll(toml);
  const size_t every = text.find("\nevery = \"off\"");
  ASSERT_NE(every, std::string::npos);
  text.replace(every, 14, "\nevery = \"1d\"");
  const size_t plan_every = text.find("\nplan_every = \"off\"");
  ASSERT_NE(plan_every, std::string::npos);
  text.replace(plan_every, 19, "\nplan_every = \"1d\"");
  std::ofstream(toml, std::ios::trunc) << text;
  StartServe();
  WaitFor(log_, [](const std::string& t) {
    return t.find("\"doctor.scheduled\"") != t.npos && t.find("\"backup.scheduled\"") != t.npos &&
           t.find("\"retention.plan.scheduled\"") != t.npos;
  });
  StopServe();
  EXPECT_EQ(Count(ReadAll(log_), "\"doctor.scheduled\""), 1u) << ReadAll(log_);
  EXPECT_EQ(Count(ReadAll(log_), "\"backup.scheduled\""), 1u) << ReadAll(log_);
  EXPECT_EQ(Count(ReadAll(log_), "\"retention.plan.scheduled\""), 1u) << ReadAll(log_);
  Outcome runs = Custos("audit query --action doctor.run --actor system", "dpo");
  ASSERT_EQ(runs.code, 0) << runs.out;
  EXPECT_EQ(Count(runs.out, " system doctor.run "), 1u) << runs.out;

  StartServe();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  StopServe();
  EXPECT_EQ(Count(ReadAll(log_), "\"doctor.scheduled\""), 1u) << ReadAll(log_);
  EXPECT_EQ(Count(ReadAll(log_), "\"backup.scheduled\""), 1u) << ReadAll(log_);
  EXPECT_EQ(Count(ReadAll(log_), "\"retention.plan.scheduled\""), 1u) << ReadAll(log_);
  runs = Custos("audit query --action doctor.run --actor system", "dpo");
  ASSERT_EQ(runs.code, 0) << runs.out;
  EXPECT_EQ(Count(runs.out, " system doctor.run "), 1u) << runs.out;
}

}  // namespace

namespace {

// YYYY-MM-DD (UTC) `days` from today: report periods and review dates that hold whenever the
// test runs.
std::string DayFromToday(int days) {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() +
                                                             std::chrono::hours(24 * days));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

nlohmann::json ParseJson(const std::string& text) {
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

// `custos report NAME` (issue 19; docs/dpo.md "Reports"): the DPO writes the access review as
// JSON into a file only its owner reads, naming the report and the days asked for; CSV and
// HTML in either language; every bad option or rule exits 3 naming it, and writes nothing; a
// staff member without report.read is refused.
TEST_F(CliTest, ReportWritesAnOwnerOnlyFileNamingTheReportAndItsDays) {
  const std::string id = InitWithACustomer();
  ASSERT_EQ(id.size(), 26u);
  ASSERT_EQ(Custos("customer get " + id, "agent").code, 0);
  const std::string from = DayFromToday(-1);
  const std::string to = DayFromToday(1);
  const std::string period = " --from " + from + " --to " + to;
  const fs::path json_file = root_ / "access-review.json";
  Outcome written = Custos(
      "report access-review" + period + " --format json --out " + json_file.string(), "dpo", "");
  ASSERT_EQ(written.code, 0) << written.out;
  EXPECT_NE(written.out.find("written to " + json_file.string()), std::string::npos) << written.out;
  ASSERT_TRUE(fs::exists(json_file));
  EXPECT_EQ(fs::status(json_file).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  const nlohmann::json doc = ParseJson(ReadAll(json_file));
  ASSERT_TRUE(doc.is_object()) << ReadAll(json_file);
  EXPECT_EQ(doc.value("report", ""), "access-review");
  EXPECT_EQ(doc.value("from", ""), from);
  EXPECT_EQ(doc.value("to", ""), to);
  EXPECT_EQ(doc.value("generated_by", ""), "dpo");
  // The support agent's one read is in the staff table.
  const nlohmann::json* staff = nullptr;
  for (const auto& t : doc["tables"]) {
    if (t.value("id", "") == "staff") staff = &t;
  }
  ASSERT_NE(staff, nullptr) << doc.dump();
  bool found = false;
  for (const auto& row : (*staff)["rows"]) {
    if (row[1] == "agent") {
      found = true;
      EXPECT_EQ(row[0], "support_agent");
      EXPECT_EQ(row[2], "1") << row.dump();
    }
  }
  EXPECT_TRUE(found) << staff->dump();

  const fs::path csv_file = root_ / "access-review.csv";
  Outcome csv =
      Custos("report access-review" + period + " --format csv --lang en --out " + csv_file.string(),
             "dpo", "");
  ASSERT_EQ(csv.code, 0) << csv.out;
  const std::string csv_text = ReadAll(csv_file);
  EXPECT_EQ(csv_text.rfind("# report access-review " + from + " " + to, 0), 0u) << csv_text;
  EXPECT_EQ(fs::status(csv_file).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  Outcome en = Custos("report access-review" + period + " --format html --lang en", "dpo", "");
  ASSERT_EQ(en.code, 0) << en.out;
  EXPECT_NE(en.out.find("<html"), std::string::npos);
  EXPECT_NE(en.out.find("Access review"), std::string::npos);
  Outcome zh = Custos("report access-review" + period, "dpo", "");  // html, zh by default
  ASSERT_EQ(zh.code, 0) << zh.out;
  EXPECT_NE(zh.out.find("访问审查"), std::string::npos);

  const fs::path refused_file = root_ / "refused.json";
  const std::string out = " --out " + refused_file.string();
  Outcome unknown = Custos("report access-audit" + period + " --format json" + out, "dpo", "");
  EXPECT_EQ(unknown.code, 3) << unknown.out;
  EXPECT_NE(unknown.out.find("name: must be processing, access-review"), std::string::npos)
      << unknown.out;
  Outcome format = Custos("report access-review" + period + " --format pdf" + out, "dpo", "");
  EXPECT_EQ(format.code, 3) << format.out;
  EXPECT_NE(format.out.find("--format: must be html, json or csv"), std::string::npos)
      << format.out;
  Outcome lang = Custos("report access-review" + period + " --lang fr" + out, "dpo", "");
  EXPECT_EQ(lang.code, 3) << lang.out;
  EXPECT_NE(lang.out.find("--lang: must be zh or en"), std::string::npos) << lang.out;
  Outcome reversed = Custos(
      "report access-review --from " + to + " --to " + from + " --format json" + out, "dpo", "");
  EXPECT_EQ(reversed.code, 3) << reversed.out;
  EXPECT_NE(reversed.out.find("to: must be after from"), std::string::npos) << reversed.out;
  Outcome bad_day = Custos(
      "report access-review --from 2025-13-01 --to " + to + " --format json" + out, "dpo", "");
  EXPECT_EQ(bad_day.code, 3) << bad_day.out;
  EXPECT_NE(bad_day.out.find("--from: "), std::string::npos) << bad_day.out;
  Outcome missing = Custos("report access-review --from " + from + out, "dpo", "");
  EXPECT_EQ(missing.code, 2) << "--to is required: " << missing.out;
  Outcome agent = Custos("report access-review" + period + " --format json" + out, "agent");
  EXPECT_EQ(agent.code, 4) << "a support agent holds no report.read: " << agent.out;
  EXPECT_FALSE(fs::exists(refused_file)) << "a refused report writes no file";
}

// `custos doctor` (docs/dpo.md "Every morning: the doctor"): the exit code is the worst finding
// — 1 for warnings (a new vault has no backup), 2 for a failure (the configured witness file is
// missing), 0 once each is fixed — and --json prints GET /v1/health/details's shape.
TEST_F(CliTest, DoctorExitsWithItsWorstFindingAndPrintsTheApisShape) {
  ASSERT_EQ(Custos("init " + vault_).code, 0);
  Outcome first = Custos("--json doctor", "dpo", "");
  EXPECT_EQ(first.code, 1) << first.out;
  const nlohmann::json doc = ParseJson(first.out);
  ASSERT_TRUE(doc.is_object()) << first.out;
  EXPECT_EQ(doc.value("status", ""), "warning") << first.out;
  EXPECT_GT(doc.value("audit_seq", int64_t{0}), 0);
  EXPECT_GT(doc.value("at_ms", int64_t{0}), 0);
  ASSERT_TRUE(doc.contains("counts") && doc["counts"].is_object()) << first.out;
  for (const char* severity : {"ok", "info", "warning", "failure"}) {
    EXPECT_TRUE(doc["counts"].contains(severity)) << severity;
  }
  EXPECT_EQ(doc["counts"].value("failure", -1), 0) << first.out;
  EXPECT_GE(doc["counts"].value("warning", 0), 1) << first.out;
  ASSERT_TRUE(doc.contains("findings") && doc["findings"].is_array()) << first.out;
  std::map<std::string, std::string> severity_of;
  for (const auto& f : doc["findings"]) {
    for (const char* key : {"id", "severity", "message", "fix"}) {
      EXPECT_TRUE(f.contains(key)) << f.dump() << " lacks " << key;
    }
    severity_of[f.value("id", "")] = f.value("severity", "");
  }
  EXPECT_EQ(severity_of["backup.age"], "warning") << first.out;
  EXPECT_EQ(severity_of["files.permissions"], "ok") << first.out;
  Outcome text = Custos("doctor", "dpo", "");
  EXPECT_EQ(text.code, 1) << text.out;
  EXPECT_NE(text.out.find("backup.age"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("no backup of this vault"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("0 failures"), std::string::npos) << text.out;

  // Each warning fixed: a verified backup, an external witness — but a witness file that is
  // not there fails the audit check (removed, or its mount gone): 2.
  Outcome backup = Custos("--json backup", "admin", "");
  ASSERT_EQ(backup.code, 0) << backup.out;
  ASSERT_EQ(Custos("backup verify " + JsonString(backup.out, "path"), "admin", "").code, 0);
  const fs::path toml = fs::path(vault_) / "custos.toml";
  const fs::path witness = root_ / "witness";
  std::string config = ReadAll(toml);
  const size_t audit = config.find("\n[audit]\n");
  ASSERT_NE(audit, std::string::npos);
  config.insert(audit + 9, "witness_file = \"" + witness.string() + "\"\n");
  std::ofstream(toml, std::ios::trunc) << config;
  Outcome failing = Custos("doctor", "dpo", "");
  EXPECT_EQ(failing.code, 2) << failing.out;
  EXPECT_NE(failing.out.find("audit.verify"), std::string::npos) << failing.out;
  EXPECT_NE(failing.out.find("witness file " + witness.string() + " is missing"), std::string::npos)
      << failing.out;
  EXPECT_NE(failing.out.find("1 failures"), std::string::npos) << failing.out;
  // The run's own seal at exit appended its head, creating the file: removed again.
  EXPECT_TRUE(fs::exists(witness));
  fs::remove(witness);
  Outcome failing_json = Custos("--json doctor", "dpo", "");
  EXPECT_EQ(failing_json.code, 2) << failing_json.out;
  EXPECT_EQ(ParseJson(failing_json.out).value("status", ""), "failure") << failing_json.out;

  // The witness file in place (written by the last run's seal) and two security administrators
  // deciding approvals besides the DPO (access.approvers): no warning, no failure (a notice at
  // most), 0.
  ASSERT_TRUE(fs::exists(witness));
  ASSERT_FALSE(TokenFor("sec").empty());
  ASSERT_FALSE(TokenFor("sec2").empty());
  Outcome healthy = Custos("--json doctor", "dpo", "");
  EXPECT_EQ(healthy.code, 0) << healthy.out;
  const nlohmann::json healthy_doc = ParseJson(healthy.out);
  ASSERT_TRUE(healthy_doc.contains("counts")) << healthy.out;
  EXPECT_EQ(healthy_doc["counts"].value("warning", -1), 0) << healthy.out;
  EXPECT_EQ(healthy_doc["counts"].value("failure", -1), 0) << healthy.out;

  Outcome agent = Custos("doctor", "agent");
  EXPECT_EQ(agent.code, 4) << "a support agent holds no doctor.run: " << agent.out;
}

// `custos pia add|approve|list|show` (PIPL Art. 55; docs/dpo.md "Impact assessments"): a
// partnership manager drafts, the DPO (a second person) approves; the drafter may never
// approve their own, whether or not their role could approve another's.
TEST_F(CliTest, AnImpactAssessmentIsDraftedAndApprovedByASecondPersonNeverItsAuthor) {
  ASSERT_EQ(Custos("init " + vault_).code, 0);
  const std::string review = DayFromToday(365);
  const std::string spec =
      " --purposes risk_control --fields phone,email --risks "
      "'re-identification by the partner' --measures 'fields limited, "
      "encrypted to the partner' --review " +
      review;
  Outcome drafted = Custos("--json pia add --title 'fraud screening with Acme'" + spec, "pm", "");
  ASSERT_EQ(drafted.code, 0) << drafted.out;
  const nlohmann::json draft = ParseJson(drafted.out);
  const std::string pia = draft.value("pia_id", "");
  ASSERT_EQ(pia.size(), 26u) << drafted.out;
  EXPECT_EQ(draft.value("state", ""), "draft");
  EXPECT_EQ(draft.value("author", ""), "pm");
  EXPECT_EQ(draft["scope"]["purposes"], nlohmann::json::array({"risk_control"})) << drafted.out;
  Outcome own = Custos("pia approve " + pia, "pm", "");
  EXPECT_EQ(own.code, 4) << "the drafter approves nothing of their own: " << own.out;

  Outcome approved = Custos("--json pia approve " + pia, "dpo", "");
  ASSERT_EQ(approved.code, 0) << approved.out;
  const nlohmann::json a = ParseJson(approved.out);
  EXPECT_EQ(a.value("state", ""), "approved") << approved.out;
  EXPECT_EQ(a.value("approver", ""), "dpo");
  EXPECT_EQ(a.value("author", ""), "pm");
  EXPECT_EQ(Custos("pia approve " + pia, "dpo", "").code, 6) << "approved once";

  // The DPO may approve, but not what the DPO drafted.
  Outcome dpo_draft = Custos("--json pia add --title 'churn analytics'" + spec, "dpo", "");
  ASSERT_EQ(dpo_draft.code, 0) << dpo_draft.out;
  const std::string dpo_pia = JsonString(dpo_draft.out, "pia_id");
  Outcome self = Custos("pia approve " + dpo_pia, "dpo", "");
  EXPECT_EQ(self.code, 4) << self.out;
  EXPECT_NE(self.out.find("the author of an impact assessment cannot approve it"),
            std::string::npos)
      << self.out;

  Outcome list = Custos("--json pia list", "dpo", "");
  ASSERT_EQ(list.code, 0) << list.out;
  std::map<std::string, std::string> state_of;
  const nlohmann::json pias = ParseJson(list.out);
  for (const auto& p : pias["pias"]) {
    state_of[p.value("pia_id", "")] = p.value("state", "");
  }
  EXPECT_EQ(state_of, (std::map<std::string, std::string>{{pia, "approved"}, {dpo_pia, "draft"}}))
      << list.out;
  Outcome show = Custos("pia show " + pia, "pm", "");
  ASSERT_EQ(show.code, 0) << show.out;
  EXPECT_NE(show.out.find("approver dpo"), std::string::npos) << show.out;

  Outcome bad = Custos(
      "pia add --title 'unknown purpose' --purposes telepathy --risks 'some risk' --measures "
      "'some measure' --review " +
          review,
      "pm", "");
  EXPECT_EQ(bad.code, 3) << bad.out;
  EXPECT_NE(bad.out.find("purposes: each must be a purpose of the catalogue"), std::string::npos)
      << bad.out;
  EXPECT_EQ(Custos("pia list", "agent").code, 4) << "a support agent reads no assessment";
}

// `custos incident open|list|contain|recover|assess|close|show` and `custos violation
// add|list|close` (issue 20; docs/security_operations.md): the security administrator opens an
// incident, revokes the staff member's tokens (which then stop working), records a recovery
// step and assesses the impact; only the DPO closes it. The violation is recorded and listed;
// a sales clerk may do none of it.
TEST_F(CliTest, AnIncidentIsOpenedContainedRecoveredAndClosedAndAViolationRecorded) {
  const std::string customer = InitWithACustomer();
  ASSERT_EQ(customer.size(), 26u);
  ASSERT_EQ(Custos("customer list", "agent").code, 0);
  Outcome opened = Custos(
      "--json incident open --title 'token pasted into a ticket' --severity high --staff agent",
      "sec", "");
  ASSERT_EQ(opened.code, 0) << opened.out;
  const std::string incident = JsonString(opened.out, "incident_id");
  ASSERT_EQ(incident.size(), 26u) << opened.out;
  EXPECT_EQ(JsonString(opened.out, "status"), "open") << opened.out;
  EXPECT_EQ(Custos("incident open --title 'not mine to open'", "clerk", "").code, 4);
  Outcome listed = Custos("incident list --open", "dpo", "");
  ASSERT_EQ(listed.code, 0) << listed.out;
  EXPECT_NE(listed.out.find(incident), std::string::npos) << listed.out;

  Outcome bad_action =
      Custos("incident contain " + incident + " --action wipe --target agent", "sec", "");
  EXPECT_EQ(bad_action.code, 3) << bad_action.out;
  EXPECT_NE(bad_action.out.find("action: must be revoke_tokens"), std::string::npos)
      << bad_action.out;
  Outcome contained =
      Custos("incident contain " + incident + " --action revoke_tokens --target agent", "sec", "");
  ASSERT_EQ(contained.code, 0) << contained.out;
  EXPECT_EQ(Custos("customer list", "agent").code, 4) << "the agent's token was revoked";
  Outcome recovered = Custos(
      "incident recover " + incident + " --step 'ticket attachment purged from the helpdesk'",
      "sec", "");
  ASSERT_EQ(recovered.code, 0) << recovered.out;
  Outcome early = Custos("incident close " + incident + " --summary 'no customer read'", "dpo", "");
  EXPECT_EQ(early.code, 6) << early.out;
  EXPECT_NE(early.out.find("assess its impact before closing it"), std::string::npos) << early.out;
  ASSERT_EQ(Custos("incident assess " + incident, "sec", "").code, 0);
  EXPECT_EQ(Custos("incident close " + incident + " --summary 'no customer read'", "sec", "").code,
            4)
      << "closing is the DPO's word (incident.close)";
  Outcome closed =
      Custos("incident close " + incident + " --summary 'no customer read'", "dpo", "");
  ASSERT_EQ(closed.code, 0) << closed.out;
  Outcome shown = Custos("--json incident show " + incident, "dpo", "");
  ASSERT_EQ(shown.code, 0) << shown.out;
  const nlohmann::json shown_doc = ParseJson(shown.out);
  EXPECT_EQ(shown_doc.value("status", ""), "closed") << shown.out;
  EXPECT_EQ(shown_doc.value("closed_by", ""), "dpo");
  std::vector<std::string> kinds;
  for (const auto& s : shown_doc["steps"]) kinds.push_back(s.value("kind", ""));
  EXPECT_EQ(kinds, (std::vector<std::string>{"open", "contain", "recover", "assess", "close"}))
      << shown.out;
  Outcome still_open = Custos("incident list --open", "dpo", "");
  ASSERT_EQ(still_open.code, 0) << still_open.out;
  EXPECT_EQ(still_open.out.find(incident), std::string::npos) << still_open.out;

  Outcome recorded = Custos(
      "--json violation add --staff agent --rule 'P4a: a token shared' "
      "--handling warning --incident " +
          incident,
      "sec", "");
  ASSERT_EQ(recorded.code, 0) << recorded.out;
  const std::string violation = JsonString(recorded.out, "violation_id");
  ASSERT_EQ(violation.size(), 26u) << recorded.out;
  Outcome bad_handling =
      Custos("violation add --staff agent --rule 'P4a: a token shared' --handling fine", "sec", "");
  EXPECT_EQ(bad_handling.code, 3) << bad_handling.out;
  EXPECT_NE(bad_handling.out.find("handling: must be one of"), std::string::npos)
      << bad_handling.out;
  Outcome nobody =
      Custos("violation add --staff nobody --rule 'P4a: x y' --handling warning", "sec", "");
  EXPECT_EQ(nobody.code, 5) << nobody.out;
  Outcome violations = Custos("--json violation list --staff agent", "dpo", "");
  ASSERT_EQ(violations.code, 0) << violations.out;
  const nlohmann::json rows = ParseJson(violations.out)["violations"];
  ASSERT_EQ(rows.size(), 1u) << violations.out;
  EXPECT_EQ(rows[0].value("violation_id", ""), violation);
  EXPECT_EQ(rows[0].value("incident_id", ""), incident);
  EXPECT_EQ(rows[0].value("handling", ""), "warning");
  EXPECT_EQ(rows[0].value("status", ""), "open");
  EXPECT_EQ(rows[0].value("recorded_by", ""), "sec");
  EXPECT_EQ(
      Custos("violation add --staff agent --rule 'P4a: x y' --handling warning", "clerk", "").code,
      4);
  EXPECT_EQ(Custos("violation list", "clerk", "").code, 4);
  EXPECT_EQ(Custos("violation close " + violation, "dpo", "").code, 4)
      << "the DPO reads violations, the security administrator handles them";
  ASSERT_EQ(Custos("violation close " + violation, "sec", "").code, 0);
  Outcome open_violations = Custos("violation list --open", "dpo", "");
  ASSERT_EQ(open_violations.code, 0) << open_violations.out;
  EXPECT_EQ(open_violations.out.find(violation), std::string::npos) << open_violations.out;
}

}  // namespace
