// ReadServerSection: the [server] table of custos.toml (the HTTPS API of `custos serve`).
//
// Internal to the schema component; config_parser.cpp calls it. Kept apart from the catalogue
// parser because it is settings, not policy. Thread safety: a pure function.
#pragma once

#include "core/status.h"
#include "schema/config.h"
#include "schema/internal/toml_section.h"

namespace custos::schema::internal {

// Success: a ServerConfig with every key checked (defaults for absent keys).
// Failure: InvalidArgument "FILE:LINE: key 'server.KEY': RULE" for an unknown key, a value of
// the wrong type, a listen value that is not an IP address literal, a number out of range,
// or a burst smaller than the per-second rate.
Result<ServerConfig> ReadServerSection(const TomlSection& s);

}  // namespace custos::schema::internal
