// Extractors: from a trigger position to validated candidates. Each reads the bytes around
// the trigger (the scanner keeps enough of them, see scanner.h), finds the exact span of the
// value, checks it (core validators for ID numbers, mobiles, e-mails and bank cards; checks.h
// for the rest) and appends a Candidate for each value that passed. A value that fails its
// check (a wrong ID check character, a 17-digit order number) produces nothing.
//
// Thread safety: pure functions; the address name index is built once, thread-safely.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "scan/finding.h"
#include "scan/patterns.h"

namespace custos::scan {

// The bytes the scanner still holds: input offsets [base, base + bytes.size()).
struct Window {
  std::string_view bytes;
  uint64_t base = 0;
  bool starts_input = false;  // bytes[0] is the first byte of the input
  bool ends_input = false;    // no byte follows bytes.back()
};

struct Candidate {
  PiiType type;
  uint64_t start;  // input offsets, [start, end)
  uint64_t end;
  double confidence;
  std::string normalized;
  std::string_view detail;  // always a string literal
};

// How far before and after its trigger an extractor may read. The scanner delays a trigger
// until kLookahead bytes follow it (or the input ended) and keeps kLookbehind bytes before it.
inline constexpr size_t kLookbehind = 512;
inline constexpr size_t kLookahead = 320;
// No candidate is longer than this (an e-mail address is at most 254 bytes).
inline constexpr size_t kMaxCandidateBytes = 320;

// Per-stream state of the extractors. Reset it (number_done_until = 0) for a new input.
struct ExtractContext {
  std::chrono::year_month_day today;  // for birth dates in ID numbers
  // Input offset up to which digit groups were already read: several triggers fire inside one
  // grouped number (6222 0212 3456 7890) and it is read once.
  uint64_t number_done_until = 0;
  // False when the caller only counts findings: candidates then skip building the normalised
  // value where that costs an allocation (it is still validated).
  bool want_values = true;
};

// Appends the candidates for a trigger of `kind` whose match ended at window index `end`.
void Extract(TriggerKind kind, const Window& w, size_t end, ExtractContext& ctx,
             std::vector<Candidate>& out);

}  // namespace custos::scan
