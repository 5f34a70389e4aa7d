#include "scan/scan_text.h"

#include <memory>

#include "scan/scanner.h"

namespace custos::scan {

Result<std::vector<Finding>> ScanText(std::string_view text) {
  const Scanner* scanner = Scanner::Default();
  if (scanner == nullptr) return Scanner::DefaultStatus();
  // Opening streams and scratch space costs more than scanning a note: keep one per thread.
  thread_local std::unique_ptr<ScanStream> stream;
  if (!stream) {
    CUSTOS_ASSIGN_OR_RETURN(stream, scanner->NewStream());
  }
  return stream->ScanAll(text);
}

std::optional<Level> StrictestLevel(const std::vector<Finding>& findings, double min_confidence) {
  std::optional<Level> strictest;
  for (const auto& f : findings) {
    if (f.confidence < min_confidence) continue;
    const Level l = DefaultLevel(f.type);
    if (!strictest || static_cast<uint8_t>(l) > static_cast<uint8_t>(*strictest)) strictest = l;
  }
  return strictest;
}

}  // namespace custos::scan
