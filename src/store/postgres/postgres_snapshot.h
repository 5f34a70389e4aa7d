// Internal to the store: Snapshot and Loader (snapshot.h) on a PostgreSQL schema, each on a
// connection of its own.
#pragma once

#include <memory>

#include "core/status.h"
#include "store/postgres/postgres_store.h"
#include "store/snapshot.h"

namespace custos::store::postgres {

// A REPEATABLE READ READ ONLY transaction: one consistent view, no lock that blocks writers.
// Unavailable when the server cannot be reached.
Result<std::unique_ptr<Snapshot>> OpenSnapshot(const PostgresOptions& options);

// A loader into the (migrated, empty) schema; everything is written in one transaction, so a
// failed or abandoned load leaves nothing. Conflict if the schema holds a vault.
Result<std::unique_ptr<Loader>> OpenLoader(const PostgresOptions& options);

}  // namespace custos::store::postgres
