#include "api/request_body.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>
#include <vector>

#include "core/names.h"

namespace custos::api {
namespace {

using nlohmann::json;

constexpr size_t kMaxDepth = 32;

// The deepest nesting of arrays and objects outside strings. Checked before parsing so that
// hostile nesting cannot make the parser or the destructor work through millions of levels.
size_t NestingDepth(std::string_view text) {
  size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

bool IsFieldName(std::string_view name) {
  if (name.empty() || name.size() > 63 || name[0] < 'a' || name[0] > 'z') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Parses `text`, refusing duplicate keys in any object (the callback sees each key once per
// object; a set per open object remembers them).
Result<json> ParseNoDuplicates(std::string_view text) {
  std::vector<std::set<std::string>> open_objects;
  bool duplicate = false;
  std::string duplicate_name;
  json::parser_callback_t check = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        open_objects.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case json::parse_event_t::key:
        if (!open_objects.empty() && parsed.is_string() &&
            !open_objects.back().insert(parsed.get<std::string>()).second && !duplicate) {
          duplicate = true;
          duplicate_name = parsed.get<std::string>();
        }
        break;
      default:
        break;
    }
    return true;
  };
  try {
    json doc = json::parse(text.begin(), text.end(), check, /*allow_exceptions=*/true);
    if (duplicate) {
      return InvalidArgument(
          fmt::format("body: member {} appears twice", core::QuotedName(duplicate_name)));
    }
    return doc;
  } catch (const json::parse_error& e) {
    // e.what() quotes the text around the error, which may be personal data: only the offset.
    return InvalidArgument(fmt::format("body: malformed JSON at byte {}", e.byte));
  } catch (const json::exception&) {
    return InvalidArgument("body: malformed JSON");
  }
}

const char* KindName(MemberKind kind) {
  switch (kind) {
    case MemberKind::kString:
      return "a string";
    case MemberKind::kFieldMap:
      return "an object of field names to strings";
    case MemberKind::kBool:
      return "true or false";
    case MemberKind::kInteger:
      return "an integer";
    case MemberKind::kStringList:
      return "an array of strings";
    case MemberKind::kIntegerList:
      return "an array of integers";
    case MemberKind::kObject:
      return "an object";
  }
  return "a value";
}

Status CheckFieldMap(const std::string& member, const json& value) {
  for (const auto& [key, v] : value.items()) {
    if (!IsFieldName(key)) {
      return InvalidArgument(
          fmt::format("body: member '{}' has a key that is not a field name "
                      "([a-z][a-z0-9_]{{0,62}})",
                      member));
    }
    if (!v.is_string()) {
      return InvalidArgument(fmt::format("body: member '{}.{}' must be a string", member, key));
    }
  }
  return Status::Ok();
}

Status CheckKind(const BodyMember& m, const std::string& name, const json& value) {
  bool ok = false;
  switch (m.kind) {
    case MemberKind::kString:
      ok = value.is_string();
      break;
    case MemberKind::kBool:
      ok = value.is_boolean();
      break;
    case MemberKind::kInteger:
      ok = value.is_number_integer();
      break;
    case MemberKind::kObject:
      ok = value.is_object();
      break;
    case MemberKind::kFieldMap:
      if (!value.is_object()) break;
      return CheckFieldMap(name, value);
    case MemberKind::kStringList:
      ok = value.is_array() &&
           std::all_of(value.begin(), value.end(), [](const json& e) { return e.is_string(); });
      break;
    case MemberKind::kIntegerList:
      ok = value.is_array() && std::all_of(value.begin(), value.end(),
                                           [](const json& e) { return e.is_number_integer(); });
      break;
  }
  if (ok) return Status::Ok();
  return InvalidArgument(fmt::format("body: member '{}' must be {}", name, KindName(m.kind)));
}

std::string MemberNames(std::span<const BodyMember> members) {
  std::vector<std::string_view> names;
  for (const BodyMember& m : members) names.push_back(m.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

}  // namespace

Result<json> ParseBody(std::string_view body, std::span<const BodyMember> members) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return InvalidArgument("body: empty; expected a JSON object");
  }
  if (NestingDepth(body) > kMaxDepth) {
    return InvalidArgument(fmt::format("body: nested deeper than {} levels", kMaxDepth));
  }
  CUSTOS_ASSIGN_OR_RETURN(json doc, ParseNoDuplicates(body));
  if (!doc.is_object()) return InvalidArgument("body: must be a JSON object");
  CUSTOS_RETURN_IF_ERROR(CheckMembers(doc, members, ""));
  return doc;
}

Status CheckMembers(const json& object, std::span<const BodyMember> members,
                    std::string_view path) {
  const auto full = [&](std::string_view name) {
    return path.empty() ? std::string(name) : fmt::format("{}.{}", path, name);
  };
  if (!object.is_object()) {
    return InvalidArgument(fmt::format("body: member '{}' must be an object", path));
  }
  for (auto member = object.begin(); member != object.end(); ++member) {
    const std::string& key = member.key();
    const json& value = member.value();
    auto it = std::find_if(members.begin(), members.end(),
                           [&key](const BodyMember& m) { return m.name == key; });
    if (it == members.end()) {
      return InvalidArgument(
          fmt::format("body: unknown member {}{} (expected {})", core::QuotedName(key),
                      path.empty() ? "" : fmt::format(" in '{}'", path), MemberNames(members)));
    }
    CUSTOS_RETURN_IF_ERROR(CheckKind(*it, full(key), value));
  }
  for (const BodyMember& m : members) {
    if (m.required && !object.contains(m.name)) {
      return InvalidArgument(fmt::format("body: member '{}' is required", full(m.name)));
    }
  }
  return Status::Ok();
}

FieldMap ToFieldValues(const json& field_map) {
  FieldMap out;
  for (const auto& [key, value] : field_map.items()) out.emplace(key, value.get<std::string>());
  return out;
}

Status NoBody(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return Status::Ok();
  return ParseBody(body, std::span<const BodyMember>()).status();
}

std::string StringOr(const json& object, std::string_view name, std::string_view fallback) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_string()) return std::string(fallback);
  return it->get<std::string>();
}

}  // namespace custos::api

namespace custos::api {

int64_t IntOr(const json& object, std::string_view name, int64_t fallback) {
  auto it = object.find(name);
  return it != object.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

bool BoolOr(const json& object, std::string_view name, bool fallback) {
  auto it = object.find(name);
  return it != object.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

std::vector<std::string> StringsOr(const json& object, std::string_view name) {
  std::vector<std::string> out;
  auto it = object.find(name);
  if (it == object.end() || !it->is_array()) return out;
  for (const json& e : *it) {
    if (e.is_string()) out.push_back(e.get<std::string>());
  }
  return out;
}

}  // namespace custos::api
