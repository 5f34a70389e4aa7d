// AuditEvent: one access as the service saw it, before it is an entry of the audit log
// (audit_log.h) or a record of the audit journal (journal.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace custos::audit {

// What happened, as the service saw it. Every string must be free of control characters.
struct AuditEvent {
  std::string actor;     // staff id or "system"
  std::string action;    // "customer.get", "customer.create", "audit.verify", ...
  std::string target;    // "customer:<id>", "import:<id>", ...
  std::string purpose;   // from the purpose catalogue (P3.3a)
  std::string channel;   // "cli", "api", "job"
  std::string decision;  // "allow", "deny" or "mask"
  std::string reason;
  std::vector<std::string> fields;  // names of the fields touched, never values
  std::string request_id;
  // When it happened (ms since the epoch); 0: the time of the append. Set by the audit journal
  // (journal.h), whose entries join the log after the access.
  int64_t ts_ms = 0;
};

// OK if `event` can be an entry: no string holds a control character, decision is allow, deny
// or mask, and every field name is non-empty without ','. InvalidArgument naming the event
// field and the rule, never the value (it may be hostile input).
Status ValidateEvent(const AuditEvent& event);

// `fields` comma-joined into `out` (replacing what it held): how an entry stores them (field
// names never hold ',').
inline void JoinFieldsInto(const std::vector<std::string>& fields, std::string& out) {
  out.clear();
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += fields[i];
  }
}

// The names of a comma-joined list (none for "").
inline std::vector<std::string> SplitFields(std::string_view joined) {
  std::vector<std::string> names;
  if (joined.empty()) return names;
  size_t start = 0;
  while (true) {
    const size_t comma = joined.find(',', start);
    names.emplace_back(joined.substr(start, comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return names;
}

}  // namespace custos::audit
