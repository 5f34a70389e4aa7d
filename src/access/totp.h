// TOTP second factor (RFC 6238; P4a): HMAC-SHA-1, 30-second steps, 6 digits, accepting the
// codes of one step before and after the server's clock. Required at login for staff whose
// roles can read confidential fields. The shared secret is 20 random bytes (RFC 4226's
// recommended length), shown once at enrolment as base32 and as an otpauth:// URI, and stored
// only sealed under the vault's key-encryption key (credentials.h).
//
// Thread safety: free functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "crypto/primitives.h"

namespace custos::access {

inline constexpr size_t kTotpSecretBytes = 20;
inline constexpr int64_t kTotpStepSeconds = 30;
inline constexpr int kTotpDigits = 6;
inline constexpr int kTotpDriftSteps = 1;

// A fresh random secret.
crypto::SecretBytes NewTotpSecret();

// The code for `unix_seconds` with `digits` digits (6 to 8), SHA-1, 30-second steps.
// InvalidArgument on an empty secret or digits outside 6..8.
Result<uint32_t> TotpCode(const crypto::SecretBytes& secret, int64_t unix_seconds, int digits);

// True if `code` (exactly kTotpDigits decimal digits) is the code of the step holding now_ms
// or of a step within kTotpDriftSteps of it. False for anything else, including malformed
// input; never throws.
bool VerifyTotp(const crypto::SecretBytes& secret, std::string_view code, int64_t now_ms);
// As VerifyTotp, but names the step that matched: its number (unix seconds / 30), so that a
// caller can refuse a code whose step was accepted before (a replay within the window), or -1
// when no step matches. When several steps match, the latest.
int64_t MatchTotpStep(const crypto::SecretBytes& secret, std::string_view code, int64_t now_ms);

// "otpauth://totp/Custos:<account>?secret=<BASE32>&issuer=Custos&algorithm=SHA1&digits=6&period=30"
// (Google Authenticator's Key URI format). `account` is a staff id (URL-safe by construction).
std::string OtpauthUri(std::string_view account, const crypto::SecretBytes& secret);

}  // namespace custos::access
