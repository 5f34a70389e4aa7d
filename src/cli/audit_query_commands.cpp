// custos audit query|follow: the DPO's questions to the log (issue 13 item 5; docs/audit.md,
// "Queries"). Thin: the flags become a vault::AuditQuery, the vault admits, records and reads
// through the store's indexes, and each entry is printed as text, a JSON line or an RFC 5424
// syslog line. A malformed flag value is a usage error (exit 2) naming the flag.
#include <fmt/format.h>
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "audit/export.h"
#include "cli/app.h"

namespace custos::cli {
namespace {

struct QueryFlags {
  std::string customer;
  std::string since;
  std::string until;
  std::string actor;
  std::string action;
  std::string decision;
  std::string purpose;
  std::string format = "text";
  std::string cursor;
  int64_t limit = 0;     // 0: every entry, page after page
  int64_t from_seq = 0;  // follow: 0 = only entries appended from now on
};

void AddFilterFlags(CLI::App* cmd, QueryFlags& f) {
  cmd->add_option("--customer", f.customer, "entries about this customer (its id)");
  cmd->add_option("--actor", f.actor, "entries of this staff member");
  cmd->add_option("--action", f.action, "entries of this action (customer.read, ...)");
  cmd->add_option("--decision", f.decision, "allow, deny or mask");
  cmd->add_option("--purpose", f.purpose, "entries made for this purpose");
  cmd->add_option("--since", f.since, "from this date (YYYY-MM-DD, UTC) or ISO 8601 date-time");
  cmd->add_option("--until", f.until,
                  "up to this date, inclusive (YYYY-MM-DD, UTC), or before this date-time");
  cmd->add_option("--format", f.format, "text (default), jsonl or syslog (RFC 5424)")
      ->check(CLI::IsMember({"text", "jsonl", "syslog"}));
}

// The flags as a vault query; InvalidArgument naming the flag for a bad time.
Result<vault::AuditQuery> ToQuery(const QueryFlags& f) {
  vault::AuditQuery q;
  q.customer_id = f.customer;
  q.actor = f.actor;
  q.action = f.action;
  q.decision = f.decision;
  q.purpose = f.purpose;
  if (!f.since.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(q.from_ms, vault::ParseAuditTime("--since", f.since, false));
  }
  if (!f.until.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(q.to_ms, vault::ParseAuditTime("--until", f.until, true));
  }
  q.cursor = f.cursor;
  return q;
}

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "-";
  return name;
}

// Writes one entry in the chosen format and flushes (a SIEM reads a pipe line by line).
class EntryPrinter {
 public:
  explicit EntryPrinter(std::string format) : format_(std::move(format)), host_(HostName()) {}
  Status operator()(const store::AuditRow& row) const {
    if (format_ == "jsonl") {
      std::cout << audit::EntryJson(row) << '\n';
    } else if (format_ == "syslog") {
      std::cout << audit::SyslogLine(row, host_) << '\n';
    } else {
      std::cout << audit::EntryText(row) << '\n';
    }
    std::cout.flush();
    if (!std::cout) return Unavailable("audit: writing the output failed");
    return Status::Ok();
  }

 private:
  std::string format_;
  std::string host_;
};

// A refused query parameter is a usage error (exit 2); other failures keep their codes.
int FailQuery(const Output& out, const Status& st) {
  const int code = out.Fail(st);
  return st.code() == Code::kInvalidArgument ? static_cast<int>(kExitUsage) : code;
}

int RunQuery(Globals& g, const QueryFlags& f) {
  Result<vault::AuditQuery> query = ToQuery(f);
  if (!query.ok()) return FailQuery(g.out(), query.status());
  return WithVault(g, [&](vault::Vault& v) {
    const EntryPrinter print(f.format);
    vault::AuditQuery q = *query;
    // With --limit: one page, and the cursor of the next one. Without: every page.
    q.limit = f.limit > 0 ? f.limit : vault::kMaxAuditPage;
    while (true) {
      Result<vault::AuditPage> page = v.audit().Query(g.MakeContext(), q);
      if (!page.ok()) return FailQuery(g.out(), page.status());
      for (const store::AuditRow& row : page->entries) {
        Status st = print(row);
        if (!st.ok()) return g.out().Fail(st);
      }
      if (page->next_cursor.empty()) break;
      if (f.limit > 0) {
        std::cerr << "custos: more entries: --cursor " << page->next_cursor << '\n';
        break;
      }
      q.cursor = page->next_cursor;
    }
    return static_cast<int>(kExitOk);
  });
}

// Set by SIGINT / SIGTERM during `audit follow`.
volatile std::sig_atomic_t g_stop_follow = 0;
void StopFollow(int /*signal*/) { g_stop_follow = 1; }

int RunFollow(Globals& g, const QueryFlags& f) {
  Result<vault::AuditQuery> query = ToQuery(f);
  if (!query.ok()) return FailQuery(g.out(), query.status());
  // SIGINT / SIGTERM end the stream between polls; the vault then closes as after any command.
  struct sigaction stop = {};
  stop.sa_handler = StopFollow;
  sigemptyset(&stop.sa_mask);
  sigaction(SIGINT, &stop, nullptr);
  sigaction(SIGTERM, &stop, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a closed reader is a write error, reported
  return WithVault(g, [&](vault::Vault& v) {
    const EntryPrinter print(f.format);
    std::optional<int64_t> after;
    if (f.from_seq > 0) after = f.from_seq - 1;
    Status st =
        v.audit().Follow(g.MakeContext(), *query, after, print, [] { return g_stop_follow != 0; });
    return st.ok() ? static_cast<int>(kExitOk) : FailQuery(g.out(), st);
  });
}

}  // namespace

void AddAuditQueryCommands(CLI::App& audit, Globals& g, Action& action) {
  auto flags = std::make_shared<QueryFlags>();
  auto* query = audit.add_subcommand(
      "query",
      "entries filtered on the server: --customer, --actor, --action, --decision, "
      "--purpose, --since/--until (docs/audit.md)");
  AddFilterFlags(query, *flags);
  query->add_option("--limit", flags->limit, "at most N entries (1-1000), then the next cursor")
      ->check(CLI::Range(int64_t{1}, vault::kMaxAuditPage));
  query->add_option("--cursor", flags->cursor, "continue after a page (the cursor it printed)");
  query->callback([&g, &action, flags] { action = [&g, flags] { return RunQuery(g, *flags); }; });

  auto* follow = audit.add_subcommand(
      "follow", "stream entries as they are appended, until SIGINT/SIGTERM (for a SIEM)");
  AddFilterFlags(follow, *flags);
  follow
      ->add_option("--from-seq", flags->from_seq,
                   "start at this entry (default: only entries appended from now on)")
      ->check(CLI::Range(int64_t{1}, std::numeric_limits<int64_t>::max()));
  follow->callback([&g, &action, flags] { action = [&g, flags] { return RunFollow(g, *flags); }; });
}

}  // namespace custos::cli
