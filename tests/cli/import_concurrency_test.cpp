// Concurrent and repeated runs of `custos import` on one file (issue 15 item 2): four real
// processes started at once import each data line exactly once, and each says honestly what
// it imported and what other runs did; four more at once of which two are SIGKILLed part-way,
// then two reruns at once, leave the same. Counted in the database itself (opened as an
// auditor would, beside the vault): one customer per data line, one customer.create entry per
// customer, the consent ledger entries of each customer once; `custos audit verify` accepts
// the log. SQLite, and with CUSTOS_TEST_BACKEND=postgres PostgreSQL (CUSTOS_TEST_PG_URL).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../vault/raw_store.h"

namespace custos::vault::testing {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kRows = 6000;
constexpr int kProcesses = 4;
// Each customer of the file consents to two purposes and to sensitive data: three entries.
constexpr size_t kConsentEntries = 3;
constexpr const char* kConsent =
    "--notice-version 1 --sensitive-consent --consent-purposes customer_service,account_management";

bool OnPostgres() {
  const char* backend = std::getenv("CUSTOS_TEST_BACKEND");
  return backend != nullptr && std::string(backend) == "postgres";
}

// What one `custos import --json` run printed (its JSON report), read back.
struct RunReport {
  int exit_code = -1;
  bool killed = false;
  std::string out;
  int64_t Number(const std::string& key) const {
    const std::string k = "\"" + key + "\":";
    const size_t at = out.find(k);
    return at == std::string::npos ? -1 : std::strtoll(out.c_str() + at + k.size(), nullptr, 10);
  }
  bool AlreadyComplete() const {
    return out.find("\"already_complete\":true") != std::string::npos;
  }
};

class ImportConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    root_ = fs::temp_directory_path() / fmt::format("custos-import-conc-{}-{}", getpid(), rd());
    fs::create_directories(root_);
    vault_ = root_ / "vault";
    std::string store;
    if (OnPostgres()) {
      const char* url = std::getenv("CUSTOS_TEST_PG_URL");
      if (url == nullptr || *url == '\0') {
        const char* required = std::getenv("CUSTOS_REQUIRE_PG");
        if (required != nullptr && std::string(required) == "1") {
          FAIL() << "CUSTOS_TEST_BACKEND=postgres needs CUSTOS_TEST_PG_URL";
        }
        GTEST_SKIP() << "CUSTOS_TEST_BACKEND=postgres but CUSTOS_TEST_PG_URL is unset";
      }
      store =
          fmt::format(" --store-url '{}' --store-schema ic_{}_{}", url, getpid(), rd() % 100000);
    }
    // The administrator's token, then a sales clerk (customer.import) and the DPO (audit
    // verify, with their own first password), made as the benchmarks make them
    // (scripts/custos_staff.sh).
    const std::string helpers = fmt::format(
        "source '{}/scripts/custos_staff.sh'; C='{}'; V='{}'; "
        "init=$(\"$C\" --json init \"$V\"{}); "
        "admin=$(custos_init_json_token <<<\"$init\"); "
        "echo clerk=$(custos_staff_token \"$C\" \"$V\" \"$admin\" clerk sales_rep sales); "
        "echo dpo=$(custos_first_password_token \"$C\" \"$V\" "
        "\"$(custos_init_json_dpo_token <<<\"$init\")\" dpo)",
        CUSTOS_SOURCE_DIR, Binary(), vault_.string(), store);
    const std::string out = Capture("bash -c " + Quote(helpers));
    clerk_ = After(out, "clerk=");
    dpo_ = After(out, "dpo=");
    ASSERT_FALSE(clerk_.empty()) << out;
    ASSERT_FALSE(dpo_.empty()) << out;
  }
  void TearDown() override { fs::remove_all(root_); }

  // The custos under test: the build's, or CUSTOS_IMPORT_TEST_BINARY (to show that the test
  // fails on another build, e.g. the one before issue 15).
  static std::string Binary() {
    const char* other = std::getenv("CUSTOS_IMPORT_TEST_BINARY");
    return other != nullptr && *other != '\0' ? other : CUSTOS_BINARY;
  }
  static std::string Quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  }
  static std::string Capture(const std::string& cmd) {
    FILE* p = popen((cmd + " 2>&1 </dev/null").c_str(), "r");
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    pclose(p);
    return out;
  }
  static std::string After(const std::string& out, const std::string& key) {
    const size_t at = out.find(key);
    if (at == std::string::npos) return "";
    return out.substr(at + key.size(), out.find('\n', at) - at - key.size());
  }

  // `custos gen` of kRows customers with `seed`.
  fs::path Generate(int seed) {
    const fs::path file = root_ / fmt::format("customers-{}.csv", seed);
    Capture(fmt::format("'{}' gen --count {} --seed {} --out '{}'", Binary(), kRows, seed,
                        file.string()));
    return file;
  }

  // Starts `custos import --json` of `file` as the clerk; its output goes to a file of its own.
  pid_t StartImport(const fs::path& file, int n) {
    const fs::path out = root_ / fmt::format("run-{}.out", n);
    outputs_[n] = out;
    const std::string cmd = fmt::format(
        "exec env CUSTOS_VAULT='{}' CUSTOS_TOKEN='{}' CUSTOS_PURPOSE=account_management '{}' "
        "--json import --batch 150 {} '{}' >'{}' 2>&1 </dev/null",
        vault_.string(), clerk_, Binary(), kConsent, file.string(), out.string());
    const pid_t pid = fork();
    if (pid == 0) {
      execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    EXPECT_GT(pid, 0);
    return pid;
  }
  RunReport Wait(pid_t pid, int n) {
    RunReport r;
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    r.killed = WIFSIGNALED(status);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream in(outputs_[n]);
    r.out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return r;
  }

  // Checks a run that finished: it exited 0 and its counts add up to the file.
  static void ExpectHonest(const RunReport& r, int n) {
    EXPECT_EQ(r.exit_code, 0) << "run " << n << ": " << r.out;
    if (r.AlreadyComplete()) return;  // started after the file was done: nothing to say
    EXPECT_EQ(r.Number("rejected"), 0) << r.out;
    EXPECT_GE(r.Number("imported"), 0) << r.out;
    EXPECT_EQ(r.Number("imported") + r.Number("done_by_other_runs"), kRows)
        << "run " << n << " must account for every line: " << r.out;
  }

  // The import of `file`'s id as the runs reported it.
  static std::string ImportId(const std::vector<RunReport>& runs) {
    for (const RunReport& r : runs) {
      const size_t at = r.out.find("\"import_id\":\"");
      if (at != std::string::npos) return r.out.substr(at + 13, r.out.find('"', at + 13) - at - 13);
    }
    return "";
  }

  // In the database: one customer per data line of the import, one customer.create entry per
  // customer, kConsentEntries ledger entries per customer naming its line; the audit log
  // verifies.
  void ExpectEachLineOnce(const std::string& import_id) {
    ASSERT_FALSE(import_id.empty());
    auto store = OpenRawStore(vault_);
    ASSERT_NE(store, nullptr);
    auto txn = store->Begin();
    ASSERT_TRUE(txn.ok()) << txn.status().ToString();
    const std::string prefix = "import:" + import_id + ":";
    std::map<int64_t, int> per_line;
    std::map<std::string, std::string> source_of;  // customer id -> source
    std::string after;
    while (true) {
      auto page = (*txn)->ListCustomers(after, 1000);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      for (const store::CustomerRow& c : *page) {
        if (c.source.rfind(prefix, 0) != 0) continue;
        ++per_line[std::stoll(c.source.substr(prefix.size()))];
        source_of[c.customer_id] = c.source;
      }
      if (page->size() < 1000) break;
      after = page->back().customer_id;
    }
    EXPECT_EQ(static_cast<int64_t>(source_of.size()), kRows) << "customers of the import";
    EXPECT_EQ(static_cast<int64_t>(per_line.size()), kRows) << "distinct lines imported";
    int64_t twice = 0;
    for (const auto& [line, count] : per_line) twice += count > 1 ? 1 : 0;
    EXPECT_EQ(twice, 0) << "lines imported more than once";

    std::map<std::string, int> creates;
    int64_t from = 1;
    while (true) {
      auto entries = (*txn)->ReadAudit(from, 5000);
      ASSERT_TRUE(entries.ok()) << entries.status().ToString();
      for (const store::AuditRow& e : *entries) {
        if (e.action != "customer.create" || e.target.rfind("customer:", 0) != 0) continue;
        const std::string id = e.target.substr(9);
        if (source_of.count(id) != 0) ++creates[id];
      }
      if (entries->size() < 5000) break;
      from = entries->back().seq + 1;
    }
    EXPECT_EQ(creates.size(), source_of.size()) << "customers without a customer.create entry";
    int64_t extra = 0;
    for (const auto& [id, count] : creates) extra += count - 1;
    EXPECT_EQ(extra, 0) << "customer.create entries beyond one per customer";

    int64_t wrong_ledgers = 0;
    for (const auto& [id, source] : source_of) {
      auto ledger = (*txn)->ListConsents(id);
      ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
      bool right = ledger->size() == kConsentEntries;
      for (const store::ConsentRow& row : *ledger) right = right && row.evidence_ref == source;
      wrong_ledgers += right ? 0 : 1;
    }
    EXPECT_EQ(wrong_ledgers, 0) << "customers whose consent ledger is not the import's, once";
    txn->reset();
    store.reset();

    const std::string verify =
        Capture(fmt::format("CUSTOS_VAULT='{}' CUSTOS_TOKEN='{}' CUSTOS_PURPOSE=legal_obligation "
                            "'{}' --json audit verify; echo exit=$?",
                            vault_.string(), dpo_, Binary()));
    EXPECT_NE(verify.find("exit=0"), std::string::npos) << verify;
  }

  fs::path root_;
  fs::path vault_;
  std::string clerk_;
  std::string dpo_;
  std::map<int, fs::path> outputs_;
};

TEST_F(ImportConcurrencyTest, RunsOfOneFileAtOnceOrKilledAndRerunImportEachLineOnce) {
  // Four at once, to the end: between them every line once, and each run says what it did.
  const fs::path first = Generate(21);
  const auto started = std::chrono::steady_clock::now();
  std::vector<pid_t> pids;
  for (int n = 0; n < kProcesses; ++n) pids.push_back(StartImport(first, n));
  std::vector<RunReport> runs;
  for (int n = 0; n < kProcesses; ++n) runs.push_back(Wait(pids[n], n));
  const auto wall = std::chrono::steady_clock::now() - started;
  int64_t imported = 0;
  for (int n = 0; n < kProcesses; ++n) {
    ExpectHonest(runs[n], n);
    imported += std::max<int64_t>(runs[n].Number("imported"), 0);
  }
  EXPECT_EQ(imported, kRows) << "the runs' own counts add up to the file";
  ExpectEachLineOnce(ImportId(runs));
  if (HasFailure()) return;

  // Four at once again on another file; two are SIGKILLed part-way (at random moments within
  // the time the first four took), then two reruns at once finish the file.
  const fs::path second = Generate(22);
  std::mt19937 rng(std::random_device{}());
  const auto wall_us = std::chrono::duration_cast<std::chrono::microseconds>(wall).count();
  std::uniform_int_distribution<int64_t> delay(wall_us / 5, wall_us * 4 / 5);
  pids.clear();
  for (int n = 0; n < kProcesses; ++n) pids.push_back(StartImport(second, 10 + n));
  std::vector<int64_t> kill_at = {delay(rng), delay(rng)};
  std::sort(kill_at.begin(), kill_at.end());
  const auto second_start = std::chrono::steady_clock::now();
  for (int k = 0; k < 2; ++k) {
    std::this_thread::sleep_until(second_start + std::chrono::microseconds(kill_at[k]));
    ::kill(pids[k * 2], SIGKILL);
  }
  runs.clear();
  int killed = 0;
  for (int n = 0; n < kProcesses; ++n) {
    runs.push_back(Wait(pids[n], 10 + n));
    if (runs.back().killed) {
      ++killed;
    } else {
      ExpectHonest(runs.back(), 10 + n);
    }
  }
  std::vector<RunReport> reruns;
  pids.clear();
  for (int n = 0; n < 2; ++n) pids.push_back(StartImport(second, 20 + n));
  for (int n = 0; n < 2; ++n) {
    reruns.push_back(Wait(pids[n], 20 + n));
    ExpectHonest(reruns.back(), 20 + n);
  }
  for (const RunReport& r : reruns) runs.push_back(r);
  ExpectEachLineOnce(ImportId(runs));
  std::cout << "first four at once: " << std::chrono::duration<double>(wall).count()
            << " s; of the second four, " << killed << " killed part-way\n";
}

}  // namespace
}  // namespace custos::vault::testing
