// Progress of long work (a backup, a restore, an export, a move to PostgreSQL, issue 22):
// the component doing the work reports how far it got; the caller (the CLI) draws it. Nothing
// below the adapters prints.
#pragma once

#include <cstdint>
#include <functional>

namespace custos {

// Called with the units done so far (rows) and the total (0 when unknown; `done` may pass an
// estimated total). Called on the working thread, often: keep it cheap; it must not throw. An
// empty function is never called.
using ProgressFn = std::function<void(int64_t done, int64_t total)>;

}  // namespace custos
