// The associated data that binds a wrapped key to its owner: label NUL part NUL part ... The
// Keyring's DEKs and the epoch keys build theirs the same way.
//
// Internal to the crypto component. Thread safety: pure functions.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "core/status.h"
#include "crypto/primitives.h"

namespace custos::crypto::internal {

// An id goes into the AAD between NUL separators, so a NUL inside it would make two
// different (label, ids) tuples produce the same AAD.
inline Status CheckAadId(std::string_view what, std::string_view id) {
  if (id.empty()) return InvalidArgument(std::string(what) + " is empty");
  if (id.find('\0') != std::string_view::npos) {
    return InvalidArgument(std::string(what) + " contains a NUL byte");
  }
  return Status::Ok();
}

// label 0 part 0 part ...
inline Bytes BuildAad(std::string_view label, std::initializer_list<std::string_view> parts) {
  size_t size = label.size();
  for (auto part : parts) size += 1 + part.size();
  Bytes aad;
  aad.reserve(size);
  aad.insert(aad.end(), label.begin(), label.end());
  for (auto part : parts) {
    aad.push_back(0);
    aad.insert(aad.end(), part.begin(), part.end());
  }
  return aad;
}

}  // namespace custos::crypto::internal
