// Destruction rate (issue 6, point 8): a vault whose first OLD customers were collected four
// years ago (so they are past the shipped 3-year ceiling) and the rest today; a retention plan,
// a second staff member's approval, and the timed run. In-process with an injected clock (the
// only way to age customers without a back door in the product); bench/destruction_bench.sh
// drives it.
//   custos_destruction_bench DIR OLD_CSV NEW_CSV
// Prints one JSON line: customers in the vault, destroyed, seconds and customers/s.
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <tuple>

#include "vault/vault.h"

using namespace custos;
using namespace custos::vault;

namespace {

constexpr int64_t kDayMs = 24LL * 3600 * 1000;
constexpr int64_t kAgeMs = 4 * 365 * kDayMs;

int64_t SystemMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int Fail(const char* what, const Status& st) {
  std::fprintf(stderr, "%s: %s\n", what, st.ToString().c_str());
  return 1;
}

ImportOptions Consenting() {
  ImportOptions opt;
  opt.notice_version = 1;
  opt.consent_purposes = {"customer_service", "account_management"};
  opt.sensitive_consent = true;
  return opt;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: custos_destruction_bench DIR OLD_CSV NEW_CSV\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::atomic<int64_t> offset{kAgeMs};  // the vault's clock runs four years behind at first
  InitOptions init;
  init.dir = dir;
  init.now_ms = [&offset] { return SystemMs() - offset.load(); };
  auto report = Vault::Init(init);
  if (!report.ok()) return Fail("init", report.status());
  OpenOptions open;
  open.dir = dir;
  open.now_ms = init.now_ms;
  auto opened = Vault::Open(open);
  if (!opened.ok()) return Fail("open", opened.status());
  std::unique_ptr<Vault> v = std::move(opened).value();
  const Context admin{"admin", "", Channel::kCli, "bench"};
  // security_admin decides approvals: its role grant is asked for by the administrator and
  // approved by the DPO (dual control, docs/access.md).
  ApprovalRequest grant;
  grant.kind = "role_grant";
  grant.justification = "the security administrator who approves the destruction";
  grant.staff_id = "sec.admin";
  grant.roles = {"security_admin"};
  grant.duration_ms = 3600 * 1000;
  // The DPO sets their first password first: an init token alone decides no role grant.
  const Context dpo_cli{"dpo", "", Channel::kCli, "bench"};
  Status own = v->staff().SetPassword(dpo_cli, "dpo", "the bench dpo's own password");
  if (!own.ok()) return Fail("dpo password", own);
  auto granted = v->approvals().Request(admin, grant);
  if (!granted.ok()) return Fail("role grant", granted.status());
  Status approved = v->approvals().Approve(dpo_cli, *granted);
  if (!approved.ok()) return Fail("role grant approval", approved);
  for (auto [id, post, role] :
       {std::tuple{"clerk", "sales_rep", "sales"},
        std::tuple{"sec.admin", "security_administrator", "security_admin"}}) {
    Status st = v->staff().Create(admin, StaffSpec{id, id, post, {role}, ""});
    if (!st.ok()) return Fail("staff", st);
  }
  const int64_t t = SystemMs() - offset.load();
  Status st = v->staff().RecordTraining(
      admin, TrainingRecord{"clerk", "privacy-basics", t - kDayMs, t + 10 * 365 * kDayMs, ""});
  if (!st.ok()) return Fail("training", st);
  const Context clerk{"clerk", "account_management", Channel::kCli, "bench"};
  auto old_import = v->customers().ImportCsv(clerk, argv[2], Consenting());
  if (!old_import.ok()) return Fail("import old", old_import.status());
  v.reset();
  offset = 0;  // today
  opened = Vault::Open(open);
  if (!opened.ok()) return Fail("reopen", opened.status());
  v = std::move(opened).value();
  auto new_import = v->customers().ImportCsv(clerk, argv[3], Consenting());
  if (!new_import.ok()) return Fail("import new", new_import.status());
  const Context dpo{"dpo", "", Channel::kCli, "bench"};
  auto plan_start = std::chrono::steady_clock::now();
  auto plan = v->lifecycle().PlanRetention(dpo);
  if (!plan.ok()) return Fail("plan", plan.status());
  const double plan_s = Seconds(plan_start);
  ApprovalRequest req;
  req.kind = "destruction";
  req.justification = "destruction benchmark run";
  req.duration_ms = kDayMs;
  req.plan_id = plan->plan_id;
  auto approval = v->approvals().Request(dpo, req);
  if (!approval.ok()) return Fail("request", approval.status());
  st = v->approvals().Approve(Context{"sec.admin", "", Channel::kCli, "bench"}, *approval);
  if (!st.ok()) return Fail("approve", st);
  auto run_start = std::chrono::steady_clock::now();
  auto run = v->lifecycle().RunRetentionPlan(dpo, plan->plan_id);
  if (!run.ok()) return Fail("run", run.status());
  const double run_s = Seconds(run_start);
  const int64_t total = old_import->imported + new_import->imported;
  std::printf(
      "%s\n",
      fmt::format("{{\"customers\":{},\"due\":{},\"destroyed\":{},\"plan_s\":{:.2f},"
                  "\"run_s\":{:.2f},\"customers_destroyed_per_s\":{:.0f}}}",
                  total, plan->due.size(), run->customers, plan_s, run_s, run->customers / run_s)
          .c_str());
  return 0;
}
