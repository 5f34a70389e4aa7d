// Personal-information impact assessments (PIPL Art. 55-56; dpo.h, issue 19 item 3): written
// by one staff member, approved by a second (never the author), in force until their review
// date, kept at least three years (the store cannot delete one), and required — where [dpo]
// require_pia says so — before a purpose, a sharing agreement or a cross-border transfer takes
// effect (RequireApprovedPia, PurposesWithPia).
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <mutex>

#include "vault/admission.h"
#include "vault/dpo.h"
#include "vault/sharing.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using schema::Action;

constexpr size_t kMaxPiaText = 4000;
constexpr size_t kMaxScopeItems = 200;

nlohmann::json ScopeJson(const PiaScope& s) {
  return {{"purposes", s.purposes},
          {"fields", s.fields},
          {"recipients", s.recipients},
          {"cross_border", s.cross_border}};
}

std::vector<std::string> Strings(const nlohmann::json& j, const char* member) {
  std::vector<std::string> out;
  const auto it = j.find(member);
  if (it == j.end() || !it->is_array()) return out;
  for (const nlohmann::json& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

PiaScope ScopeOf(const std::string& text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  PiaScope s;
  if (j.is_discarded() || !j.is_object()) return s;
  s.purposes = Strings(j, "purposes");
  s.fields = Strings(j, "fields");
  s.recipients = Strings(j, "recipients");
  const auto cb = j.find("cross_border");
  s.cross_border = cb != j.end() && cb->is_boolean() && cb->get<bool>();
  return s;
}

std::string StateAt(const store::PiaRow& r, int64_t now_ms) {
  if (r.state == "approved" && now_ms >= r.review_due_ms) return "review_due";
  return r.state;
}

PiaView ToView(store::PiaRow r, int64_t now_ms) {
  PiaView v;
  v.state = StateAt(r, now_ms);
  v.pia_id = std::move(r.pia_id);
  v.title = std::move(r.title);
  v.scope = ScopeOf(r.scope);
  v.risks = std::move(r.risks);
  v.measures = std::move(r.measures);
  v.author = std::move(r.author);
  v.created_at_ms = r.created_at_ms;
  v.approver = std::move(r.approver);
  v.approved_at_ms = r.approved_at_ms;
  v.review_due_ms = r.review_due_ms;
  v.keep_until_ms = r.keep_until_ms;
  return v;
}

bool Contains(const std::vector<std::string>& set, const std::string& item) {
  return std::find(set.begin(), set.end(), item) != set.end();
}

bool Covers(const PiaScope& have, const PiaScope& need) {
  for (const std::string& p : need.purposes) {
    if (!Contains(have.purposes, p)) return false;
  }
  for (const std::string& f : need.fields) {
    if (!Contains(have.fields, f)) return false;
  }
  for (const std::string& r : need.recipients) {
    if (!Contains(have.recipients, r)) return false;
  }
  return !need.cross_border || have.cross_border;
}

// The scope's members checked against the catalogue: the first problem, OK when none.
Status CheckScope(const schema::Config& config, const PiaScope& s) {
  if (s.purposes.empty()) return InvalidArgument("purposes: name at least one purpose");
  if (s.purposes.size() + s.fields.size() + s.recipients.size() > kMaxScopeItems) {
    return InvalidArgument("scope: at most 200 purposes, fields and recipients in all");
  }
  for (const std::string& p : s.purposes) {
    if (config.FindPurpose(p) == nullptr) {
      return InvalidArgument("purposes: each must be a purpose of the catalogue");
    }
  }
  for (const std::string& f : s.fields) {
    if (config.FindField(f) == nullptr) {
      return InvalidArgument("fields: each must be a field of the catalogue");
    }
  }
  for (const std::string& r : s.recipients) {
    if (!ValidSharingId(r)) return InvalidArgument("recipients: each must be a partner id");
  }
  return Status::Ok();
}

Status CheckSpec(const VaultState& m, const PiaSpec& spec, int64_t now_ms) {
  CUSTOS_RETURN_IF_ERROR(
      CheckAuditText("title", spec.title, 3, 200, "what is assessed, no personal data"));
  CUSTOS_RETURN_IF_ERROR(
      CheckAuditText("risks", spec.risks, 3, kMaxPiaText, "the risks found, no personal data"));
  CUSTOS_RETURN_IF_ERROR(
      CheckAuditText("measures", spec.measures, 3, kMaxPiaText, "the measures, no personal data"));
  CUSTOS_RETURN_IF_ERROR(CheckScope(*m.config, spec.scope));
  if (spec.review_due_ms <= now_ms || spec.review_due_ms > now_ms + kPiaKeepMs) {
    return InvalidArgument("review_due: must be after today and within three years");
  }
  return Status::Ok();
}

// The body's refusal when `st` is the input's fault; `st` itself otherwise (the scanner).
Result<Verdict> DenyOrFail(const Status& st) {
  if (st.code() != Code::kInvalidArgument) return st;
  return Verdict::Deny(st);
}

Result<std::optional<store::PiaRow>> FindPia(store::Transaction& txn, std::string_view id) {
  if (!ValidCustomerId(id)) return std::optional<store::PiaRow>();
  return txn.GetPia(id);
}

}  // namespace

Status RequireApprovedPia(store::Transaction& txn, const PiaScope& need, int64_t now_ms,
                          std::string_view what) {
  CUSTOS_ASSIGN_OR_RETURN(auto rows, txn.ListPias());
  for (const store::PiaRow& r : rows) {
    if (StateAt(r, now_ms) == "approved" && Covers(ScopeOf(r.scope), need)) return Status::Ok();
  }
  return FailedPrecondition(fmt::format(
      "{}: needs an approved impact assessment in force covering purposes [{}], fields [{}], "
      "recipients [{}]{} (PIPL Art. 55; [dpo] require_pia): custos pia add, then pia approve "
      "by a second person",
      what, fmt::join(need.purposes, ","), fmt::join(need.fields, ","),
      fmt::join(need.recipients, ","), need.cross_border ? ", cross-border" : ""));
}

Result<std::vector<std::string>> PurposesWithPia(store::Transaction& txn, int64_t now_ms) {
  CUSTOS_ASSIGN_OR_RETURN(auto rows, txn.ListPias());
  std::vector<std::string> out;
  for (const store::PiaRow& r : rows) {
    if (StateAt(r, now_ms) != "approved") continue;
    for (std::string& p : ScopeOf(r.scope).purposes) {
      if (!Contains(out, p)) out.push_back(std::move(p));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<PiaView> DpoService::AddPia(const Context& ctx, const PiaSpec& spec) {
  VaultState& m = *state_;
  const std::string id = NewId(m.Now());
  const Operation op{Action::kPiaAdd, IdTarget("pia", id), Basis::kAdministration};
  std::optional<PiaView> made;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (Status bad = CheckSpec(m, spec, s.now_ms); !bad.ok()) return DenyOrFail(bad);
    store::PiaRow row;
    row.pia_id = id;
    row.title = spec.title;
    row.scope = ScopeJson(spec.scope).dump();
    row.risks = spec.risks;
    row.measures = spec.measures;
    row.author = s.actor().staff_id;
    row.created_at_ms = s.now_ms;
    row.review_due_ms = spec.review_due_ms;
    row.keep_until_ms = s.now_ms + kPiaKeepMs;
    row.state = "draft";
    CUSTOS_RETURN_IF_ERROR(s.txn.InsertPia(row));
    made = ToView(row, s.now_ms);
    return Verdict::Allow(fmt::format(
        "impact assessment drafted: purposes {}, {} fields, recipients {}{}; awaits a second "
        "person's approval",
        fmt::join(spec.scope.purposes, ","), spec.scope.fields.size(),
        fmt::join(spec.scope.recipients, ","), spec.scope.cross_border ? ", cross-border" : ""));
  }));
  return std::move(*made);
}

Result<std::vector<PiaView>> DpoService::Pias(const Context& ctx) {
  VaultState& m = *state_;
  const Operation op{Action::kPiaList, "pia", Basis::kAdministration};
  std::vector<PiaView> out;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(auto rows, s.txn.ListPias());
    for (store::PiaRow& r : rows) out.push_back(ToView(std::move(r), s.now_ms));
    return Verdict::Allow(fmt::format("{} impact assessments listed", out.size()));
  }));
  return out;
}

Result<PiaView> DpoService::ShowPia(const Context& ctx, std::string_view pia_id) {
  VaultState& m = *state_;
  const Operation op{Action::kPiaShow, IdTarget("pia", pia_id), Basis::kAdministration};
  std::optional<PiaView> found;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(auto row, FindPia(s.txn, pia_id));
    if (!row.has_value()) return Verdict::Deny(NotFound("pia: no such impact assessment"));
    found = ToView(std::move(*row), s.now_ms);
    return Verdict::Allow("impact assessment shown");
  }));
  return std::move(*found);
}

Result<PiaView> DpoService::ApprovePia(const Context& ctx, std::string_view pia_id) {
  VaultState& m = *state_;
  const Operation op{Action::kPiaApprove, IdTarget("pia", pia_id), Basis::kAdministration};
  std::optional<PiaView> approved;
  std::vector<std::string> covered;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(auto row, FindPia(s.txn, pia_id));
    if (!row.has_value()) return Verdict::Deny(NotFound("pia: no such impact assessment"));
    if (row->author == s.actor().staff_id) {
      return Verdict::Deny(PermissionDenied(
          "approver: the author of an impact assessment cannot approve it (a second person "
          "must)"));
    }
    if (row->state != "draft") {
      return Verdict::Deny(FailedPrecondition("pia: already approved"));
    }
    if (row->review_due_ms <= s.now_ms) {
      return Verdict::Deny(
          FailedPrecondition("pia: its review date has passed; draft a new assessment"));
    }
    row->approver = s.actor().staff_id;
    row->approved_at_ms = s.now_ms;
    row->keep_until_ms = std::max(row->keep_until_ms, s.now_ms + kPiaKeepMs);
    row->state = "approved";
    CUSTOS_RETURN_IF_ERROR(s.txn.PutPia(*row));
    CUSTOS_ASSIGN_OR_RETURN(covered, PurposesWithPia(s.txn, s.now_ms));
    const std::string author = row->author;
    approved = ToView(std::move(*row), s.now_ms);
    return Verdict::Allow(
        fmt::format("impact assessment by '{}' approved by '{}', in force until "
                    "its review date",
                    author, s.actor().staff_id));
  }));
  m.SetPurposesWithPia(std::move(covered));
  return std::move(*approved);
}

}  // namespace custos::vault
