// Checkpoint signing keys: Ed25519 (aes256gcm) and SM2 with SM3 (sm4gcm). See primitives.h.
#include <botan/bigint.h>
#include <botan/ec_group.h>
#include <botan/ed25519.h>
#include <botan/pubkey.h>
#include <botan/sm2.h>
#include <botan/system_rng.h>

#include "crypto/internal/raw.h"
#include "crypto/primitives.h"

namespace custos::crypto {
namespace {

constexpr size_t kEd25519SeedSize = 32;
constexpr size_t kSm2ScalarSize = 32;

// Ed25519 (RFC 8032, pure). The private key bytes are the 32-byte seed.
class Ed25519Key final : public SigningKey {
 public:
  explicit Ed25519Key(const SecretBytes& seed) : key_(seed) {}

  SecretBytes PrivateKeyBytes() const override {
    // Botan holds seed || public key.
    const SecretBytes& both = key_.get_private_key();
    return SecretBytes(both.begin(), both.begin() + kEd25519SeedSize);
  }
  Bytes PublicKeyBytes() const override { return key_.get_public_key(); }
  Bytes Sign(ByteView message) const override {
    // A signer per call: Botan's signer is stateful, and checkpoints are rare.
    Botan::PK_Signer signer(key_, Botan::system_rng(), raw::kEd25519Params);
    return signer.sign_message(message.data(), message.size(), Botan::system_rng());
  }

 private:
  const Botan::Ed25519_PrivateKey key_;
};

const Botan::EC_Group& Sm2Group() {
  static const Botan::EC_Group group("sm2p256v1");
  return group;
}

// SM2 signatures (GB/T 32918.2) with SM3 and the GM/T 0009 default user id. The private key
// bytes are the 32-byte big-endian scalar; the public key an uncompressed point.
class Sm2Key final : public SigningKey {
 public:
  explicit Sm2Key(std::unique_ptr<Botan::SM2_PrivateKey> key) : key_(std::move(key)) {}

  SecretBytes PrivateKeyBytes() const override {
    return Botan::BigInt::encode_1363(key_->private_value(), kSm2ScalarSize);
  }
  Bytes PublicKeyBytes() const override {
    return key_->public_point().encode(Botan::PointGFp::UNCOMPRESSED);
  }
  Bytes Sign(ByteView message) const override {
    // A signer per call: Botan's signer is stateful, and checkpoints are rare.
    Botan::PK_Signer signer(*key_, Botan::system_rng(), raw::kSm2SignatureParams);
    return signer.sign_message(message.data(), message.size(), Botan::system_rng());
  }

 private:
  std::unique_ptr<Botan::SM2_PrivateKey> key_;
};

Result<std::unique_ptr<SigningKey>> Sm2FromScalar(const Botan::BigInt& x) {
  // SM2 needs 1 <= d <= n - 2 so that (1 + d) is invertible. A zero would also make Botan
  // generate a fresh random key instead of failing.
  if (x < 1 || x > Sm2Group().get_order() - 2) {
    return InvalidArgument("SM2 private key is out of range");
  }
  try {
    auto key = std::make_unique<Botan::SM2_PrivateKey>(Botan::system_rng(), Sm2Group(), x);
    return std::unique_ptr<SigningKey>(std::make_unique<Sm2Key>(std::move(key)));
  } catch (const std::exception&) {
    return Internal("could not build the SM2 key");
  }
}

}  // namespace

Result<std::unique_ptr<SigningKey>> SigningKey::Generate(Suite suite) {
  if (suite == Suite::kAes256Gcm) {
    return std::unique_ptr<SigningKey>(
        std::make_unique<Ed25519Key>(RandomSecret(kEd25519SeedSize)));
  }
  Botan::BigInt x;
  do {
    x = Botan::BigInt::random_integer(Botan::system_rng(), 1, Sm2Group().get_order() - 1);
  } while (x > Sm2Group().get_order() - 2);
  return Sm2FromScalar(x);
}

Result<std::unique_ptr<SigningKey>> SigningKey::FromPrivateKeyBytes(Suite suite,
                                                                    const SecretBytes& encoded) {
  if (suite == Suite::kAes256Gcm) {
    if (encoded.size() != kEd25519SeedSize) {
      return InvalidArgument("Ed25519 private key must be 32 bytes");
    }
    return std::unique_ptr<SigningKey>(std::make_unique<Ed25519Key>(encoded));
  }
  if (encoded.size() != kSm2ScalarSize) return InvalidArgument("SM2 private key must be 32 bytes");
  return Sm2FromScalar(Botan::BigInt(encoded.data(), encoded.size()));
}

Status VerifySignature(Suite suite, ByteView public_key, ByteView message, ByteView signature) {
  if (suite == Suite::kAes256Gcm) return raw::Ed25519Verify(public_key, message, signature);
  return raw::Sm2Verify(public_key, message, signature);
}

}  // namespace custos::crypto
