// Context: who is asking, for what purpose, through which channel. Every call into the vault
// service carries one (ARCHITECTURE.md, "One door"); the audit log records all of it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace custos::vault {

using Clock = std::function<int64_t()>;  // milliseconds since the Unix epoch

enum class Channel { kCli, kApi, kJob };

constexpr std::string_view ChannelName(Channel c) {
  switch (c) {
    case Channel::kCli:
      return "cli";
    case Channel::kApi:
      return "api";
    case Channel::kJob:
      return "job";
  }
  return "cli";
}

struct Context {
  std::string actor;    // a staff id (until the access issue: the staff created by init)
  std::string purpose;  // a purpose from the catalogue (P3.3a)
  Channel channel = Channel::kCli;
  std::string request_id;  // correlates the audit entry with a request; generated if empty
};

}  // namespace custos::vault
