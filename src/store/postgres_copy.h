// Public entry point kept at its old path for the other components; the dialect lives in
// store/postgres/ (src/store/README.md).
#pragma once

#include "store/postgres/postgres_copy.h"  // IWYU pragma: export
