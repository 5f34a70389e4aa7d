// The Store contract suite: every backend (SQLite now, PostgreSQL later) runs these tests
// unchanged. A backend instantiates it with INSTANTIATE_TEST_SUITE_P(Name, StoreSuite,
// ::testing::Values(StoreBackend{...})).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/store.h"

// Assertions on a Status or a Result's status, for the suite's files.
#define ASSERT_OK(expr)                                  \
  do {                                                   \
    const ::custos::Status& custos_s_ = (expr);          \
    ASSERT_TRUE(custos_s_.ok()) << custos_s_.ToString(); \
  } while (0)
#define EXPECT_CODE(expr, want) EXPECT_EQ((expr).code(), (want)) << (expr).ToString()

namespace custos::store::testing {

// How to reach one backend. `open` opens (creating on first use) the store that lives in
// `dir`; opening the same dir again must reach the same data (reopen tests).
struct StoreBackend {
  std::string name;
  std::function<Result<std::unique_ptr<Store>>(const std::filesystem::path& dir)> open;
};

// Prints the backend by name in test names and messages: StoreSuite/sqlite.
inline void PrintTo(const StoreBackend& backend, std::ostream* os) { *os << backend.name; }
std::string BackendName(const ::testing::TestParamInfo<StoreBackend>& info);

// The key-span tests' log (migration kAuditKeySpansMigration, on each backend's own migration
// test): entries 1..count, each a read of customer c(seq % 50) by staff:alice, allowed, for
// support; with `varied`, staff:carol made every third and every seventh was denied. Appended
// in `txn`, copies in *log when log is not null.
Status AppendSpanEntries(Transaction& txn, int64_t count, bool varied, std::vector<AuditRow>* log);
// QueryAudit for carol's reads of customer c7 answers exactly those of `log`, in seq order.
void ExpectCarolsReadsOfC7(Transaction& txn, const std::vector<AuditRow>& log);

class StoreSuite : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Closes and reopens the store on the same directory.
  void Reopen();
  // A new transaction; fails the test when Begin fails.
  std::unique_ptr<Transaction> BeginOrDie();

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
};

}  // namespace custos::store::testing
