// Names in messages. An error message (and so an audit entry's reason, which records it) may
// name a field, a parameter or a member the caller sent; a name is echoed only when it is an
// identifier, so hostile input ("<script>", a line feed, an ID number typed as a field name)
// never travels back in a response or into the audit log (issue 12, items 7 and 9).
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace custos::core {

// True for names that may be echoed: [A-Za-z0-9_.-]{1,64} with no run of more than six digits
// (a longer run could be personal data typed in the wrong place).
bool IsEchoableName(std::string_view name);

// "'name'" for an echoable name, else "(a name that is not an identifier)".
std::string QuotedName(std::string_view name);

}  // namespace custos::core
