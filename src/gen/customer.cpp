// Making one synthetic customer or transaction from its own random stream.
#include <chrono>

#include "core/region_codes.h"
#include "core/validators.h"
#include "gen/corpus.h"
#include "gen/generator.h"
#include "gen/prng.h"
#include "gen/text_out.h"

namespace custos::gen {
namespace {

using namespace std::chrono;

// Streams per record, so adding a field to one kind never shifts another's values.
constexpr uint64_t kCustomerStream = 1;
constexpr uint64_t kTransactionCountStream = 2;
constexpr uint64_t kTransactionStream = 3;  // + transaction number

// Ages 18-80 on the reference date 2025-01-01.
constexpr sys_days kOldestBirth = sys_days{year{1944} / January / 2};
constexpr sys_days kYoungestBirth = sys_days{year{2007} / January / 1};
// Transactions happen in 2022-2024.
constexpr sys_days kFirstTxnDay = sys_days{year{2022} / January / 1};
constexpr sys_days kLastTxnDay = sys_days{year{2024} / December / 31};

std::string_view PickSurname(SplitMix64& rng) {
  uint64_t r = rng.Below(TotalSurnameWeight());
  for (const WeightedSurname& s : Surnames()) {
    if (r < s.weight) return s.surname;
    r -= s.weight;
  }
  return Surnames().front().surname;  // unreachable: r < total weight
}

void MakeName(SplitMix64& rng, bool male, std::string& out) {
  out.assign(PickSurname(rng));
  std::span<const std::string_view> chars = male ? MaleNameChars() : FemaleNameChars();
  const int given = rng.Below(10) < 4 ? 1 : 2;
  for (int i = 0; i < given; ++i) out.append(rng.Pick(chars));
}

void AppendDate(std::string& out, const year_month_day& d) {
  AppendUint(out, static_cast<uint64_t>(static_cast<int>(d.year())), 4);
  out.push_back('-');
  AppendUint(out, static_cast<unsigned>(d.month()), 2);
  out.push_back('-');
  AppendUint(out, static_cast<unsigned>(d.day()), 2);
}

year_month_day PickDay(SplitMix64& rng, sys_days first, sys_days last) {
  const int64_t span = (last - first).count();
  return year_month_day{first + days{rng.Between(0, span)}};
}

void MakeIdNumber(SplitMix64& rng, const core::Region& region, const year_month_day& birth,
                  bool male, std::string& out) {
  out.assign(region.code);
  AppendUint(out, static_cast<uint64_t>(static_cast<int>(birth.year())), 4);
  AppendUint(out, static_cast<unsigned>(birth.month()), 2);
  AppendUint(out, static_cast<unsigned>(birth.day()), 2);
  // GB 11643: the sequence is odd for men, even for women.
  const uint64_t sequence = male ? 2 * rng.Below(500) + 1 : 2 * (rng.Below(499) + 1);
  AppendUint(out, sequence, 3);
  out.push_back(core::IdCardCheckChar(out));
}

void MakeAddress(SplitMix64& rng, const core::Region& region, std::string& out) {
  out.assign(region.province);
  out.append(region.city);
  out.append(region.county);
  out.append(rng.Pick(Roads()));
  AppendUint(out, rng.Between(1, 999), 0);
  out.append("号");
  if (rng.Below(3) != 0) {  // most people live in a flat
    AppendUint(out, rng.Between(1, 30), 0);
    out.append("栋");
    AppendUint(out, rng.Between(1, 33), 0);
    AppendUint(out, rng.Between(1, 8), 2);
    out.append("室");
  }
}

// `n` distinct items of `list` (n <= list size), joined with ';'.
void PickDistinct(SplitMix64& rng, std::span<const std::string_view> list, int n,
                  std::string& out) {
  out.clear();
  uint64_t taken = 0;  // bitmask of chosen positions; lists are shorter than 64
  for (int i = 0; i < n; ++i) {
    uint64_t k = rng.Below(list.size());
    while ((taken >> k) & 1u) k = (k + 1) % list.size();
    taken |= uint64_t{1} << k;
    if (!out.empty()) out.push_back(';');
    out.append(list[k]);
  }
}

}  // namespace

void MakeCustomer(uint64_t seed, int64_t index, SyntheticCustomer& out) {
  SplitMix64 rng = SplitMix64::ForRecord(seed, static_cast<uint64_t>(index), kCustomerStream);
  const bool male = rng.Below(2) == 0;
  MakeName(rng, male, out.name);
  out.gender.assign(male ? "M" : "F");
  const year_month_day birth = PickDay(rng, kOldestBirth, kYoungestBirth);
  out.birth_date.clear();
  AppendDate(out.birth_date, birth);
  std::span<const core::Region> regions = core::KnownRegions();
  const core::Region& region = regions[rng.Below(regions.size())];
  MakeIdNumber(rng, region, birth, male, out.id_number);

  out.phone.assign(rng.Pick(MobilePrefixes()));
  AppendUint(out.phone, rng.Below(100'000'000), 8);

  out.email.assign(rng.Pick(EmailWords()));
  AppendUint(out.email, static_cast<uint64_t>(index), 0);  // the index keeps e-mails unique
  out.email.push_back('@');
  out.email.append(rng.Pick(EmailDomains()));

  MakeAddress(rng, region, out.address);
  PickDistinct(rng, Interests(), static_cast<int>(rng.Between(1, 3)), out.interests);
  PickDistinct(rng, Preferences(), static_cast<int>(rng.Between(1, 2)), out.preferences);
}

int NumTransactions(uint64_t seed, int64_t index) {
  SplitMix64 rng =
      SplitMix64::ForRecord(seed, static_cast<uint64_t>(index), kTransactionCountStream);
  return static_cast<int>(rng.Below(6));
}

void MakeTransaction(uint64_t seed, int64_t index, int n, SyntheticTransaction& out) {
  SplitMix64 rng = SplitMix64::ForRecord(seed, static_cast<uint64_t>(index),
                                         kTransactionStream + static_cast<uint64_t>(n));
  out.txn_ref.assign("T");
  AppendUint(out.txn_ref, static_cast<uint64_t>(index), 10);
  out.txn_ref.push_back('-');
  AppendUint(out.txn_ref, static_cast<uint64_t>(n), 0);

  out.occurred_at.clear();
  AppendDate(out.occurred_at, PickDay(rng, kFirstTxnDay, kLastTxnDay));
  const uint64_t second = rng.Below(86400);
  out.occurred_at.push_back('T');
  AppendUint(out.occurred_at, second / 3600, 2);
  out.occurred_at.push_back(':');
  AppendUint(out.occurred_at, second / 60 % 60, 2);
  out.occurred_at.push_back(':');
  AppendUint(out.occurred_at, second % 60, 2);
  out.occurred_at.append("+08:00");

  const Product& product = rng.Pick(Products());
  out.product.assign(product.name);
  const int64_t fen = rng.Between(product.min_fen, product.max_fen);
  out.amount.clear();
  AppendUint(out.amount, static_cast<uint64_t>(fen / 100), 0);
  out.amount.push_back('.');
  AppendUint(out.amount, static_cast<uint64_t>(fen % 100), 2);
  out.currency.assign("CNY");
  out.payment_method.assign(rng.Pick(PaymentMethods()));
}

}  // namespace custos::gen
