// DigitTriggers: the three digit-led trigger patterns of patterns.h, matched by a small state
// machine instead of Hyperscan. They are
//   kDigitRun     [0-9]{7}[^0-9]
//   kDigitGroups  [0-9]{4}[ \-][0-9]{4}[^0-9]
//   kIpv4         [0-9]\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]
// and they fire on most lines of digit-dense input (CSV exports, logs), where Hyperscan ran
// them at about a third of the speed of everything else together. Every match is at most 11
// bytes long, so each can be decided from bit masks of 64 bytes at a time (which bytes are
// digits, dots, spaces or hyphens) plus the masks of the bytes just before: a few shifts and
// ANDs per block, whatever the density of digits. It reports exactly the matches Hyperscan
// reports in streaming mode: the same end offsets, once per pattern and end, also when a
// match spans two Scan calls (tests/scan/digit_triggers_test.cpp compares the two).
//
// Thread safety: one thread at a time (it is part of a ScanStream).
#pragma once

#include <bit>
#include <cstdint>
#include <string_view>

namespace custos::scan {

class DigitTriggers {
 public:
  // Which pattern matched; the caller maps these to its pattern ids.
  enum class Match : uint8_t { kDigitRun, kDigitGroups, kIpv4 };

  // Forgets all state: the next byte scanned is the first of a new input.
  void Reset() { history_ = Masks{}; }

  // Scans the next bytes of the input, whose first byte has input offset `offset`. Calls
  // `on_match(Match, end)` for each match, `end` being the input offset just past its last
  // byte (what Hyperscan reports as `to`), in increasing order of `end`.
  template <typename OnMatch>
  void Scan(std::string_view bytes, uint64_t offset, OnMatch&& on_match);

  // Bit i of each mask: byte i of a block is a digit / a dot / a space or hyphen.
  struct Masks {
    uint64_t digit = 0;
    uint64_t dot = 0;
    uint64_t separator = 0;
  };
  // Bit i of each mask: a match of that pattern ends with byte i of a block.
  struct Ends {
    uint64_t digit_run = 0;
    uint64_t digit_groups = 0;
    uint64_t ipv4 = 0;
  };

 private:
  // Classifies the `n` (1..64) bytes at `p` and returns where matches end among them; then
  // moves the history on by n bytes.
  Ends Block(const char* p, size_t n);

  // The masks of the 64 bytes before the next byte, newest in bit 63 (zero before the input:
  // no digits, so nothing can match across the start).
  Masks history_;
};

// ---- implementation (the loop is inline: it runs for every block of input) ----

template <typename OnMatch>
void DigitTriggers::Scan(std::string_view bytes, uint64_t offset, OnMatch&& on_match) {
  for (size_t at = 0; at < bytes.size(); at += 64) {
    const size_t n = bytes.size() - at < 64 ? bytes.size() - at : 64;
    const Ends e = Block(bytes.data() + at, n);
    uint64_t any = e.digit_run | e.digit_groups | e.ipv4;
    while (any != 0) {
      const int i = std::countr_zero(any);
      const uint64_t bit = uint64_t{1} << i;
      any &= any - 1;
      const uint64_t end = offset + at + static_cast<uint64_t>(i) + 1;
      if (e.digit_run & bit) on_match(Match::kDigitRun, end);
      if (e.digit_groups & bit) on_match(Match::kDigitGroups, end);
      if (e.ipv4 & bit) on_match(Match::kIpv4, end);
    }
  }
}

}  // namespace custos::scan
