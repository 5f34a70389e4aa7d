// Request ids: every response carries X-Request-Id, and the vault writes it into the audit
// entry, so a client's log line, the server's metrics and the audit log can be correlated.
// A client may choose the id; one that is not well-formed is replaced, never echoed.
//
// Thread safety: functions are safe to call from any thread.
#pragma once

#include <string>
#include <string_view>

namespace custos::api {

// Well-formed: 1..64 characters of [A-Za-z0-9._-] (safe in headers, logs and audit entries).
bool IsWellFormedRequestId(std::string_view id);

// `offered` if well-formed, else a new random id (32 hex characters, 128 bits).
std::string ChooseRequestId(std::string_view offered);

}  // namespace custos::api
