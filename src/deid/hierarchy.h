// Generalisation hierarchies (issue 16 item 1): how a value of a quasi-identifier is made
// coarser, level by level, until it says nothing ("*"). Level 0 is the value itself; the top
// level is always "*".
//
//   birth_date  1990-05-17 -> 1990 -> 1990-1994 -> 1990-1999 -> *   (a bare year "1990" too)
//   region      440305 (GB/T 2260 code) -> 深圳市 (city) -> 广东省 (province) -> *
//   gender      M / F -> *
//   amount      123.45 -> band of the first width -> ... -> band of the last width -> *
//   date        2024-05-17 (or an ISO time, or a month 2024-05) -> 2024-05 -> 2024-Q2 -> 2024 -> *
//   category    any value -> *
//
// A value a hierarchy cannot read (a malformed date, a region code of no province) becomes
// "*" at every level above 0, so it never forms a class of its own that a reader could pick
// out. The empty value (a missing field) stays empty below the top.
//
// Thread safety: immutable after construction; safe to share between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace custos::deid {

enum class HierarchyKind : uint8_t { kBirthDate, kRegion, kGender, kAmount, kDate, kCategory };

class Hierarchy {
 public:
  // `bands`: for kAmount the band widths, each a positive multiple of the one before (e.g.
  // 100, 1000, 10000); ignored otherwise.
  // InvalidArgument if an amount hierarchy has no bands or the widths do not nest.
  static Result<Hierarchy> Make(HierarchyKind kind, std::vector<int64_t> bands = {});
  // By name ("birth_date", "region", "gender", "amount", "date", "category"); InvalidArgument
  // naming the accepted names otherwise.
  static Result<Hierarchy> Named(std::string_view name, std::vector<int64_t> bands = {});

  HierarchyKind kind() const { return kind_; }
  std::string_view name() const;
  // The number of levels, the value itself (0) and "*" included.
  int levels() const;
  // `value` at `level` (clamped to [0, levels() - 1]).
  std::string Generalise(std::string_view value, int level) const;

 private:
  Hierarchy(HierarchyKind kind, std::vector<int64_t> bands)
      : kind_(kind), bands_(std::move(bands)) {}
  std::string BirthDate(std::string_view value, int level) const;
  std::string Region(std::string_view value, int level) const;
  std::string Amount(std::string_view value, int level) const;
  std::string Date(std::string_view value, int level) const;

  HierarchyKind kind_;
  std::vector<int64_t> bands_;
};

// The accepted hierarchy names, for error messages: "birth_date, region, ...".
std::string_view HierarchyNames();

// Reads an amount written as a decimal ("123", "-4.5", "1234.56") into hundredths; nullopt
// when it is not one (or out of range).
std::optional<int64_t> ParseCents(std::string_view text);

// Hundredths written back as a decimal: "12" for 1200, "-4.50" for -450.
std::string CentsText(int64_t cents);

}  // namespace custos::deid
