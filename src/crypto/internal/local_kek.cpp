#include "crypto/internal/local_kek.h"

#include <botan/loadstor.h>

#include <algorithm>
#include <array>
#include <string>

#include "crypto/internal/framed.h"
#include "crypto/internal/raw.h"

namespace custos::crypto {
namespace {

// Rotation (a later issue) adds versions; until then every local KEK is version 1.
constexpr uint32_t kKekVersion = 1;
constexpr size_t kVersionSize = 4;

std::array<uint8_t, kVersionSize> EncodeVersion(uint32_t version) {
  std::array<uint8_t, kVersionSize> out;
  Botan::store_be(version, out.data());
  return out;
}

Bytes VersionedAad(uint32_t version, ByteView aad) {
  Bytes out(kVersionSize + aad.size());
  Botan::store_be(version, out.data());
  std::copy(aad.begin(), aad.end(), out.begin() + kVersionSize);
  return out;
}

class LocalKek final : public KeyProvider {
 public:
  LocalKek(std::string_view kind, Suite suite, SecretBytes wrap_key)
      : kind_(kind), suite_(suite), wrap_key_(std::move(wrap_key)) {}

  std::string_view Kind() const override { return kind_; }
  uint32_t Version() const override { return kKekVersion; }

  Result<Bytes> Wrap(const SecretBytes& key, ByteView aad) const override {
    const auto version = EncodeVersion(kKekVersion);
    Bytes out(version.begin(), version.end());
    CUSTOS_RETURN_IF_ERROR(
        framed::Seal(suite_, wrap_key_, VersionedAad(kKekVersion, aad), key, out));
    return out;
  }

  Result<SecretBytes> Unwrap(ByteView wrapped, ByteView aad) const override {
    if (wrapped.size() < kVersionSize + framed::kOverhead) {
      return DataLoss("wrapped key is truncated");
    }
    const uint32_t version = Botan::load_be<uint32_t>(wrapped.data(), 0);
    if (version != kKekVersion) {
      return NotFound("wrapped key names KEK version " + std::to_string(version) +
                      ", which this " + std::string(kind_) + " provider does not hold");
    }
    return framed::Open(suite_, wrap_key_, VersionedAad(version, aad),
                        wrapped.subspan(kVersionSize));
  }

 private:
  const std::string kind_;
  const Suite suite_;
  const SecretBytes wrap_key_;
};

}  // namespace

Result<std::unique_ptr<KeyProvider>> NewLocalKekProvider(std::string_view kind, Suite suite,
                                                         const SecretBytes& material) {
  if (material.size() < 16) return InvalidArgument("KEK material is shorter than 16 bytes");
  std::string info = "custos/kek/v1";
  info.push_back('\0');
  info.append(SuiteName(suite));
  CUSTOS_ASSIGN_OR_RETURN(SecretBytes wrap_key,
                          raw::Hkdf(suite, material, {}, AsBytes(info), AeadKeySize(suite)));
  return std::unique_ptr<KeyProvider>(
      std::make_unique<LocalKek>(kind, suite, std::move(wrap_key)));
}

}  // namespace custos::crypto
