#include "store/postgres/postgres_store.h"

#include <fmt/core.h>
#include <libpq-fe.h>

#include <chrono>
#include <utility>

#include "store/postgres/postgres_conn.h"
#include "store/postgres/postgres_pool.h"
#include "store/postgres/postgres_schema.h"
#include "store/postgres/postgres_snapshot.h"
#include "store/postgres/postgres_transaction.h"

namespace custos::store {
namespace {

using postgres::ConnectionPool;
using postgres::PgConn;

int64_t PgNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool ValidSchemaName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (name.front() >= '0' && name.front() <= '9') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

Status CheckOptions(const PostgresOptions& options) {
  CUSTOS_RETURN_IF_ERROR(CheckConninfo(options.conninfo));
  if (!ValidSchemaName(options.schema)) {
    return InvalidArgument(
        "store: option 'schema': lower-case letters, digits "
        "and '_', not starting with a "
        "digit, at most 63 characters");
  }
  if (options.max_connections < 1) {
    return InvalidArgument("store: option 'max_connections': must be at least 1");
  }
  if (options.acquire_timeout_ms < 0 || options.connect_timeout_s < 0) {
    return InvalidArgument("store: timeouts must not be negative");
  }
  return Status::Ok();
}

class PostgresStore final : public Store {
 public:
  PostgresStore(const PostgresOptions& options)
      : options_(options),
        schema_(options.schema),
        audit_lock_key_("custos.audit:" + options.schema),
        pool_(
            [conninfo = options.conninfo, schema = options.schema,
             timeout = options.connect_timeout_s, app = options.application_name] {
              return PgConn::Connect(conninfo, schema, timeout, app);
            },
            static_cast<size_t>(options.max_connections),
            std::chrono::milliseconds(options.acquire_timeout_ms)) {}

  Result<std::unique_ptr<Transaction>> Begin() override {
    return postgres::PgTransaction::Begin(pool_, audit_lock_key_);
  }

  Result<int> SchemaVersion() override {
    // In a transaction, so a dead pooled connection is detected (and replaced)
    // by BEGIN.
    CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<PgConn> conn, TakeLive("schema version"));
    Result<int> version = postgres::ReadSchemaVersion(*conn);
    pool_.Give(std::move(conn));
    return version;
  }

  // PostgreSQL makes every commit durable by itself. What is left to do here is
  // what the contract asks for a shredded key: VACUUM removes the deleted
  // wrapped_keys rows from the table's pages so that a backup copy of the
  // database no longer holds them.
  Status Checkpoint() override {
    CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<PgConn> conn, TakeLive("checkpoint"));
    Status status = conn->ExecSimple("VACUUM wrapped_keys", "checkpoint").status();
    pool_.Give(std::move(conn));
    return status;
  }

  std::string_view Backend() const override { return "postgres"; }

  Result<std::unique_ptr<Snapshot>> OpenSnapshot() override {
    return postgres::OpenSnapshot(options_);
  }

  Result<std::unique_ptr<Loader>> OpenLoader() override { return postgres::OpenLoader(options_); }

  std::vector<int> IdlePids() { return pool_.IdlePids(); }

 private:
  // A pooled connection that answers; a dead idle one (server restart) is
  // replaced.
  Result<std::unique_ptr<PgConn>> TakeLive(std::string_view op) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      bool reused = false;
      CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<PgConn> conn, pool_.Take(&reused));
      Status alive = conn->ExecSimple("SELECT 1", op).status();
      if (alive.ok()) return conn;
      pool_.Give(std::move(conn));
      if (!reused) return alive;
      pool_.DropIdle();
    }
    return Unavailable(fmt::format("store: {}: no live database connection", op));
  }

  PostgresOptions options_;  // for the snapshot and loader connections
  std::string schema_;
  std::string audit_lock_key_;
  ConnectionPool pool_;
};

}  // namespace

Status CheckConninfo(std::string_view conninfo) {
  if (conninfo.empty()) {
    return InvalidArgument("store: PostgreSQL connection string is empty");
  }
  const std::string text(conninfo);
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(text.c_str(), &error);
  // libpq's message may quote the string (and so a password): it is not passed
  // on.
  if (error != nullptr) PQfreemem(error);
  if (parsed == nullptr) {
    return InvalidArgument(
        "store: PostgreSQL connection string is neither a "
        "postgresql:// URL nor libpq "
        "keywords");
  }
  bool has_password = false;
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "password" && o->val != nullptr && *o->val != '\0') {
      has_password = true;
    }
  }
  PQconninfoFree(parsed);
  if (has_password) {
    return InvalidArgument(
        "store: the PostgreSQL connection string contains a password; remove "
        "it and set "
        "PGPASSWORD or use a password file (~/.pgpass, PGPASSFILE) instead");
  }
  return Status::Ok();
}

Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& options) {
  CUSTOS_RETURN_IF_ERROR(CheckOptions(options));
  auto store = std::make_unique<PostgresStore>(options);
  {
    CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<PgConn> conn,
                            PgConn::Connect(options.conninfo, options.schema,
                                            options.connect_timeout_s, options.application_name));
    CUSTOS_RETURN_IF_ERROR(
        postgres::Migrate(*conn, options.schema, options.create_if_missing, PgNowMs()));
  }
  return std::unique_ptr<Store>(std::move(store));
}

Result<std::vector<int>> TEST_IdleBackendPids(Store& store) {
  auto* pg = dynamic_cast<PostgresStore*>(&store);
  if (pg == nullptr) return InvalidArgument("store: idle backend pids: not a PostgreSQL store");
  return pg->IdlePids();
}

}  // namespace custos::store
