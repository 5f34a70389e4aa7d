// docs/openapi.yaml describes exactly the routes `custos serve` answers: every registered
// route is documented, and every documented route is registered.
//
// The file's `paths:` section has a fixed shape (stated at its top): a path on a line indented
// two spaces and ending in ':', each of its methods on a line indented four spaces. This test
// reads that shape strictly and fails on anything else at those indentations.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "api/routes.h"
#include "api_fixture.h"

namespace custos::api::testing {
namespace {

std::set<std::string> DocumentedRoutes(const std::string& yaml) {
  static const std::set<std::string> kMethods = {"get", "post", "put", "patch", "delete"};
  std::set<std::string> out;
  std::istringstream in(yaml);
  bool in_paths = false;
  std::string path;
  for (std::string line; std::getline(in, line);) {
    if (line == "paths:") {
      in_paths = true;
      continue;
    }
    if (!in_paths || line.empty() || line[0] == '#') continue;
    if (line[0] != ' ') break;  // the next top-level key ends `paths:`
    const size_t indent = line.find_first_not_of(' ');
    if (indent == 2) {
      EXPECT_EQ(line.back(), ':') << line;
      path = line.substr(2, line.size() - 3);
      EXPECT_EQ(path.rfind("/v1/", 0), 0u) << line;
    } else if (indent == 4) {
      const std::string method = line.substr(4, line.size() - 5);
      EXPECT_EQ(line.back(), ':') << line;
      EXPECT_TRUE(kMethods.contains(method)) << "not a method at indent 4: " << line;
      std::string upper = method;
      for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      out.insert(upper + " " + path);
    }
  }
  return out;
}

TEST_F(ApiTest, TheOpenApiFileAndTheServedRoutesAgreeBothWays) {
  std::ifstream in(std::string(CUSTOS_SOURCE_DIR) + "/docs/openapi.yaml");
  ASSERT_TRUE(in);
  const std::string yaml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::set<std::string> documented = DocumentedRoutes(yaml);
  std::set<std::string> served;
  // The web console's own routes (/console/...) are described in docs/console.md.
  for (const Route& r : server_->routes().routes()) {
    if (r.pattern.rfind("/console", 0) == 0) continue;
    served.insert(r.method + " " + r.pattern);
  }
  for (const std::string& r : served) EXPECT_TRUE(documented.contains(r)) << "undocumented: " << r;
  for (const std::string& r : documented) EXPECT_TRUE(served.contains(r)) << "not served: " << r;
  EXPECT_GE(served.size(), 20u);
  // The copy served at /v1/openapi.yaml is this file.
  EXPECT_EQ(OpenApiYaml(), yaml);
}

}  // namespace
}  // namespace custos::api::testing
