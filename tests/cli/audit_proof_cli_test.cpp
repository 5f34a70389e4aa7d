// `custos audit head|prove|consistency|check-proof` end to end (issue 13 point 4): the DPO
// hands an auditor signed heads and proofs as files; the auditor checks them without the vault,
// with `custos audit check-proof` and with scripts/check_audit_proof.py (Python's standard
// library only) plus openssl for the signatures. An entry edited in the database file is then
// caught by both checkers.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

struct Outcome {
  int code;
  std::string out;
};

// Runs a shell command; stdout and stderr together.
Outcome Shell(const std::string& cmd) {
  FILE* p = popen((cmd + " 2>&1 </dev/null").c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  return Outcome{WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class AuditProofCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ =
        fs::temp_directory_path() / ("custos-proof-cli-" + std::to_string(std::random_device{}()));
    fs::create_directories(root_);
    vault_ = (root_ / "vault").string();
    Outcome init = Custos("--json init " + vault_, "", "", "");
    ASSERT_EQ(init.code, 0) << init.out;
    // The DPO sets their own first password on the vault host with the token init gave them
    // (the administrator may not reset an approver's password alone), then logs in.
    const std::string dpo_init = nlohmann::json::parse(init.out)["dpo_token"];
    Outcome passwd =
        Custos("staff passwd dpo", dpo_init, "CUSTOS_NEW_PASSWORD='correct horse battery'", "");
    ASSERT_EQ(passwd.code, 0) << passwd.out;
    Outcome login =
        Custos("--json token issue dpo", "", "CUSTOS_PASSWORD='correct horse battery'", "");
    ASSERT_EQ(login.code, 0) << login.out;
    dpo_ = nlohmann::json::parse(login.out)["token"];
  }
  void TearDown() override { fs::remove_all(root_); }

  // custos with a token (CUSTOS_TOKEN), a purpose and extra environment assignments.
  Outcome Custos(const std::string& args, const std::string& token, const std::string& env = "",
                 const std::string& purpose = "legal_obligation") {
    return Shell("CUSTOS_VAULT='" + vault_ + "' CUSTOS_TOKEN='" + token + "' CUSTOS_PURPOSE='" +
                 purpose + "' " + env + " " CUSTOS_BINARY " " + args);
  }
  // As the DPO, standard output into `file` (under the test's directory); the exit code.
  int DpoTo(const std::string& args, const std::string& file) {
    const fs::path out = root_ / file;
    Outcome o = Custos(args + " >'" + out.string() + "'", dpo_);
    EXPECT_EQ(o.out, "") << args;  // nothing on stderr
    return o.code;
  }
  // What the auditor runs, without the vault: no CUSTOS_VAULT, no token.
  Outcome Auditor(const std::string& args) {
    return Shell("cd '" + root_.string() + "' && " CUSTOS_BINARY " " + args);
  }
  Outcome Python(const std::string& args) {
    return Shell("cd '" + root_.string() +
                 "' && python3 '" CUSTOS_SOURCE_DIR "/scripts/check_audit_proof.py' " + args);
  }
  nlohmann::json Json(const std::string& file) {
    return nlohmann::json::parse(ReadFile(root_ / file));
  }

  // The auditor's copy of the vault's public key, as hex in a file.
  void PinPublicKey(const std::string& head_file) {
    std::ofstream(root_ / "vault.pub") << Json(head_file)["public_key"].get<std::string>() << "\n";
  }

  fs::path root_;
  std::string vault_;
  std::string dpo_;
};

TEST_F(AuditProofCliTest, AnAuditorChecksAnInclusionProofOfflineWithCustosPythonAndOpenssl) {
  ASSERT_EQ(DpoTo("audit head", "head.json"), 0);
  const nlohmann::json head = Json("head.json");
  EXPECT_EQ(head["format"], "custos-tree-head/1");
  EXPECT_EQ(head["hash"], "sha256");
  const int64_t size = head["tree_size"];
  ASSERT_GE(size, 3);
  PinPublicKey("head.json");
  ASSERT_EQ(DpoTo("audit prove --seq 2 --size " + std::to_string(size), "proof.json"), 0);
  const nlohmann::json proof = Json("proof.json");
  EXPECT_EQ(proof["format"], "custos-inclusion-proof/1");
  EXPECT_EQ(proof["seq"], 2);
  EXPECT_EQ(proof["tree_size"], size);
  EXPECT_EQ(proof["entry"]["seq"], 2);

  Outcome checked =
      Auditor("audit check-proof --proof proof.json --head head.json --public-key vault.pub");
  EXPECT_EQ(checked.code, 0) << checked.out;
  EXPECT_NE(checked.out.find("inclusion proof OK: entry 2 is in the signed tree of " +
                             std::to_string(size) + " entries"),
            std::string::npos)
      << checked.out;
  Outcome as_json = Auditor("--json audit check-proof --proof proof.json --head head.json");
  ASSERT_EQ(as_json.code, 0) << as_json.out;
  EXPECT_EQ(nlohmann::json::parse(as_json.out)["public_key_from"], "head");

  Outcome py = Python(
      "--proof proof.json --head head.json --public-key vault.pub "
      "--signature-files sig");
  ASSERT_EQ(py.code, 0) << py.out;
  EXPECT_NE(py.out.find("inclusion proof OK: entry 2"), std::string::npos) << py.out;
  EXPECT_NE(py.out.find("signatures NOT checked"), std::string::npos) << py.out;
  // The head's signature, checked by openssl with the command the script printed.
  const size_t at = py.out.find("openssl pkeyutl");
  ASSERT_NE(at, std::string::npos) << py.out;
  const std::string openssl = py.out.substr(at, py.out.find('\n', at) - at);
  Outcome sig = Shell("cd '" + root_.string() + "' && " + openssl);
  EXPECT_EQ(sig.code, 0) << sig.out;
  EXPECT_NE(sig.out.find("Signature Verified Successfully"), std::string::npos) << sig.out;
}

TEST_F(AuditProofCliTest, AConsistencyProofLinksAnOldHeadToANewOne) {
  ASSERT_EQ(DpoTo("audit head", "old-head.json"), 0);
  EXPECT_EQ(Custos("audit tail -n 2", dpo_).code, 0);
  ASSERT_EQ(DpoTo("audit head", "head.json"), 0);
  const int64_t from = Json("old-head.json")["tree_size"];
  const int64_t to = Json("head.json")["tree_size"];
  ASSERT_LT(from, to);
  ASSERT_EQ(
      DpoTo("audit consistency --from " + std::to_string(from) + " --to " + std::to_string(to),
            "consistency.json"),
      0);
  Outcome checked = Auditor(
      "audit check-proof --proof consistency.json --old-head old-head.json --head "
      "head.json");
  EXPECT_EQ(checked.code, 0) << checked.out;
  EXPECT_NE(checked.out.find("consistency proof OK"), std::string::npos) << checked.out;
  Outcome py = Python("--proof consistency.json --old-head old-head.json --head head.json");
  EXPECT_EQ(py.code, 0) << py.out;
  // The heads given the wrong way round: they do not go with the proof.
  Outcome swapped = Auditor(
      "audit check-proof --proof consistency.json --old-head head.json --head "
      "old-head.json");
  EXPECT_EQ(swapped.code, 3) << swapped.out;
  EXPECT_EQ(Python("--proof consistency.json --old-head head.json --head old-head.json").code, 2);
}

TEST_F(AuditProofCliTest, AnEntryEditedInTheDatabaseFileFailsBothCheckers) {
  ASSERT_EQ(DpoTo("audit head", "head.json"), 0);
  const int64_t size = Json("head.json")["tree_size"];
  const std::string prove = "audit prove --seq 2 --size " + std::to_string(size);
  ASSERT_EQ(DpoTo(prove, "before.json"), 0);
  EXPECT_EQ(Auditor("audit check-proof --proof before.json --head head.json").code, 0);

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((fs::path(vault_) / "custos.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE audit_log SET actor = 'dpo' WHERE seq = 2", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);

  // The vault refuses to prove the edited entry (a review had it proved and signed).
  Outcome refused = Custos(prove, dpo_);
  EXPECT_EQ(refused.code, 8) << refused.out;
  EXPECT_NE(refused.out.find("audit entry 2 does not match its hash"), std::string::npos)
      << refused.out;
  EXPECT_EQ(Custos("audit head", dpo_).code, 8);
  // A proof of the edited entry, made by hand from the honest one: both checkers refuse it.
  nlohmann::json edited = Json("before.json");
  edited["entry"]["actor"] = "dpo";
  std::ofstream(root_ / "after.json") << edited.dump();
  Outcome checked = Auditor("audit check-proof --proof after.json --head head.json");
  EXPECT_EQ(checked.code, 8) << checked.out;
  EXPECT_NE(checked.out.find("entry 2 "), std::string::npos) << checked.out;
  Outcome py = Python("--proof after.json --head head.json");
  EXPECT_EQ(py.code, 1) << py.out;
  EXPECT_NE(py.out.find("FAILED: entry 2 "), std::string::npos) << py.out;

  // The entry shown to the auditor changed by hand, the proof otherwise intact: refused too.
  nlohmann::json shown = Json("before.json");
  shown["entry"]["reason"] = "nothing to see";
  std::ofstream(root_ / "shown.json") << shown.dump();
  EXPECT_EQ(Auditor("audit check-proof --proof shown.json --head head.json").code, 8);
  EXPECT_EQ(Python("--proof shown.json --head head.json").code, 1);
}

TEST_F(AuditProofCliTest, AHeadOfAnotherSizeOrUnderAnotherKeyIsRefused) {
  ASSERT_EQ(DpoTo("audit head", "head.json"), 0);
  ASSERT_EQ(DpoTo("audit prove --seq 1", "proof.json"), 0);  // the current size: larger
  Outcome checked = Auditor("audit check-proof --proof proof.json --head head.json");
  EXPECT_EQ(checked.code, 3) << checked.out;
  EXPECT_NE(checked.out.find("--size"), std::string::npos) << checked.out;
  EXPECT_EQ(Python("--proof proof.json --head head.json").code, 2);
  // Another key than the one the heads name: refused (8: does not verify, 3: not a key).
  std::ofstream(root_ / "other.pub") << std::string(64, 'a') << "\n";
  const int other =
      Auditor("audit check-proof --proof proof.json --head head.json --public-key other.pub").code;
  EXPECT_TRUE(other == 8 || other == 3) << other;
  // Out-of-range requests are refused by the vault.
  EXPECT_EQ(Custos("audit prove --seq 100000", dpo_).code, 3);
  EXPECT_EQ(Custos("audit consistency --from 5 --to 4", dpo_).code, 3);
  // A support agent's token would be refused too; a missing token is.
  EXPECT_EQ(Custos("audit head", "cst_" + std::string(52, 'a')).code, 4);
}

}  // namespace
