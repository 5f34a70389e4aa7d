// ForEachDeidCustomer (deid_pass.h): pages admitted, then decrypted one customer at a time.
#include "vault/deid_pass.h"

#include <fmt/format.h>

#include "consent/consent.h"
#include "crypto/keyring.h"
#include "vault/admission.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using schema::Action;

// A customer of a recorded page, to decrypt.
struct Admitted {
  store::CustomerRow row;
  crypto::Bytes wrapped;
  std::vector<store::TransactionRow> txns;  // when the plan derives txn_* values
};

// One page of the population: decided (consent, per customer) and recorded before anything is
// decrypted. `last` is the last customer id of the page seen (empty: no more customers).
Status AdmitPage(DeidRun& run, bool first_pass, const std::string& after, std::string& last,
                 std::vector<Admitted>& out) {
  const Operation op{run.action, run.target, run.basis,
                     run.basis == Basis::kPurpose ? std::string_view(run.plan.profile->purpose)
                                                  : std::string_view()};
  return Write(run.m, run.ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(auto rows, s.txn.ListCustomers(after, run.page_size));
    last.clear();
    AuditEvents entries;
    for (store::CustomerRow& row : rows) {
      if (!first_pass && row.customer_id > run.last_id) break;
      last = row.customer_id;
      CUSTOS_ASSIGN_OR_RETURN(auto key, s.txn.GetWrappedKey(row.customer_id));
      if (!key.has_value()) continue;  // destroyed
      CUSTOS_ASSIGN_OR_RETURN(consent::ConsentState c, consent::Current(s.txn, row.customer_id));
      const bool admitted =
          run.admit ? run.admit(row, c) : InPopulation(*run.m.config, run.plan, c);
      if (!admitted) continue;
      if (first_pass) {
        entries.push_back(s.Event(run.customer_action, CustomerTarget(row.customer_id), "allow",
                                  run.customer_reason.empty()
                                      ? fmt::format("{}: read for de-identification", run.target)
                                      : run.customer_reason,
                                  run.plan.source_fields));
      }
      std::vector<store::TransactionRow> txns;
      if (run.plan.needs_transactions) {
        CUSTOS_ASSIGN_OR_RETURN(txns, s.txn.ListTransactions(row.customer_id));
      }
      out.push_back({std::move(row), std::move(key->wrapped_dek), std::move(txns)});
    }
    if (!first_pass && !out.empty()) {
      entries.push_back(s.Event(run.action, run.target, "allow",
                                fmt::format("{} customers written de-identified", out.size()),
                                run.plan.source_fields));
    }
    return Verdict::Entries(std::move(entries));
  });
}

// The source values of an admitted customer; its transactions opened into `txns`.
Result<std::vector<std::string>> Values(const DeidRun& run, const Admitted& a,
                                        std::vector<FieldValues>& txns) {
  CUSTOS_ASSIGN_OR_RETURN(crypto::SecretBytes dek, run.m.UnwrapDek(a.row.customer_id, a.wrapped));
  CUSTOS_ASSIGN_OR_RETURN(FieldValues fields, run.m.OpenCustomer(a.row, dek));
  txns.clear();
  txns.reserve(a.txns.size());
  for (const store::TransactionRow& t : a.txns) {
    CUSTOS_ASSIGN_OR_RETURN(
        crypto::SecretBytes plain,
        run.m.keyring->OpenRecord(dek, a.row.customer_id, "txn", t.txn_id, t.ciphertext));
    CUSTOS_ASSIGN_OR_RETURN(FieldValues f, DecodeFields(plain));
    txns.push_back(std::move(f));
  }
  const TxnSummary summary = SummariseTransactions(txns);
  return SourceValues(*run.m.config, run.plan, a.row.customer_id, fields, summary);
}

}  // namespace

Status ForEachDeidCustomer(DeidRun& run, bool first_pass, const DeidEach& each) {
  std::string after;
  std::vector<FieldValues> txns;
  while (true) {
    std::vector<Admitted> page;
    std::string last;
    CUSTOS_RETURN_IF_ERROR(AdmitPage(run, first_pass, after, last, page));
    for (const Admitted& a : page) {
      CUSTOS_ASSIGN_OR_RETURN(std::vector<std::string> values, Values(run, a, txns));
      CUSTOS_RETURN_IF_ERROR(each(values, txns));
    }
    if (last.empty()) return Status::Ok();
    if (first_pass) run.last_id = last;
    after = last;
  }
}

}  // namespace custos::vault
