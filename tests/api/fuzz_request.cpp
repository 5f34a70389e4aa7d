// libFuzzer target for everything the API parses from a request before the vault sees it:
// JSON bodies (every route's member list, nested consent objects), query strings, field-name
// lists, bounded integers, request ids, and the HTTP/1.1 head checks and target decoding of the
// transport (http_head.h). The first input byte picks the parser; the rest is its input. A parser
// may refuse anything, but must never crash, hang, read out of bounds or echo more than it should:
// each refusal's message must be clean UTF-8 without control characters (it is sent to clients and
// logged).
//
// Built with clang by scripts/fuzz.sh (build-fuzz, -DCUSTOS_FUZZ=ON); the GCC build runs the
// seed corpus tests/api/fuzz_corpus through the same function (api_fuzz_corpus_test,
// tests/fuzz_corpus_replay.cpp).
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/http_head.h"
#include "api/query.h"
#include "api/request_body.h"
#include "api/request_id.h"

namespace {

using custos::api::BodyMember;
using custos::api::MemberKind;

constexpr std::array<BodyMember, 3> kCustomer = {{{"fields", MemberKind::kFieldMap, true},
                                                  {"source", MemberKind::kString, false},
                                                  {"consent", MemberKind::kObject, true}}};
constexpr std::array<BodyMember, 5> kConsent = {{{"notice_version", MemberKind::kInteger, true},
                                                 {"purposes", MemberKind::kStringList, true},
                                                 {"sensitive", MemberKind::kBool, false},
                                                 {"third_party", MemberKind::kBool, false},
                                                 {"evidence_ref", MemberKind::kString, false}}};
constexpr std::array<BodyMember, 2> kNote = {
    {{"text", MemberKind::kString, true}, {"source", MemberKind::kString, false}}};
constexpr std::array<std::string_view, 4> kAccepted = {"fields", "field", "value", "limit"};

void CheckMessage(const custos::Status& s) {
  if (s.ok()) return;
  if (s.code() != custos::Code::kInvalidArgument) std::abort();
  if (!custos::api::IsCleanUtf8(s.message())) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 8) {
    case 0: {
      auto body = custos::api::ParseBody(input, kCustomer);
      CheckMessage(body.status());
      if (body.ok()) {
        CheckMessage(custos::api::CheckMembers((*body)["consent"], kConsent, "consent"));
        (void)custos::api::ToFieldValues((*body)["fields"]);
      }
      break;
    }
    case 1:
      CheckMessage(custos::api::ParseBody(input, kNote).status());
      break;
    case 2:
      CheckMessage(custos::api::ParseQuery(input, kAccepted).status());
      break;
    case 3:
      CheckMessage(custos::api::ParseNameList("fields", input).status());
      break;
    case 4:
      CheckMessage(custos::api::ParseBoundedInt("limit", input, 1, 1000).status());
      break;
    case 5: {
      const std::string id = custos::api::ChooseRequestId(input);
      if (!custos::api::IsWellFormedRequestId(id)) std::abort();
      break;
    }
    case 6: {
      // The head as the server delimits it; the checks refuse with one of the known statuses
      // and a clean message, and accept only a head that ends where FindHeadEnd says.
      const std::string_view rest = input.substr(custos::api::LeadingEmptyLines(input));
      const size_t end = custos::api::FindHeadEnd(rest);
      const std::string_view head = end == std::string_view::npos ? rest : rest.substr(0, end);
      custos::api::HeadLimits limits;
      limits.max_head_bytes = 4096;
      limits.max_fields = 16;
      limits.max_target_bytes = 512;
      limits.max_body_bytes = 1000;
      const custos::api::HeadCheck check = custos::api::CheckRequestHead(head, limits);
      if (check.status != 0 && check.status != 400 && check.status != 413 && check.status != 414 &&
          check.status != 431) {
        std::abort();
      }
      if (!custos::api::IsCleanUtf8(check.message)) std::abort();
      if (check.ok() && (end == std::string_view::npos || head.size() > limits.max_head_bytes)) {
        std::abort();
      }
      break;
    }
    case 7: {
      const std::string path = custos::api::DecodeTargetPath(input);
      if (path.size() > input.size()) std::abort();
      if (custos::api::TargetQuery(input).size() >= input.size() && !input.empty()) std::abort();
      break;
    }
  }
  return 0;
}
