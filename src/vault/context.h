// Context: who is asking, for what purpose, through which channel. Every call into a domain
// service of the vault carries one (ARCHITECTURE.md, "One door"); the admission core
// (admission.h) authenticates the actor, checks the purpose against the catalogue and records
// all four in the operation's audit entry. Adapters fill it from what they authenticated: the
// CLI from the token or password it checked, the HTTP edge from the bearer token; never from a
// field the caller may set freely.
//
// Hostile values are harmless: an actor, purpose or request id that is not a printable token
// is replaced before it reaches the log (and the actor is then unknown, so refused).
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
  std::string actor;    // the authenticated staff id
  std::string purpose;  // a purpose from the catalogue (P3.3a); empty: the operation's default
  Channel channel = Channel::kCli;
  std::string request_id;  // correlates the audit entry with a request; generated if empty
  // The network address the request came from (the API client's IP, set by the HTTP edge);
  // empty for the CLI and jobs. Logins are limited per address (issue 12, item 6).
  std::string source{};
};

}  // namespace custos::vault
