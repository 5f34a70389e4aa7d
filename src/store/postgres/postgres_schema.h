// The PostgreSQL schema as an ordered list of migrations, recorded in
// schema_migrations(version BIGINT PRIMARY KEY, applied_at_ms BIGINT), inside
// the store's own PostgreSQL schema (namespace; "custos" unless configured).
//
// The tables mirror SQLite's (sqlite_schema.cpp). Every table holding customer
// data has customer_id as the FIRST column of its primary key, so a distributed
// engine (Citus) can shard it on customer_id and co-locate one customer's rows
// (docs/SCALING.md). Ids are `TEXT COLLATE "C"`: byte order, as on SQLite,
// whatever the database's locale.
//
// Migrations only ever append: a released migration is never edited.
//
// Thread safety: the functions use the given connection; the caller owns it.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "store/postgres/postgres_conn.h"

namespace custos::store::postgres {

// 8: subject-request fulfilment (issue 18); 9: kDeidReleasesMigration (store/tables.h).
// 9: kDeidReleasesMigration; 10: kDeidBudgetsMigration (store/tables.h)
// 14: kPartnerCertificatesMigration (store/tables.h)
// 15: kNoticeSharesMigration; 16: kAuditKeysMigration; 17: kAuditTimeSpansMigration;
// 18: kAuditKeySpansMigration; 19: kConsentKeptMigration; 20: kDeidReleaseClassesMigration
// (store/tables.h)
inline constexpr int kLatestSchemaVersion = 20;

// Brings the schema up to kLatestSchemaVersion in one transaction, serialised
// with other processes by an advisory lock on the schema's name. Creates the
// schema namespace when `create` is set. Idempotent. NotFound: the schema holds
// no Custos tables and `create` is false. FailedPrecondition: the database
// records a newer version than this code knows. Unavailable / Internal: as
// PgError; everything is rolled back.
Status Migrate(PgConn& conn, const std::string& schema, bool create, int64_t now_ms);

// The highest applied version (0 when the schema has no schema_migrations
// table).
Result<int> ReadSchemaVersion(PgConn& conn);

}  // namespace custos::store::postgres
