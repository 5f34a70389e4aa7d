// The server's logs (issue 22 point 3): one JSON access line per request through the pipeline,
// naming ids, the route pattern, status and duration — never a value from the path, query or
// body — and lifecycle events; to a file rotated by size, at the configured level.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "api/log.h"
#include "api/metrics.h"
#include "api/pipeline.h"

namespace custos::api {
namespace {

namespace fs = std::filesystem;

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("custos-log-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    StopLogging();
    fs::remove_all(dir_);
  }

  // The JSON lines of `file` (under dir_).
  std::vector<nlohmann::json> Lines(const std::string& file = "custos.log") {
    std::ifstream in(dir_ / file);
    std::vector<nlohmann::json> out;
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
    return out;
  }

  fs::path dir_;
};

TEST_F(LogTest, EachRequestLeavesOneAccessLineWithoutItsValues) {
  schema::LogConfig config;
  config.file = "custos.log";
  ASSERT_TRUE(StartLogging(config, dir_).ok());
  RouteTable routes;
  routes.Add({"GET", "/v1/customers/{customer_id}", Access::kAuthenticated,
              [](const ApiRequest&, const RequestScope&) -> Result<ApiResponse> {
                return ApiResponse{200, "application/json", "{}", {}};
              }});
  RateLimiter limiter(100, 100, [] { return int64_t{1}; });
  Metrics metrics;
  RequestPipeline pipeline(
      routes,
      [](std::string_view token, std::string_view, std::string_view) -> Result<std::string> {
        if (token == "tok-agent") return std::string("li.na");
        return Unauthenticated("unknown token");
      },
      limiter, metrics);
  ApiRequest r;
  r.method = "GET";
  r.path = "/v1/customers/01SECRETCUSTOMERID00000000";
  r.query = "fields=phone&value=13800138000";
  r.headers["authorization"] = "Bearer tok-agent";
  r.headers["x-request-id"] = "req-42";
  EXPECT_EQ(pipeline.Handle(r).status, 200);
  r.headers["authorization"] = "Bearer tok-nobody";
  EXPECT_EQ(pipeline.Handle(r).status, 401);
  LogEvent(LogLevel::kInfo, "server.start", {{"url", "https://127.0.0.1:1/v1"}});
  StopLogging();

  const std::vector<nlohmann::json> lines = Lines();
  ASSERT_EQ(lines.size(), 3u);
  const nlohmann::json& ok = lines[0];
  EXPECT_EQ(ok["logger"], "access");
  EXPECT_EQ(ok["level"], "info");
  EXPECT_EQ(ok["request_id"], "req-42");
  EXPECT_EQ(ok["method"], "GET");
  EXPECT_EQ(ok["route"], "/v1/customers/{customer_id}");
  EXPECT_EQ(ok["status"], 200);
  EXPECT_EQ(ok["actor"], "li.na");
  EXPECT_TRUE(ok["duration_ms"].is_number());
  EXPECT_TRUE(ok["ts"].get<std::string>().ends_with("Z"));
  EXPECT_EQ(lines[1]["status"], 401);
  EXPECT_TRUE(lines[1]["actor"].is_null()) << "no actor before authentication";
  EXPECT_EQ(lines[2]["logger"], "custos");
  EXPECT_EQ(lines[2]["event"], "server.start");
  std::ifstream in(dir_ / "custos.log");
  std::stringstream text;
  text << in.rdbuf();
  for (const char* value : {"01SECRETCUSTOMERID", "13800138000", "tok-agent", "tok-nobody"}) {
    EXPECT_EQ(text.str().find(value), std::string::npos) << "a value in the log: " << value;
  }
}

TEST_F(LogTest, TheLevelFiltersAndAccessLinesCanBeTurnedOff) {
  schema::LogConfig config;
  config.file = "custos.log";
  config.level = "warn";
  config.access = false;
  ASSERT_TRUE(StartLogging(config, dir_).ok());
  LogEvent(LogLevel::kInfo, "server.start");
  LogEvent(LogLevel::kWarn, "tls.reload.failed", {{"error", "invalid_argument: no pair"}});
  LogAccess({"r1", "GET", "/v1/health", 200, 1.0, ""});
  StopLogging();
  const std::vector<nlohmann::json> lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["event"], "tls.reload.failed");
  EXPECT_EQ(lines[0]["level"], "warning");
}

TEST_F(LogTest, AFileIsRotatedAtItsSizeKeepingMaxFiles) {
  schema::LogConfig config;
  config.file = "custos.log";
  config.max_size_mb = 1;
  config.max_files = 2;
  ASSERT_TRUE(StartLogging(config, dir_).ok());
  for (int i = 0; i < 12000; ++i) {
    LogAccess({std::string(64, 'r'), "GET", "/v1/customers/{customer_id}", 200, 1.5, "li.na"});
  }
  StopLogging();
  EXPECT_TRUE(fs::exists(dir_ / "custos.log"));
  EXPECT_TRUE(fs::exists(dir_ / "custos.1.log"));
  EXPECT_FALSE(fs::exists(dir_ / "custos.3.log")) << "at most max_files rotated files";
  EXPECT_LE(fs::file_size(dir_ / "custos.log"), 1024u * 1024u);
}

TEST_F(LogTest, ALogFileThatCannotBeOpenedIsUnavailableAndNothingIsLoggedBeforeStart) {
  LogEvent(LogLevel::kError, "nobody.listens");  // no logger yet: a no-op
  std::ofstream(dir_ / "plain") << "x";
  schema::LogConfig config;
  config.file = (dir_ / "plain" / "custos.log").string();  // under a regular file
  Status bad = StartLogging(config, dir_);
  EXPECT_EQ(bad.code(), Code::kUnavailable) << bad.ToString();
  LogEvent(LogLevel::kError, "still.nobody");
}

TEST(AccessJsonTest, NamesOnlyIdsRouteStatusAndDuration) {
  const nlohmann::json j =
      nlohmann::json::parse(AccessJson({"id-1", "POST", "/v1/customers", 201, 2.34567, "clerk"}));
  EXPECT_EQ(j.size(), 6u) << j;
  EXPECT_EQ(j["duration_ms"], 2.345);
}

}  // namespace
}  // namespace custos::api
