// Every HTML compliance report (issue 19; each of kReportNames, in Chinese and English) opened
// by headless Chromium (Debian `chromium`), with the network mapped to nowhere: each page
// renders (a screenshot is taken) and logs no console message — no script error, no resource
// it failed to fetch. Label `browser`; skipped with a message when chromium is absent, unless
// CUSTOS_REQUIRE_BROWSER=1 (then it fails).
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "vault/reports.h"
#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

std::string Chromium() {
  for (const char* path : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (std::filesystem::exists(path)) return path;
  }
  return "";
}

// Runs `command`, returning its standard output and error.
std::string RunCommand(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  ::pclose(pipe);
  return out;
}

class ReportBrowserTest : public VaultTest {};

// Every report of kReportNames, in both languages, over a day with some activity.
TEST_F(ReportBrowserTest, EveryReportRendersOfflineWithoutConsoleErrors) {
  const std::string chromium = Chromium();
  if (chromium.empty()) {
    const char* required = std::getenv("CUSTOS_REQUIRE_BROWSER");
    if (required != nullptr && std::string(required) == "1") {
      FAIL() << "CUSTOS_REQUIRE_BROWSER=1 but chromium is not installed (scripts/setup.sh)";
    }
    GTEST_SKIP() << "chromium is not installed (apt-get install chromium; scripts/setup.sh); "
                    "set CUSTOS_REQUIRE_BROWSER=1 to make this a failure";
  }
  auto id = vault_->customers().Create(Sales(), WangFang(), "form", Consented());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(vault_->customers().Get(SupportAgent(), *id, {"phone"}).ok());
  const int64_t day0 = 1'759'968'000'000;
  size_t rendered = 0;
  for (std::string_view name : kReportNames) {
    auto report = vault_->reports().Build(Context{"dpo", "", Channel::kCli, "req-browser"},
                                          ReportRequest{std::string(name), day0, day0 + kDayMs});
    ASSERT_TRUE(report.ok()) << name << ": " << report.status().ToString();
    for (const char* lang : {"zh", "en"}) {
      const std::string stem = std::string(name) + "-" + lang;
      const std::filesystem::path html = root_ / (stem + ".html");
      const std::filesystem::path png = root_ / (stem + ".png");
      std::ofstream(html) << RenderReportHtml(*report, lang);
      const std::string log = RunCommand(
          "timeout 180 " + chromium +
          " --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run"
          " --host-resolver-rules='MAP * ~NOTFOUND' --enable-logging=stderr --v=0"
          " --user-data-dir=" +
          (root_ / ("chromium-profile-" + stem)).string() +
          " --window-size=1200,1600 --screenshot=" + png.string() + " file://" + html.string());
      ASSERT_TRUE(std::filesystem::exists(png)) << stem << "\n" << log;
      EXPECT_GT(std::filesystem::file_size(png), 1000u) << stem << "\n" << log;
      EXPECT_EQ(log.find("CONSOLE"), std::string::npos) << stem << "\n" << log;
      EXPECT_EQ(log.find("Failed to load resource"), std::string::npos) << stem << "\n" << log;
      ++rendered;
    }
  }
  EXPECT_EQ(rendered, 2 * std::size(kReportNames));
}

}  // namespace
}  // namespace custos::vault::testing
