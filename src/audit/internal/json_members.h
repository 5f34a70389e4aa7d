// Internal to the audit component: reading the members of the JSON documents it defines
// (tree heads, proofs) with messages that name the document and the member.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "core/status.h"
#include "crypto/primitives.h"

namespace custos::audit::internal {

// Reads members of one JSON object; `what` ("tree head", "inclusion proof") names it.
class JsonMembers {
 public:
  JsonMembers(const nlohmann::json& doc, std::string_view what) : doc_(doc), what_(what) {}

  // InvalidArgument unless the document is an object.
  Status RequireObject() const {
    if (!doc_.is_object()) return Bad("", "not a JSON object");
    return Status::Ok();
  }
  // The member `name`; InvalidArgument when absent.
  Result<const nlohmann::json*> Get(std::string_view name) const {
    auto it = doc_.find(std::string(name));
    if (it == doc_.end()) return Bad(name, "missing");
    return &*it;
  }
  Result<std::string> String(std::string_view name) const {
    CUSTOS_ASSIGN_OR_RETURN(const nlohmann::json* v, Get(name));
    if (!v->is_string()) return Bad(name, "must be a string");
    return v->get<std::string>();
  }
  // A non-negative integer.
  Result<int64_t> Count(std::string_view name) const {
    CUSTOS_ASSIGN_OR_RETURN(const nlohmann::json* v, Get(name));
    if (!v->is_number_integer()) return Bad(name, "must be an integer");
    if (v->is_number_unsigned()) {
      const auto u = v->get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Bad(name, "out of range");
      return static_cast<int64_t>(u);
    }
    const auto i = v->get<int64_t>();
    if (i < 0) return Bad(name, "must not be negative");
    return i;
  }
  // Hex-encoded bytes.
  Result<crypto::Bytes> Hex(std::string_view name) const {
    CUSTOS_ASSIGN_OR_RETURN(std::string text, String(name));
    Result<crypto::Bytes> bytes = crypto::FromHex(text);
    if (!bytes.ok()) return Bad(name, "must be hex");
    return std::move(bytes).value();
  }
  // InvalidArgument unless member `name` is the string `expected`.
  Status Expect(std::string_view name, std::string_view expected) const {
    CUSTOS_ASSIGN_OR_RETURN(std::string text, String(name));
    if (text != expected) return Bad(name, fmt::format("must be \"{}\"", expected));
    return Status::Ok();
  }

  Status Bad(std::string_view name, std::string_view why) const {
    if (name.empty()) return InvalidArgument(fmt::format("{}: {}", what_, why));
    return InvalidArgument(fmt::format("{} member \"{}\": {}", what_, name, why));
  }

 private:
  const nlohmann::json& doc_;
  std::string_view what_;
};

// Parses `text` as JSON; InvalidArgument naming `what` when it is not.
inline Result<nlohmann::json> ParseJson(std::string_view text, std::string_view what) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgument(fmt::format("{}: not valid JSON", what));
  return doc;
}

}  // namespace custos::audit::internal
