// Suite names, hex, randomness and hashing. See primitives.h.
#include "crypto/primitives.h"

#include <botan/hash.h>

#include "crypto/digest.h"
#include "crypto/internal/thread_rng.h"

namespace custos::crypto {

std::string_view SuiteName(Suite suite) {
  switch (suite) {
    case Suite::kAes256Gcm:
      return "aes256gcm";
    case Suite::kSm4Gcm:
      return "sm4gcm";
  }
  return "unknown";
}

Result<Suite> ParseSuite(std::string_view name) {
  if (name == "aes256gcm") return Suite::kAes256Gcm;
  if (name == "sm4gcm") return Suite::kSm4Gcm;
  return InvalidArgument("suite must be 'aes256gcm' or 'sm4gcm'");
}

size_t AeadKeySize(Suite suite) { return suite == Suite::kAes256Gcm ? 32 : 16; }

ByteView AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string ToHex(ByteView bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0f]);
  }
  return out;
}

std::string Sha256Hex(std::string_view bytes) {
  return ToHex(Hash(Suite::kAes256Gcm, AsBytes(bytes)));
}

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

Result<Bytes> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return InvalidArgument("hex string has an odd length");
  Bytes out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = HexValue(hex[2 * i]);
    const int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return InvalidArgument("hex string has a non-hex character");
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

SecretBytes RandomSecret(size_t n) {
  SecretBytes out(n);
  ThreadRng().randomize(out.data(), out.size());
  return out;
}

Bytes RandomBytes(size_t n) {
  Bytes out(n);
  ThreadRng().randomize(out.data(), out.size());
  return out;
}

Bytes Hash(Suite suite, ByteView data) {
  // One hash object per thread: the audit chain hashes every entry.
  thread_local std::unique_ptr<Botan::HashFunction> sha256;
  thread_local std::unique_ptr<Botan::HashFunction> sm3;
  auto& slot = suite == Suite::kAes256Gcm ? sha256 : sm3;
  if (!slot) {
    slot = Botan::HashFunction::create_or_throw(suite == Suite::kAes256Gcm ? "SHA-256" : "SM3");
  }
  slot->update(data.data(), data.size());
  Bytes out(slot->output_length());
  slot->final(out.data());
  return out;
}

size_t HashSize(Suite /*suite*/) { return 32; }

}  // namespace custos::crypto
