// Staff credentials (P4a): password rules and hashing (Argon2id, crypto/primitives.h), and the
// sealing of TOTP secrets. A TOTP secret is wrapped under the vault's key-encryption key with
// associated data "custos/totp/v1" 0 staff_id, so a sealed secret copied onto another staff
// member's row does not open; the store never sees it in plaintext.
//
// Thread safety: free functions, thread-safe (KeyProvider::Wrap/Unwrap are).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "crypto/key_provider.h"
#include "crypto/primitives.h"

namespace custos::access {

inline constexpr size_t kMinPasswordBytes = 12;
inline constexpr size_t kMaxPasswordBytes = 1024;

// OK if the password may be set: kMinPasswordBytes..kMaxPasswordBytes long and not equal to
// the staff id. InvalidArgument naming the rule (never the password).
Status CheckPasswordRules(std::string_view staff_id, std::string_view password);

// Staff ids: 1 to 64 of [a-z0-9._-], starting with a letter or digit. They appear in audit
// entries and URLs, so nothing else is accepted.
bool ValidStaffId(std::string_view staff_id);

// Argon2id PHC string of the password (crypto::HashPassword with the default cost).
std::string HashStaffPassword(std::string_view password);
// true if the password matches; false also for an empty or malformed hash.
bool PasswordMatches(std::string_view password, std::string_view phc);

// An Argon2id PHC string with the cost of HashStaffPassword whose password is no staff
// member's: a login for an unknown staff id (or an account without a password) is checked
// against it, so every failed login costs exactly one Argon2id run (issue 12, item 6).
std::string_view DummyPasswordHash();

// Seals / opens a TOTP secret bound to the staff id. Open: DataLoss if the ciphertext was
// altered or belongs to another staff member.
Result<crypto::Bytes> SealTotpSecret(const crypto::KeyProvider& kek, std::string_view staff_id,
                                     const crypto::SecretBytes& secret);
Result<crypto::SecretBytes> OpenTotpSecret(const crypto::KeyProvider& kek,
                                           std::string_view staff_id, crypto::ByteView sealed);

}  // namespace custos::access
