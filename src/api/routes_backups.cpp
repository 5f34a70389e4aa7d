// Backups and their verification over the API (issue 21's console; docs/backup.md,
// docs/openapi.yaml tag "backups"): GET /v1/backups and POST /v1/backups/{backup_id}/verify.
// Thin: BackupService::List and VerifyListed, the calls behind `custos backup verify`; the
// vault admits them (backup.run) and audits them. A backup is named by its id in the
// configured [backup] dir, never by a server path; taking and restoring stay on the CLI.
#include <array>

#include "api/query.h"
#include "api/request_body.h"
#include "api/routes.h"
#include "api/view_json.h"
#include "vault/backups.h"
#include "vault/vault.h"

namespace custos::api {
namespace {

using nlohmann::json;

Result<ApiResponse> ListBackups(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_RETURN_IF_ERROR(ParseQuery(req.query, kNoQuery).status());
  CUSTOS_ASSIGN_OR_RETURN(std::vector<vault::BackupListing> list, v.backups().List(s.ctx));
  json items = json::array();
  for (const vault::BackupListing& b : list) items.push_back(BackupListingJson(b));
  return JsonResponse(200, Dump({{"backups", items}}));
}

// The check's result: 200 with ok true and the counts, or ok false naming the file and the
// check that failed (DataLoss) or the missing manifest (NotFound of an incomplete backup is
// not listed, so NotFound here is an unknown id: 404).
Result<ApiResponse> VerifyBackup(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_RETURN_IF_ERROR(ParseQuery(req.query, kNoQuery).status());
  CUSTOS_RETURN_IF_ERROR(NoBody(req.body));
  const std::string id = s.params.at("backup_id");
  Result<vault::BackupCheck> c = v.backups().VerifyListed(s.ctx, id);
  if (!c.ok() && c.status().code() == Code::kDataLoss) {
    return JsonResponse(200,
                        Dump({{"ok", false}, {"backup_id", id}, {"error", c.status().message()}}));
  }
  CUSTOS_RETURN_IF_ERROR(c.status());
  json counts = json::object();
  for (const auto& [table, n] : c->row_counts) counts[table] = n;
  return JsonResponse(200, Dump({{"ok", true},
                                 {"backup_id", id},
                                 {"created_at_ms", c->created_at_ms},
                                 {"backend", c->backend},
                                 {"chunks", c->chunks},
                                 {"row_counts", counts},
                                 {"key_backup", c->key_backup},
                                 {"key_backup_checked", c->key_backup_checked},
                                 {"key_backup_rows", c->key_backup_rows}}));
}

}  // namespace

void AddBackupRoutes(RouteTable& t, vault::Vault& v) {
  t.Add({"GET", "/v1/backups", Access::kAuthenticated, BindVault(v, ListBackups)});
  t.Add({"POST", "/v1/backups/{backup_id}/verify", Access::kAuthenticated,
         BindVault(v, VerifyBackup)});
}

}  // namespace custos::api
