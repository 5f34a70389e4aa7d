// Key status and rotation, backups and their verification over the API (issue 21 item 5;
// docs/openapi.yaml tags "keys" and "backups"): the same vault calls as `custos key
// status|rotate` and `custos backup verify`, admitted as the CLI's (key.read, key.manage,
// backup.run), a backup named by its id only, and no key or server path in an answer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "api_fixture.h"

namespace custos::api::testing {
namespace {

class KeysBackupsApiTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    CreateGranted(vault::StaffSpec{
        "sec.admin", "sec.admin", "security_administrator", {"security_admin"}, ""});
  }

  httplib::Result Post(const std::string& path, const std::string& token,
                       const std::string& body = "") {
    return Client()->Post(path, As(token, ""), body, "application/json");
  }
  httplib::Result Get(const std::string& path, const std::string& token) {
    return Client()->Get(path, As(token, ""));
  }
};

TEST_F(KeysBackupsApiTest, TheSecurityAdminReadsKeyStatusAndOnlyTheAdministratorRotates) {
  auto status = Get("/v1/keys", "tok-sec");
  ASSERT_TRUE(status);
  ASSERT_EQ(status->status, 200) << status->body;
  auto doc = Json(status);
  EXPECT_EQ(doc.value("provider", ""), "keyfile");
  EXPECT_EQ(doc.value("active_version", 0), 1);
  ASSERT_EQ(doc["versions"].size(), 1u) << status->body;
  EXPECT_EQ(doc["versions"][0].value("state", ""), "active");
  EXPECT_TRUE(doc["versions"][0].value("material_present", false));
  EXPECT_EQ(doc["rotation"].value("state", ""), "none");
  // Versions and counts only: no member holds a key.
  for (const auto& member : doc["versions"][0].items()) {
    EXPECT_FALSE(member.value().is_string() && member.key() != "state") << member.key();
  }
  // Deny by default: a support agent holds no key.read.
  auto agent = Get("/v1/keys", "tok-agent");
  ASSERT_TRUE(agent);
  EXPECT_EQ(agent->status, 403) << agent->body;

  // key.manage is the administrator's alone, as for `custos key rotate`.
  auto refused = Post("/v1/keys/rotate", "tok-sec");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403) << refused->body;
  auto bad = Post("/v1/keys/rotate", "tok-admin", R"({"batch":5})");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400) << bad->body;
  auto rotated = Post("/v1/keys/rotate", "tok-admin");
  ASSERT_TRUE(rotated);
  ASSERT_EQ(rotated->status, 200) << rotated->body;
  EXPECT_EQ(Json(rotated).value("from_version", 0), 1);
  EXPECT_EQ(Json(rotated).value("to_version", 0), 2);
  EXPECT_TRUE(Json(rotated).value("complete", false));

  auto after = Get("/v1/keys", "tok-sec");
  ASSERT_TRUE(after);
  ASSERT_EQ(after->status, 200) << after->body;
  doc = Json(after);
  EXPECT_EQ(doc.value("active_version", 0), 2);
  ASSERT_EQ(doc["versions"].size(), 2u) << after->body;
  EXPECT_EQ(doc["versions"][0].value("state", ""), "retiring");
  EXPECT_EQ(doc["rotation"].value("state", ""), "done");
  EXPECT_GT(doc["rotation"].value("finished_at_ms", int64_t{0}), 0);
}

TEST_F(KeysBackupsApiTest, TheSecurityAdminListsAndVerifiesBackupsByIdAndSeesAFailedCheck) {
  auto empty = Get("/v1/backups", "tok-sec");
  ASSERT_TRUE(empty);
  ASSERT_EQ(empty->status, 200) << empty->body;
  EXPECT_TRUE(Json(empty)["backups"].empty()) << empty->body;

  ASSERT_FALSE(CreateThroughApi().empty());
  const Context admin{"admin", "", vault::Channel::kCli, "req-backup"};
  auto taken = vault_->backups().Take(admin, vault::BackupRequest{});
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  const std::string id = taken->path.filename().string();

  auto listed = Get("/v1/backups", "tok-sec");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->status, 200) << listed->body;
  auto backups = Json(listed)["backups"];
  ASSERT_EQ(backups.size(), 1u) << listed->body;
  EXPECT_EQ(backups[0].value("backup_id", ""), id);
  EXPECT_EQ(backups[0].value("verified", ""), "never");
  EXPECT_GT(backups[0].value("bytes", int64_t{0}), 0);
  EXPECT_GT(backups[0].value("created_at_ms", int64_t{0}), 0);
  // The server's directories stay on the server.
  EXPECT_EQ(listed->body.find(root_.string()), std::string::npos) << listed->body;

  // Deny by default: the agent may neither list nor verify (backup.run).
  auto agent_list = Get("/v1/backups", "tok-agent");
  ASSERT_TRUE(agent_list);
  EXPECT_EQ(agent_list->status, 403) << agent_list->body;
  auto agent_verify = Post("/v1/backups/" + id + "/verify", "tok-agent");
  ASSERT_TRUE(agent_verify);
  EXPECT_EQ(agent_verify->status, 403) << agent_verify->body;
  // Only a listed backup, by its id: no path, no other directory.
  auto unknown = Post("/v1/backups/20990101T000000Z-none/verify", "tok-sec");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404) << unknown->body;
  auto dots = Post("/v1/backups/..%2F..%2Fvault/verify", "tok-sec");
  ASSERT_TRUE(dots);
  EXPECT_EQ(dots->status, 404) << dots->body;  // no route: a path parameter holds no '/'
  // An id that is not a backup's name is refused before any file is looked at, naming it.
  auto hidden = Post("/v1/backups/..vault/verify", "tok-sec");
  ASSERT_TRUE(hidden);
  EXPECT_EQ(hidden->status, 400) << hidden->body;
  EXPECT_NE(hidden->body.find("backup_id"), std::string::npos) << hidden->body;

  auto verified = Post("/v1/backups/" + id + "/verify", "tok-sec");
  ASSERT_TRUE(verified);
  ASSERT_EQ(verified->status, 200) << verified->body;
  EXPECT_TRUE(Json(verified).value("ok", false)) << verified->body;
  EXPECT_GT(Json(verified)["row_counts"].value("customers", int64_t{0}), 0) << verified->body;
  listed = Get("/v1/backups", "tok-sec");
  ASSERT_TRUE(listed);
  EXPECT_EQ(Json(listed)["backups"][0].value("verified", ""), "ok") << listed->body;

  // A damaged chunk: the check's result names the file and the failed check, not the path.
  bool damaged = false;
  for (const auto& entry : std::filesystem::directory_iterator(taken->path)) {
    const std::string name = entry.path().filename().string();
    if (name == "manifest.json" || damaged) continue;
    std::fstream f(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    // Flip the first byte's bits: writing a fixed byte would leave the file as it was when
    // its first byte (a random nonce's) happened to be that byte, one run in 256.
    char first = 0;
    f.get(first);
    f.seekp(0);
    f.put(static_cast<char>(~first));
    damaged = true;
  }
  ASSERT_TRUE(damaged);
  auto failed = Post("/v1/backups/" + id + "/verify", "tok-sec");
  ASSERT_TRUE(failed);
  ASSERT_EQ(failed->status, 200) << failed->body;
  EXPECT_FALSE(Json(failed).value("ok", true)) << failed->body;
  EXPECT_FALSE(Json(failed).value("error", "").empty()) << failed->body;
  EXPECT_EQ(failed->body.find(root_.string()), std::string::npos) << failed->body;
  listed = Get("/v1/backups", "tok-sec");
  ASSERT_TRUE(listed);
  EXPECT_EQ(Json(listed)["backups"][0].value("verified", ""), "failed") << listed->body;
}

}  // namespace
}  // namespace custos::api::testing
