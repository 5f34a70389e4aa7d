// Request bodies: a JSON object read strictly against the members a route accepts.
//
// Strict means: the body is one JSON object (at most 32 levels deep); every member is one the
// route names, of the kind it names; required members are present; no member appears twice
// (JSON allows it, a client that sends it has a bug). Every failure is an InvalidArgument
// whose message names the member and the rule ("body: member 'fields.phone' must be a
// string"), never a value; names that are not identifiers are not quoted back either.
//
// These functions need no server: the fuzz target (tests/api/fuzz_request.cpp) calls them
// with arbitrary bytes. Thread safety: pure functions.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace custos::api {

enum class MemberKind {
  kString,       // a JSON string
  kFieldMap,     // an object of field name -> string (customer or transaction fields)
  kBool,         // true or false
  kInteger,      // a JSON integer (no fraction, no exponent)
  kStringList,   // an array of strings
  kIntegerList,  // an array of JSON integers
  kObject,       // any object (checked further by the route)
};

struct BodyMember {
  std::string_view name;
  MemberKind kind;
  bool required;
};

// Success: the parsed object; every member is of its declared kind, and a kFieldMap member's
// keys are field names ([a-z][a-z0-9_]{0,62}).
// Failure: InvalidArgument "body: ..." — empty body, malformed JSON (with the byte offset),
// not an object, too deep, a duplicate member, an unknown member, a wrong kind, a missing
// required member.
Result<nlohmann::json> ParseBody(std::string_view body, std::span<const BodyMember> members);

// For routes that take no body: Ok for an empty (or all-whitespace) body or an empty JSON
// object; otherwise ParseBody's InvalidArgument for the members it does not take.
Status NoBody(std::string_view body);

// Field name -> value; the same type as vault::FieldValues (kept apart so that the parsers
// build without the vault, for the fuzz target).
using FieldMap = std::map<std::string, std::string, std::less<>>;

// Checks an object nested in a body (e.g. the body's "consent") the way ParseBody checks the
// body; `path` prefixes member names in messages ("consent" -> "consent.purposes").
Status CheckMembers(const nlohmann::json& object, std::span<const BodyMember> members,
                    std::string_view path);

// A kFieldMap member (already checked by ParseBody) as a FieldMap.
FieldMap ToFieldValues(const nlohmann::json& field_map);

// The member `name` of a checked object, or `fallback` when absent.
std::string StringOr(const nlohmann::json& object, std::string_view name,
                     std::string_view fallback);
int64_t IntOr(const nlohmann::json& object, std::string_view name, int64_t fallback);
bool BoolOr(const nlohmann::json& object, std::string_view name, bool fallback);
std::vector<std::string> StringsOr(const nlohmann::json& object, std::string_view name);

}  // namespace custos::api
