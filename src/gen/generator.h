// Synthetic customers for `custos gen`: realistic, valid and deterministic test data, so
// nobody is tempted to load real customer data into a test or demo vault.
//
// Every record passes the intake validators of core (P3.1c): a GB 11643 ID number on a real
// GB/T 2260 county code whose birth date and gender agree with the birth_date and gender
// fields, a mainland mobile number on a real carrier prefix, an e-mail at example.com /
// example.cn / example.net, and an address made of the region's province, prefecture and
// county names plus a road and house number. Ages are 18-80 on the fixed reference date
// 2025-01-01 (a fixed date, not the clock, so the same seed gives the same bytes any day).
//
// Determinism: the output depends only on (seed, index). Record i is drawn from its own
// SplitMix64 stream, so writers use constant memory for any count and a record can be made on
// its own (MakeCustomer). No std::*_distribution is used (their output differs between
// standard libraries).
//
// Thread safety: all functions are reentrant; concurrent calls on distinct streams are safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>

#include "core/env.h"
#include "core/status.h"

namespace custos::gen {

struct GenOptions {
  uint64_t seed = 1;
  int64_t count = 0;               // number of customers; must not be negative
  bool with_transactions = false;  // JSONL: embed each customer's transactions
};

// One customer, every field already in its normalised (stored) form.
struct SyntheticCustomer {
  std::string name;         // 王芳, 欧阳子轩
  std::string gender;       // "M" / "F"
  std::string birth_date;   // YYYY-MM-DD
  std::string id_number;    // 18 characters
  std::string phone;        // 11 digits
  std::string email;        // <word><index>@example.{com,cn,net}
  std::string address;      // 广东省深圳市南山区科技路18号3栋502室
  std::string interests;    // "旅游;摄影" (1-3 items, ';'-separated)
  std::string preferences;  // "线上购物" (1-2 items, ';'-separated)
};

// Fills `out` with customer `index` of the stream for `seed` (reusing its capacity).
void MakeCustomer(uint64_t seed, int64_t index, SyntheticCustomer& out);

struct SyntheticTransaction {
  std::string txn_ref;         // "T<customer index, 10 digits>-<n>"
  std::string occurred_at;     // ISO 8601 with +08:00, in 2022-2024
  std::string product;         // 智能手机, 图书, ...
  std::string amount;          // decimal CNY with two decimals: "1299.00"
  std::string currency;        // "CNY"
  std::string payment_method;  // alipay, wechat_pay, bank_card, credit_card, cash
};

// The number of transactions of customer `index` (0-5).
int NumTransactions(uint64_t seed, int64_t index);

// Fills `out` with transaction `n` (0 <= n < NumTransactions) of customer `index`.
void MakeTransaction(uint64_t seed, int64_t index, int n, SyntheticTransaction& out);

// CSV (RFC 4180, UTF-8, LF line ends) with the header
//   name,gender,birth_date,id_number,phone,email,address,interests,preferences
// and options.count rows. Fails with InvalidArgument if count < 0, Unavailable if the stream
// fails (what was written before stays written).
Status WriteCustomersCsv(const GenOptions& options, std::ostream& os);

// One JSON object per line with the same keys as the CSV header; with with_transactions each
// object also has "transactions": [{txn_ref, occurred_at, product, amount, currency,
// payment_method}, ...]. Failures as for WriteCustomersCsv.
Status WriteCustomersJsonl(const GenOptions& options, std::ostream& os);

// CSV with the header
//   customer_ref,txn_ref,occurred_at,product,amount,currency,payment_method
// holding every transaction of customers 0..count-1; customer_ref is the customer's 0-based
// index (its row in the customers file). Written whatever with_transactions says: the caller
// chose to ask for it. Failures as for WriteCustomersCsv.
Status WriteTransactionsCsv(const GenOptions& options, std::ostream& os);

// --- files (`custos gen -o`, `--transactions-out`) ---
enum class GenFormat : uint8_t { kCsv, kJsonl };

// Writes what WriteCustomersCsv / WriteCustomersJsonl write into the file `path`, through
// `env` as a streamed output (Env::NewOutputFile, core/output_stream.h): mode 0600, and
// published whole by a rename only once every byte is durable. Failure: InvalidArgument if
// count < 0; Unavailable naming `path` and the step that failed; either way `path` is as it
// was (a previous file intact) and no temporary file is left.
Status WriteCustomersFile(const GenOptions& options, GenFormat format,
                          const std::filesystem::path& path, Env& env = Env::Default());

// WriteTransactionsCsv into the file `path`, as WriteCustomersFile.
Status WriteTransactionsFile(const GenOptions& options, const std::filesystem::path& path,
                             Env& env = Env::Default());

}  // namespace custos::gen
