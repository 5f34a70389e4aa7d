// Secrets the CLI reads: API tokens and passwords. Never from a command-line argument (other
// users can read a process's arguments); from an environment variable, a file, or a no-echo
// prompt when standard input is a terminal.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace custos::cli {

// The value of environment variable `env` if set and non-empty; otherwise, when standard
// input is a terminal, what the user types after `prompt` (not echoed); otherwise
// Unauthenticated naming the variable.
Result<std::string> ReadSecret(const char* env, std::string_view prompt);

// The first line of `path` (trailing whitespace removed). Unavailable if it cannot be read;
// InvalidArgument if it is empty.
Result<std::string> ReadSecretFile(const std::string& path);

}  // namespace custos::cli
