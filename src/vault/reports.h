// ReportService: the DPO's compliance reports (issue 19 item 1; docs/dpo.md "Reports"). A
// report is computed from Custos' own records — the audit log, the store's registers and the
// configuration in force — over a period [from, to), and each of its tables says where its
// figures come from (the audit query or the register that yields them), so an auditor can
// recount any figure. A report names staff ids, posts, purposes, field names and counts;
// it decrypts nothing and names no customer (customer ids are counted, never listed).
//
// The processing report's recipients come from the register of sharing agreements (issue 17):
// the partners of the agreements in force at some time in the period.
//
// Each build is admitted as a read under report.read and recorded as "report.build" (target
// "report:<name>", the reason naming the period and the last audit entry it covers); the rows
// are then read in a transaction of their own, outside the group-commit batch.
//
// Thread safety: safe for concurrent use; the renderers are pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "vault/context.h"

namespace custos::vault {

struct VaultState;

// The report names, in the order of docs/dpo.md.
inline constexpr std::string_view kReportNames[] = {"processing", "access-review",    "consent",
                                                    "retention",  "subject-requests", "training",
                                                    "security"};

// A text in both languages of the reports.
struct Bilingual {
  std::string zh;
  std::string en;
};

// One table: columns and rows of text (numbers as decimal text), and where they come from.
struct ReportTable {
  std::string id;  // stable, for JSON and CSV ("requests_by_kind")
  Bilingual title;
  std::vector<Bilingual> columns;
  std::vector<std::vector<std::string>> rows;
  Bilingual source;  // "audit: action=dsr.open, ts in [from, to)", "register: subject_requests"
  int chart_column = -1;  // a numeric column drawn as bars in HTML; -1: no chart
};

struct Report {
  std::string name;
  Bilingual title;
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  // The company's zone ([server] time_zone): the report's dates are days there.
  std::string time_zone = "UTC";
  int64_t generated_at_ms = 0;
  std::string generated_by;  // staff id
  int64_t audit_seq = 0;     // the log's last entry when the build was admitted
  std::vector<ReportTable> tables;
  std::vector<Bilingual> notes;
};

// "YYYY-MM-DD": the day in the report's zone containing `ms` (a UTC day if the zone is not in
// the system's database, which the configuration check makes impossible).
std::string ReportDay(const Report& r, int64_t ms);

struct ReportRequest {
  std::string name;
  int64_t from_ms = 0;
  int64_t to_ms = 0;  // exclusive
};

// A recipient of customer data: a partner under a sharing agreement in force in the period.
struct ProcessingRecipient {
  std::string name;          // the partner, its id, the agreement and its state
  std::string purposes;      // the agreement's purposes, comma-separated
  std::string cross_border;  // the PIPL Art. 38 basis and reference; empty: not cross-border
};

// The consent report's coverage table as counts (issue 21: the DPO dashboard's card): per
// purpose of the catalogue, the customers whose last consent action before `to_ms` grants it.
struct PurposeCoverage {
  std::string purpose;
  bool legal_obligation = false;  // needs no consent: `consenting` is 0, not counted
  int64_t consenting = 0;
};
struct ConsentCoverage {
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  int64_t generated_at_ms = 0;
  int64_t customers = 0;  // customers registered before to_ms (honey records excluded)
  std::vector<PurposeCoverage> purposes;
};

class ReportService {
 public:
  explicit ReportService(VaultState& state) : state_(&state) {}

  // Builds the report `request` names over [from_ms, to_ms).
  // InvalidArgument "name: ..." for a name outside kReportNames, "to: must be after from".
  // Refusals of admission (recorded); Unavailable: the store cannot be read or the entry
  // written.
  Result<Report> Build(const Context& ctx, const ReportRequest& request);
  // The consent report's coverage alone, as counts: admitted and audited as the consent
  // report's build (report.build, target "report:consent"). InvalidArgument "to: must be after
  // from"; refusals as Build.
  Result<ConsentCoverage> BuildConsentCoverage(const Context& ctx, int64_t from_ms, int64_t to_ms);

 private:
  VaultState* state_;
};

// The renderings (report_render.cpp). JSON: the report as data (both languages). CSV: one
// section per table ("# table id" line, then a header row in `lang`, then rows; RFC 4180
// quoting). HTML: one self-contained page in `lang` ("zh" or "en"), with inline SVG bar charts
// drawn here (no script, no network at view time); every text HTML-escaped.
std::string RenderReportJson(const Report& report);
std::string RenderReportCsv(const Report& report, std::string_view lang);
std::string RenderReportHtml(const Report& report, std::string_view lang);

}  // namespace custos::vault
