// Public entry point kept at its old path for the other components; the dialect lives in
// store/sqlite/ (src/store/README.md).
#pragma once

#include "store/sqlite/sqlite_store.h"  // IWYU pragma: export
