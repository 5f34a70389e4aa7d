// ReadBackupSection: the [backup] table of custos.toml (scheduled backups of `custos serve`,
// docs/backup.md). Internal to the schema component. Thread safety: a pure function.
#pragma once

#include "core/status.h"
#include "schema/config.h"
#include "schema/internal/toml_section.h"

namespace custos::schema::internal {

// Success: a BackupConfig with every key checked (defaults for absent keys).
// Failure: InvalidArgument "FILE:LINE: key 'backup.KEY': RULE" for an unknown key, a value of
// the wrong type, an `every` that is not "off" or a number with unit s, m, h or d, or a keep
// outside 1..10000, a key_epoch_length that is not a positive number with unit s, m, h or d,
// or key_epochs outside 2..1000.
Result<BackupConfig> ReadBackupSection(const TomlSection& s);

}  // namespace custos::schema::internal
