// custos — the command-line adapter. Exit codes: docs/cli.md.
#include <iostream>

#include "cli/app.h"

int main(int argc, char** argv) {
  try {
    return custos::cli::RunCustos(argc, argv);
  } catch (...) {  // building the command line (CLI11) or reporting may throw too
    std::cerr << "custos: internal error\n";
    return custos::cli::kExitInternal;
  }
}
