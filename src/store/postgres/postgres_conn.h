// PgConn: one libpq connection with its cache of prepared statements; Params,
// the values of one statement sent in binary format; PgResult, a statement's
// rows read in binary format. Internal to the store component; the rest of
// Custos sees only store.h and postgres_store.h.
//
// No SQL is ever built from a value: every value travels as a binary parameter
// of a prepared statement (bytea as raw bytes, bigint as 8 big-endian bytes,
// text as its UTF-8 bytes). Every SQL text is a string literal with static
// storage; the cache is keyed by its address, so each statement is parsed once
// per connection.
//
// Errors: PgError() maps a failed statement to a Status naming the operation
// and the SQLSTATE, never the server's message text (which may quote a value,
// e.g. a duplicate key).
//
// Thread safety: none. A PgConn is used by one thread at a time (the pool hands
// it to one transaction at a time).
#pragma once

#include <libpq-fe.h>

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace custos::store::postgres {

// PostgreSQL type OIDs of the parameters Custos sends (pg_type.dat).
inline constexpr Oid kByteaOid = 17;
inline constexpr Oid kInt8Oid = 20;
inline constexpr Oid kTextOid = 25;

// The parameters of one statement, in order ($1, $2, ...). Text and bytea
// values are borrowed: the viewed memory must outlive the statement's
// execution.
class Params {
 public:
  Params& Text(std::string_view value);
  Params& Bytea(ByteView value);
  Params& Int(int64_t value);
  Params& NullBytea();

  int size() const { return static_cast<int>(values_.size()); }
  const Oid* types() const { return types_.data(); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  void Add(Oid type, const char* data, size_t size);

  std::deque<std::array<char, 8>> ints_;  // a deque: growing keeps element addresses
  std::vector<Oid> types_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// The result of one statement (rows in binary format). Column accessors assume
// the column type the SQL selects: Int for bigint, Text for text, Bytes for
// bytea.
class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result, &PQclear) {}

  int Rows() const { return PQntuples(result_.get()); }
  bool IsNull(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }
  int64_t Int(int row, int col) const;
  std::string Text(int row, int col) const;
  Bytes Blob(int row, int col) const;
  // Rows inserted, updated or deleted by the statement.
  int64_t Affected() const;
  // The command tag ("COMMIT", "ROLLBACK", "INSERT 0 1", ...).
  std::string_view CommandTag() const { return PQcmdStatus(result_.get()); }

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> result_;
};

// Maps a failed statement (or a failed connection when `result` is null) to a
// Status naming `op`: unique violation (23505) -> Conflict; other integrity
// violations (class 23) and data exceptions (class 22) -> InvalidArgument; a
// lost or refused connection, a server shutting down (class 08, 57P0x),
// insufficient resources (53), a serialisation failure or deadlock (40001,
// 40P01) -> Unavailable; anything else -> Internal.
Status PgError(PGconn* conn, const PGresult* result, std::string_view op);

class PgConn {
 public:
  // Connects with `conninfo` (a URL or libpq keywords; validated by the
  // caller), waiting at most `connect_timeout_s` seconds, and sets
  // client_encoding UTF8 and search_path to `schema` (which need not exist
  // yet), naming itself `application_name`. Unavailable when the server cannot
  // be reached or refuses the login.
  static Result<std::unique_ptr<PgConn>> Connect(const std::string& conninfo,
                                                 const std::string& schema, int connect_timeout_s,
                                                 const std::string& application_name);
  ~PgConn();
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  // Runs the cached prepared statement for `sql` (static storage) with
  // `params`, preparing it on first use with the parameter types of this call.
  // A failure maps through PgError.
  Result<PgResult> Exec(const char* sql, const Params& params, std::string_view op);
  // Runs `sql` (no values; one or more statements) through the simple protocol,
  // uncached: BEGIN, COMMIT, ROLLBACK, migrations.
  Result<PgResult> ExecSimple(const char* sql, std::string_view op);

  // True once libpq has seen the connection fail; such a connection is never
  // reused.
  bool Broken() const { return PQstatus(conn_) != CONNECTION_OK; }
  // True when no transaction is open (and none is failed) on the connection.
  bool Idle() const { return PQtransactionStatus(conn_) == PQTRANS_IDLE; }
  // The server process id serving this connection (for tests that end it).
  int BackendPid() const { return PQbackendPID(conn_); }
  PGconn* raw() { return conn_; }

 private:
  explicit PgConn(PGconn* conn) : conn_(conn) {}

  PGconn* conn_;
  std::unordered_map<const char*, std::string> statements_;  // SQL address -> statement name
};

}  // namespace custos::store::postgres
