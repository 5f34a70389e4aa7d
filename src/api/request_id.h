// Request ids: every response carries X-Request-Id, and the vault writes it into the audit
// entry, so a client's log line, the server's metrics and the audit log can be correlated.
// A client may choose the id; one that is not well-formed is replaced, never echoed.
//
// Thread safety: functions are safe to call from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace custos::api {

// Longest run of digits a request id may hold (an ID or card number is longer).
inline constexpr size_t kMaxRequestIdDigitRun = 6;

// Well-formed: 1..64 characters of [A-Za-z0-9._-] with no run of more than
// kMaxRequestIdDigitRun digits (safe in headers, logs, audit entries and evidence refs).
bool IsWellFormedRequestId(std::string_view id);

// `offered` if well-formed, else a new random id (26 lowercase letters, about 122 bits).
std::string ChooseRequestId(std::string_view offered);

}  // namespace custos::api
