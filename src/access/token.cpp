#include "access/token.h"

#include <botan/base64.h>
#include <botan/hash.h>

namespace custos::access {

std::string Base32(crypto::ByteView bytes, bool lower_case) {
  static constexpr char kUpper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  static constexpr char kLower[] = "abcdefghijklmnopqrstuvwxyz234567";
  const char* alphabet = lower_case ? kLower : kUpper;
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  uint32_t buffer = 0;
  int bits = 0;
  for (uint8_t b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out.push_back(alphabet[(buffer >> (bits - 5)) & 0x1f]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(alphabet[(buffer << (5 - bits)) & 0x1f]);
  return out;
}

NewToken GenerateToken() {
  const crypto::SecretBytes raw = crypto::RandomSecret(kTokenSecretBytes);
  NewToken token;
  token.secret = std::string(kTokenPrefix) + Base32(raw, /*lower_case=*/true);
  token.secret_sha256 = TokenHash(token.secret);
  return token;
}

std::string NewSessionSecret() {
  const crypto::SecretBytes bytes = crypto::RandomSecret(32);
  // RFC 4648 base64url without padding: Botan's base64, two characters swapped, '=' dropped.
  std::string out = Botan::base64_encode(bytes.data(), bytes.size());
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

bool LooksLikeToken(std::string_view text) {
  if (text.size() != kTokenLength || text.substr(0, kTokenPrefix.size()) != kTokenPrefix) {
    return false;
  }
  for (char c : text.substr(kTokenPrefix.size())) {
    if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'))) return false;
  }
  return true;
}

crypto::Bytes TokenHash(std::string_view token) {
  auto sha = Botan::HashFunction::create_or_throw("SHA-256");
  sha->update(reinterpret_cast<const uint8_t*>(token.data()), token.size());
  const Botan::secure_vector<uint8_t> digest = sha->final();
  return crypto::Bytes(digest.begin(), digest.end());
}

}  // namespace custos::access
