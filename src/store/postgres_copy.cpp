#include "store/postgres_copy.h"

#include <fmt/core.h>

#include <utility>
#include <vector>

#include "store/sqlite_db.h"
#include "store/sqlite_schema.h"

namespace custos::store {
namespace {

using sqlite::SqliteDb;
using sqlite::Stmt;

// Runs `sql` on the source and hands each row to `copy`, counting rows into
// `count`.
template <typename CopyRow>
Status EachRow(SqliteDb& db, const char* sql, std::string_view op, int64_t& count, CopyRow copy) {
  CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(sql, op));
  while (true) {
    CUSTOS_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) return Status::Ok();
    CUSTOS_RETURN_IF_ERROR(copy(stmt));
    ++count;
  }
}

Result<Level> LevelOf(int64_t value) {
  for (Level level : kAllLevels) {
    if (static_cast<int64_t>(level) == value) return level;
  }
  return DataLoss("migrate: a stored level is out of range");
}

Status RefuseNonEmpty(Transaction& txn) {
  CUSTOS_ASSIGN_OR_RETURN(auto vault_id, txn.GetMeta("vault_id"));
  CUSTOS_ASSIGN_OR_RETURN(int64_t customers, txn.CountCustomers());
  CUSTOS_ASSIGN_OR_RETURN(auto head, txn.GetAuditHead());
  CUSTOS_ASSIGN_OR_RETURN(auto staff, txn.ListStaff());
  if (vault_id.has_value() || customers > 0 || head.has_value() || !staff.empty()) {
    return Conflict(
        "migrate: the target PostgreSQL schema already holds a "
        "vault; choose an empty "
        "schema or database");
  }
  return Status::Ok();
}

Status CopyIndex(SqliteDb& db, Transaction& txn, CopyReport& report) {
  // Staged entries (an import killed before its merge) are copied as merged
  // entries.
  static constexpr const char* kIndex =
      "SELECT customer_id, field, token FROM blind_index UNION ALL "
      "SELECT customer_id, field, token FROM blind_index_staged ORDER BY 1";
  std::string current;
  std::vector<IndexEntry> entries;
  auto flush = [&]() -> Status {
    if (entries.empty()) return Status::Ok();
    Status s = txn.PutIndexEntries(current, entries);
    entries.clear();
    return s;
  };
  if (Status step = EachRow(db, kIndex, "migrate: blind index", report.index_entries,
                            [&](const Stmt& s) -> Status {
                              std::string id = s.Text(0);
                              if (id != current) {
                                CUSTOS_RETURN_IF_ERROR(flush());
                                current = std::move(id);
                              }
                              entries.push_back({s.Text(1), s.Blob(2)});
                              return Status::Ok();
                            });
      !step.ok())
    return step;
  return flush();
}

// --- access (issue 3): credentials, API tokens, training records, approvals ---
Status CopyAccess(SqliteDb& db, Transaction& txn, CopyReport& r) {
  if (Status step = EachRow(db,
                            "SELECT staff_id, password_hash, totp_sealed, failed_attempts, "
                            "locked_until_ms, updated_at_ms FROM staff_credentials "
                            "ORDER BY staff_id",
                            "migrate: staff credentials", r.access_rows,
                            [&](const Stmt& s) {
                              return txn.PutStaffCredential({s.Text(0), s.Text(1), s.Blob(2),
                                                             s.Int(3), s.Int(4), s.Int(5)});
                            });
      !step.ok())
    return step;
  if (Status step = EachRow(db,
                            "SELECT token_id, staff_id, secret_sha256, label, created_at_ms, "
                            "expires_at_ms, revoked_at_ms FROM api_tokens ORDER BY token_id",
                            "migrate: api tokens", r.access_rows,
                            [&](const Stmt& s) {
                              return txn.InsertApiToken({s.Text(0), s.Text(1), s.Blob(2),
                                                         s.Text(3), s.Int(4), s.Int(5),
                                                         s.Int(6)});
                            });
      !step.ok())
    return step;
  if (Status step = EachRow(db,
                            "SELECT staff_id, course, completed_at_ms, valid_until_ms, "
                            "recorded_by FROM training_records "
                            "ORDER BY staff_id, course, completed_at_ms",
                            "migrate: training records", r.access_rows,
                            [&](const Stmt& s) {
                              return txn.InsertTraining(
                                  {s.Text(0), s.Text(1), s.Int(2), s.Int(3), s.Text(4)});
                            });
      !step.ok())
    return step;
  return EachRow(db,
                 "SELECT approval_id, kind, requester, justification, scope, requested_at_ms, "
                 "expires_at_ms, approver, decided_at_ms, state FROM approvals "
                 "ORDER BY approval_id",
                 "migrate: approvals", r.access_rows, [&](const Stmt& s) {
                   return txn.InsertApproval({s.Text(0), s.Text(1), s.Text(2), s.Text(3),
                                              s.Text(4), s.Int(5), s.Int(6), s.Text(7),
                                              s.Int(8), s.Text(9)});
                 });
}

// --- consent (issue 3): privacy notices and the consent ledger, entry for entry ---
Status CopyConsent(SqliteDb& db, Transaction& txn, CopyReport& r) {
  if (Status step = EachRow(db,
                            "SELECT version, text_sha256, text, purposes, effective_at_ms, "
                            "published_at_ms, publisher FROM privacy_notices ORDER BY version",
                            "migrate: privacy notices", r.consent_rows,
                            [&](const Stmt& s) {
                              return txn.InsertNotice({s.Int(0), s.Text(1), s.Text(2),
                                                       s.Text(3), s.Int(4), s.Int(5),
                                                       s.Text(6)});
                            });
      !step.ok())
    return step;
  return EachRow(db,
                 "SELECT customer_id, seq, action, scope, purpose, notice_version, channel, "
                 "evidence_ref, recorded_at_ms, actor FROM consent_ledger "
                 "ORDER BY customer_id, seq",
                 "migrate: consent ledger", r.consent_rows, [&](const Stmt& s) {
                   return txn.AppendConsent({s.Text(0), s.Int(1), s.Text(2), s.Text(3),
                                             s.Text(4), s.Int(5), s.Text(6), s.Text(7),
                                             s.Int(8), s.Text(9)});
                 });
}

// --- lifecycle (issue 6): legal holds, retention plans, the destruction log ---
Status CopyLifecycle(SqliteDb& db, Transaction& txn, CopyReport& r) {
  if (Status step = EachRow(db,
                            "SELECT hold_id, customer_id, reason, owner, placed_by, placed_at_ms, "
                            "released_by, released_at_ms FROM legal_holds "
                            "ORDER BY hold_id, customer_id",
                            "migrate: legal holds", r.lifecycle_rows,
                            [&](const Stmt& s) -> Status {
                              CUSTOS_RETURN_IF_ERROR(txn.InsertLegalHold(
                                  {s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4),
                                   s.Int(5), "", 0}));
                              if (s.Int(7) == 0) return Status::Ok();
                              // Released together: one release per hold, at its time.
                              return txn.ReleaseLegalHold(s.Text(0), s.Text(6), s.Int(7))
                                  .status();
                            });
      !step.ok())
    return step;
  if (Status step = EachRow(db,
                            "SELECT plan_id, content_sha256, content, created_by, created_at_ms, "
                            "state, run_id, updated_at_ms FROM retention_plans ORDER BY plan_id",
                            "migrate: retention plans", r.lifecycle_rows,
                            [&](const Stmt& s) {
                              return txn.InsertRetentionPlan({s.Text(0), s.Text(1), s.Text(2),
                                                              s.Text(3), s.Int(4), s.Text(5),
                                                              s.Text(6), s.Int(7)});
                            });
      !step.ok())
    return step;
  // Appended in seq order: the log has no gaps, so each entry keeps its seq.
  return EachRow(db,
                 "SELECT seq, ts_ms, run_id, kind, id_hash FROM destruction_log ORDER BY seq",
                 "migrate: destruction log", r.lifecycle_rows, [&](const Stmt& s) {
                   return txn.AppendDestruction({s.Int(0), s.Int(1), s.Text(2), s.Text(3),
                                                 s.Text(4)})
                       .status();
                 });
}

Status CopyAll(SqliteDb& db, Transaction& txn, CopyReport& r) {
  if (Status step = EachRow(db, "SELECT key, value FROM meta ORDER BY key", "migrate: meta", r.meta,
                            [&](const Stmt& s) {
                              const Bytes value = s.Blob(1);
                              return txn.PutMeta(s.Text(0), value);
                            });
      !step.ok())
    return step;
  if (Status step = EachRow(db,
                            "SELECT customer_id, created_at_ms, updated_at_ms, source, "
                            "schema_version, env_general, "
                            "env_internal, env_confidential FROM customers ORDER BY customer_id",
                            "migrate: customers", r.customers,
                            [&](const Stmt& s) {
                              CustomerRow row;
                              row.customer_id = s.Text(0);
                              row.created_at_ms = s.Int(1);
                              row.updated_at_ms = s.Int(2);
                              row.source = s.Text(3);
                              row.schema_version = static_cast<uint32_t>(s.Int(4));
                              for (size_t i = 0; i < kAllLevels.size(); ++i) {
                                const int col = 5 + static_cast<int>(i);
                                if (!s.IsNull(col))
                                  row.envelopes.push_back({kAllLevels[i], s.Blob(col)});
                              }
                              return txn.InsertCustomer(row);
                            });
      !step.ok())
    return step;
  if (Status step = EachRow(
          db,
          "SELECT customer_id, kek_version, wrapped_dek FROM "
          "wrapped_keys ORDER BY customer_id",
          "migrate: wrapped keys", r.wrapped_keys,
          [&](const Stmt& s) {
            return txn.PutWrappedKey({s.Text(0), static_cast<uint32_t>(s.Int(1)), s.Blob(2)});
          });
      !step.ok())
    return step;
  CUSTOS_RETURN_IF_ERROR(CopyIndex(db, txn, r));
  if (Status step = EachRow(
          db,
          "SELECT customer_id, txn_id, created_at_ms, source, "
          "ciphertext FROM transactions "
          "ORDER BY customer_id, txn_id",
          "migrate: transactions", r.transactions,
          [&](const Stmt& s) {
            return txn.InsertTransaction({s.Text(0), s.Text(1), s.Int(2), s.Text(3), s.Blob(4)});
          });
      !step.ok())
    return step;
  if (Status step = EachRow(
          db,
          "SELECT customer_id, note_id, created_at_ms, source, level, "
          "ciphertext FROM notes "
          "ORDER BY customer_id, note_id",
          "migrate: notes", r.notes,
          [&](const Stmt& s) -> Status {
            CUSTOS_ASSIGN_OR_RETURN(Level level, LevelOf(s.Int(4)));
            return txn.InsertNote({s.Text(0), s.Text(1), s.Int(2), s.Text(3), level, s.Blob(5)});
          });
      !step.ok())
    return step;
  if (Status step = EachRow(db,
                            "SELECT seq, ts_ms, actor, action, target, purpose, channel, "
                            "decision, reason, fields, "
                            "request_id, prev_hash, hash FROM audit_log ORDER BY seq",
                            "migrate: audit log", r.audit_entries,
                            [&](const Stmt& s) {
                              AuditRow row;
                              row.seq = s.Int(0);
                              row.ts_ms = s.Int(1);
                              row.actor = s.Text(2);
                              row.action = s.Text(3);
                              row.target = s.Text(4);
                              row.purpose = s.Text(5);
                              row.channel = s.Text(6);
                              row.decision = s.Text(7);
                              row.reason = s.Text(8);
                              row.fields = s.Text(9);
                              row.request_id = s.Text(10);
                              row.prev_hash = s.Blob(11);
                              row.hash = s.Blob(12);
                              return txn.AppendAudit(row);
                            });
      !step.ok())
    return step;
  if (Status step =
          EachRow(db,
                  "SELECT seq, ts_ms, hash, signature FROM "
                  "audit_checkpoints ORDER BY seq",
                  "migrate: audit checkpoints", r.checkpoints,
                  [&](const Stmt& s) {
                    return txn.InsertCheckpoint({s.Int(0), s.Int(1), s.Blob(2), s.Blob(3)});
                  });
      !step.ok())
    return step;
  if (Status step = EachRow(db,
                            "SELECT staff_id, display_name, post, roles, created_at_ms, "
                            "status FROM staff "
                            "ORDER BY staff_id",
                            "migrate: staff", r.staff,
                            [&](const Stmt& s) {
                              return txn.InsertStaff({s.Text(0), s.Text(1), s.Text(2), s.Text(3),
                                                      s.Int(4), s.Text(5)});
                            });
      !step.ok())
    return step;
  CUSTOS_RETURN_IF_ERROR(CopyAccess(db, txn, r));
  CUSTOS_RETURN_IF_ERROR(CopyConsent(db, txn, r));
  CUSTOS_RETURN_IF_ERROR(CopyLifecycle(db, txn, r));
  return EachRow(db,
                 "SELECT import_id, file_sha256, actor, started_at_ms, updated_at_ms, "
                 "committed_lines, imported, rejected, state FROM imports ORDER BY "
                 "import_id",
                 "migrate: imports", r.imports, [&](const Stmt& s) {
                   return txn.PutImport({s.Text(0), s.Text(1), s.Text(2), s.Int(3), s.Int(4),
                                         s.Int(5), s.Int(6), s.Int(7), s.Text(8)});
                 });
}

}  // namespace

Result<CopyReport> CopySqliteToPostgres(const std::filesystem::path& sqlite_path,
                                        const PostgresOptions& target) {
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db,
                          SqliteDb::Open(sqlite_path, /*create=*/false));
  db->SetBusyTimeout(5000);
  CUSTOS_ASSIGN_OR_RETURN(int version, sqlite::ReadSchemaVersion(*db));
  if (version != sqlite::kLatestSchemaVersion) {
    return FailedPrecondition(
        fmt::format("migrate: the SQLite database has schema version {}, this "
                    "Custos copies version {}",
                    version, sqlite::kLatestSchemaVersion));
  }
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenPostgresStore(target));
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn, store->Begin());
  CUSTOS_RETURN_IF_ERROR(RefuseNonEmpty(*txn));
  // The write lock: no writer of the source commits while it is copied.
  CUSTOS_RETURN_IF_ERROR(db->Exec("BEGIN IMMEDIATE", "migrate: lock the source"));
  CopyReport report;
  Status status = CopyAll(*db, *txn, report);
  db->Exec("ROLLBACK", "migrate: release the source").IgnoreError();  // nothing was written
  CUSTOS_RETURN_IF_ERROR(status);
  CUSTOS_RETURN_IF_ERROR(txn->Commit());
  return report;
}

}  // namespace custos::store
