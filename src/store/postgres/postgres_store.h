// The server Store: a PostgreSQL (15 or later) database reached over libpq, for
// a company whose "designated secure database" is a PostgreSQL cluster (P3.2a).
// Passes the same contract suite as the SQLite store
// (tests/store/store_suite.h).
//
// Design: a pool of connections; Begin() takes one for the transaction's life
// and runs BEGIN (READ COMMITTED); Commit() runs COMMIT; destruction without
// Commit rolls back. Unlike SQLite, transactions of one Store (and of other
// processes) run concurrently; the audit chain is kept single by an advisory
// lock taken in GetAuditHead/AppendAudit (postgres_transaction.h). Every value
// is a binary parameter of a prepared statement. The tables live in their own
// PostgreSQL schema (namespace), "custos" by default, with versioned migrations
// (postgres_schema.h); customer tables are keyed by customer_id first for
// distribution (docs/SCALING.md).
//
// Credentials: the connection string never carries a password (it comes from
// custos.toml, which is not a secret store). libpq takes it from PGPASSWORD or
// a password file
// (~/.pgpass, PGPASSFILE), or the server trusts the client by certificate or
// peer.
//
// Failures: a lost server answers Unavailable; the next Begin() reconnects. A
// server that goes away mid-transaction loses that transaction only (it was
// never acknowledged).
//
// Thread safety: as store.h. The Store must outlive its Transactions.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace custos::store {

struct PostgresOptions {
  // A URL (postgresql://user@host:port/db?sslmode=...) or libpq keywords
  // ("host=... dbname=... user=..."). Must not contain a password.
  std::string conninfo;
  // The PostgreSQL schema (namespace) holding the tables: lower-case letters,
  // digits and
  // '_', starting with a letter or '_', at most 63 characters.
  std::string schema = "custos";
  // Create the schema and apply every migration when it holds no Custos tables.
  bool create_if_missing = true;
  // Connections kept open at most; a Begin() beyond them waits for one to be
  // given back.
  int max_connections = 8;
  // How long Begin() waits for a free connection before answering Unavailable.
  int acquire_timeout_ms = 5000;
  // How long connecting may take (libpq connect_timeout), in seconds.
  int connect_timeout_s = 5;
  // Shown in pg_stat_activity.
  std::string application_name = "custos";
};

// InvalidArgument when `conninfo` is empty, is not a valid URL or keyword
// string, or holds a password; the message never repeats the string. OK
// otherwise.
Status CheckConninfo(std::string_view conninfo);

// Connects, creates the schema when asked, and applies pending migrations in
// one transaction (serialised with other processes). Success: a ready Store
// whose Backend() is "postgres". InvalidArgument: a bad option or connection
// string (see CheckConninfo). NotFound: the schema holds no Custos tables and
// create_if_missing is false. FailedPrecondition: the database was written by a
// newer schema version. Unavailable: the server cannot be reached or refuses
// the login.
Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& options);

// Test hook: the server process ids of the store's idle pooled connections
// (ending them simulates a server restart). InvalidArgument for a Store that is
// not PostgreSQL.
Result<std::vector<int>> TEST_IdleBackendPids(Store& store);

}  // namespace custos::store
