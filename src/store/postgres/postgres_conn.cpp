#include "store/postgres/postgres_conn.h"

#include <fmt/core.h>

#include <cstdlib>
#include <cstring>
#include <limits>

namespace custos::store::postgres {
namespace {

// libpq sends a null value pointer as SQL NULL; an empty value needs a real
// pointer.
constexpr const char* kEmpty = "";

// The first line of libpq's connection error ("connection to server at ...
// failed: ..."). It names the host, port and reason, never a stored value.
std::string ConnectionMessage(PGconn* conn) {
  std::string text = conn != nullptr ? PQerrorMessage(conn) : "out of memory";
  const size_t nl = text.find('\n');
  if (nl != std::string::npos) text.resize(nl);
  return text;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

void IgnoreNotice(void* /*arg*/, const char* /*message*/) {
  // NOTICEs ("relation already exists, skipping") would go to stderr; they
  // carry nothing a caller needs, and a server may quote values in them.
}

}  // namespace

// --- Params ---

void Params::Add(Oid type, const char* data, size_t size) {
  types_.push_back(type);
  values_.push_back(data);
  // Values above 2 GiB are refused by the server anyway; clamp to keep the cast
  // defined.
  constexpr auto kMax = static_cast<size_t>(std::numeric_limits<int>::max());
  lengths_.push_back(static_cast<int>(size < kMax ? size : kMax));
  formats_.push_back(1);  // binary
}

Params& Params::Text(std::string_view value) {
  Add(kTextOid, value.empty() ? kEmpty : value.data(), value.size());
  return *this;
}

Params& Params::Bytea(ByteView value) {
  Add(kByteaOid, value.empty() ? kEmpty : reinterpret_cast<const char*>(value.data()),
      value.size());
  return *this;
}

Params& Params::Int(int64_t value) {
  auto u = static_cast<uint64_t>(value);
  std::array<char, 8>& be = ints_.emplace_back();
  for (size_t i = 0; i < 8; ++i) be[i] = static_cast<char>((u >> (56 - 8 * i)) & 0xff);
  Add(kInt8Oid, be.data(), be.size());
  return *this;
}

Params& Params::NullBytea() {
  types_.push_back(kByteaOid);
  values_.push_back(nullptr);
  lengths_.push_back(0);
  formats_.push_back(1);
  return *this;
}

// --- PgResult ---

int64_t PgResult::Int(int row, int col) const {
  const auto* p = reinterpret_cast<const uint8_t*>(PQgetvalue(result_.get(), row, col));
  const int len = PQgetlength(result_.get(), row, col);
  uint64_t u = 0;
  for (int i = 0; i < len; ++i) u = (u << 8) | p[i];
  if (len == 4) return static_cast<int32_t>(static_cast<uint32_t>(u));  // an int4 column
  return static_cast<int64_t>(u);
}

std::string PgResult::Text(int row, int col) const {
  return std::string(PQgetvalue(result_.get(), row, col),
                     static_cast<size_t>(PQgetlength(result_.get(), row, col)));
}

Bytes PgResult::Blob(int row, int col) const {
  const auto* p = reinterpret_cast<const uint8_t*>(PQgetvalue(result_.get(), row, col));
  return Bytes(p, p + PQgetlength(result_.get(), row, col));
}

int64_t PgResult::Affected() const {
  const char* n = PQcmdTuples(result_.get());
  return (n == nullptr || *n == '\0') ? 0 : std::strtoll(n, nullptr, 10);
}

// --- errors ---

Status PgError(PGconn* conn, const PGresult* result, std::string_view op) {
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK || result == nullptr) {
    return Unavailable(
        fmt::format("store: {}: lost the database connection ({})", op, ConnectionMessage(conn)));
  }
  const char* state_c = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const std::string_view state = state_c != nullptr ? state_c : "";
  std::string message = fmt::format("store: {}: server error SQLSTATE {}", op, state);
  if (state == "23505") return Conflict(fmt::format("store: {}: already exists", op));
  if (StartsWith(state, "23") || StartsWith(state, "22")) return InvalidArgument(message);
  if (StartsWith(state, "08") || StartsWith(state, "57P") || StartsWith(state, "53") ||
      state == "40001" || state == "40P01" || state.empty()) {
    return Unavailable(message);
  }
  return Internal(message);
}

// --- PgConn ---

Result<std::unique_ptr<PgConn>> PgConn::Connect(const std::string& conninfo,
                                                const std::string& schema, int connect_timeout_s,
                                                const std::string& application_name) {
  const std::string timeout = std::to_string(connect_timeout_s);
  // Later keywords win over the expanded dbname's, earlier ones lose: the operator's URL may
  // set its own timeouts; the name and the encoding are the store's. A server that vanishes
  // without closing the connection (a partition, a powered-off host) is noticed by TCP
  // keepalives on an idle connection and by tcp_user_timeout on one waiting for an answer,
  // instead of a request hanging for the kernel's default of ~15 minutes.
  const char* keywords[] = {"connect_timeout",  "keepalives",
                            "keepalives_idle",  "keepalives_interval",
                            "keepalives_count", "tcp_user_timeout",
                            "dbname",           "application_name",
                            "client_encoding",  nullptr};
  const char* values[] = {
      timeout.c_str(),          "1",    "30",   "10", "3", "60000", conninfo.c_str(),
      application_name.c_str(), "UTF8", nullptr};
  PGconn* raw = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (raw == nullptr || PQstatus(raw) != CONNECTION_OK) {
    std::string message = ConnectionMessage(raw);
    PQfinish(raw);
    return Unavailable(fmt::format("store: connect: {}", message));
  }
  PQsetNoticeProcessor(raw, IgnoreNotice, nullptr);
  std::unique_ptr<PgConn> conn(new PgConn(raw));
  // The schema name is a parameter here, not SQL text; set_config quotes
  // nothing itself, so the identifier is quoted by libpq first.
  char* quoted = PQescapeIdentifier(raw, schema.c_str(), schema.size());
  if (quoted == nullptr) return InvalidArgument("store: option 'schema': not a valid name");
  const std::string search_path = quoted;
  PQfreemem(quoted);
  static constexpr const char* kSetSearchPath = "SELECT set_config('search_path', $1, false)";
  CUSTOS_RETURN_IF_ERROR(
      conn->Exec(kSetSearchPath, Params().Text(search_path), "connect").status());
  return conn;
}

PgConn::~PgConn() { PQfinish(conn_); }

Result<PgResult> PgConn::Exec(const char* sql, const Params& params, std::string_view op) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    std::string name = fmt::format("custos_{}", statements_.size());
    PGresult* prepared = PQprepare(conn_, name.c_str(), sql, params.size(), params.types());
    const bool ok = prepared != nullptr && PQresultStatus(prepared) == PGRES_COMMAND_OK;
    if (!ok) {
      Status error = PgError(conn_, prepared, op);
      PQclear(prepared);
      return error;
    }
    PQclear(prepared);
    it = statements_.emplace(sql, std::move(name)).first;
  }
  PGresult* result = PQexecPrepared(conn_, it->second.c_str(), params.size(), params.values(),
                                    params.lengths(), params.formats(), /*resultFormat=*/1);
  const ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return PgResult(result);
  Status error = PgError(conn_, result, op);
  PQclear(result);
  return error;
}

Result<PgResult> PgConn::ExecSimple(const char* sql, std::string_view op) {
  PGresult* result = PQexec(conn_, sql);
  const ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return PgResult(result);
  Status error = PgError(conn_, result, op);
  PQclear(result);
  return error;
}

}  // namespace custos::store::postgres
