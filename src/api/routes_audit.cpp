// Audit routes (docs/openapi.yaml, tag "audit"): the DPO reads and verifies the access log
// (P3.2c). Reading the log is itself audited by the vault.
#include <array>
#include <sstream>

#include "api/query.h"
#include "api/request_body.h"
#include "api/routes.h"
#include "api/view_json.h"
#include "audit/audit_log.h"
#include "vault/vault.h"

namespace custos::api {
namespace {

using nlohmann::json;

constexpr int64_t kMaxTail = 10000;
constexpr std::array<std::string_view, 4> kEntriesQuery = {"tail", "actor", "action", "target"};
constexpr std::array<std::string_view, 0> kNoQuery = {};
constexpr std::array<BodyMember, 0> kVerifyBody = {};

bool Matches(const json& entry, const QueryParams& q) {
  for (std::string_view key : {"actor", "action", "target"}) {
    auto want = q.find(key);
    if (want == q.end()) continue;
    auto have = entry.find(key);
    if (have == entry.end() || !have->is_string() || *have != want->second) return false;
  }
  return true;
}

// The last `tail` entries (default 100), optionally only those whose actor, action and
// target equal the given values.
Result<ApiResponse> Entries(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(QueryParams q, ParseQuery(req.query, kEntriesQuery));
  int64_t tail = 100;
  if (auto it = q.find("tail"); it != q.end()) {
    CUSTOS_ASSIGN_OR_RETURN(tail, ParseBoundedInt("tail", it->second, 1, kMaxTail));
  }
  std::ostringstream jsonl;
  CUSTOS_RETURN_IF_ERROR(v.audit().Tail(s.ctx, static_cast<size_t>(tail), jsonl));
  json entries = json::array();
  std::istringstream lines(jsonl.str());
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    json entry = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (entry.is_discarded()) return Internal("audit entry is not JSON");
    if (Matches(entry, q)) entries.push_back(std::move(entry));
  }
  return JsonResponse(200, Dump({{"entries", std::move(entries)}}));
}

Result<ApiResponse> Verify(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_RETURN_IF_ERROR(ParseQuery(req.query, kNoQuery).status());
  // An empty body is allowed; anything else must be an empty JSON object.
  if (req.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    CUSTOS_RETURN_IF_ERROR(ParseBody(req.body, kVerifyBody).status());
  }
  CUSTOS_ASSIGN_OR_RETURN(audit::VerifyReport r, v.audit().Verify(s.ctx));
  json doc = {{"ok", r.ok},
              {"entries", r.entries},
              {"checkpoints", r.checkpoints},
              {"first_bad_seq", r.first_bad_seq},
              {"problem", r.problem}};
  return JsonResponse(200, Dump(doc));
}

}  // namespace

void AddAuditRoutes(RouteTable& t, vault::Vault& v) {
  t.Add({"GET", "/v1/audit/entries", Access::kData, BindVault(v, Entries)});
  t.Add({"POST", "/v1/audit/verify", Access::kData, BindVault(v, Verify)});
}

}  // namespace custos::api
