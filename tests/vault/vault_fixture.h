// A fresh vault in a temporary directory, with an injected clock, for service-level tests.
//
// The backend: SQLite, or with CUSTOS_TEST_BACKEND=postgres the PostgreSQL server in
// CUSTOS_TEST_PG_URL (scripts/pg_cluster.sh), each vault in a fresh schema of its own. CTest
// runs vault_test both ways (tests/vault/CMakeLists.txt). Without a URL the PostgreSQL run
// skips, unless CUSTOS_REQUIRE_PG=1.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "audit/audit_log.h"
#include "vault/vault.h"

namespace custos::vault::testing {

// The rows of a CSV text without quoting (the tests' exports, releases and packages hold no
// comma inside a cell): each line split at every comma.
inline std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::string cell;
    for (char c : line) {
      if (c == ',') {
        cells.push_back(cell);
        cell.clear();
      } else {
        cell.push_back(c);
      }
    }
    cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

inline std::filesystem::path MakeTempDir(const std::string& prefix) {
  std::random_device rd;
  auto dir = std::filesystem::temp_directory_path() /
             (prefix + "-" + std::to_string(rd()) + std::to_string(rd()));
  std::filesystem::create_directories(dir);
  return dir;
}

// True when the vaults of these tests keep their rows on PostgreSQL.
inline bool OnPostgres() {
  const char* backend = std::getenv("CUSTOS_TEST_BACKEND");
  return backend != nullptr && std::string(backend) == "postgres";
}

inline std::string TestPgUrl() {
  const char* url = std::getenv("CUSTOS_TEST_PG_URL");
  return url != nullptr ? url : "";
}

// Points `init` at the test backend: on PostgreSQL, a schema no other vault uses.
inline void UseTestBackend(InitOptions& init) {
  if (!OnPostgres()) return;
  static std::atomic<int> counter{0};
  std::random_device rd;
  init.store_url = TestPgUrl();
  init.store_schema = "vt_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
                      std::to_string(rd() % 1000000);
}

inline std::string ReadFileBytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class VaultTest : public ::testing::Test {
 public:
  // A valid customer (GB 11643 check character computed by hand: 11010519491231002X is a woman
  // born 1949-12-31 in 北京市朝阳区).
  static FieldValues WangFang() {
    return {{"name", "王芳"},
            {"gender", "女"},
            {"birth_date", "1949-12-31"},
            {"id_number", "11010519491231002x"},
            {"phone", "+86 138-0013-8000"},
            {"email", "Zhang.San@Example.COM"},
            {"address", "北京市朝阳区建国路88号"},
            {"interests", "理财"}};
  }
  // A second customer: WangFang's fields with another phone number and e-mail address.
  static FieldValues AnotherCustomer() {
    FieldValues other = WangFang();
    other["phone"] = "+86 139-0013-8000";
    other["email"] = "other@example.com";
    return other;
  }

  // The consent given at collection (P3.1a) under the notice `custos init` publishes (v1).
  static CollectionConsent Consented(std::vector<std::string> purposes = {"customer_service",
                                                                          "account_management"},
                                     bool sensitive = true, bool third_party = false) {
    CollectionConsent c;
    c.notice_version = 1;
    c.purposes = std::move(purposes);
    c.sensitive = sensitive;
    c.third_party = third_party;
    c.evidence_ref = "form-2025-0001";
    return c;
  }
  // Import options carrying the same consent for every row.
  static ImportOptions Consenting() {
    ImportOptions opt;
    opt.notice_version = 1;
    opt.consent_purposes = {"customer_service", "account_management"};
    opt.sensitive_consent = true;
    return opt;
  }

 protected:
  void SetUp() override { InitVault("aes256gcm"); }
  void TearDown() override {
    vault_.reset();
    std::filesystem::remove_all(root_);
  }

  void InitVault(const std::string& suite) {
    if (OnPostgres() && TestPgUrl().empty()) {
      const char* required = std::getenv("CUSTOS_REQUIRE_PG");
      if (required != nullptr && std::string(required) == "1") {
        FAIL() << "CUSTOS_TEST_BACKEND=postgres needs CUSTOS_TEST_PG_URL (scripts/pg_cluster.sh)";
      }
      GTEST_SKIP() << "CUSTOS_TEST_BACKEND=postgres but CUSTOS_TEST_PG_URL is unset";
    }
    vault_.reset();
    if (!root_.empty()) std::filesystem::remove_all(root_);
    root_ = MakeTempDir("custos-vault-test");
    dir_ = root_ / "vault";
    InitOptions init;
    init.dir = dir_;
    init.suite = suite;
    init.now_ms = Clock();
    if (!passphrase_.empty()) {
      init.provider = "passphrase";
      init.passphrase = passphrase_;
    }
    UseTestBackend(init);
    WithDpoPassword(init);
    auto report = Vault::Init(init);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    admin_token_ = report->admin_token;
    if (ReadJournalForced()) UseReadJournal();
    AddTestOperatorRole();
    Reopen();
    CreateStaff();
  }

  // The DPO has set their own first password on the vault host, as after `custos init`: an
  // account with its init token only decides no role grant or credential reset. InitVault
  // stores it hashed already (kDpoPasswordHash, InitOptions::TEST_dpo_password_hash: no Argon2
  // run, so no Botan thread pool, in the test process); a fixture with its own init sets it.
  static constexpr const char* kDpoPassword = "the dpo's own password 2026";
  static constexpr const char* kDpoPasswordHash =
      "$argon2id$v=19$m=19456,t=2,p=1$w5xz7RqcTMefmz6n9lH0zA$"
      "6bIBc8YDF6TKJ8vjPoeIDntMjMjUvB3tNZikzPPE6YY";
  bool dpo_password_set_ = false;
  // `init` makes the vault with the DPO's password already set (for a fixture with its own init).
  void WithDpoPassword(InitOptions& init) {
    init.TEST_dpo_password_hash = kDpoPasswordHash;
    dpo_password_set_ = true;
  }
  void SetDpoPassword() {
    if (vault_ == nullptr || dpo_password_set_) return;
    Status st = vault_->staff().SetPassword(Context{"dpo", "", Channel::kCli, "req-setup"}, "dpo",
                                            kDpoPassword);
    ASSERT_TRUE(st.ok()) << st.ToString();
    dpo_password_set_ = true;
  }

  // CUSTOS_TEST_READ_JOURNAL=1 runs every vault test with [audit] read_journal on (a SQLite
  // vault): the read journal must not change what any reader of the audit log sees.
  static bool ReadJournalForced() {
    const char* forced = std::getenv("CUSTOS_TEST_READ_JOURNAL");
    return forced != nullptr && std::string(forced) == "1" && !OnPostgres();
  }
  // Sets [audit] read_journal in the vault's custos.toml, on or off (takes effect at the next
  // open); the vault's custos.toml must not set it already.
  void UseReadJournal(bool on = true) {
    const std::filesystem::path path = dir_ / "custos.toml";
    std::string text = ReadFileBytes(path);
    const std::string line = on ? "read_journal = true\n" : "read_journal = false\n";
    if (text.find("\n" + line) != std::string::npos) return;
    const std::string anchor = "\n[audit]\n";
    const size_t at = text.find(anchor);
    ASSERT_NE(at, std::string::npos);
    text.insert(at + anchor.size(), line);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  }

  // The data-path tests are about intake, sealing and audit, not about who may do what, so
  // their actor ("operator", Agent()) has a test-only role granting every data action on every
  // level for every purpose, plus the DPO's and customer service's roles. Appended to this
  // vault's custos.toml only; the shipped policy is asserted by the authorisation matrix
  // (authorization_matrix_test.cpp) with the realistic staff below.
  void AddTestOperatorRole() {
    RaiseSearchLimit();
    std::ofstream toml(dir_ / "custos.toml", std::ios::app);
    toml << "\n[roles.test_operator]\nlabel = \"test\"\ndescription = \"tests only\"\n"
            "[[roles.test_operator.grants]]\n"
            "actions = [\"customer.create\", \"customer.read\", \"customer.update\", "
            "\"customer.search\", \"customer.list\", \"customer.export\", \"customer.import\", "
            "\"txn.add\", \"txn.read\", \"note.add\", \"note.read\"]\n"
            "levels = [\"general\", \"internal\", \"confidential\"]\n"
            "purposes = [\"customer_service\", \"account_management\", \"marketing\", "
            "\"risk_control\", \"analytics\", \"legal_obligation\"]\n"
            "requires_training = \"privacy-basics\"\n"
            "[posts.test_operator]\nlabel = \"test\"\n"
            "roles = [\"test_operator\", \"dpo\", \"customer_service\"]\n";
  }

  // Suites that search hundreds of times (concurrency, the authorisation matrix) are not
  // about the hourly search limit (docs/security.md, "Search limits"): the test vault allows
  // 100,000 an hour; SecurityTest sets its own.
  void RaiseSearchLimit() {
    const std::filesystem::path path = dir_ / "custos.toml";
    std::string text;
    {
      std::ifstream in(path);
      text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    const std::string from = "search_limit_per_hour = 60";
    const size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << "custos init writes the search limit";
    text.replace(at, from.size(), "search_limit_per_hour = 100000");
    std::ofstream(path, std::ios::trunc) << text;
  }

  // Staff of the shipped posts, each with valid privacy training (P5b): the operator of the
  // data-path tests, a support agent, a sales representative and a risk officer.
  // Staff members created by the administrator: an id (also the display name), a post and
  // the one role it holds; a role under dual control (DualControlRole) is first granted by a
  // role_grant the DPO approves.
  struct NewStaff {
    const char* id;
    const char* post;
    const char* role;
  };
  void AddStaff(std::initializer_list<NewStaff> members) {
    const Context admin{"admin", "", Channel::kCli, "req-setup"};
    for (const NewStaff& m : members) {
      if (DualControlRole(m.role)) ApproveRoleGrant(m.id, {m.role});
      Status st = vault_->staff().Create(admin, StaffSpec{m.id, m.id, m.post, {m.role}, ""});
      ASSERT_TRUE(st.ok()) << m.id << ": " << st.ToString();
    }
  }

  void CreateStaff() {
    if (vault_ == nullptr) return;
    SetDpoPassword();
    if (HasFatalFailure()) return;
    const Context admin{"admin", "account_management", Channel::kCli, "req-setup"};
    for (auto [id, post, role] : {std::tuple{"operator", "test_operator", "test_operator"},
                                  std::tuple{"li.na", "support_agent", "customer_service"},
                                  std::tuple{"wang.wei", "sales_rep", "sales"},
                                  std::tuple{"zhao.min", "risk_officer", "risk_officer"}}) {
      StaffSpec spec{id, id, post, {role}, ""};
      // The operator's post also gives the DPO's role, which decides approvals.
      if (std::string_view(role) == "test_operator") ApproveRoleGrant(id, {role, "dpo"});
      if (std::string_view(role) == "risk_officer") ApproveRoleGrant(id, {role});
      Status st = vault_->staff().Create(admin, spec);
      ASSERT_TRUE(st.ok()) << st.ToString();
      // Valid for years: a child process opening the vault runs on the system clock.
      const int64_t now = now_ms_.load();
      st = vault_->staff().RecordTraining(
          admin, TrainingRecord{id, "privacy-basics", now - kDayMs, now + 3650 * kDayMs, ""});
      ASSERT_TRUE(st.ok()) << st.ToString();
    }
  }

  // Dual control (issue 12): a role reading confidential fields unmasked or deciding approvals
  // is given only with an approved role_grant: the administrator asks, the DPO approves.
  void ApproveRoleGrant(const std::string& id, const std::vector<std::string>& roles) {
    ApprovalRequest r;
    r.kind = "role_grant";
    r.justification = "test staff need this role for the suite";
    r.staff_id = id;
    r.roles = roles;
    AdminAsksDpoApproves(r);
  }

  // The administrator's request `r` (for an hour), approved by the DPO.
  void AdminAsksDpoApproves(ApprovalRequest r) {
    SetDpoPassword();
    r.duration_ms = 3600 * 1000;
    auto approval =
        vault_->approvals().Request(Context{"admin", "", Channel::kCli, "req-setup"}, r);
    ASSERT_TRUE(approval.ok()) << approval.status().ToString();
    Status st =
        vault_->approvals().Approve(Context{"dpo", "", Channel::kCli, "req-setup"}, *approval);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  // The shipped roles whose grant is dual-controlled: they read confidential fields unmasked
  // (risk_officer, the tests' test_operator) or decide approvals (dpo, security_admin).
  static bool DualControlRole(std::string_view role) {
    return role == "risk_officer" || role == "dpo" || role == "security_admin" ||
           role == "test_operator";
  }

  // The administrator creates a staff member whose roles need dual control (a security
  // administrator, who decides approvals): a role_grant for `spec.roles`, approved by the DPO,
  // then the account.
  void CreateGranted(const StaffSpec& spec) {
    ApproveRoleGrant(spec.staff_id, spec.roles);
    Status st = vault_->staff().Create(Context{"admin", "", Channel::kCli, "req-setup"}, spec);
    ASSERT_TRUE(st.ok()) << spec.staff_id << ": " << st.ToString();
  }

  // Dual control over an approver's or confidential reader's credentials: the administrator
  // asks to reset `id`'s password or second factor and the DPO approves (one reset each).
  void ApproveCredentialReset(const std::string& id) {
    ApprovalRequest r;
    r.kind = "credential_reset";
    r.justification = "the staff member lost their password or second factor";
    r.staff_id = id;
    AdminAsksDpoApproves(r);
  }

  // A process of its own opens the vault (closed here first: no connection or thread crosses
  // the fork), reads customer `id` `reads` times as Agent() on the clock kKilledReaderMs, and
  // is killed before any fold, seal or close: with [audit] read_journal its journal is left
  // behind. The vault stays closed; Reopen() when needed.
  static constexpr int64_t kKilledReaderMs = 1'760'000'100'000;
  void ReadInAKilledProcess(const std::string& id, int reads) {
    vault_.reset();
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      OpenOptions open;
      open.dir = dir_;
      open.now_ms = [] { return kKilledReaderMs; };
      auto v = Vault::Open(open);
      if (!v.ok()) _exit(2);
      for (int i = 0; i < reads; ++i) {
        if (!(*v)->customers().Get(Agent(), id, {"name"}).ok()) _exit(3);
      }
      kill(getpid(), SIGKILL);
      _exit(4);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  }

  // `journal_reads`: OpenOptions::journal_reads, as `custos serve` opens the vault.
  void Reopen(bool journal_reads = false) {
    vault_.reset();
    OpenOptions open;
    open.dir = dir_;
    open.now_ms = Clock();
    open.passphrase = passphrase_;
    open.journal_reads = journal_reads;
    auto v = Vault::Open(open);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    vault_ = std::move(v).value();
  }

  vault::Clock Clock() {
    return [this] { return now_ms_.fetch_add(1); };
  }

  // The administrator resets `id`'s password and `id` logs in with it, changing it to
  // `password` as a reset requires (issue 12): the login's result. An account under dual
  // control (it reads confidential fields or decides approvals) is reset with a
  // credential_reset the DPO approves, asked for when the reset is refused for want of one.
  Result<IssuedToken> ResetAndLogIn(const std::string& id, const std::string& password,
                                    Channel channel = Channel::kCli) {
    const std::string reset = "set by the administrator for " + id;
    const Context admin{"admin", "", Channel::kCli, "req-reset"};
    Status st = vault_->staff().SetPassword(admin, id, reset);
    if (st.code() == Code::kFailedPrecondition &&
        st.message().find("credential_reset") != std::string::npos) {
      ApproveCredentialReset(id);
      st = vault_->staff().SetPassword(admin, id, reset);
    }
    if (!st.ok()) return st;
    Context ctx;
    ctx.channel = channel;
    return vault_->staff().Login(ctx, LoginRequest{id, reset, "", password, 8 * 3600 * 1000, "t"});
  }

  Context Agent(const std::string& purpose = "customer_service") const {
    return Context{"operator", purpose, Channel::kCli, "req-test"};
  }
  Context SupportAgent(const std::string& purpose = "customer_service") const {
    return Context{"li.na", purpose, Channel::kCli, "req-test"};
  }
  Context Sales(const std::string& purpose = "account_management") const {
    return Context{"wang.wei", purpose, Channel::kCli, "req-test"};
  }
  Context RiskOfficer(const std::string& purpose = "risk_control") const {
    return Context{"zhao.min", purpose, Channel::kCli, "req-test"};
  }

  // The version of a privacy notice naming `target` ("partner:ID", "category:NAME") as a
  // recipient, as a sharing consent needs (PIPL Art. 23; docs/consent.md). The first time a
  // target is asked for, the next notice is published: the purposes of the latest, naming
  // every target asked for so far.
  int64_t ShareNotice(const std::string& target) {
    if (std::find(share_targets_.begin(), share_targets_.end(), target) != share_targets_.end()) {
      return share_notice_;
    }
    share_targets_.push_back(target);
    auto notices = vault_->consent().ListNotices(Agent());
    EXPECT_TRUE(notices.ok() && !notices->empty());
    if (!notices.ok() || notices->empty()) return 0;
    NoticeSpec spec;
    spec.text = "the notice of version 1, naming the recipients of shared data";
    spec.purposes = notices->back().purposes;
    spec.shares = share_targets_;
    auto published = vault_->consent().PublishNotice(Agent(), spec);
    EXPECT_TRUE(published.ok()) << published.status().ToString();
    share_notice_ = published.ok() ? published->version : 0;
    return share_notice_;
  }

  static constexpr int64_t kDayMs = 24LL * 3600 * 1000;

  std::vector<std::string> share_targets_;  // named by notice share_notice_ (ShareNotice)
  int64_t share_notice_ = 0;
  std::filesystem::path root_;
  std::filesystem::path dir_;
  std::unique_ptr<Vault> vault_;
  std::string admin_token_;  // the one-time token `init` gave the administrator (no password)
  // Set by a derived fixture's constructor: the vault is made and opened with the passphrase
  // provider under this passphrase instead of a keyfile.
  std::string passphrase_;
  std::atomic<int64_t> now_ms_{1'760'000'000'000};
};

}  // namespace custos::vault::testing
