// Request bodies are read strictly: a developer integrating with Custos learns exactly which
// member is wrong and why, and no value they sent is echoed back (it may be personal data).
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "api/request_body.h"

namespace custos::api {
namespace {

constexpr std::array<BodyMember, 3> kMembers = {{{"fields", MemberKind::kFieldMap, true},
                                                 {"source", MemberKind::kString, false},
                                                 {"count", MemberKind::kInteger, false}}};

std::string ErrorOf(std::string_view body) {
  auto r = ParseBody(body, kMembers);
  EXPECT_FALSE(r.ok()) << body;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  return r.status().message();
}

TEST(RequestBody, AWellFormedBodyGivesItsFields) {
  auto r =
      ParseBody(R"({"fields":{"name":"王芳","phone":"13800138000"},"source":"form"})", kMembers);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  FieldMap fields = ToFieldValues((*r)["fields"]);
  EXPECT_EQ(fields.at("name"), "王芳");
  EXPECT_EQ(StringOr(*r, "source", "api"), "form");
  EXPECT_EQ(IntOr(*r, "count", 7), 7);
}

TEST(RequestBody, MalformedJsonNamesTheByteButNotTheText) {
  const std::string error = ErrorOf(R"({"fields":{"name":"13800138000)");
  EXPECT_NE(error.find("malformed JSON at byte"), std::string::npos) << error;
  EXPECT_EQ(error.find("13800138000"), std::string::npos) << error;
}

TEST(RequestBody, AnUnknownMemberIsNamedWithTheAcceptedOnes) {
  EXPECT_EQ(ErrorOf(R"({"fields":{},"colour":"red"})"),
            "body: unknown member 'colour' (expected fields, source, count)");
}

TEST(RequestBody, AnUnknownMemberThatIsNotAnIdentifierIsNotEchoed) {
  const std::string error = ErrorOf(R"({"fields":{},"13800138000 王芳":"x"})");
  EXPECT_EQ(error.find("13800138000"), std::string::npos) << error;
}

TEST(RequestBody, WrongTypesAreNamedByMember) {
  EXPECT_EQ(ErrorOf(R"({"fields":{"phone":13800138000}})"),
            "body: member 'fields.phone' must be a string");
  EXPECT_EQ(ErrorOf(R"({"fields":[]})"),
            "body: member 'fields' must be an object of field names to strings");
  EXPECT_EQ(ErrorOf(R"({"fields":{},"count":1.5})"), "body: member 'count' must be an integer");
  EXPECT_EQ(ErrorOf(R"({"fields":{},"source":true})"), "body: member 'source' must be a string");
}

TEST(RequestBody, AFieldKeyMustBeAFieldName) {
  EXPECT_NE(ErrorOf(R"({"fields":{"Phone Number":"1"}})").find("not a field name"),
            std::string::npos);
}

TEST(RequestBody, MissingEmptyDuplicateAndNonObjectBodiesAreRefused) {
  EXPECT_EQ(ErrorOf(R"({"source":"x"})"), "body: member 'fields' is required");
  EXPECT_EQ(ErrorOf("  "), "body: empty; expected a JSON object");
  EXPECT_EQ(ErrorOf(R"({"fields":{},"fields":{}})"), "body: member 'fields' appears twice");
  EXPECT_EQ(ErrorOf(R"(["fields"])"), "body: must be a JSON object");
}

TEST(RequestBody, DeepNestingIsRefusedBeforeParsing) {
  const std::string deep(100000, '[');
  EXPECT_EQ(ErrorOf(deep), "body: nested deeper than 32 levels");
}

TEST(RequestBody, NestedObjectsAreCheckedWithTheirPath) {
  constexpr std::array<BodyMember, 1> inner = {{{"purposes", MemberKind::kStringList, true}}};
  const auto doc = nlohmann::json::parse(R"({"purposes":["a",1]})");
  Status s = CheckMembers(doc, inner, "consent");
  EXPECT_EQ(s.message(), "body: member 'consent.purposes' must be an array of strings");
  s = CheckMembers(nlohmann::json::parse(R"({"x":1})"), inner, "consent");
  EXPECT_EQ(s.message(), "body: unknown member 'x' in 'consent' (expected purposes)");
}

}  // namespace
}  // namespace custos::api
