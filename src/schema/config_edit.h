// Edits of a vault's custos.toml by the vault itself (`custos migrate`: the store moved to
// PostgreSQL), through the Env (issue 11, point 3).
//
// Thread safety: functions on text and files; callers do not run two edits of one config at
// once.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/env.h"
#include "core/status.h"

namespace custos::schema {

// The config text `text` with [store] pointing at PostgreSQL (`backend = "postgres"`, `url`,
// `schema`); every other line is kept as the operator wrote it. InvalidArgument if `url` or
// `schema` holds a quote, a backslash or a control character (they are written into TOML
// strings); the values are never echoed. The caller checks that the result parses.
Result<std::string> WithPostgresStore(std::string text, std::string_view url,
                                      std::string_view schema);

// Keeps `old_text` as `<config_path><keep_suffix>` and then replaces `config_path` with
// `new_text`, each through `env` as an atomic replace (Env::WriteFileAtomic: a temporary file,
// fsynced, renamed, the directory fsynced; mode 0600). A crash or a failure leaves the config
// whole, old or new: the vault is on one backend or the other. Unavailable naming the file and
// the step on failure; the config is then the old one (unless only the final directory fsync
// failed).
Status ReplaceConfig(const std::filesystem::path& config_path, std::string_view old_text,
                     std::string_view new_text, std::string_view keep_suffix,
                     Env& env = Env::Default());

}  // namespace custos::schema
