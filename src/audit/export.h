// Reading the audit log out: a JSON-lines export (for a DPO, an auditor or a SIEM) and the
// newest entries. Both read only what the log holds: names, never values (P3.2c).
//
// Thread safety: as the Store; the caller must not hold a transaction on `store`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
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

}  // namespace custos::audit
