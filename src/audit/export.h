// Reading the audit log out: a JSON-lines export (for a DPO, an auditor or a SIEM), the
// newest entries, and the line forms of one entry (JSON, RFC 5424 syslog, text). All read only
// what the log holds: names, never values (P3.2c).
//
// Thread safety: as the Store; the caller must not hold a transaction on `store`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace custos::audit {

// Writes every entry with seq >= from_seq, in seq order, one JSON object per line:
//   {"seq":1,"ts_ms":...,"actor":"...","action":"...","target":"...","purpose":"...",
//    "channel":"...","decision":"...","reason":"...","fields":["name",...],
//    "request_id":"...","prev_hash":"<hex>","hash":"<hex>"}
// Reads in pages (constant memory). An export is a copy, not evidence: run Verify on the log.
// InvalidArgument: from_seq < 1.
// Unavailable: the store cannot be read, or writing to `out` fails.
Status ExportJsonl(store::Store& store, std::ostream& out, int64_t from_seq = 1);

// The newest n entries (fewer if the log is shorter), oldest first.
// Unavailable: the store cannot be read.
Result<std::vector<store::AuditRow>> Tail(store::Store& store, size_t n);

// One entry as the JSON line ExportJsonl writes (without the newline).
std::string EntryJson(const store::AuditRow& row);

// One entry as an RFC 5424 syslog line (without the newline), for a SIEM:
//   <PRI>1 TIMESTAMP HOSTNAME custos - MSGID [custos@32473 seq="7" ts_ms="..." actor="..."
//   action="..." target="..." purpose="..." channel="..." decision="..." fields="a,b"
//   request_id="..." hash="<hex>"] REASON
// PRI: facility 13 (log audit); severity 4 (warning) for a deny, 6 (informational) otherwise.
// TIMESTAMP: the entry's time in UTC to the millisecond ("2026-01-05T08:30:00.123Z"). MSGID:
// the action. HOSTNAME and MSGID keep only printable US-ASCII (anything else becomes '_',
// cut to 255 and 32 characters; "-" when empty). SD-PARAM values are escaped as §6.3.3 asks
// (EscapeSdParam); the message is the entry's reason. A control character in a value or the
// message (only a tampered row can hold one) becomes a space, and a value that is not UTF-8
// is written as "(invalid utf-8)", so every line is one well-formed syslog message.
std::string SyslogLine(const store::AuditRow& row, std::string_view hostname);

// RFC 5424 §6.3.3: '"', '\' and ']' in a PARAM-VALUE are preceded by '\'.
std::string EscapeSdParam(std::string_view value);

// One entry as one line of text for a person (without the newline):
//   "#7 2026-01-05T08:30:00.123Z dpo customer.read customer:01J... allow purpose=support
//    channel=api fields=name,mobile request=req-1: <reason>"
std::string EntryText(const store::AuditRow& row);

// "YYYY-MM-DDTHH:MM:SS.mmmZ" of `ms` since the Unix epoch (UTC).
std::string FormatMs(int64_t ms);

}  // namespace custos::audit
