#include "access/credentials.h"

#include <fmt/format.h>

namespace custos::access {
namespace {

crypto::Bytes TotpAad(std::string_view staff_id) {
  constexpr std::string_view kLabel = "custos/totp/v1";
  crypto::Bytes aad(kLabel.begin(), kLabel.end());
  aad.push_back(0);
  aad.insert(aad.end(), staff_id.begin(), staff_id.end());
  return aad;
}

}  // namespace

Status CheckPasswordRules(std::string_view staff_id, std::string_view password) {
  if (password.size() < kMinPasswordBytes || password.size() > kMaxPasswordBytes) {
    return InvalidArgument(
        fmt::format("password: must be {} to {} bytes long", kMinPasswordBytes, kMaxPasswordBytes));
  }
  if (password == staff_id) return InvalidArgument("password: must differ from the staff id");
  return Status::Ok();
}

bool ValidStaffId(std::string_view staff_id) {
  if (staff_id.empty() || staff_id.size() > 64) return false;
  for (size_t i = 0; i < staff_id.size(); ++i) {
    const char c = staff_id[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

std::string HashStaffPassword(std::string_view password) { return crypto::HashPassword(password); }

bool PasswordMatches(std::string_view password, std::string_view phc) {
  if (phc.empty()) return false;
  Result<bool> ok = crypto::VerifyPassword(password, phc);
  return ok.ok() && *ok;
}

std::string_view DummyPasswordHash() {
  // Made once with HashStaffPassword's parameters (m=19456, t=2, p=1); credentials_test
  // checks they still are.
  return "$argon2id$v=19$m=19456,t=2,p=1$km59SqJuF2JqazNbnYuxiA$"
         "qfwcx6r0QKBzlR6Mw5h+0sDmm9KLzZpYd1KhVoFfInY";
}

Result<crypto::Bytes> SealTotpSecret(const crypto::KeyProvider& kek, std::string_view staff_id,
                                     const crypto::SecretBytes& secret) {
  if (!ValidStaffId(staff_id)) return InvalidArgument("staff id: not a valid staff id");
  return kek.Wrap(secret, TotpAad(staff_id));
}

Result<crypto::SecretBytes> OpenTotpSecret(const crypto::KeyProvider& kek,
                                           std::string_view staff_id, crypto::ByteView sealed) {
  if (!ValidStaffId(staff_id)) return InvalidArgument("staff id: not a valid staff id");
  return kek.Unwrap(sealed, TotpAad(staff_id));
}

}  // namespace custos::access
