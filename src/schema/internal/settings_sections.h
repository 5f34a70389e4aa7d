// ReadLifecycleSection and ReadAccessSection: the [lifecycle] and [access] settings tables of
// custos.toml (docs/configuration.md). Internal to the schema component; config_parser.cpp
// calls them. Thread safety: pure functions.
#pragma once

#include "core/status.h"
#include "schema/config.h"
#include "schema/internal/toml_section.h"
#include "schema/log_config.h"

namespace custos::schema::internal {

// [lifecycle]: the schedule of retention plans in `custos serve` (docs/retention.md).
// Success: a LifecycleConfig (plan_every "off" when absent).
// Failure: InvalidArgument "FILE:LINE: key 'lifecycle.KEY': RULE" for an unknown key, a value
// of the wrong type, or a plan_every that is neither "off" nor an interval of at least one
// hour (a sweep reads every customer and each plan is kept: a shorter one only adds load).
Result<LifecycleConfig> ReadLifecycleSection(const TomlSection& s);

// [subject_requests]: the days to answer each kind of data-subject request
// (docs/subject_requests.md), in the sub-table [subject_requests.due_days].
// Success: a SubjectRequestsConfig (15 days for every kind not set).
// Failure: InvalidArgument "FILE:LINE: key 'subject_requests.due_days.KIND': RULE" for a key
// that is not a kind (the message names the kinds), or days that are not an integer from 1
// to 365; "key 'subject_requests.KEY'" for an unknown key of the table itself.
Result<SubjectRequestsConfig> ReadSubjectRequestsSection(const TomlSection& s);

// [access]: the login lock-out (docs/access.md).
// Success: an AccessConfig (5 failures, 15 minutes when absent).
// Failure: InvalidArgument "FILE:LINE: key 'access.KEY': RULE" for an unknown key, a value of
// the wrong type, max_failures outside 3..20 or lockout_minutes outside 1..1440.
Result<AccessConfig> ReadAccessSection(const TomlSection& s);

// [sharing]: sharing with partners (docs/sharing.md). Success: a SharingConfig (defaults
// when absent). Failure: InvalidArgument "FILE:LINE: key 'sharing.KEY': RULE" for an unknown
// key, a value of the wrong type or out of range, or a category that is not an identifier.
Result<SharingConfig> ReadSharingSection(const TomlSection& s);
// [dpo] (issue 19): require_pia, each of "purpose", "agreement", "cross_border".
Result<DpoConfig> ReadDpoSection(const TomlSection& s);

// [log]: the logs of `custos serve` (docs/operations.md "Logs").
// Success: a LogConfig (info to standard error, with access lines, when absent).
// Failure: InvalidArgument "FILE:LINE: key 'log.KEY': RULE" for an unknown key, a level not
// in trace, debug, info, warn, error, off, or max_size_mb / max_files out of range.
Result<LogConfig> ReadLogSection(const TomlSection& s);

}  // namespace custos::schema::internal
