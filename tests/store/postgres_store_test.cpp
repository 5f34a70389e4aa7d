// The Store contract suite on a real PostgreSQL server, and what only the
// PostgreSQL backend promises: no password in the connection string,
// reconnecting after the server ends its sessions or restarts, a server lost
// mid-transaction losing nothing acknowledged, one audit chain under concurrent
// writers, customer_id first in every customer table's key.
//
// The server: CUSTOS_TEST_PG_URL (scripts/pg_cluster.sh start prints it).
// Without it every test is skipped, unless CUSTOS_REQUIRE_PG=1, when the run
// fails. Each test works in a fresh PostgreSQL schema of its own, dropped at
// the end of the test process.
#include "store/postgres/postgres_store.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/postgres/postgres_copy.h"
#include "store/postgres/postgres_schema.h"
#include "store/sqlite/sqlite_store.h"
#include "store_suite.h"

namespace custos::store {
namespace {

using testing::AppendSpanEntries;
using testing::ExpectCarolsReadsOfC7;
using testing::StoreBackend;
using testing::StoreSuite;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

std::string TestUrl() { return Env("CUSTOS_TEST_PG_URL"); }

// Schemas made by this process, dropped when it ends.
std::mutex g_schemas_mu;
std::vector<std::string> g_schemas;

std::string NewSchema(const std::string& seed) {
  static std::atomic<int> counter{0};
  const size_t h = std::hash<std::string>{}(seed);
  std::string name = "ct_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
                     std::to_string(h % 1000000);
  std::lock_guard<std::mutex> lock(g_schemas_mu);
  g_schemas.push_back(name);
  return name;
}

// The same directory always maps to the same schema (reopen tests).
std::string SchemaFor(const std::filesystem::path& dir) {
  static std::mutex mu;
  static std::map<std::string, std::string> by_dir;
  std::lock_guard<std::mutex> lock(mu);
  auto it = by_dir.find(dir.string());
  if (it != by_dir.end()) return it->second;
  std::string schema = NewSchema(dir.string());
  by_dir.emplace(dir.string(), schema);
  return schema;
}

// A plain libpq session on the test database: the operator's view.
class Admin {
 public:
  Admin() : conn_(PQconnectdb(TestUrl().c_str())) {
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);  // "drop cascades to"
  }
  ~Admin() { PQfinish(conn_); }
  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  // Runs `sql`; the first column of the first row, or "" (and a test failure on
  // error).
  std::string Query(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    std::string out;
    const ExecStatusType st = PQresultStatus(r);
    EXPECT_TRUE(st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        << sql << ": " << PQerrorMessage(conn_);
    if (st == PGRES_TUPLES_OK && PQntuples(r) > 0) out = PQgetvalue(r, 0, 0);
    PQclear(r);
    return out;
  }

 private:
  PGconn* conn_;
};

class PostgresEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    // Required but absent: every test fails by itself (OptionsFor,
    // PostgresStoreTest::SetUp); a failure here would be reported by CTest as a
    // skip.
    if (TestUrl().empty() && Env("CUSTOS_REQUIRE_PG") != "1") {
      GTEST_SKIP() << "CUSTOS_TEST_PG_URL is unset: no PostgreSQL server to "
                      "test against "
                      "(eval \"$(scripts/pg_cluster.sh start)\")";
    }
  }
  void TearDown() override {
    if (TestUrl().empty()) return;
    Admin admin;
    if (!admin.ok()) return;
    std::lock_guard<std::mutex> lock(g_schemas_mu);
    for (const std::string& s : g_schemas) admin.Query("DROP SCHEMA IF EXISTS " + s + " CASCADE");
  }
};

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

PostgresOptions OptionsFor(const std::string& schema) {
  PostgresOptions options;
  // Empty when CUSTOS_REQUIRE_PG=1 and no URL is set: opening then fails the
  // test.
  options.conninfo = TestUrl();
  options.schema = schema;
  options.application_name = "custos-test-" + schema;
  return options;
}

INSTANTIATE_TEST_SUITE_P(Postgres, StoreSuite,
                         ::testing::Values(StoreBackend{"postgres",
                                                        [](const std::filesystem::path& dir) {
                                                          return OpenPostgresStore(
                                                              OptionsFor(SchemaFor(dir)));
                                                        }}),
                         testing::BackendName);

Bytes B(std::string_view s) { return Bytes(s.begin(), s.end()); }

CustomerRow Customer(std::string id) {
  CustomerRow row;
  row.customer_id = std::move(id);
  row.created_at_ms = 1000;
  row.updated_at_ms = 1000;
  row.source = "api";
  row.schema_version = 1;
  row.envelopes = {{Level::kGeneral, B("sealed")}};
  return row;
}

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(TestUrl().empty()) << "CUSTOS_REQUIRE_PG=1 but CUSTOS_TEST_PG_URL is unset";
    schema_ = NewSchema(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }

  std::unique_ptr<Store> OpenOrDie(PostgresOptions options) {
    auto store = OpenPostgresStore(options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }
  std::unique_ptr<Store> OpenOrDie() { return OpenOrDie(OptionsFor(schema_)); }

  // Ends every server session of this test's stores, as a server restart would.
  void EndSessions() {
    Admin admin;
    ASSERT_TRUE(admin.ok());
    admin.Query(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE application_name = 'custos-test-" +
        schema_ + "'");
  }

  bool HasCustomer(Store& store, const std::string& id) {
    auto txn = store.Begin();
    EXPECT_TRUE(txn.ok()) << txn.status().ToString();
    if (!txn.ok()) return false;
    auto got = (*txn)->GetCustomer(id);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() && got->has_value();
  }

  std::string schema_;
};

TEST_F(PostgresStoreTest, AConnectionUrlCarryingAPasswordIsRefusedWithoutRepeatingIt) {
  for (const std::string& conninfo :
       {std::string("postgresql://custos:hunter2secret@127.0.0.1:5432/custos"),
        std::string("host=127.0.0.1 dbname=custos user=custos "
                    "password=hunter2secret")}) {
    PostgresOptions options = OptionsFor(schema_);
    options.conninfo = conninfo;
    auto store = OpenPostgresStore(options);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.status().code(), Code::kInvalidArgument);
    EXPECT_NE(store.status().message().find("PGPASSWORD"), std::string::npos)
        << "the message says where the password belongs";
    EXPECT_EQ(store.status().message().find("hunter2secret"), std::string::npos)
        << "the password is never repeated";
  }
  EXPECT_TRUE(CheckConninfo("postgresql://custos@127.0.0.1:5432/custos").ok());
  EXPECT_EQ(CheckConninfo("").code(), Code::kInvalidArgument);
  EXPECT_EQ(CheckConninfo("not a = valid = string").code(), Code::kInvalidArgument);
}

TEST_F(PostgresStoreTest, AnUnreachableServerIsUnavailable) {
  PostgresOptions options = OptionsFor(schema_);
  options.conninfo = "postgresql://custos@127.0.0.1:1/custos";  // nothing listens on port 1
  auto store = OpenPostgresStore(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kUnavailable) << store.status().ToString();
}

TEST_F(PostgresStoreTest, OpeningAnEmptySchemaWithoutCreateIsNotFound) {
  PostgresOptions options = OptionsFor(schema_);
  options.create_if_missing = false;
  auto store = OpenPostgresStore(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kNotFound) << store.status().ToString();
}

// The migrations are generated from the table descriptions (store/tables.h); the schema they
// create must stay the one the hand-written migrations of releases 1-5 created (plus migration 6,
// the audit query indexes, 7, the audit Merkle tree, 8, data-subject request fulfilment, 9, the
// de-identified release register, 10, the privacy budgets of aggregates, 11, partners,
// agreements and shares, 12, security operations, 13, the DPO's registers, 14, the
// certificates a partner had before a renewal, 19, the consent evidence kept after a
// deletion, and 20, the class sizes of de-identified releases)
// (golden/postgres_schema.sql is their DDL):
// the same tables, columns, types, collations, nullability, keys, indexes, triggers and functions.
TEST_F(PostgresStoreTest, TheMigrationsCreateTheSchemaOfEarlierReleases) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  std::ifstream file(std::string(CUSTOS_SOURCE_DIR) + "/tests/store/golden/postgres_schema.sql");
  ASSERT_TRUE(file.good());
  const std::string golden((std::istreambuf_iterator<char>(file)),
                           std::istreambuf_iterator<char>());
  const std::string old_schema = NewSchema("golden");
  Admin admin;
  ASSERT_TRUE(admin.ok());
  admin.Query("CREATE SCHEMA " + old_schema);
  admin.Query("SET search_path TO " + old_schema);
  admin.Query(golden);
  auto describe = [&](const std::string& s) {
    return admin.Query(
        "SELECT string_agg(x, E'\\n' ORDER BY x) FROM ("
        " SELECT format('%s.%s %s %s %s %s', table_name, column_name, ordinal_position,"
        "   data_type, coalesce(collation_name, '-'), is_nullable) AS x"
        " FROM information_schema.columns WHERE table_schema = '" +
        s +
        "'"
        "   AND table_name <> 'schema_migrations'"
        " UNION ALL SELECT replace(indexdef, '" +
        s +
        ".', '') FROM pg_indexes"
        " WHERE schemaname = '" +
        s +
        "' AND tablename <> 'schema_migrations'"
        " UNION ALL SELECT format('%s %s %s %s %s', event_object_table, trigger_name,"
        "   action_timing, event_manipulation, replace(action_statement, '" +
        s +
        ".', ''))"
        " FROM information_schema.triggers WHERE trigger_schema = '" +
        s +
        "'"
        " UNION ALL SELECT p.proname || p.prosrc FROM pg_proc p"
        " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = '" +
        s +
        "'"
        ") q");
  };
  const std::string expected = describe(old_schema);
  EXPECT_FALSE(expected.empty());
  EXPECT_EQ(describe(schema_), expected);
}

// Migration kAuditKeySpansMigration (18) on a schema as migration 17 left it, a row per key
// and entry up to entry 520 of 600 (sqlite_store_test.cpp has the same on SQLite): one span per
// column, key and run of 256 entries, audit_keys dropped, queries answering as before.
TEST_F(PostgresStoreTest, TheKeySpansMigrationGroupsEachKeysEntriesByRun) {
  std::vector<AuditRow> log;
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    auto txn = store->Begin();
    ASSERT_OK(txn.status());
    ASSERT_OK(AppendSpanEntries(**txn, 600, /*varied=*/true, &log));
    auto indexed = (*txn)->IndexAuditKeys(600, 1, 520);
    ASSERT_OK(indexed.status());
    ASSERT_EQ(*indexed, 520);
    ASSERT_OK((*txn)->Commit());
  }
  Admin admin;
  ASSERT_TRUE(admin.ok());
  const std::string s = schema_ + ".";
  admin.Query("CREATE TABLE " + s +
              "audit_keys(col BIGINT NOT NULL, key TEXT COLLATE \"C\" NOT NULL, seq BIGINT NOT "
              "NULL, PRIMARY KEY(col, key, seq))");
  admin.Query("INSERT INTO " + s + "audit_keys(col, key, seq) SELECT k.col, k.key, a.seq FROM " +
              s + "audit_key_spans k JOIN " + s +
              "audit_log a ON a.seq BETWEEN k.first_seq AND k.last_seq AND k.key = CASE k.col "
              "WHEN 0 THEN a.target WHEN 1 THEN a.actor WHEN 2 THEN a.action WHEN 3 THEN "
              "a.decision ELSE a.purpose END");
  admin.Query("DROP TABLE " + s + "audit_key_spans");
  admin.Query("DROP TABLE " + s + "consent_kept");  // migrations 19 and 20's
  admin.Query("DROP TABLE " + s + "deid_release_classes");
  admin.Query("DELETE FROM " + s + "schema_migrations WHERE version >= 18");
  ASSERT_EQ(admin.Query("SELECT count(*) FROM " + s + "audit_keys"), "2600");
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(admin.Query("SELECT count(*) FROM pg_tables WHERE schemaname = '" + schema_ +
                        "' AND tablename = 'audit_keys'"),
            "0");
  EXPECT_EQ(admin.Query("SELECT count(*) FROM " + s + "audit_key_spans"),
            std::to_string(3 * 6 + 50 + 50 + 8));
  EXPECT_EQ(admin.Query("SELECT count(*) FROM " + s +
                        "audit_key_spans WHERE col = 1 AND key = 'staff:carol' AND first_seq = 3 "
                        "AND last_seq = 255"),
            "1");
  auto txn = store->Begin();
  ASSERT_OK(txn.status());
  ExpectCarolsReadsOfC7(**txn, log);
}

TEST_F(PostgresStoreTest, EveryCustomerTableIsKeyedByCustomerIdFirst) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  Admin admin;
  ASSERT_TRUE(admin.ok());
  for (const char* table : {"customers", "wrapped_keys", "blind_index", "transactions", "notes"}) {
    const std::string first = admin.Query(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = "
        "i.indrelid "
        "AND a.attnum = i.indkey[0] WHERE i.indisprimary AND i.indrelid = '" +
        schema_ + "." + table + "'::regclass");
    EXPECT_EQ(first, "customer_id") << table << " can be distributed on customer_id";
  }
  EXPECT_EQ(admin.Query("SELECT max(version) FROM " + schema_ + ".schema_migrations"),
            std::to_string(postgres::kLatestSchemaVersion));
}

TEST_F(PostgresStoreTest, StoredValuesTravelAsParametersNotAsSql) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  auto txn = store->Begin();
  ASSERT_OK(txn.status());
  const std::string hostile = "x'); DROP TABLE customers; --";
  ASSERT_OK((*txn)->InsertCustomer(Customer(hostile)));
  ASSERT_OK((*txn)->PutMeta(hostile, B(hostile)));
  ASSERT_OK((*txn)->Commit());
  EXPECT_TRUE(HasCustomer(*store, hostile));
}

TEST_F(PostgresStoreTest, AConflictNamesNoValue) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  auto txn = store->Begin();
  ASSERT_OK(txn.status());
  ASSERT_OK((*txn)->InsertCustomer(Customer("cust-secret-id-42")));
  Status dup = (*txn)->InsertCustomer(Customer("cust-secret-id-42"));
  EXPECT_EQ(dup.code(), Code::kConflict);
  EXPECT_EQ(dup.message().find("cust-secret-id-42"), std::string::npos) << dup.ToString();
  // A refused duplicate does not abort the transaction.
  ASSERT_OK((*txn)->Commit());
}

TEST_F(PostgresStoreTest, TheStoreReconnectsAfterTheServerEndsItsSessions) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  {
    auto txn = store->Begin();
    ASSERT_OK(txn.status());
    ASSERT_OK((*txn)->InsertCustomer(Customer("c1")));
    ASSERT_OK((*txn)->Commit());
  }
  auto pids = TEST_IdleBackendPids(*store);
  ASSERT_OK(pids.status());
  ASSERT_FALSE(pids->empty()) << "the committed transaction's connection went back to the pool";
  EndSessions();
  EXPECT_TRUE(HasCustomer(*store, "c1")) << "Begin replaced the dead pooled connection";
  auto version = store->SchemaVersion();
  ASSERT_OK(version.status());
  EXPECT_EQ(*version, postgres::kLatestSchemaVersion);
}

TEST_F(PostgresStoreTest, AServerLostMidTransactionLosesOnlyThatTransaction) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  {
    auto acknowledged = store->Begin();
    ASSERT_OK(acknowledged.status());
    ASSERT_OK((*acknowledged)->InsertCustomer(Customer("acknowledged")));
    ASSERT_OK((*acknowledged)->Commit());
  }
  auto txn = store->Begin();
  ASSERT_OK(txn.status());
  ASSERT_OK((*txn)->InsertCustomer(Customer("half-written")));
  EndSessions();
  Status lost = (*txn)->PutWrappedKey({"half-written", 1, B("dek")});
  EXPECT_EQ(lost.code(), Code::kUnavailable) << lost.ToString();
  Status commit = (*txn)->Commit();
  EXPECT_FALSE(commit.ok());
  txn.value().reset();

  EXPECT_TRUE(HasCustomer(*store, "acknowledged"));
  EXPECT_FALSE(HasCustomer(*store, "half-written"));
}

TEST_F(PostgresStoreTest, ATransactionDroppedAfterTheServerWentAwayDoesNotPoisonThePool) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  {
    auto txn = store->Begin();
    ASSERT_OK(txn.status());
    ASSERT_OK((*txn)->InsertCustomer(Customer("c1")));
    EndSessions();
  }  // destroyed: the rollback fails on a dead connection, which is closed
  auto txn = store->Begin();
  ASSERT_OK(txn.status());
  ASSERT_OK((*txn)->InsertCustomer(Customer("c2")));
  ASSERT_OK((*txn)->Commit());
  EXPECT_FALSE(HasCustomer(*store, "c1"));
  EXPECT_TRUE(HasCustomer(*store, "c2"));
}

// Two Stores are two processes' connection pools: each appends "head + 1" as
// the audit component does. The advisory lock taken by GetAuditHead keeps one
// chain.
TEST_F(PostgresStoreTest, TwoWritersAppendingToTheAuditLogKeepOneChain) {
  auto first = OpenOrDie();
  auto second = OpenOrDie();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  constexpr int kPerWriter = 150;
  std::vector<std::string> failures(4);
  auto writer = [&](Store& store, size_t slot) {
    for (int i = 0; i < kPerWriter; ++i) {
      auto txn = store.Begin();
      if (!txn.ok()) {
        failures[slot] = txn.status().ToString();
        return;
      }
      auto head = (*txn)->GetAuditHead();
      if (!head.ok()) {
        failures[slot] = head.status().ToString();
        return;
      }
      AuditRow row;
      row.seq = head->has_value() ? (*head)->seq + 1 : 1;
      row.ts_ms = row.seq;
      row.actor = "writer-" + std::to_string(slot);
      row.action = "customer.create";
      row.prev_hash = head->has_value() ? (*head)->hash : Bytes(32, 0);
      row.hash = B("hash-" + std::to_string(row.seq));
      Status s = (*txn)->AppendAudit(row);
      if (s.ok()) s = (*txn)->Commit();
      if (!s.ok()) {
        failures[slot] = s.ToString();
        return;
      }
    }
  };
  std::vector<std::thread> threads;
  threads.emplace_back(writer, std::ref(*first), 0);
  threads.emplace_back(writer, std::ref(*second), 1);
  threads.emplace_back(writer, std::ref(*first), 2);
  threads.emplace_back(writer, std::ref(*second), 3);
  for (auto& t : threads) t.join();
  for (const auto& f : failures) EXPECT_EQ(f, "");

  auto txn = first->Begin();
  ASSERT_OK(txn.status());
  auto log = (*txn)->ReadAudit(1, 100000);
  ASSERT_OK(log.status());
  ASSERT_EQ(log->size(), 4u * kPerWriter);
  for (size_t i = 0; i < log->size(); ++i) {
    const AuditRow& row = (*log)[i];
    ASSERT_EQ(row.seq, static_cast<int64_t>(i + 1)) << "no gap, no duplicate";
    const Bytes want_prev = i == 0 ? Bytes(32, 0) : (*log)[i - 1].hash;
    ASSERT_EQ(row.prev_hash, want_prev) << "entry " << row.seq << " links to its predecessor";
  }
}

// A real restart (pg_ctl restart). It ends the sessions of every test running
// at the time, so CTest runs it alone (RUN_SERIAL) and only when
// CUSTOS_TEST_PG_RESTART=1.
TEST_F(PostgresStoreTest, TheStoreReconnectsAfterTheServerRestarts) {
  const std::string cluster = Env("CUSTOS_TEST_PG_CLUSTER");
  if (Env("CUSTOS_TEST_PG_RESTART") != "1" || cluster.empty()) {
    GTEST_SKIP() << "set CUSTOS_TEST_PG_RESTART=1 and CUSTOS_TEST_PG_CLUSTER "
                    "(pg_cluster.sh)";
  }
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  {
    auto txn = store->Begin();
    ASSERT_OK(txn.status());
    ASSERT_OK((*txn)->InsertCustomer(Customer("before-restart")));
    ASSERT_OK((*txn)->Commit());
  }
  ASSERT_EQ(std::system((cluster + " restart >/dev/null 2>&1").c_str()), 0);
  EXPECT_TRUE(HasCustomer(*store, "before-restart"));
  auto txn = store->Begin();
  ASSERT_OK(txn.status());
  ASSERT_OK((*txn)->InsertCustomer(Customer("after-restart")));
  ASSERT_OK((*txn)->Commit());
}

// --- moving a SQLite vault up (custos migrate) ---

TEST_F(PostgresStoreTest, ASqliteDatabaseIsCopiedRowForRowAndTheTargetMustBeEmpty) {
  const auto dir = std::filesystem::temp_directory_path() / ("custos-copy-" + schema_);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto db_path = dir / "custos.db";
  {
    auto sqlite = OpenSqliteStore(db_path, {});
    ASSERT_OK(sqlite.status());
    auto txn = (*sqlite)->Begin();
    ASSERT_OK(txn.status());
    Transaction& t = **txn;
    ASSERT_OK(t.PutMeta("vault_id", B("v-1")));
    ASSERT_OK(t.PutMeta("empty", Bytes{}));
    CustomerRow c1 = Customer("c1");
    c1.envelopes = {{Level::kGeneral, B("g")}, {Level::kConfidential, Bytes{0, 1, 2, 255}}};
    ASSERT_OK(t.InsertCustomer(c1));
    ASSERT_OK(t.InsertCustomer(Customer("c2")));
    ASSERT_OK(t.PutWrappedKey({"c1", 3, B("wrapped-1")}));
    ASSERT_OK(t.PutIndexEntries("c1", {{"mobile", B("tok-m")}, {"email", B("tok-e")}}));
    ASSERT_OK(t.StageIndexEntries("c2", {{"mobile", B("tok-staged")}}));
    ASSERT_OK(t.InsertTransaction({"c1", "t1", 10, "api", B("sealed-t")}));
    ASSERT_OK(t.InsertNote({"c1", "n1", 11, "form", Level::kConfidential, B("sealed-n")}));
    for (int64_t seq = 1; seq <= 3; ++seq) {
      AuditRow row;
      row.seq = seq;
      row.ts_ms = seq;
      row.actor = "admin";
      row.action = "customer.create";
      row.prev_hash = Bytes(32, static_cast<uint8_t>(seq - 1));
      row.hash = Bytes(32, static_cast<uint8_t>(seq));
      ASSERT_OK(t.AppendAudit(row));
    }
    ASSERT_OK(t.InsertCheckpoint({3, 4, Bytes(32, 3), B("sig")}));
    ASSERT_OK(t.InsertStaff({"admin", "Administrator", "administrator", "admin", 1, "active"}));
    ASSERT_OK(t.PutImport({"imp1", "abc", "admin", 1, 2, 10, 9, 1, "done"}));
    ASSERT_OK(t.InsertNotice({1, std::string(64, 'a'), "告知书", "marketing", 1, 1, "dpo"}));
    ASSERT_OK(
        t.AppendConsent({"c1", 1, "grant", "purpose", "marketing", 1, "form", "f-1", 5, "admin"}));
    ASSERT_OK(t.AppendConsent(
        {"c1", 2, "withdraw", "purpose", "marketing", 0, "api", "a-1", 6, "admin"}));
    // Migration 5's tables move too (every described table is copied).
    ASSERT_OK(t.InsertAccountClosure({"c2", 7, "admin", "closed by the customer"}));
    ASSERT_OK(t.InsertSubjectRequest({"r1", "c1", "access", "ref-1", "admin", 8, 9, "", 0, ""}));
    ASSERT_OK(t.Commit());
  }
  PostgresOptions target = OptionsFor(schema_);
  auto report = CopySqliteToPostgres(db_path, target);
  ASSERT_OK(report.status());
  EXPECT_EQ(report->customers, 2);
  EXPECT_EQ(report->index_entries, 3) << "staged entries are copied too";
  EXPECT_EQ(report->audit_entries, 3);
  EXPECT_EQ(report->consent_rows, 3) << "the notice and both ledger entries";

  auto pg = OpenOrDie(target);
  ASSERT_NE(pg, nullptr);
  auto txn = pg->Begin();
  ASSERT_OK(txn.status());
  Transaction& t = **txn;
  EXPECT_EQ(*t.GetMeta("vault_id").value(), B("v-1"));
  EXPECT_TRUE(t.GetMeta("empty").value().has_value());
  auto c1 = t.GetCustomer("c1");
  ASSERT_OK(c1.status());
  ASSERT_TRUE(c1->has_value());
  ASSERT_EQ((*c1)->envelopes.size(), 2u);
  EXPECT_EQ((*c1)->envelopes[1].ciphertext, (Bytes{0, 1, 2, 255})) << "ciphertext as it is";
  EXPECT_EQ(t.GetWrappedKey("c1").value()->wrapped_dek, B("wrapped-1")) << "still wrapped";
  EXPECT_EQ(t.GetWrappedKey("c1").value()->kek_version, 3u);
  EXPECT_EQ(t.FindByIndex("mobile", B("tok-staged"), 10).value(), (std::vector<std::string>{"c2"}));
  EXPECT_EQ(t.FindByIndex("email", B("tok-e"), 10).value(), (std::vector<std::string>{"c1"}));
  EXPECT_EQ(t.ListTransactions("c1").value().size(), 1u);
  EXPECT_EQ(t.ListNotes("c1").value().at(0).level, Level::kConfidential);
  EXPECT_EQ(t.GetNotice(1).value()->text, "告知书");
  auto ledger = t.ListConsents("c1");
  ASSERT_OK(ledger.status());
  ASSERT_EQ(ledger->size(), 2u) << "the consent ledger moves with the vault";
  EXPECT_EQ((*ledger)[1].action, "withdraw");
  EXPECT_EQ(t.GetAccountClosure("c2").value()->reason, "closed by the customer");
  EXPECT_EQ(t.GetSubjectRequest("r1").value()->reference, "ref-1");
  auto log = t.ReadAudit(1, 100);
  ASSERT_OK(log.status());
  ASSERT_EQ(log->size(), 3u);
  EXPECT_EQ((*log)[2].hash, Bytes(32, 3));
  EXPECT_EQ((*log)[2].prev_hash, Bytes(32, 2));
  EXPECT_EQ(t.ListCheckpoints().value().at(0).signature, B("sig"));
  EXPECT_EQ(t.ListStaff().value().size(), 1u);
  EXPECT_EQ(t.GetImportByFile("abc").value()->imported, 9);
  txn.value().reset();

  auto again = CopySqliteToPostgres(db_path, target);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Code::kConflict) << again.status().ToString();
  std::filesystem::remove_all(dir);
}

// --- bulk mode (the import path: rows of new customers go by COPY) ---

// One import batch as the vault writes it: customer, wrapped key, staged tokens, audit entry.
Status WriteBatch(Transaction& t, int first, int count) {
  for (int i = first; i < first + count; ++i) {
    const std::string id = "bulk-" + std::to_string(100000 + i);
    CUSTOS_RETURN_IF_ERROR(t.InsertCustomer(Customer(id)));
    CUSTOS_RETURN_IF_ERROR(t.PutWrappedKey({id, 1, B("dek-" + id)}));
    CUSTOS_RETURN_IF_ERROR(t.StageIndexEntries(id, {{"mobile", B("m-" + id)}, {"email", B("e")}}));
    CUSTOS_ASSIGN_OR_RETURN(auto head, t.GetAuditHead());
    AuditRow row;
    row.seq = head.has_value() ? head->seq + 1 : 1;
    row.ts_ms = row.seq;
    row.actor = "admin";
    row.action = "customer.create";
    row.prev_hash = head.has_value() ? head->hash : Bytes(32, 0);
    row.hash = B("h" + std::to_string(row.seq));
    CUSTOS_RETURN_IF_ERROR(t.AppendAudit(row));
  }
  return Status::Ok();
}

TEST_F(PostgresStoreTest, ABulkBatchLandsWholeAndIsReadableBeforeCommit) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  auto txn = store->Begin();
  ASSERT_OK(txn.status());
  ASSERT_OK(WriteBatch(**txn, 0, 500));
  // Read-your-writes inside the batch: the gathered rows are sent before a read.
  auto found = (*txn)->FindByIndex("mobile", B("m-bulk-100007"), 10);
  ASSERT_OK(found.status());
  EXPECT_EQ(*found, (std::vector<std::string>{"bulk-100007"}));
  ASSERT_OK(WriteBatch(**txn, 500, 500));
  EXPECT_EQ((*txn)->InsertCustomer(Customer("bulk-100999")).code(), Code::kConflict)
      << "a duplicate within the batch is refused at once";
  ASSERT_OK((*txn)->Commit());

  auto read = store->Begin();
  ASSERT_OK(read.status());
  EXPECT_EQ((*read)->CountCustomers().value(), 1000);
  EXPECT_EQ((*read)->GetWrappedKey("bulk-100999").value()->wrapped_dek, B("dek-bulk-100999"));
  EXPECT_EQ((*read)->FindByIndex("email", B("e"), 2000).value().size(), 1000u);
  auto log = (*read)->ReadAudit(1, 5000);
  ASSERT_OK(log.status());
  ASSERT_EQ(log->size(), 1000u);
  for (size_t i = 1; i < log->size(); ++i) {
    ASSERT_EQ((*log)[i].seq, static_cast<int64_t>(i + 1));
    ASSERT_EQ((*log)[i].prev_hash, (*log)[i - 1].hash);
  }
}

TEST_F(PostgresStoreTest, ABulkBatchClashingWithACommittedCustomerLeavesNothing) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  {
    auto txn = store->Begin();
    ASSERT_OK(txn.status());
    ASSERT_OK((*txn)->InsertCustomer(Customer("bulk-100050")));
    ASSERT_OK((*txn)->Commit());
  }
  auto txn = store->Begin();
  ASSERT_OK(txn.status());
  ASSERT_OK((*txn)->StageIndexEntries("x", {}));  // bulk mode from the first row
  Status written = WriteBatch(**txn, 0, 100);
  Status committed = written.ok() ? (*txn)->Commit() : written;
  EXPECT_EQ(committed.code(), Code::kConflict) << committed.ToString();
  EXPECT_EQ(committed.message().find("bulk-100050"), std::string::npos);
  txn.value().reset();
  auto read = store->Begin();
  ASSERT_OK(read.status());
  EXPECT_EQ((*read)->CountCustomers().value(), 1) << "the batch was rolled back whole";
  EXPECT_FALSE((*read)->GetAuditHead().value().has_value());
}

}  // namespace
}  // namespace custos::store
