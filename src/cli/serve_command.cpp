// `custos serve`: runs the HTTPS API (src/api, docs/api.md) until SIGINT or SIGTERM; SIGHUP
// reloads the TLS certificate and key (systemctl reload custos; docs/operations.md).
//
// The vault is opened once for the life of the server; every request authenticates with its
// own bearer token (no identity is taken from the command line). SIGINT and SIGTERM are
// blocked in every thread and taken by one thread with sigwait, which stops the server:
// requests in flight finish, then the vault is closed (its audit head sealed).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "api/log.h"
#include "api/server.h"
#include "api/tls_certificate.h"
#include "api/view_json.h"
#include "cli/app.h"
#include "cli/front_door.h"
#include "cli/schedule.h"
#include "ops/alert_command.h"
#include "schema/config.h"
#include "schema/log_config.h"

namespace custos::cli {
namespace {

// How often `custos serve` runs the doctor (docs/dpo.md; docs/decisions.md).
constexpr int64_t kDoctorEverySeconds = 24LL * 3600;

struct ServeFlags {
  std::string listen;  // empty: [server] listen
  int port = -1;       // -1: [server] port
  bool self_signed = false;
};

std::filesystem::path InVault(const std::filesystem::path& dir, const std::string& file) {
  const std::filesystem::path p(file);
  return p.is_absolute() ? p : dir / p;
}

// A schedule's first run (Schedule::Start's first_ms) from the vault's answer to "when is it
// due"; when the vault cannot say, the failure is logged as `failed_event` and the schedule
// starts one interval after the server (-1).
int64_t FirstRunMs(const Result<int64_t>& due, std::string_view failed_event) {
  if (due.ok()) return *due;
  api::LogEvent(api::LogLevel::kError, failed_event, {{"error", due.status().ToString()}});
  return -1;
}

// The [log] table of the vault's custos.toml (schema/log_config.h).
Result<schema::LogConfig> ReadLogSettings(const vault::Vault& v) {
  const std::filesystem::path file =
      v.config().source_path.empty() ? v.dir() / "custos.toml" : v.config().source_path;
  std::ifstream in(file, std::ios::binary);
  if (!in) return Unavailable(fmt::format("{}: cannot read", file.string()));
  std::stringstream text;
  text << in.rdbuf();
  return schema::ReadLogConfig(text.str(), file.string());
}

int Serve(Globals& g, const ServeFlags& flags) {
  Output out = g.out();
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);
  // Blocked before any thread starts, so every server thread inherits the mask and only the
  // sigwait thread below ever sees the signals.
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // The server journals its reads unless custos.toml says otherwise (SQLite; docs/audit.md
  // "The read journal"): they then run on the event loop, without a commit each.
  auto opened = g.OpenVault(/*journal_reads=*/true);
  if (!opened.ok()) return out.Fail(opened.status());
  vault::Vault& v = **opened;
  // [log]: JSON lines (lifecycle, warnings, one access line per request) to stderr or a file.
  Result<schema::LogConfig> log_config = ReadLogSettings(v);
  if (!log_config.ok()) return out.Fail(log_config.status());
  if (Status logging = api::StartLogging(*log_config, v.dir()); !logging.ok()) {
    return out.Fail(logging);
  }
  struct LogStopper {
    ~LogStopper() { api::StopLogging(); }
  } log_stopper;
  // The configuration in force (P6c; docs/dpo.md): a new custos.toml version is recorded by
  // its digest when it differs from the last one recorded.
  auto config_version = v.dpo().RecordConfigVersion();
  if (!config_version.ok()) {
    api::LogEvent(api::LogLevel::kError, "config.version.failed",
                  {{"error", config_version.status().ToString()}});
  }
  api::ServerOptions options;
  options.config = v.config().server;
  if (!flags.listen.empty()) options.config.listen = flags.listen;
  if (flags.port >= 0) options.config.port = static_cast<uint16_t>(flags.port);
  options.cert_file = InVault(v.dir(), options.config.cert);
  options.key_file = InVault(v.dir(), options.config.key);
  if (flags.self_signed && !std::filesystem::exists(options.cert_file) &&
      !std::filesystem::exists(options.key_file)) {
    Status made = api::WriteSelfSignedCertificate(options.cert_file, options.key_file);
    if (!made.ok()) return out.Fail(made);
  }
  auto server = api::ApiServer::Create(v, options);
  if (!server.ok()) return out.Fail(server.status());
  auto port = (*server)->Bind();
  if (!port.ok()) return out.Fail(port.status());
  const std::string console_url = (*server)->ConsoleUrl();
  nlohmann::json started = {{"url", (*server)->Url()}};
  if (!console_url.empty()) started["console_url"] = console_url;
  out.Print(started,
            console_url.empty()
                ? fmt::format("custos: serving {} (SIGINT or SIGTERM stops)", (*server)->Url())
                : fmt::format("custos: serving {} and the web console at {} (SIGINT or SIGTERM "
                              "stops)",
                              (*server)->Url(), console_url));
  std::cout.flush();
  api::LogEvent(api::LogLevel::kInfo, "server.start",
                {{"url", (*server)->Url()},
                 {"version", std::string(CustosVersion())},
                 {"backend", v.config().store.backend},
                 {"threads", options.config.threads}});

  // Scheduled backups ([backup] every): online snapshots while the API serves; the vault
  // prunes the oldest beyond `keep` only after a successful run.
  // The first one when due by the newest backup's age (at once if there is none), so that a
  // server restarted more often than [backup] every still backs up on time.
  const int64_t backup_first_ms =
      v.config().backup.every_seconds <= 0
          ? -1
          : FirstRunMs(v.backups().ScheduledDelayMs(v.config().backup.every_seconds * 1000),
                       "backup.scheduled.failed");
  std::unique_ptr<Schedule> backups = Schedule::Start(
      v.config().backup.every_seconds,
      [&v] {
        auto result = v.backups().RunScheduled();
        if (result.ok()) {
          api::LogEvent(api::LogLevel::kInfo, "backup.scheduled",
                        {{"backup_id", result->backup_id},
                         {"customers", result->customers},
                         {"bytes", result->bytes}});
        } else {
          api::LogEvent(api::LogLevel::kError, "backup.scheduled.failed",
                        {{"error", result.status().ToString()}});
        }
      },
      backup_first_ms);
  // Scheduled retention plans ([lifecycle] plan_every): plans only; running one still needs
  // an approved destruction request and `custos retention run`.
  // The first one when due by the newest plan's age (at once if there is none).
  const int64_t plan_first_ms =
      v.config().lifecycle.plan_every_seconds <= 0
          ? -1
          : FirstRunMs(
                v.lifecycle().ScheduledPlanDelayMs(v.config().lifecycle.plan_every_seconds * 1000),
                "retention.plan.scheduled.failed");
  std::unique_ptr<Schedule> plans = Schedule::Start(
      v.config().lifecycle.plan_every_seconds,
      [&v] {
        auto plan = v.lifecycle().RunScheduledRetentionPlan();
        if (plan.ok()) {
          // Ids and counts only: a plan names customers by id, never by value. Nothing is
          // destroyed: `custos retention show ID`, then request, approve and run it.
          api::LogEvent(
              api::LogLevel::kInfo, "retention.plan.scheduled",
              {{"plan_id", plan->plan_id}, {"due", plan->due.size()}, {"held", plan->held.size()}});
        } else {
          api::LogEvent(api::LogLevel::kError, "retention.plan.scheduled.failed",
                        {{"error", plan.status().ToString()}});
        }
      },
      plan_first_ms);
  // Epoch keys (issue 23; docs/backup.md "Epoch keys"): checked every hour (or every epoch
  // length, if shorter); a new epoch, its re-wrap and the destruction of old epochs run when
  // due, as the "system" actor on the job channel.
  const int64_t epoch_check_seconds =
      std::min<int64_t>(3600, v.config().backup.key_epoch_length_seconds);
  std::unique_ptr<Schedule> epochs = Schedule::Start(epoch_check_seconds, [&v] {
    auto r = v.keys().RunScheduledEpochRotation();
    if (!r.ok()) {
      api::LogEvent(api::LogLevel::kError, "key.epoch.scheduled.failed",
                    {{"error", r.status().ToString()}});
      return;
    }
    if (r->created != 0 || !r->destroyed.empty() || r->rewrapped != 0) {
      api::LogEvent(api::LogLevel::kInfo, "key.epoch.scheduled",
                    {{"current", r->current},
                     {"rewrapped", r->rewrapped},
                     {"destroyed", r->destroyed.size()}});
    }
  });

  // The doctor (issue 19; docs/dpo.md): daily, as the vault's own job; the result is kept for
  // GET /v1/health/details and logged by counts and the ids of what is not ok.
  // Due at once when its last run is a day old (or it never ran), so that a server restarted
  // more often than daily still runs it daily.
  const int64_t doctor_first_ms = FirstRunMs(
      v.doctor().ScheduledDelayMs(kDoctorEverySeconds * 1000), "doctor.scheduled.failed");
  std::unique_ptr<Schedule> doctor = Schedule::Start(
      kDoctorEverySeconds,
      [&v] {
        auto r = v.doctor().RunScheduled();
        if (!r.ok()) {
          api::LogEvent(api::LogLevel::kError, "doctor.scheduled.failed",
                        {{"error", r.status().ToString()}});
          return;
        }
        api::LogEvent(
            r->Worst() >= vault::Severity::kWarning ? api::LogLevel::kWarn : api::LogLevel::kInfo,
            "doctor.scheduled",
            {{"status", std::string(vault::SeverityName(r->Worst()))},
             {"failures", r->Count(vault::Severity::kFailure)},
             {"warnings", r->Count(vault::Severity::kWarning)}});
      },
      doctor_first_ms);

  // Security operations (issue 20; docs/security_operations.md): the rules evaluated on new
  // audit entries every [ops] scan_interval_ms; each alert is logged, counted for /v1/metrics
  // (from the alert table) and handed to [ops] alert_command, which runs on a thread of its
  // own so that a slow or failing command never holds the scan or a request.
  const schema::OpsConfig& ops_config = v.config().ops;
  std::unique_ptr<ops::AlertCommand> alert_command = ops::AlertCommand::Start(
      ops_config.alert_command, int64_t{ops_config.alert_command_timeout_seconds} * 1000,
      [](std::string_view alert_id, std::string_view problem) {
        api::LogEvent(api::LogLevel::kError, "ops.alert_command.failed",
                      {{"alert_id", std::string(alert_id)}, {"error", std::string(problem)}});
      });
  v.secops().SetAlertSink([&alert_command](const vault::AlertView& a) {
    const bool urgent = a.severity == "critical" || a.severity == "high";
    api::LogEvent(urgent ? api::LogLevel::kWarn : api::LogLevel::kInfo, "ops.alert",
                  {{"alert_id", a.alert_id},
                   {"rule", a.rule},
                   {"severity", a.severity},
                   {"staff", a.actor},
                   {"trigger_seq", a.trigger_seq}});
    if (alert_command != nullptr) alert_command->Send(a.alert_id, api::Dump(api::AlertJson(a)));
  });
  std::unique_ptr<Schedule> scans = Schedule::StartMs(ops_config.scan_interval_ms, [&v] {
    // Named, so its CPU can be told apart in /proc/PID/task (bench/secops_bench.sh).
    pthread_setname_np(pthread_self(), "custos-ops-scan");
    auto r = v.secops().RunScheduledScan();
    if (!r.ok()) {
      api::LogEvent(api::LogLevel::kError, "ops.scan.failed", {{"error", r.status().ToString()}});
    }
  });

  std::atomic<bool> done{false};
  std::thread stopper([&] {
    int sig = 0;
    // SIGHUP: a renewed certificate for new connections; a bad one leaves the old in use.
    while (sigwait(&stop_signals, &sig) == 0 && sig == SIGHUP && !done.load()) {
      Status reloaded = (*server)->ReloadCertificate();
      if (reloaded.ok()) {
        api::LogEvent(api::LogLevel::kInfo, "tls.reload", {{"cert", options.cert_file.string()}});
      } else {
        api::LogEvent(api::LogLevel::kWarn, "tls.reload.failed", {{"error", reloaded.ToString()}});
      }
    }
    if (!done.load()) {
      api::LogEvent(api::LogLevel::kInfo, "server.stopping",
                    {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
    }
    // Stop may come before the accept loop runs; repeat until Serve has returned.
    while (!done.load()) {
      (*server)->Stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  Status served = (*server)->Serve();
  done.store(true);
  // Wake the stopper if the server ended on its own (the signal is blocked everywhere, so
  // only its sigwait takes it).
  kill(getpid(), SIGTERM);
  stopper.join();
  scans.reset();
  v.secops().SetAlertSink({});
  alert_command.reset();
  backups.reset();
  plans.reset();
  server->reset();
  Status closed = v.Close();
  if (!served.ok()) {
    api::LogEvent(api::LogLevel::kError, "server.failed", {{"error", served.ToString()}});
    return out.Fail(served);
  }
  if (!closed.ok()) {
    api::LogEvent(api::LogLevel::kError, "vault.close.failed", {{"error", closed.ToString()}});
    return out.Fail(closed);
  }
  api::LogEvent(api::LogLevel::kInfo, "server.stopped");
  if (!g.json) std::cout << "custos: stopped\n";
  return kExitOk;
}

}  // namespace

void AddServeCommand(CLI::App& app, Globals& g, Action& action) {
  auto* cmd = app.add_subcommand(
      "serve",
      "run the HTTPS API until SIGINT/SIGTERM; SIGHUP reloads the TLS certificate (docs/api.md)");
  auto flags = std::make_shared<ServeFlags>();
  cmd->add_option("--listen", flags->listen, "address to listen on (default: [server] listen)");
  cmd->add_option("--port", flags->port, "port (default: [server] port; 0: any free port)")
      ->check(CLI::Range(0, 65535));
  cmd->add_flag("--self-signed", flags->self_signed,
                "make a self-signed certificate at [server] cert/key if neither exists");
  cmd->callback([&g, &action, flags] { action = [&g, flags] { return Serve(g, *flags); }; });
}

}  // namespace custos::cli
