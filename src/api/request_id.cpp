#include "api/request_id.h"

#include <cstdint>
#include <random>

namespace custos::api {

bool IsWellFormedRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  size_t digits = 0;
  for (char c : id) {
    const bool digit = c >= '0' && c <= '9';
    if (!digit && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && c != '_' && c != '.' &&
        c != '-') {
      return false;
    }
    digits = digit ? digits + 1 : 0;
    // A long digit run could be an ID or card number; the id reaches the audit log and the
    // default consent evidence_ref ("api:<id>"), which refuses such runs.
    if (digits > kMaxRequestIdDigitRun) return false;
  }
  return true;
}

std::string ChooseRequestId(std::string_view offered) {
  if (IsWellFormedRequestId(offered)) return std::string(offered);
  // Correlation ids need to be unique, not secret: a per-thread generator seeded once from
  // the OS is enough and avoids a lock per request.
  thread_local std::mt19937_64 rng{(static_cast<uint64_t>(std::random_device{}()) << 32) ^
                                   std::random_device{}()};
  // Letters only (no digit runs, so "api:<id>" is always a valid evidence_ref): 26 letters
  // from two 64-bit draws, 13 letters each (26^13 < 2^64), about 122 bits.
  std::string id;
  id.reserve(26);
  for (int half = 0; half < 2; ++half) {
    uint64_t v = rng();
    for (int i = 0; i < 13; ++i, v /= 26) id.push_back(static_cast<char>('a' + v % 26));
  }
  return id;
}

}  // namespace custos::api
