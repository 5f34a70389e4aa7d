#include "vault/token_address.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "ops/rules.h"
#include "vault/admission.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

std::string PairKey(std::string_view token_id, std::string_view address) {
  return fmt::format("{}|{}", token_id, address);
}

std::vector<std::string> SplitAddresses(const store::Bytes& value) {
  std::vector<std::string> out;
  std::string_view rest(reinterpret_cast<const char*>(value.data()), value.size());
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    if (comma != 0) out.emplace_back(rest.substr(0, comma));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

store::Bytes JoinAddresses(const std::vector<std::string>& addresses) {
  const std::string text = fmt::format("{}", fmt::join(addresses, ","));
  return store::Bytes(text.begin(), text.end());
}

}  // namespace

bool TokenAddresses::Known(std::string_view token_id, std::string_view address) const {
  const std::lock_guard<std::mutex> lock(mu_);
  return known_.count(PairKey(token_id, address)) != 0;
}

void TokenAddresses::Remember(std::string_view token_id, std::string_view address) {
  const std::lock_guard<std::mutex> lock(mu_);
  if (known_.size() >= kMaxPairs) known_.clear();
  known_.insert(PairKey(token_id, address));
}

std::string TokenAddressesKey(std::string_view token_id) {
  return fmt::format("token_addresses:{}", token_id);
}

bool RecordableAddress(std::string_view address) {
  return !address.empty() && address.size() <= 64 &&
         std::all_of(address.begin(), address.end(), [](char c) {
           const auto u = static_cast<unsigned char>(c);
           return u > 0x20 && u < 0x7f && c != ',';
         });
}

Status RecordIssuingAddress(store::Transaction& txn, std::string_view token_id,
                            std::string_view address) {
  if (!RecordableAddress(address)) return Status::Ok();
  return txn.PutMeta(TokenAddressesKey(token_id), JoinAddresses({std::string(address)}));
}

Result<std::optional<audit::AuditEvent>> NoteTokenAddress(TokenAddresses& known,
                                                          store::Transaction& txn,
                                                          const Context& ctx,
                                                          std::string_view token_id) {
  const std::string& address = ctx.source;
  if (!RecordableAddress(address) || known.Known(token_id, address)) {
    return std::optional<audit::AuditEvent>();
  }
  const std::string key = TokenAddressesKey(token_id);
  CUSTOS_ASSIGN_OR_RETURN(std::optional<store::Bytes> stored, txn.GetMeta(key));
  std::vector<std::string> addresses =
      stored.has_value() ? SplitAddresses(*stored) : std::vector<std::string>{};
  if (std::find(addresses.begin(), addresses.end(), address) != addresses.end()) {
    known.Remember(token_id, address);  // committed before: this process need not read again
    return std::optional<audit::AuditEvent>();
  }
  // Not remembered until a later check reads it back: the entry below is committed with the
  // batch or not at all, and a batch that fails must not hide the address from the next one.
  const bool first = addresses.empty();
  const std::string reason =
      first ? fmt::format("first address of a token issued without one: {}", address)
            : fmt::format(
                  "token of address {} (issued or first used there) used from "
                  "address {} (new for it; {} known before)",
                  addresses.front(), address, addresses.size());
  if (addresses.size() < kMaxTokenAddresses) {
    addresses.push_back(address);
    CUSTOS_RETURN_IF_ERROR(txn.PutMeta(key, JoinAddresses(addresses)));
  } else {
    known.Remember(token_id, address);  // not stored: remembered so as not to repeat
  }
  Context recorded = ctx;
  recorded.purpose = std::string(kAuthenticationPurpose);
  return std::optional<audit::AuditEvent>(
      EventFor(recorded, first ? ops::kTokenFirstAddressAction : ops::kTokenNewAddressAction,
               fmt::format("token:{}", token_id), "allow", reason));
}

}  // namespace custos::vault
