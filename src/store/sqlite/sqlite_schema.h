// The SQLite schema as an ordered list of migrations, recorded in
// schema_migrations(version INTEGER PRIMARY KEY, applied_at_ms INTEGER).
//
// Migrations only ever append: a released migration is never edited, a change is a new one.
// Every table holding customer data carries customer_id in its primary key (docs/SCALING.md).
//
// Thread safety: the functions use the given connection; the caller serialises access.
#pragma once

#include <cstdint>

#include "core/status.h"
#include "store/sqlite/sqlite_db.h"

namespace custos::store::sqlite {

// The newest schema version this code knows.
// 8: subject-request fulfilment (issue 18); 9: kDeidReleasesMigration (store/tables.h).
// 9: kDeidReleasesMigration; 10: kDeidBudgetsMigration (store/tables.h)
// 14: kPartnerCertificatesMigration (store/tables.h)
// 15: kNoticeSharesMigration; 16: kAuditKeysMigration; 17: kAuditTimeSpansMigration;
// 18: kAuditKeySpansMigration; 19: kConsentKeptMigration; 20: kDeidReleaseClassesMigration
// (store/tables.h)
inline constexpr int kLatestSchemaVersion = 20;

// Brings the database up to kLatestSchemaVersion in one transaction, recording each applied
// version with `now_ms`. Idempotent: an up-to-date database is left untouched.
// FailedPrecondition when the database records a version newer than this code knows (it was
// written by a newer Custos; downgrading is refused rather than guessed at). Any other failure
// rolls everything back and returns the mapped SQLite error.
Status Migrate(SqliteDb& db, int64_t now_ms);

// The highest applied version (0 for a database without migrations).
Result<int> ReadSchemaVersion(SqliteDb& db);

}  // namespace custos::store::sqlite
