// API tokens (P4a): bearer credentials of staff members. A token is "cst_" followed by the
// RFC 4648 base32 (lower case, unpadded) of 32 random bytes — 256 bits, 56 characters in all.
// It is shown once, when issued; the store keeps only its SHA-256, so a stolen database does
// not yield usable tokens, and the lookup on every request is one hash and one indexed read
// (no Argon2: the secret is already full-entropy).
//
// Thread safety: free functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "crypto/primitives.h"

namespace custos::access {

inline constexpr std::string_view kTokenPrefix = "cst_";
inline constexpr size_t kTokenSecretBytes = 32;
inline constexpr size_t kTokenLength = 56;  // prefix (4) + base32 of 32 bytes (52)

// A freshly generated token: the secret to show once and the hash to store.
struct NewToken {
  std::string secret;  // "cst_..." — never logged, never stored
  crypto::Bytes secret_sha256;
};

// A new token from the system's CSPRNG.
NewToken GenerateToken();

// A new opaque secret for a credential the HTTP edge keeps in memory only (the web console's
// session id and CSRF token): 32 bytes from the system's CSPRNG as unpadded base64url, 43
// characters. Credentials are made here, not in the adapters.
std::string NewSessionSecret();

// True if `text` has the shape of a token (prefix, length, alphabet). Cheap; says nothing
// about whether the token exists.
bool LooksLikeToken(std::string_view text);

// SHA-256 of the token text, as stored in ApiTokenRow::secret_sha256.
crypto::Bytes TokenHash(std::string_view token);

// RFC 4648 base32 without padding; lower case for tokens, upper case for TOTP secrets
// (what authenticator apps expect).
std::string Base32(crypto::ByteView bytes, bool lower_case);

}  // namespace custos::access
