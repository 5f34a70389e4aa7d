// ReadDeidProfiles: the [deid.profiles] tables of custos.toml (issue 16; docs/deid.md).
//
// Internal to the schema component; config_parser.cpp calls it after the fields, purposes and
// roles, which profiles refer to. The rules are listed in config.h. Thread safety: pure.
#pragma once

#include <vector>

#include "core/status.h"
#include "schema/config.h"
#include "schema/internal/toml_section.h"

namespace custos::schema::internal {

// `s` is the [deid] table (possibly empty). Success: the profiles in file order. Failure:
// InvalidArgument "FILE:LINE: key 'deid.profiles.NAME.KEY': RULE".
Result<std::vector<DeidProfileDef>> ReadDeidProfiles(const TomlSection& s, const Config& c);

}  // namespace custos::schema::internal
