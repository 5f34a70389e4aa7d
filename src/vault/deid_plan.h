// Internal to the vault: a release profile compiled for a run (deid_release.cpp,
// deid_service.cpp). Which fields are read, how each value is derived and transformed, which
// are the quasi-identifiers and sensitive attributes, and who may enter the population.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "consent/consent.h"
#include "core/status.h"
#include "deid/transform.h"
#include "schema/config.h"
#include "store/store.h"
#include "vault/record_codec.h"

namespace custos::vault {

struct DeidPlan {
  const schema::DeidProfileDef* profile = nullptr;
  std::vector<deid::FieldRule> rules;      // file order, drops included
  std::vector<size_t> quasi;               // indexes into rules: the generalised fields
  std::vector<size_t> sensitive;           // indexes into rules: kept sensitive fields
  std::vector<std::string> source_fields;  // catalogue fields read (audit entries name them)
  // PIPL Art. 29: a consented population also needs the sensitive consent when a field read
  // is PIPL-sensitive (the ID number the derived values come from).
  bool needs_sensitive_consent = false;
  // A txn_* value is derived, or rows are per transaction: each customer's transactions are
  // read and opened too.
  bool needs_transactions = false;
  // The profile's transaction_fields (file order, drops included), each generalised at
  // txn_levels[i]: when any, one row per transaction (docs/deid.md, "Transactions as rows").
  std::vector<deid::FieldRule> txn_rules;
  std::vector<int> txn_levels;
  bool RowsPerTransaction() const { return !txn_rules.empty(); }
};

// The file's column of a transaction field: "txn_" + the field ("txn_amount").
std::string TxnColumn(std::string_view field);

// The cells a transaction adds to its row, in txn_rules order (drops left out); empty cells
// for a customer without transactions (`txn` null).
void AppendTxnCells(const DeidPlan& plan, const FieldValues* txn, std::vector<std::string>& cells);

// A customer's transactions as the txn_* values state them (docs/deid.md): their number, the
// sum of their amounts in hundredths (nullopt when they are in more than one currency, or an
// amount does not parse: no sum is better than a wrong one), and the month ("YYYY-MM") of
// the latest (empty without transactions).
struct TxnSummary {
  int64_t count = 0;
  std::optional<int64_t> sum_cents;
  std::string last_month;
};
TxnSummary SummariseTransactions(const std::vector<FieldValues>& transactions);

// Hundredths as a decimal: "12", "-3.5" is written "-3.50", "1234.56".
std::string CentsDecimal(int64_t cents);

// InvalidArgument naming the field when a rule cannot be compiled (a hierarchy the deid
// library refuses).
Result<DeidPlan> CompilePlan(const schema::Config& config, const schema::DeidProfileDef& profile);

// The value of each rule's field for one customer (before transformation), in rule order:
// catalogue fields as stored, derived values computed (empty when the source is missing).
std::vector<std::string> SourceValues(const schema::Config& config, const DeidPlan& plan,
                                      std::string_view customer_id, const FieldValues& fields,
                                      const TxnSummary& transactions = {});

// Whether the customer enters the release: every customer for an anonymised profile;
// otherwise the purpose must be permitted (consent or legal obligation) and, where needed,
// the sensitive consent granted.
bool InPopulation(const schema::Config& config, const DeidPlan& plan,
                  const consent::ConsentState& consent);

}  // namespace custos::vault
