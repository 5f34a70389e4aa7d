// The API's routes, grouped by what they serve. Each Add*Routes function appends its routes to
// the table; BuildRoutes (server.cpp) calls them in a fixed order. Handlers parse (request
// body, query), call one Vault method with the scope's Context, and format the answer: they
// hold no policy logic (ARCHITECTURE.md, "One door").
//
// The vault, metrics and OpenAPI text must outlive the table. Thread safety: handlers are safe
// to run concurrently (the Vault is; they keep no state of their own).
#pragma once

#include <array>
#include <string_view>

#include "api/metrics.h"
#include "api/route_table.h"

namespace custos::vault {
class Vault;
}
namespace custos::schema {
struct ServerConfig;
}

namespace custos::api {

// The accepted query names of a route that takes no query.
inline constexpr std::array<std::string_view, 0> kNoQuery = {};

// /v1/customers, /v1/customers/search, /v1/customers/{customer_id}
void AddCustomerRoutes(RouteTable& table, vault::Vault& vault);
// /v1/customers/{customer_id}/transactions and /notes
void AddRecordRoutes(RouteTable& table, vault::Vault& vault);
// /v1/audit, /v1/audit/entries, /v1/audit/verify
void AddAuditRoutes(RouteTable& table, vault::Vault& vault);
// /v1/notices, /v1/customers/{customer_id}/consents
void AddConsentRoutes(RouteTable& table, vault::Vault& vault);
// /v1/tokens, /v1/staff, /v1/training
void AddStaffRoutes(RouteTable& table, vault::Vault& vault);
// /v1/roles, /v1/access/explain, /v1/approvals
void AddAccessRoutes(RouteTable& table, vault::Vault& vault);
// /v1/subject-requests, /v1/subject-requests/{request_id}/close (PIPL Art. 44-50)
void AddSubjectRequestRoutes(RouteTable& table, vault::Vault& vault);
// /v1/deid/profiles, /releases, /check, /aggregates, /budget (issue 16; docs/deid.md)
void AddDeidRoutes(RouteTable& table, vault::Vault& vault);
class ConsoleSessions;
// /console/ and its files, /console/session (sign-in, CSRF token, sign-out; issue 21,
// docs/console.md). `sessions` and `config` must outlive the table.
void AddConsoleRoutes(RouteTable& table, vault::Vault& vault, ConsoleSessions& sessions,
                      const schema::ServerConfig& config);
// /v1/partners, /v1/agreements, /v1/shares (issue 17; docs/sharing.md)
void AddSharingRoutes(RouteTable& table, vault::Vault& vault);
// /v1/alerts, /v1/incidents, /v1/violations (issue 20; docs/security_operations.md)
void AddSecOpsRoutes(RouteTable& table, vault::Vault& vault);
// /v1/retention/plans, /v1/retention/plans/{plan_id}, .../request, .../run (issue 21;
// docs/retention.md): the same vault calls as `custos retention`.
void AddRetentionRoutes(RouteTable& table, vault::Vault& vault);
// /v1/keys, /v1/keys/rotate (issue 21; docs/keys.md): `custos key status|rotate`.
void AddKeyRoutes(RouteTable& table, vault::Vault& vault);
// /v1/backups, /v1/backups/{backup_id}/verify (issue 21; docs/backup.md).
void AddBackupRoutes(RouteTable& table, vault::Vault& vault);
// /v1/me: the signed-in staff member (issue 21).
void AddSelfRoutes(RouteTable& table, vault::Vault& vault);
// /v1/reports/{name} (issue 19; docs/dpo.md)
void AddReportRoutes(RouteTable& table, vault::Vault& vault);
// /v1/pias, /v1/pias/{pia_id}, /v1/pias/{pia_id}/approve (issue 19; docs/dpo.md)
void AddDpoRoutes(RouteTable& table, vault::Vault& vault);
// /v1/health, /v1/health/details, /v1/metrics, /v1/openapi.yaml (public)
void AddServiceRoutes(RouteTable& table, vault::Vault& vault, const Metrics& metrics);

// A handler bound to the vault: f(vault, request, scope).
template <typename F>
Handler BindVault(vault::Vault& v, F f) {
  return [&v, f](const ApiRequest& req, const RequestScope& s) { return f(v, req, s); };
}

// docs/openapi.yaml, compiled in at build time.
std::string_view OpenApiYaml();

}  // namespace custos::api
