// Internal to the vault: the limit on equality searches (issue 12, item 3). A search by a
// field answers "a customer with this value exists", so a staff member who may search a field
// could otherwise enumerate its values (the whole ID number behind a masked one in a few
// hundred searches). Each staff member may make at most `limit` searches on one field in any
// sliding hour; the next is refused, and the first refusal in a window raises a security alert
// (an audit entry, action "security.alert").
//
// The counts are kept in the process's memory: two servers on one PostgreSQL vault count
// separately, and a restart forgets them (docs/security.md, "Search limits").
//
// Thread safety: safe for concurrent use (one mutex; the work under it is a few deque steps).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace custos::vault {

class SearchLimiter {
 public:
  static constexpr int64_t kWindowMs = int64_t{60} * 60 * 1000;

  struct Outcome {
    bool allowed = true;
    // This refusal is the first since the staff member was last allowed on the field: raise
    // the alert once, not on every refused search.
    bool alert = false;
    uint32_t in_window = 0;  // searches allowed in the last hour, this one included if allowed
  };

  // Counts one search of `field` by `staff_id` at `now_ms` against `limit` per hour.
  Outcome Count(std::string_view staff_id, std::string_view field, uint32_t limit, int64_t now_ms);

 private:
  struct Window {
    std::deque<int64_t> times;  // allowed searches in the last hour, oldest first
    bool alerted = false;
  };
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Window, std::less<>> windows_;
};

}  // namespace custos::vault
