// Keyring: the key hierarchy of one vault, and the only crypto surface the vault service uses.
//
//   KEK (KeyProvider, versioned) --wraps--> DEK per customer (store::WrappedKeyRow)
//                     --wraps--> one index key per searchable field (vault metadata)
//                     --wraps--> the checkpoint signing key (vault metadata)
//   DEK --seals--> one envelope per classification level, and the customer's records
//
// Every ciphertext starts with a header: format (1 byte, =1), suite id (1 byte), key version
// (4 bytes, big endian), then the AEAD output. Associated data binds each ciphertext to its
// owner, so it cannot be moved to another customer, level, schema version or record:
//   DEK wrap:  "custos/dek/v1" 0 customer_id 0 kek_version
//   envelope:  "custos/env/v1" 0 customer_id 0 level 0 schema_version
//   record:    "custos/rec/v1" 0 customer_id 0 kind 0 record_id
// The key version is the KEK version for wrapped keys (DEKs, index keys, the signing key) and
// the DEK generation for envelopes and records (1: DEKs are not re-keyed yet). Numbers in the
// AAD are decimal ASCII (level is its stored value, 1..3); ids must not contain a NUL byte.
// Callers never see nonces, raw keys or cipher names.
//
// Thread safety: after the index keys are loaded, every method is thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/level.h"
#include "core/status.h"
#include "crypto/key_provider.h"
#include "crypto/primitives.h"

namespace custos::crypto {

inline constexpr uint8_t kCiphertextFormat = 1;
inline constexpr size_t kCiphertextHeaderSize = 6;

// The header at the start of every ciphertext the Keyring makes.
struct CiphertextHeader {
  uint8_t format = kCiphertextFormat;
  Suite suite = Suite::kAes256Gcm;
  uint32_t key_version = 0;
};
// The header of `ciphertext` (e.g. the KEK version of a wrapped DEK, for WrappedKeyRow).
// DataLoss if it is shorter than a header or names an unknown format or suite.
Result<CiphertextHeader> ReadCiphertextHeader(ByteView ciphertext);
// The KEK version a Keyring-wrapped key (DEK, index key, signing key) names in its header.
// DataLoss like ReadCiphertextHeader.
Result<uint32_t> WrappedKeyKekVersion(ByteView wrapped);

class Keyring {
 public:
  // InvalidArgument if provider is null.
  static Result<std::unique_ptr<Keyring>> New(Suite suite, std::unique_ptr<KeyProvider> provider);

  Suite suite() const;
  const KeyProvider& provider() const;
  // For rotation (KeyProvider::CreateVersion, UseVersion, DestroyVersion).
  KeyProvider& provider();

  // A fresh random DEK of AeadKeySize(suite()) bytes.
  SecretBytes NewDek() const;
  // Every method taking a customer_id, dek, field, kind or record_id returns InvalidArgument
  // if an id is empty or holds a NUL byte, or if the DEK is not AeadKeySize(suite()) bytes.
  // Every Open/Unwrap returns DataLoss if the header names another format or suite.
  Result<Bytes> WrapDek(std::string_view customer_id, const SecretBytes& dek) const;
  // As WrapDek under an explicit KEK version (the header's version is `kek_version`).
  // NotFound if the provider has no such version.
  Result<Bytes> WrapDekUnder(std::string_view customer_id, const SecretBytes& dek,
                             uint32_t kek_version) const;
  // DataLoss if the wrapped DEK belongs to another customer or was altered. Any KEK version
  // the provider holds (or can find) opens it.
  Result<SecretBytes> UnwrapDek(std::string_view customer_id, ByteView wrapped) const;

  Result<Bytes> SealEnvelope(const SecretBytes& dek, std::string_view customer_id, Level level,
                             uint32_t schema_version, ByteView plaintext) const;
  // DataLoss if the envelope is altered or bound to another customer, level or version.
  Result<SecretBytes> OpenEnvelope(const SecretBytes& dek, std::string_view customer_id,
                                   Level level, uint32_t schema_version, ByteView sealed) const;

  // Records owned by a customer: kind is "txn" or "note"; record_id their id.
  Result<Bytes> SealRecord(const SecretBytes& dek, std::string_view customer_id,
                           std::string_view kind, std::string_view record_id,
                           ByteView plaintext) const;
  Result<SecretBytes> OpenRecord(const SecretBytes& dek, std::string_view customer_id,
                                 std::string_view kind, std::string_view record_id,
                                 ByteView sealed) const;

  // Blind indexes. A new vault calls NewIndexKey per searchable field and stores the wrapped
  // key; an opened vault calls LoadIndexKey with it. AAD of the wrap: "custos/idx/v1" 0 field.
  // NewIndexKey also loads the new key; Conflict if a key is already loaded for the field
  // (replacing it would orphan every stored token). LoadIndexKey: DataLoss if the wrapped key
  // is altered or belongs to another field.
  Result<Bytes> NewIndexKey(std::string_view field);
  Status LoadIndexKey(std::string_view field, ByteView wrapped);
  // 16-byte token: HMAC(index key of field, normalised value) truncated. NotFound if no key
  // is loaded for the field.
  Result<Bytes> BlindIndex(std::string_view field, std::string_view normalised_value) const;

  // The checkpoint signing key, wrapped like an index key under "custos/sig/v1".
  Result<Bytes> WrapSigningKey(const SigningKey& key) const;
  Result<std::unique_ptr<SigningKey>> UnwrapSigningKey(ByteView wrapped) const;

  // Rotation: the same key unwrapped and wrapped again under `kek_version`; the result's
  // header names it. The errors of the matching Unwrap/Wrap above.
  Result<Bytes> RewrapDek(std::string_view customer_id, ByteView wrapped,
                          uint32_t kek_version) const;
  Result<Bytes> RewrapIndexKey(std::string_view field, ByteView wrapped,
                               uint32_t kek_version) const;
  Result<Bytes> RewrapSigningKey(ByteView wrapped, uint32_t kek_version) const;

  ~Keyring();
  Keyring(const Keyring&) = delete;
  Keyring& operator=(const Keyring&) = delete;

 private:
  Keyring(Suite suite, std::unique_ptr<KeyProvider> provider);
  Suite suite_;
  std::unique_ptr<KeyProvider> provider_;
  std::map<std::string, std::unique_ptr<Mac>, std::less<>> index_macs_;
};

}  // namespace custos::crypto
