// The streaming writers: one record at a time into a 64 KiB buffer, so memory is constant for
// any count. Exceptions (a stream with exceptions() set, bad_alloc) stop at this boundary.
#include <exception>

#include "core/output_stream.h"
#include "gen/generator.h"
#include "gen/text_out.h"

namespace custos::gen {
namespace {

constexpr std::string_view kCustomerHeader =
    "name,gender,birth_date,id_number,phone,email,address,interests,preferences\n";
constexpr std::string_view kTransactionHeader =
    "customer_ref,txn_ref,occurred_at,product,amount,currency,payment_method\n";

void AppendCustomerCsv(std::string& out, const SyntheticCustomer& c) {
  const std::string_view fields[] = {c.name,  c.gender,  c.birth_date, c.id_number,  c.phone,
                                     c.email, c.address, c.interests,  c.preferences};
  bool first = true;
  for (std::string_view f : fields) {
    if (!first) out.push_back(',');
    first = false;
    AppendCsvField(out, f);
  }
  out.push_back('\n');
}

void AppendJsonMember(std::string& out, std::string_view key, std::string_view value) {
  AppendJsonString(out, key);
  out.push_back(':');
  AppendJsonString(out, value);
}

void AppendTransactionJson(std::string& out, const SyntheticTransaction& t) {
  out.push_back('{');
  AppendJsonMember(out, "txn_ref", t.txn_ref);
  out.push_back(',');
  AppendJsonMember(out, "occurred_at", t.occurred_at);
  out.push_back(',');
  AppendJsonMember(out, "product", t.product);
  out.push_back(',');
  AppendJsonMember(out, "amount", t.amount);
  out.push_back(',');
  AppendJsonMember(out, "currency", t.currency);
  out.push_back(',');
  AppendJsonMember(out, "payment_method", t.payment_method);
  out.push_back('}');
}

void AppendCustomerJson(std::string& out, const GenOptions& options, int64_t index,
                        const SyntheticCustomer& c, SyntheticTransaction& txn) {
  const std::pair<std::string_view, std::string_view> members[] = {
      {"name", c.name},           {"gender", c.gender},       {"birth_date", c.birth_date},
      {"id_number", c.id_number}, {"phone", c.phone},         {"email", c.email},
      {"address", c.address},     {"interests", c.interests}, {"preferences", c.preferences}};
  out.push_back('{');
  bool first = true;
  for (const auto& [key, value] : members) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonMember(out, key, value);
  }
  if (options.with_transactions) {
    out.append(",\"transactions\":[");
    const int n = NumTransactions(options.seed, index);
    for (int k = 0; k < n; ++k) {
      if (k > 0) out.push_back(',');
      MakeTransaction(options.seed, index, k, txn);
      AppendTransactionJson(out, txn);
    }
    out.push_back(']');
  }
  out.append("}\n");
}

// Runs `append(buffer, index)` for every index, streaming the buffer out.
template <typename AppendRecord>
Status Stream(const GenOptions& options, std::ostream& os, std::string_view header,
              AppendRecord append) {
  if (options.count < 0) return InvalidArgument("count must not be negative");
  try {
    BufferedOut out(os);
    out.buffer().append(header);
    for (int64_t i = 0; i < options.count; ++i) {
      append(out.buffer(), i);
      if (!out.MaybeFlush()) return StreamFailed();
    }
    if (!out.Flush() || !os.flush()) return StreamFailed();
    return Status::Ok();
  } catch (const std::exception&) {
    return StreamFailed();
  }
}

}  // namespace

Status WriteCustomersCsv(const GenOptions& options, std::ostream& os) {
  SyntheticCustomer c;
  return Stream(options, os, kCustomerHeader, [&](std::string& out, int64_t i) {
    MakeCustomer(options.seed, i, c);
    AppendCustomerCsv(out, c);
  });
}

Status WriteCustomersJsonl(const GenOptions& options, std::ostream& os) {
  SyntheticCustomer c;
  SyntheticTransaction txn;
  return Stream(options, os, "", [&](std::string& out, int64_t i) {
    MakeCustomer(options.seed, i, c);
    AppendCustomerJson(out, options, i, c, txn);
  });
}

Status WriteTransactionsCsv(const GenOptions& options, std::ostream& os) {
  SyntheticTransaction t;
  return Stream(options, os, kTransactionHeader, [&](std::string& out, int64_t i) {
    const int n = NumTransactions(options.seed, i);
    for (int k = 0; k < n; ++k) {
      MakeTransaction(options.seed, i, k, t);
      AppendUint(out, static_cast<uint64_t>(i), 0);
      for (std::string_view f :
           {std::string_view(t.txn_ref), std::string_view(t.occurred_at),
            std::string_view(t.product), std::string_view(t.amount), std::string_view(t.currency),
            std::string_view(t.payment_method)}) {
        out.push_back(',');
        AppendCsvField(out, f);
      }
      out.push_back('\n');
    }
  });
}

Status WriteCustomersFile(const GenOptions& options, GenFormat format,
                          const std::filesystem::path& path, Env& env) {
  return WriteStreamed(env, path, [&](std::ostream& os) {
    return format == GenFormat::kCsv ? WriteCustomersCsv(options, os)
                                     : WriteCustomersJsonl(options, os);
  });
}

Status WriteTransactionsFile(const GenOptions& options, const std::filesystem::path& path,
                             Env& env) {
  return WriteStreamed(env, path,
                       [&](std::ostream& os) { return WriteTransactionsCsv(options, os); });
}

}  // namespace custos::gen
