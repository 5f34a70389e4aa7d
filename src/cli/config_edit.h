// Edits of the vault's custos.toml made by CLI commands (`custos migrate`), through the Env.
//
// Thread safety: functions on files; callers do not run two edits of one config at once.
#pragma once

#include <filesystem>
#include <string_view>

#include "core/env.h"
#include "core/status.h"

namespace custos::cli {

// Keeps `old_text` as `<config_path><keep_suffix>` and then replaces `config_path` with
// `new_text`, each through `env` as an atomic replace (Env::WriteFileAtomic: a temporary file,
// fsynced, renamed, the directory fsynced; mode 0666 less the umask, as before). A crash or a
// failure leaves the config whole, old or new: the vault is on one backend or the other.
// Unavailable naming the file and the step on failure; the config is then the old one
// (unless only the final directory fsync failed).
Status ReplaceConfig(const std::filesystem::path& config_path, std::string_view old_text,
                     std::string_view new_text, std::string_view keep_suffix,
                     Env& env = Env::Default());

}  // namespace custos::cli
