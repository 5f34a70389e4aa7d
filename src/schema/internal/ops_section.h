// ReadOpsSection: the [ops] table of custos.toml (docs/security_operations.md, issue 20).
// Internal to the schema component; config_parser.cpp calls it. Thread safety: pure function.
#pragma once

#include "core/status.h"
#include "schema/config.h"
#include "schema/internal/toml_section.h"

namespace custos::schema::internal {

// [ops] and its [ops.posts.NAME] tables, read after the posts (`config.posts` is set).
// Success: an OpsConfig (the shipped thresholds for every key not set; a post's table starts
// from the [ops] thresholds).
// Failure: InvalidArgument "FILE:LINE: key 'ops.KEY': RULE" (or 'ops.posts.NAME.KEY') for an
// unknown key, a value of the wrong type or out of its range, a working_hours that is not
// "always" or "HH:MM-HH:MM", a utc_offset that is not "+HH:MM" / "-HH:MM", or a post that is
// not declared.
Result<OpsConfig> ReadOpsSection(const TomlSection& s, const Config& config);

}  // namespace custos::schema::internal
