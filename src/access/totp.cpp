#include "access/totp.h"

#include <botan/otp.h>
#include <fmt/format.h>

#include "access/token.h"

namespace custos::access {

crypto::SecretBytes NewTotpSecret() { return crypto::RandomSecret(kTotpSecretBytes); }

Result<uint32_t> TotpCode(const crypto::SecretBytes& secret, int64_t unix_seconds, int digits) {
  if (secret.empty()) return InvalidArgument("totp: empty secret");
  if (digits < 6 || digits > 8) return InvalidArgument("totp: digits must be 6 to 8");
  if (unix_seconds < 0) return InvalidArgument("totp: time before the epoch");
  try {
    Botan::TOTP totp(secret.data(), secret.size(), "SHA-1", static_cast<size_t>(digits),
                     static_cast<size_t>(kTotpStepSeconds));
    return totp.generate_totp(static_cast<uint64_t>(unix_seconds));
  } catch (const std::exception&) {
    return Internal("totp: the HMAC could not be computed");
  }
}

bool VerifyTotp(const crypto::SecretBytes& secret, std::string_view code, int64_t now_ms) {
  return MatchTotpStep(secret, code, now_ms) >= 0;
}

int64_t MatchTotpStep(const crypto::SecretBytes& secret, std::string_view code, int64_t now_ms) {
  if (secret.empty() || code.size() != static_cast<size_t>(kTotpDigits) || now_ms < 0) {
    return -1;
  }
  uint32_t value = 0;
  for (char c : code) {
    if (c < '0' || c > '9') return -1;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  try {
    Botan::TOTP totp(secret.data(), secret.size(), "SHA-1", kTotpDigits,
                     static_cast<size_t>(kTotpStepSeconds));
    // Botan's verify_totp looks only backwards in time; a phone clock may run ahead too, so
    // every step in now-drift .. now+drift is tried, without stopping early.
    const int64_t now_s = now_ms / 1000;
    int64_t matched = -1;
    for (int d = -kTotpDriftSteps; d <= kTotpDriftSteps; ++d) {
      const int64_t t = now_s + d * kTotpStepSeconds;
      if (t < 0) continue;
      if (totp.generate_totp(static_cast<uint64_t>(t)) == value) matched = t / kTotpStepSeconds;
    }
    return matched;
  } catch (const std::exception&) {
    return -1;
  }
}

std::string OtpauthUri(std::string_view account, const crypto::SecretBytes& secret) {
  return fmt::format(
      "otpauth://totp/Custos:{}?secret={}&issuer=Custos&algorithm=SHA1&digits={}&period={}",
      account, Base32(secret, /*lower_case=*/false), kTotpDigits, kTotpStepSeconds);
}

}  // namespace custos::access
