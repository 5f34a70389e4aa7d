// Raw primitives over Botan 2. See raw.h for the contract; comments here say why.
#include "crypto/internal/raw.h"

#include <botan/aead.h>
#include <botan/ec_group.h>
#include <botan/ed25519.h>
#include <botan/exceptn.h>
#include <botan/hkdf.h>
#include <botan/mac.h>
#include <botan/mem_ops.h>
#include <botan/pubkey.h>
#include <botan/sm2.h>

#include <array>
#include <memory>

#include "crypto/internal/keyed_cache.h"

namespace custos::crypto::raw {
namespace {

size_t SuiteIndex(Suite suite) { return suite == Suite::kAes256Gcm ? 0 : 1; }

const char* GcmName(Suite suite) { return suite == Suite::kAes256Gcm ? "AES-256/GCM" : "SM4/GCM"; }

const char* HmacName(Suite suite) {
  return suite == Suite::kAes256Gcm ? "HMAC(SHA-256)" : "HMAC(SM3)";
}

// Per thread, suite and direction: keyed GCM objects for the last few keys (the KEK and the
// current DEK stay hot on a bulk import).
Botan::AEAD_Mode& ThreadGcm(Suite suite, Botan::Cipher_Dir dir, ByteView key) {
  thread_local std::array<KeyedCache<Botan::AEAD_Mode, 4>, 4> caches;
  const size_t slot = SuiteIndex(suite) * 2 + (dir == Botan::ENCRYPTION ? 0 : 1);
  return caches[slot].Get(key,
                          [&] { return Botan::AEAD_Mode::create_or_throw(GcmName(suite), dir); });
}

// Per thread and suite: keyed HMAC objects for the last few keys (one per searchable field).
Botan::MessageAuthenticationCode& ThreadHmac(Suite suite, ByteView key) {
  thread_local std::array<KeyedCache<Botan::MessageAuthenticationCode, 8>, 2> caches;
  return caches[SuiteIndex(suite)].Get(
      key, [&] { return Botan::MessageAuthenticationCode::create_or_throw(HmacName(suite)); });
}

Status CheckGcmParams(Suite suite, ByteView key, ByteView iv) {
  if (key.size() != AeadKeySize(suite)) {
    return InvalidArgument(std::string("key size is wrong for ") + GcmName(suite));
  }
  if (iv.size() != kGcmIvSize) return InvalidArgument("GCM IV must be 96 bits");
  return Status::Ok();
}

// The thread's cipher for `key`, started on a message. Botan wants the AAD before start().
Botan::AEAD_Mode& StartGcm(Suite suite, Botan::Cipher_Dir dir, ByteView key, ByteView iv,
                           ByteView aad) {
  Botan::AEAD_Mode& mode = ThreadGcm(suite, dir, key);
  mode.set_associated_data(aad.data(), aad.size());
  mode.start(iv.data(), iv.size());
  return mode;
}

// L, the order of the Ed25519 base point, little endian (RFC 8032 section 5.1).
constexpr std::array<uint8_t, 32> kEd25519Order = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};

// RFC 8032 5.1.7: S must be below L, otherwise S + L would be a second valid signature.
bool IsCanonicalScalar(ByteView s) {
  for (size_t i = 32; i-- > 0;) {
    if (s[i] < kEd25519Order[i]) return true;
    if (s[i] > kEd25519Order[i]) return false;
  }
  return false;  // S == L
}

const Botan::EC_Group& Sm2Group() {
  static const Botan::EC_Group group("sm2p256v1");
  return group;
}

}  // namespace

Status GcmSeal(Suite suite, ByteView key, ByteView iv, ByteView aad, ByteView plaintext,
               Bytes& out) {
  CUSTOS_RETURN_IF_ERROR(CheckGcmParams(suite, key, iv));
  // Reused per thread so a seal does not allocate; it holds ciphertext once finish() returns.
  thread_local SecretBytes buffer;
  try {
    auto& mode = StartGcm(suite, Botan::ENCRYPTION, key, iv, aad);
    buffer.assign(plaintext.begin(), plaintext.end());
    mode.finish(buffer);
  } catch (const std::exception&) {
    return Internal(std::string(GcmName(suite)) + " encryption failed");
  }
  out.insert(out.end(), buffer.begin(), buffer.end());
  return Status::Ok();
}

Result<SecretBytes> GcmOpen(Suite suite, ByteView key, ByteView iv, ByteView aad,
                            ByteView ciphertext_and_tag) {
  CUSTOS_RETURN_IF_ERROR(CheckGcmParams(suite, key, iv));
  if (ciphertext_and_tag.size() < kGcmTagSize) return DataLoss("ciphertext is truncated");
  SecretBytes buffer(ciphertext_and_tag.begin(), ciphertext_and_tag.end());
  try {
    auto& mode = StartGcm(suite, Botan::DECRYPTION, key, iv, aad);
    mode.finish(buffer);
  } catch (const Botan::Invalid_Authentication_Tag&) {
    return DataLoss("ciphertext does not authenticate (altered, or bound to other data)");
  } catch (const std::exception&) {
    return Internal(std::string(GcmName(suite)) + " decryption failed");
  }
  return buffer;
}

Bytes HmacCompute(Suite suite, ByteView key, ByteView message) {
  // Keys come from Mac::New (size-checked) or tests; an oversized key is a caller bug.
  auto& mac = ThreadHmac(suite, key);
  mac.update(message.data(), message.size());
  Bytes tag(mac.output_length());
  mac.final(tag.data());
  return tag;
}

bool HmacVerify(Suite suite, ByteView key, ByteView message, ByteView tag) {
  if (tag.size() < kMinMacTagSize || key.size() > kMaxHmacKeySize) return false;
  const Bytes expected = HmacCompute(suite, key, message);
  if (tag.size() > expected.size()) return false;
  return Botan::constant_time_compare(expected.data(), tag.data(), tag.size());
}

Result<SecretBytes> Hkdf(Suite suite, ByteView ikm, ByteView salt, ByteView info, size_t out_len) {
  constexpr size_t kHashSize = 32;
  if (out_len == 0 || out_len > 255 * kHashSize) {
    return InvalidArgument("HKDF output length must be 1..8160 bytes");
  }
  try {
    Botan::HKDF hkdf(Botan::MessageAuthenticationCode::create_or_throw(HmacName(suite)).release());
    SecretBytes out(out_len);
    hkdf.kdf(out.data(), out.size(), ikm.data(), ikm.size(), salt.data(), salt.size(), info.data(),
             info.size());
    return out;
  } catch (const std::exception&) {
    return Internal("HKDF failed");
  }
}

Status Ed25519Verify(ByteView public_key, ByteView message, ByteView signature) {
  constexpr size_t kPublicKeySize = 32;
  constexpr size_t kSignatureSize = 64;
  if (public_key.size() != kPublicKeySize) {
    return InvalidArgument("Ed25519 public key must be 32 bytes");
  }
  if (signature.size() != kSignatureSize || !IsCanonicalScalar(signature.subspan(32))) {
    return DataLoss("signature does not verify");
  }
  try {
    const Botan::Ed25519_PublicKey key(public_key.data(), public_key.size());
    Botan::PK_Verifier verifier(key, kEd25519Params);
    if (verifier.verify_message(message.data(), message.size(), signature.data(),
                                signature.size())) {
      return Status::Ok();
    }
  } catch (const std::exception&) {
    // A public key that does not decode makes no signature valid.
  }
  return DataLoss("signature does not verify");
}

Status Sm2Verify(ByteView public_key, ByteView message, ByteView signature) {
  std::unique_ptr<Botan::SM2_PublicKey> key;
  try {
    const Botan::PointGFp point = Sm2Group().OS2ECP(public_key.data(), public_key.size());
    if (point.is_zero() || !point.on_the_curve()) {
      return InvalidArgument("SM2 public key is not a point of sm2p256v1");
    }
    key = std::make_unique<Botan::SM2_PublicKey>(Sm2Group(), point);
  } catch (const std::exception&) {
    return InvalidArgument("SM2 public key is not a point of sm2p256v1");
  }
  try {
    Botan::PK_Verifier verifier(*key, kSm2SignatureParams);
    if (verifier.verify_message(message.data(), message.size(), signature.data(),
                                signature.size())) {
      return Status::Ok();
    }
  } catch (const std::exception&) {
    // Botan throws on some malformed signatures; they are simply not valid.
  }
  return DataLoss("signature does not verify");
}

}  // namespace custos::crypto::raw
