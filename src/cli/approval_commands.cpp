// custos training add|list (P5b) and custos approval request|approve|reject|list (dual
// control, break-glass). Thin: parse, call the vault, print.
#include <fmt/format.h>

#include "cli/app.h"
#include "cli/front_door.h"
#include "core/dates.h"
#include "core/env.h"

namespace custos::cli {
namespace {

nlohmann::json ApprovalJson(const vault::ApprovalView& a) {
  nlohmann::json scope = nlohmann::json::parse(a.scope_json, nullptr, false);
  return {{"approval_id", a.approval_id},
          {"kind", a.kind},
          {"requester", a.requester},
          {"justification", a.justification},
          {"scope", scope.is_discarded() ? nlohmann::json(a.scope_json) : scope},
          {"requested_at_ms", a.requested_at_ms},
          {"expires_at_ms", a.expires_at_ms},
          {"approver", a.approver},
          {"decided_at_ms", a.decided_at_ms},
          {"state", a.state}};
}

void AddTrainingGroup(CLI::App& app, Globals& g, Action& action) {
  auto* training = app.add_subcommand("training", "staff training records (P5b)");
  training->require_subcommand(1);

  auto* add = training->add_subcommand("add", "record a completed course (training.manage)");
  auto rec = std::make_shared<vault::TrainingRecord>();
  auto completed = std::make_shared<std::string>();
  auto valid_until = std::make_shared<std::string>();
  add->add_option("id", rec->staff_id, "staff id")->required();
  add->add_option("--course", rec->course, "course name, e.g. privacy-basics")->required();
  add->add_option("--completed", *completed, "completion date YYYY-MM-DD")->required();
  add->add_option("--valid-until", *valid_until, "end of validity YYYY-MM-DD")->required();
  add->callback([&g, &action, rec, completed, valid_until] {
    action = [&g, rec, completed, valid_until] {
      auto c = ParseDate(*completed);
      if (!c.ok()) return g.out().Fail(c.status());
      auto u = ParseDate(*valid_until);
      if (!u.ok()) return g.out().Fail(u.status());
      rec->completed_at_ms = *c;
      rec->valid_until_ms = *u;
      return WithVault(g, [&](vault::Vault& v) {
        Status st = v.staff().RecordTraining(g.MakeContext(), *rec);
        if (!st.ok()) return g.out().Fail(st);
        g.out().Print({{"staff_id", rec->staff_id},
                       {"course", rec->course},
                       {"completed", *completed},
                       {"valid_until", *valid_until}},
                      fmt::format("recorded {} for {}, valid until {}", rec->course, rec->staff_id,
                                  *valid_until));
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* list = training->add_subcommand("list", "training records (yours, or training.read)");
  auto id = std::make_shared<std::string>();
  auto all = std::make_shared<bool>(false);
  list->add_option("id", *id, "staff id (default: yourself)");
  list->add_flag("--all", *all, "everyone's records (training.read)");
  list->callback([&g, &action, id, all] {
    action = [&g, id, all] {
      return WithVault(g, [&](vault::Vault& v) {
        const std::string whose = *all ? "" : (id->empty() ? g.staff : *id);
        auto rows = v.staff().ListTraining(g.MakeContext(), whose);
        if (!rows.ok()) return g.out().Fail(rows.status());
        nlohmann::json doc = nlohmann::json::array();
        std::vector<std::vector<std::string>> table;
        for (const auto& r : *rows) {
          doc.push_back({{"staff_id", r.staff_id},
                         {"course", r.course},
                         {"completed_at_ms", r.completed_at_ms},
                         {"valid_until_ms", r.valid_until_ms},
                         {"recorded_by", r.recorded_by}});
          table.push_back({r.staff_id, r.course, core::UtcDateOfMs(r.completed_at_ms),
                           core::UtcDateOfMs(r.valid_until_ms), r.recorded_by});
        }
        // The API's shape (GET /v1/training).
        g.out().Print({{"training", doc}},
                      Table({"staff", "course", "completed", "valid until", "recorded by"}, table));
        return static_cast<int>(kExitOk);
      });
    };
  });
}

void AddApprovalGroup(CLI::App& app, Globals& g, Action& action) {
  auto* approval = app.add_subcommand("approval", "dual control: break-glass and other approvals");
  approval->require_subcommand(1);

  auto* request = approval->add_subcommand("request", "ask for access beyond your role");
  auto req = std::make_shared<vault::ApprovalRequest>();
  auto duration = std::make_shared<std::string>("1h");
  request
      ->add_option("--kind", req->kind,
                   "break_glass (default), destruction, bulk_export, role_grant, "
                   "credential_reset, audit_reseal, store_migrate, share, partner_cert, "
                   "restriction_lift")
      ->check(CLI::IsMember({"break_glass", "destruction", "bulk_export", "role_grant",
                             "credential_reset", "audit_reseal", "store_migrate", "share",
                             "partner_cert", "restriction_lift"}));
  request->add_option("--agreement", req->agreement,
                      "share: the agreement a share above [sharing] approval_above_rows is under");
  request->add_option("--partner", req->partner_id, "partner_cert: the partner to renew");
  auto cert_file = std::make_shared<std::string>();
  request->add_option("--cert", *cert_file, "partner_cert: the partner's new certificate (PEM)");
  request->add_option("--cert-sha256", req->cert_sha256,
                      "partner_cert: the new certificate's SHA-256 (instead of --cert)");
  request->add_option("--staff", req->staff_id,
                      "role_grant: the staff member to give roles; credential_reset: the staff "
                      "member whose password or second factor you will reset");
  request->add_option("--role", req->roles,
                      "role_grant: a role reading confidential or deciding approvals (repeat)");
  request->add_option("--customer", req->customers,
                      "a customer id (repeat; restriction_lift: the one customer)");
  request->add_option("--field", req->fields, "a field (repeat; default: every field)");
  request->add_option("--level", req->levels, "a level (repeat): general, internal, confidential");
  request->add_option("--for-purpose", req->purpose, "the purpose of the access");
  request
      ->add_option("--justification", req->justification, "the written reason (no personal data)")
      ->required();
  request->add_option("--duration", *duration,
                      "how long: 90m, 4h (default 1h; break-glass <= 24h)");
  request->callback([&g, &action, req, duration, cert_file] {
    action = [&g, req, duration, cert_file] {
      auto ms = ParseDuration(*duration);
      if (!ms.ok()) return g.out().Fail(ms.status());
      req->duration_ms = *ms;
      if (!cert_file->empty()) {
        Result<std::string> pem = Env::Default().ReadFile(*cert_file);
        if (!pem.ok()) return g.out().Fail(InvalidArgument("cert: the file cannot be read"));
        req->cert_pem = std::move(pem).value();
      }
      return WithVault(g, [&](vault::Vault& v) {
        auto id = v.approvals().Request(g.MakeContext(), *req);
        if (!id.ok()) return g.out().Fail(id.status());
        g.out().Print({{"approval_id", *id}, {"state", "requested"}},
                      fmt::format("requested {} (id {}); a second staff member must approve",
                                  req->kind, *id));
        return static_cast<int>(kExitOk);
      });
    };
  });

  for (const bool approve : {true, false}) {
    auto* decide =
        approval->add_subcommand(approve ? "approve" : "reject",
                                 approve ? "approve someone else's request (approval.approve)"
                                         : "reject someone else's request (approval.approve)");
    auto id = std::make_shared<std::string>();
    decide->add_option("approval_id", *id, "the request's id")->required();
    decide->callback([&g, &action, id, approve] {
      action = [&g, id, approve] {
        return WithVault(g, [&](vault::Vault& v) {
          Status st = approve ? v.approvals().Approve(g.MakeContext(), *id)
                              : v.approvals().Reject(g.MakeContext(), *id);
          if (!st.ok()) return g.out().Fail(st);
          g.out().Print({{"approval_id", *id}, {"state", approve ? "approved" : "rejected"}},
                        fmt::format("{} {}", approve ? "approved" : "rejected", *id));
          return static_cast<int>(kExitOk);
        });
      };
    });
  }

  auto* list = approval->add_subcommand("list", "approvals (yours, or approval.read)");
  auto requester = std::make_shared<std::string>();
  auto state = std::make_shared<std::string>();
  auto mine = std::make_shared<bool>(false);
  list->add_option("--requester", *requester, "only this requester's");
  list->add_flag("--mine", *mine, "only your own requests");
  list->add_option("--state", *state, "requested, approved, rejected or expired")
      ->check(CLI::IsMember({"requested", "approved", "rejected", "expired"}));
  list->callback([&g, &action, requester, state, mine] {
    action = [&g, requester, state, mine] {
      return WithVault(g, [&](vault::Vault& v) {
        auto rows = v.approvals().List(g.MakeContext(), *mine ? g.staff : *requester, *state);
        if (!rows.ok()) return g.out().Fail(rows.status());
        nlohmann::json doc = nlohmann::json::array();
        std::vector<std::vector<std::string>> table;
        for (const auto& a : *rows) {
          doc.push_back(ApprovalJson(a));
          table.push_back(
              {a.approval_id, a.kind, a.state, a.requester, a.approver.empty() ? "-" : a.approver});
        }
        // The API's shape (GET /v1/approvals).
        g.out().Print({{"approvals", doc}},
                      Table({"approval", "kind", "state", "requester", "approver"}, table));
        return static_cast<int>(kExitOk);
      });
    };
  });
}

}  // namespace

void AddApprovalCommands(CLI::App& app, Globals& g, Action& action) {
  AddTrainingGroup(app, g, action);
  AddApprovalGroup(app, g, action);
}

}  // namespace custos::cli
