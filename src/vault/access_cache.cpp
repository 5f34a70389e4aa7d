// The access cache and its epoch; see access_cache.h.
#include "vault/access_cache.h"

#include <algorithm>

#include <fmt/format.h>

#include "crypto/primitives.h"
#include "vault/authorize.h"
#include "vault/secops.h"

namespace custos::vault {
namespace {

constexpr std::string_view kEpochKey = "access_epoch";

std::string KeyOf(store::ByteView bytes) { return std::string(bytes.begin(), bytes.end()); }

// The staff member's approved break-glass grants, parsed once (ActiveBreakGlass's rules; the
// customer and the time are applied per request by StaffEntry::Facts).
Status LoadGrants(store::Transaction& txn, std::string_view staff_id,
                  AccessCache::StaffEntry& entry) {
  if (staff_id.empty()) return Status::Ok();  // an empty requester would list everyone's
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::ApprovalRow> rows,
                          txn.ListApprovals(staff_id, access::kStateApproved));
  for (const store::ApprovalRow& row : rows) {
    if (row.kind != access::kKindBreakGlass || row.requester != staff_id) continue;
    if (row.state != access::kStateApproved) continue;
    Result<access::ApprovalScope> scope = access::ScopeFromJson(row.scope);
    if (!scope.ok()) {
      return DataLoss(fmt::format("approval {}: stored scope does not parse", row.approval_id));
    }
    access::Grant g;
    g.approval_id = row.approval_id;
    g.requester = row.requester;
    g.approver = row.approver;
    g.expires_at_ms = row.expires_at_ms;
    g.scope = std::move(scope).value();
    entry.grants.push_back(std::move(g));
    entry.grant_starts.push_back(row.requested_at_ms);
  }
  return Status::Ok();
}

Result<std::shared_ptr<const AccessCache::StaffEntry>> LoadStaff(store::Transaction& txn,
                                                                 std::string_view staff_id) {
  auto entry = std::make_shared<AccessCache::StaffEntry>();
  CUSTOS_ASSIGN_OR_RETURN(entry->row, txn.GetStaff(staff_id));
  if (entry->row.has_value()) {
    CUSTOS_ASSIGN_OR_RETURN(entry->credential, txn.GetStaffCredential(staff_id));
    CUSTOS_ASSIGN_OR_RETURN(entry->training, TrainingInForce(txn, staff_id));
    CUSTOS_RETURN_IF_ERROR(LoadGrants(txn, staff_id, *entry));
  }
  return std::shared_ptr<const AccessCache::StaffEntry>(std::move(entry));
}

}  // namespace

Status NewAccessEpoch(store::Transaction& txn) {
  const crypto::Bytes epoch = crypto::RandomBytes(16);
  return txn.PutMeta(kEpochKey, epoch);
}

access::StaffFacts AccessCache::StaffEntry::Facts(std::string_view staff_id,
                                                  std::string_view customer_id,
                                                  int64_t now_ms) const {
  if (!row.has_value()) {
    access::StaffFacts unknown;
    unknown.staff_id = std::string(staff_id);
    unknown.status = "unknown";
    return unknown;
  }
  access::StaffFacts facts = FactsOf(*row);
  facts.training = training;
  if (customer_id.empty()) return facts;
  for (size_t i = 0; i < grants.size(); ++i) {
    const access::Grant& g = grants[i];
    // In force: within requested_at .. expires_at (a late approval does not extend it).
    if (now_ms < grant_starts[i] || now_ms >= g.expires_at_ms) continue;
    if (std::find(g.scope.customers.begin(), g.scope.customers.end(), customer_id) ==
        g.scope.customers.end()) {
      continue;
    }
    facts.break_glass.push_back(g);
  }
  return facts;
}

Result<AccessCache::Session> AccessCache::Sync(store::Transaction& txn) {
  CUSTOS_ASSIGN_OR_RETURN(std::optional<store::Bytes> stored, txn.GetMeta(kEpochKey));
  // A vault that never changed access since this code came has no epoch yet: "-" stands for
  // it, and the first change writes one.
  std::string epoch = stored.has_value() ? KeyOf(*stored) : std::string("-");
  {
    std::lock_guard<std::mutex> lock(mu_);
    Adopt(epoch);
  }
  return Session(*this, txn, std::move(epoch));
}

void AccessCache::Adopt(const std::string& epoch) {
  if (epoch == epoch_) return;
  epoch_ = epoch;
  staff_.clear();
  tokens_.clear();
}

void AccessCache::Bound() {
  if (staff_.size() + tokens_.size() < kMaxEntries) return;
  staff_.clear();
  tokens_.clear();
}

Result<std::shared_ptr<const AccessCache::StaffEntry>> AccessCache::Session::Staff(
    std::string_view staff_id) {
  {
    std::lock_guard<std::mutex> lock(cache_.mu_);
    if (cache_.epoch_ == epoch_) {
      auto it = cache_.staff_.find(staff_id);
      if (it != cache_.staff_.end()) {
        ++cache_.hits_;
        return it->second;
      }
    }
  }
  CUSTOS_ASSIGN_OR_RETURN(std::shared_ptr<const StaffEntry> entry, LoadStaff(txn_, staff_id));
  std::lock_guard<std::mutex> lock(cache_.mu_);
  // Kept only under the epoch it was read with: read after the epoch, it is at least as new.
  if (cache_.epoch_ == epoch_) {
    cache_.Bound();
    cache_.staff_.insert_or_assign(std::string(staff_id), entry);
  }
  return entry;
}

Result<std::optional<store::ApiTokenRow>> AccessCache::Session::Token(
    store::ByteView secret_sha256) {
  const std::string key = KeyOf(secret_sha256);
  {
    std::lock_guard<std::mutex> lock(cache_.mu_);
    if (cache_.epoch_ == epoch_) {
      auto it = cache_.tokens_.find(key);
      if (it != cache_.tokens_.end()) {
        ++cache_.hits_;
        return std::optional<store::ApiTokenRow>(it->second);
      }
    }
  }
  CUSTOS_ASSIGN_OR_RETURN(std::optional<store::ApiTokenRow> row, txn_.FindApiToken(secret_sha256));
  if (!row.has_value()) return row;
  std::lock_guard<std::mutex> lock(cache_.mu_);
  if (cache_.epoch_ == epoch_) {
    cache_.Bound();
    cache_.tokens_.insert_or_assign(key, *row);
  }
  return row;
}

int64_t AccessCache::TEST_hits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hits_;
}

}  // namespace custos::vault
