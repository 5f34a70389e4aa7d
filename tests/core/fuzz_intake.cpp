// libFuzzer target for what intake and the access layer do to a value nobody here wrote: the
// validators of custos.toml (core/validators.h) and the masking rules (core/mask.h). The first
// input byte picks the validator or rule; the rest is the value. Checked:
// - a validator that accepts a value returns valid UTF-8 that it accepts again unchanged (the
//   canonical spelling is a fixed point: it is what is stored, indexed and compared);
// - a refusal never echoes the value (the message goes to clients and logs; checked for values
//   holding a run of six digits, see Echoes), and an accepted ID number can be read back
//   (ParseIdCardNumber);
// - a mask other than `none` returns valid UTF-8 that does not hold the value (checked for
//   values without a '*'); `address` keeps at most a prefix of the value, then "****".
// A violated property aborts (a crash for libFuzzer).
//
// Built with clang by scripts/fuzz.sh (build-fuzz, -DCUSTOS_FUZZ=ON); the GCC build runs the
// seed corpus tests/core/fuzz_corpus through the same function (intake_fuzz_corpus_test).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/mask.h"
#include "core/utf8.h"
#include "core/validators.h"

namespace {

[[noreturn]] void Fail(const char* what, std::string_view name) {
  std::fprintf(stderr, "fuzz_intake: %s (%.*s)\n", what, static_cast<int>(name.size()),
               name.data());
  std::abort();
}

// Whether a refusal's message holds the value. The messages are fixed texts naming a rule, so a
// value that is a piece of one ("emale" of "... male, female ...") is not an echo: only values
// with a run of six or more digits are checked — the shape of the numbers intake sees (ID,
// mobile, card, date), longer than any run of digits in a message (11643, GB 11643).
bool Echoes(std::string_view message, std::string_view value) {
  size_t run = 0;
  size_t longest = 0;
  for (const char c : value) {
    run = (c >= '0' && c <= '9') ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return longest >= 6 && message.find(value) != std::string_view::npos;
}

void CheckValidator(const custos::core::Validator& v, std::string_view value) {
  auto r = v.normalize(value);
  if (!r.ok()) {
    if (Echoes(r.status().message(), value)) Fail("a refusal echoes the value", v.name);
    return;
  }
  if (!custos::core::IsValidUtf8(*r)) Fail("an accepted value is not UTF-8", v.name);
  auto again = v.normalize(*r);
  if (!again.ok()) Fail("the canonical spelling is refused", v.name);
  if (*again != *r) Fail("the canonical spelling is not a fixed point", v.name);
  if (v.name == "gb11643" && !custos::core::ParseIdCardNumber(*r).ok()) {
    Fail("an accepted ID number cannot be read back", v.name);
  }
}

void CheckMask(std::string_view rule, std::string_view value) {
  auto r = custos::core::ApplyMask(rule, value);
  if (!r.ok()) {
    if (custos::core::IsValidUtf8(value)) Fail("a valid value is refused", rule);
    if (Echoes(r.status().message(), value)) Fail("a refusal echoes the value", rule);
    return;
  }
  if (!custos::core::IsValidUtf8(*r)) Fail("a mask is not UTF-8", rule);
  if (rule == "none") {
    if (*r != value) Fail("none changed the value", rule);
    return;
  }
  if (rule == "address") {
    constexpr std::string_view kHidden = "****";
    if (r->size() < kHidden.size() || r->substr(r->size() - kHidden.size()) != kHidden) {
      Fail("an address mask does not end in ****", rule);
    }
    if (value.substr(0, r->size() - kHidden.size()) != r->substr(0, r->size() - kHidden.size())) {
      Fail("an address mask keeps more than a prefix", rule);
    }
    return;
  }
  // A value holding the mask's own '*' may come back whole when its hidden characters were
  // asterisks already ("************&" as an ID): only values without one are checked.
  if (!value.empty() && value.find('*') == std::string_view::npos &&
      r->find(value) != std::string::npos) {
    Fail("a mask shows the whole value", rule);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view value(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto validators = custos::core::AllValidators();
  const auto rules = custos::core::MaskRuleNames();
  const size_t pick = data[0] % (validators.size() + rules.size());
  if (pick < validators.size()) {
    CheckValidator(validators[pick], value);
  } else {
    CheckMask(rules[pick - validators.size()], value);
  }
  return 0;
}
