// ScanText: the scanner for text already in memory, such as a communication note being added
// to the vault (issue 5 part 4, P3.1b: communication records are customer data too). The
// vault records the types found (never the values) and seals the note at the strictest level
// among them.
//
// Thread safety: safe from any thread; each thread reuses its own ScanStream.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "core/level.h"
#include "core/status.h"
#include "scan/finding.h"

namespace custos::scan {

// Every finding in `text`, in order of offset (offsets relative to text.data()).
// Fails with Unavailable if Hyperscan cannot run on this CPU, Internal if it reports an
// error: a caller that classifies by the result must then fail closed, not assume "no PII".
Result<std::vector<Finding>> ScanText(std::string_view text);

// The strictest default level (finding.h DefaultLevel) among `findings` with confidence of
// at least `min_confidence`, or nullopt if there is none.
std::optional<Level> StrictestLevel(const std::vector<Finding>& findings,
                                    double min_confidence = 0.5);

}  // namespace custos::scan
