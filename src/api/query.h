// Query strings: "name=value&name=value", read strictly against the parameters a route
// accepts.
//
// Strict means: percent-escapes are complete hex pairs, '+' is a space, the decoded text is
// valid UTF-8 without control characters, each parameter appears at most once, only the
// route's parameters are accepted, and the whole string is at most 4096 bytes. Failures are
// InvalidArgument "query: ..." naming the parameter and the rule, never its value.
//
// These functions need no server: the fuzz target calls them with arbitrary bytes.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace custos::api {

using QueryParams = std::map<std::string, std::string, std::less<>>;

// Success: the decoded parameters (a name without '=' has the value "").
// Failure: InvalidArgument as described above.
Result<QueryParams> ParseQuery(std::string_view raw, std::span<const std::string_view> accepted);

// "a,b,c" -> {"a","b","c"}: field names ([a-z][a-z0-9_]{0,62}), none twice, none empty.
// InvalidArgument "query: parameter 'NAME': ..." otherwise.
Result<std::vector<std::string>> ParseNameList(std::string_view param, std::string_view text);

// A decimal integer in [min, max] (digits only; no sign, no spaces).
// InvalidArgument "query: parameter 'NAME' must be an integer from MIN to MAX" otherwise.
Result<int64_t> ParseBoundedInt(std::string_view param, std::string_view text, int64_t min,
                                int64_t max);

// True if `text` is well-formed UTF-8 with no control characters (C0, DEL): core::IsValidUtf8Text.
bool IsCleanUtf8(std::string_view text);

}  // namespace custos::api
