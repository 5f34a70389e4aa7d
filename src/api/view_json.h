// The JSON shapes of the vault's views in API responses (docs/openapi.yaml, components).
// Field values are the vault's output as they are: already masked or omitted by the vault.
//
// Thread safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include "vault/vault.h"

namespace custos::api {

nlohmann::json CustomerJson(const vault::CustomerView& view);
nlohmann::json TransactionJson(const vault::TransactionView& view);
nlohmann::json NoteJson(const vault::NoteView& view);
// Also the shape of `custos staff list --json`: one shape for the CLI and the API.
nlohmann::json StaffJson(const vault::StaffView& view);
// De-identification (issue 16), one shape for `custos deid ... --json` and /v1/deid/...: a
// release's report, a row of the release register, an aggregate's answer, a budget.
nlohmann::json DeidReleaseJson(const vault::DeidReleaseReport& report);
nlohmann::json DeidReleaseRowJson(const store::DeidReleaseRow& row);
nlohmann::json DeidAggregateJson(const vault::DeidAggregateReport& report);
nlohmann::json DeidBudgetJson(const vault::DeidBudget& budget);
// `deid check`: the figures recomputed from a file and whether they meet the profile.
nlohmann::json DeidCheckJson(const vault::DeidService::CheckReport& check);
// A release profile as `deid profiles --json` and GET /v1/deid/profiles list it.
nlohmann::json DeidProfileJson(const schema::DeidProfileDef& profile);
// Sharing with partners (issue 17), one shape for `custos partner|agreement|share ... --json`
// and /v1/partners, /v1/agreements, /v1/shares.
nlohmann::json PartnerJson(const vault::PartnerView& p);
nlohmann::json AgreementJson(const vault::AgreementView& a);
nlohmann::json ShareJson(const vault::ShareView& s);
nlohmann::json TraceJson(const vault::TraceReport& r);
// The doctor's result (issue 19), one shape for `custos doctor --json` and
// /v1/health/details: {"status": worst severity, "at_ms", "audit_seq", "counts", "findings"}.
nlohmann::json DoctorJson(const vault::DoctorReport& report);

// Key status (issue 6; docs/keys.md), one shape for `custos key status --json` and GET /v1/keys:
// versions with their counts and the rotation's progress, never key material.
nlohmann::json KeyStatusJson(const vault::KeyStatus& s);
// A backup of the configured [backup] dir (issue 21), one shape for `custos backup list --json`
// and GET /v1/backups: its manifest's facts, size and last verification; `problem` only when
// its manifest does not read.
nlohmann::json BackupListingJson(const vault::BackupListing& b);

// Security operations (issue 20), one shape for `custos ops ... --json` and /v1/alerts.
nlohmann::json AlertJson(const vault::AlertView& alert);

// The DPO's desk (issue 19), one shape for `custos pia|assessment ... --json` and /v1/pias.
nlohmann::json PiaJson(const vault::PiaView& p);
nlohmann::json AssessmentJson(const vault::AssessmentView& a);

// What separation of duties lets the staff member who listed (or opened) a data-subject
// request do with it, one shape for `custos dsr open|list --json` and /v1/subject-requests
// (docs/subject_requests.md): {"may_verify","may_fulfil","refused_by"}, from
// SubjectRequestView::caller_refused (the vault's rule, not a copy of it; "" when another
// person). The request's state is not considered (verified first, fulfilled once).
nlohmann::json SubjectRequestCallerJson(const vault::SubjectRequestView& r);

// Serialises without throwing on invalid UTF-8 (replaced by U+FFFD).
std::string Dump(const nlohmann::json& doc);

}  // namespace custos::api
