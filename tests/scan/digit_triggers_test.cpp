// The hand-written digit triggers report exactly what Hyperscan reports for the same regular
// expressions, however the input is split: the scanner's findings depend on it.
#include "scan/digit_triggers.h"

#include <gtest/gtest.h>
#include <hs/hs.h>

#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "scan/patterns.h"

namespace custos::scan {
namespace {

using Hit = std::pair<int, uint64_t>;  // (DigitTriggers::Match, end offset)

// Hyperscan in streaming mode over the native patterns, each id its DigitTriggers::Match.
class Reference {
 public:
  Reference() {
    std::vector<const char*> exprs;
    std::vector<unsigned> ids;
    for (const auto& p : TriggerPatterns()) {
      if (p.group != kNativeGroup) continue;
      regexes_.emplace_back(p.regex);
      ids.push_back(p.kind == TriggerKind::kDigitRun      ? 0u
                    : p.kind == TriggerKind::kDigitGroups ? 1u
                                                          : 2u);
    }
    for (const auto& r : regexes_) exprs.push_back(r.c_str());
    std::vector<unsigned> flags(exprs.size(), 0);
    hs_compile_error_t* err = nullptr;
    EXPECT_EQ(
        hs_compile_multi(exprs.data(), flags.data(), ids.data(),
                         static_cast<unsigned>(exprs.size()), HS_MODE_STREAM, nullptr, &db_, &err),
        HS_SUCCESS);
    EXPECT_EQ(hs_alloc_scratch(db_, &scratch_), HS_SUCCESS);
  }
  ~Reference() {
    hs_free_scratch(scratch_);
    hs_free_database(db_);
  }
  std::set<Hit> Scan(const std::vector<std::string_view>& pieces) {
    std::set<Hit> hits;
    hs_stream_t* stream = nullptr;
    EXPECT_EQ(hs_open_stream(db_, 0, &stream), HS_SUCCESS);
    auto on = [](unsigned id, unsigned long long, unsigned long long to, unsigned, void* ctx) {
      static_cast<std::set<Hit>*>(ctx)->insert({static_cast<int>(id), to});
      return 0;
    };
    for (auto p : pieces) {
      hs_scan_stream(stream, p.data(), static_cast<unsigned>(p.size()), 0, scratch_, on, &hits);
    }
    hs_close_stream(stream, scratch_, on, &hits);
    return hits;
  }

 private:
  std::vector<std::string> regexes_;
  hs_database_t* db_ = nullptr;
  hs_scratch_t* scratch_ = nullptr;
};

std::set<Hit> Native(const std::vector<std::string_view>& pieces) {
  std::set<Hit> hits;
  std::vector<Hit> order;
  DigitTriggers d;
  uint64_t offset = 0;
  for (auto p : pieces) {
    d.Scan(p, offset, [&](DigitTriggers::Match m, uint64_t end) {
      order.push_back({static_cast<int>(m), end});
      hits.insert(order.back());
    });
    offset += p.size();
  }
  EXPECT_EQ(order.size(), hits.size()) << "a match was reported twice";
  for (size_t i = 1; i < order.size(); ++i) EXPECT_LE(order[i - 1].second, order[i].second);
  return hits;
}

std::vector<std::string_view> Split(std::string_view s, std::mt19937_64& rng) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    const size_t n = std::min<size_t>(s.size(), 1 + rng() % 40);
    out.push_back(s.substr(0, n));
    s.remove_prefix(n);
  }
  return out;
}

TEST(DigitTriggers, KnownNumbersFireWhereHyperscanFires) {
  Reference ref;
  for (std::string_view text :
       {"13812345678\n", "6222 0212 3456 7890 x", "ip 192.168.1.20, 10.0.0.1.", "123456",
        "1.2.3.4.5.6.7", "1234-5678-9012 ", "12345 6789 ", "a1234 5678b", "1..2.3.4",
        "1.2345.6.7.8", "0086 138 1234 5678\n", "１２３4567890号", "9999999"}) {
    EXPECT_EQ(Native({text}), ref.Scan({text})) << text;
  }
}

TEST(DigitTriggers, RandomDigitDenseInputSplitAnywhereMatchesHyperscan) {
  Reference ref;
  std::mt19937_64 rng(20261129);
  const std::string_view alphabet[] = {"0", "1", "5",  "9",  "7",    ".", ".", " ",
                                       "-", "a", "\n", "号", "\xff", ",", "2", "3"};
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const size_t len = rng() % 300;
    // Some rounds are long digit runs with few breaks, some almost no digits.
    const size_t digit_bias = rng() % 3;
    while (text.size() < len) {
      if (digit_bias > 0 && rng() % 4 < digit_bias + 1) {
        text.push_back(static_cast<char>('0' + rng() % 10));
      } else {
        text += alphabet[rng() % std::size(alphabet)];
      }
    }
    const auto expected = ref.Scan({text});
    ASSERT_EQ(Native({text}), expected) << "whole: " << text;
    ASSERT_EQ(Native(Split(text, rng)), expected) << "split: " << text;
  }
}

}  // namespace
}  // namespace custos::scan
