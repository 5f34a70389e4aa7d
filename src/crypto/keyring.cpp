// The key hierarchy of one vault. See keyring.h for the formats; comments here say why.
#include "crypto/keyring.h"

#include <botan/loadstor.h>

#include <initializer_list>
#include <string>

#include "crypto/internal/aad.h"
#include "crypto/internal/framed.h"

namespace custos::crypto {
namespace {

// DEKs are not re-keyed yet: every envelope and record is sealed under DEK generation 1.
constexpr uint32_t kDekGeneration = 1;
constexpr size_t kIndexKeySize = 32;
constexpr size_t kBlindIndexSize = 16;

constexpr std::string_view kDekLabel = "custos/dek/v1";
constexpr std::string_view kEnvelopeLabel = "custos/env/v1";
constexpr std::string_view kRecordLabel = "custos/rec/v1";
constexpr std::string_view kIndexLabel = "custos/idx/v1";
constexpr std::string_view kSigningLabel = "custos/sig/v1";

using internal::BuildAad;
using internal::CheckAadId;

Bytes Header(Suite suite, uint32_t key_version) {
  Bytes out(kCiphertextHeaderSize);
  out[0] = kCiphertextFormat;
  out[1] = static_cast<uint8_t>(suite);
  Botan::store_be(key_version, out.data() + 2);
  return out;
}

// The header, checked against the keyring's suite, and the bytes after it.
Result<std::pair<CiphertextHeader, ByteView>> SplitHeader(Suite suite, ByteView ciphertext) {
  CUSTOS_ASSIGN_OR_RETURN(CiphertextHeader header, ReadCiphertextHeader(ciphertext));
  if (header.suite != suite) {
    return DataLoss("ciphertext was made under suite " + std::string(SuiteName(header.suite)) +
                    ", not " + std::string(SuiteName(suite)));
  }
  return std::pair{header, ciphertext.subspan(kCiphertextHeaderSize)};
}

Status CheckDek(Suite suite, const SecretBytes& dek) {
  if (dek.size() != AeadKeySize(suite)) return InvalidArgument("DEK size is wrong for the suite");
  return Status::Ok();
}

Result<Bytes> SealUnderDek(Suite suite, const SecretBytes& dek, const Bytes& aad,
                           ByteView plaintext) {
  CUSTOS_RETURN_IF_ERROR(CheckDek(suite, dek));
  Bytes out = Header(suite, kDekGeneration);
  CUSTOS_RETURN_IF_ERROR(framed::Seal(suite, dek, aad, plaintext, out));
  return out;
}

Result<SecretBytes> OpenUnderDek(Suite suite, const SecretBytes& dek, const Bytes& aad,
                                 ByteView sealed) {
  CUSTOS_RETURN_IF_ERROR(CheckDek(suite, dek));
  CUSTOS_ASSIGN_OR_RETURN(auto parts, SplitHeader(suite, sealed));
  if (parts.first.key_version != kDekGeneration) {
    return DataLoss("ciphertext names an unknown DEK generation");
  }
  return framed::Open(suite, dek, aad, parts.second);
}

}  // namespace

Result<CiphertextHeader> ReadCiphertextHeader(ByteView ciphertext) {
  if (ciphertext.size() < kCiphertextHeaderSize) return DataLoss("ciphertext is truncated");
  if (ciphertext[0] != kCiphertextFormat) return DataLoss("ciphertext has an unknown format");
  const uint8_t suite = ciphertext[1];
  if (suite != static_cast<uint8_t>(Suite::kAes256Gcm) &&
      suite != static_cast<uint8_t>(Suite::kSm4Gcm)) {
    return DataLoss("ciphertext names an unknown suite");
  }
  return CiphertextHeader{kCiphertextFormat, static_cast<Suite>(suite),
                          Botan::load_be<uint32_t>(ciphertext.data() + 2, 0)};
}

Result<uint32_t> WrappedKeyKekVersion(ByteView wrapped) {
  CUSTOS_ASSIGN_OR_RETURN(CiphertextHeader header, ReadCiphertextHeader(wrapped));
  return header.key_version;
}

Result<std::unique_ptr<Keyring>> Keyring::New(Suite suite, std::unique_ptr<KeyProvider> provider) {
  if (!provider) return InvalidArgument("key provider is missing");
  return std::unique_ptr<Keyring>(new Keyring(suite, std::move(provider)));
}

Keyring::Keyring(Suite suite, std::unique_ptr<KeyProvider> provider)
    : suite_(suite), provider_(std::move(provider)) {}

Keyring::~Keyring() = default;

Suite Keyring::suite() const { return suite_; }
const KeyProvider& Keyring::provider() const { return *provider_; }
KeyProvider& Keyring::provider() { return *provider_; }

SecretBytes Keyring::NewDek() const { return RandomSecret(AeadKeySize(suite_)); }

// --- wrapped keys: header (KEK version) || provider output ---

namespace {

Result<Bytes> WrapUnder(Suite suite, const KeyProvider& provider, const SecretBytes& key,
                        const Bytes& aad, uint32_t version) {
  CUSTOS_ASSIGN_OR_RETURN(Bytes wrapped, provider.WrapWith(version, key, aad));
  Bytes out = Header(suite, version);
  out.insert(out.end(), wrapped.begin(), wrapped.end());
  return out;
}

}  // namespace

Result<Bytes> Keyring::WrapDek(std::string_view customer_id, const SecretBytes& dek) const {
  return WrapDekUnder(customer_id, dek, provider_->Version());
}

Result<Bytes> Keyring::WrapDekUnder(std::string_view customer_id, const SecretBytes& dek,
                                    uint32_t version) const {
  CUSTOS_RETURN_IF_ERROR(CheckAadId("customer id", customer_id));
  CUSTOS_RETURN_IF_ERROR(CheckDek(suite_, dek));
  const std::string version_text = std::to_string(version);
  return WrapUnder(suite_, *provider_, dek, BuildAad(kDekLabel, {customer_id, version_text}),
                   version);
}

Result<SecretBytes> Keyring::UnwrapDek(std::string_view customer_id, ByteView wrapped) const {
  CUSTOS_RETURN_IF_ERROR(CheckAadId("customer id", customer_id));
  CUSTOS_ASSIGN_OR_RETURN(auto parts, SplitHeader(suite_, wrapped));
  const std::string version_text = std::to_string(parts.first.key_version);
  CUSTOS_ASSIGN_OR_RETURN(
      SecretBytes dek,
      provider_->Unwrap(parts.second, BuildAad(kDekLabel, {customer_id, version_text})));
  if (dek.size() != AeadKeySize(suite_)) return DataLoss("wrapped DEK has the wrong size");
  return dek;
}

// --- envelopes and records ---

Result<Bytes> Keyring::SealEnvelope(const SecretBytes& dek, std::string_view customer_id,
                                    Level level, uint32_t schema_version,
                                    ByteView plaintext) const {
  CUSTOS_RETURN_IF_ERROR(CheckAadId("customer id", customer_id));
  const std::string level_text = std::to_string(static_cast<unsigned>(level));
  const std::string schema_text = std::to_string(schema_version);
  return SealUnderDek(suite_, dek, BuildAad(kEnvelopeLabel, {customer_id, level_text, schema_text}),
                      plaintext);
}

Result<SecretBytes> Keyring::OpenEnvelope(const SecretBytes& dek, std::string_view customer_id,
                                          Level level, uint32_t schema_version,
                                          ByteView sealed) const {
  CUSTOS_RETURN_IF_ERROR(CheckAadId("customer id", customer_id));
  const std::string level_text = std::to_string(static_cast<unsigned>(level));
  const std::string schema_text = std::to_string(schema_version);
  return OpenUnderDek(suite_, dek, BuildAad(kEnvelopeLabel, {customer_id, level_text, schema_text}),
                      sealed);
}

Result<Bytes> Keyring::SealRecord(const SecretBytes& dek, std::string_view customer_id,
                                  std::string_view kind, std::string_view record_id,
                                  ByteView plaintext) const {
  CUSTOS_RETURN_IF_ERROR(CheckAadId("customer id", customer_id));
  CUSTOS_RETURN_IF_ERROR(CheckAadId("record kind", kind));
  CUSTOS_RETURN_IF_ERROR(CheckAadId("record id", record_id));
  return SealUnderDek(suite_, dek, BuildAad(kRecordLabel, {customer_id, kind, record_id}),
                      plaintext);
}

Result<SecretBytes> Keyring::OpenRecord(const SecretBytes& dek, std::string_view customer_id,
                                        std::string_view kind, std::string_view record_id,
                                        ByteView sealed) const {
  CUSTOS_RETURN_IF_ERROR(CheckAadId("customer id", customer_id));
  CUSTOS_RETURN_IF_ERROR(CheckAadId("record kind", kind));
  CUSTOS_RETURN_IF_ERROR(CheckAadId("record id", record_id));
  return OpenUnderDek(suite_, dek, BuildAad(kRecordLabel, {customer_id, kind, record_id}), sealed);
}

// --- blind indexes ---

Result<Bytes> Keyring::NewIndexKey(std::string_view field) {
  CUSTOS_RETURN_IF_ERROR(CheckAadId("field", field));
  if (index_macs_.find(field) != index_macs_.end()) {
    return Conflict("field '" + std::string(field) + "' already has an index key");
  }
  const SecretBytes key = RandomSecret(kIndexKeySize);
  CUSTOS_ASSIGN_OR_RETURN(
      Bytes wrapped,
      WrapUnder(suite_, *provider_, key, BuildAad(kIndexLabel, {field}), provider_->Version()));
  CUSTOS_ASSIGN_OR_RETURN(auto mac, Mac::New(suite_, key));
  index_macs_.emplace(std::string(field), std::move(mac));
  return wrapped;
}

Status Keyring::LoadIndexKey(std::string_view field, ByteView wrapped) {
  CUSTOS_RETURN_IF_ERROR(CheckAadId("field", field));
  CUSTOS_ASSIGN_OR_RETURN(auto parts, SplitHeader(suite_, wrapped));
  CUSTOS_ASSIGN_OR_RETURN(SecretBytes key,
                          provider_->Unwrap(parts.second, BuildAad(kIndexLabel, {field})));
  if (key.size() != kIndexKeySize) return DataLoss("wrapped index key has the wrong size");
  CUSTOS_ASSIGN_OR_RETURN(auto mac, Mac::New(suite_, key));
  index_macs_.insert_or_assign(std::string(field), std::move(mac));
  return Status::Ok();
}

Result<Bytes> Keyring::BlindIndex(std::string_view field, std::string_view normalised_value) const {
  const auto it = index_macs_.find(field);
  if (it == index_macs_.end()) {
    return NotFound("no index key is loaded for field '" + std::string(field) + "'");
  }
  Bytes token = it->second->Compute(AsBytes(normalised_value));
  token.resize(kBlindIndexSize);
  return token;
}

// --- the checkpoint signing key ---

Result<Bytes> Keyring::WrapSigningKey(const SigningKey& key) const {
  return WrapUnder(suite_, *provider_, key.PrivateKeyBytes(), BuildAad(kSigningLabel, {}),
                   provider_->Version());
}

// --- rotation: the same key, wrapped again under another KEK version ---

Result<Bytes> Keyring::RewrapDek(std::string_view customer_id, ByteView wrapped,
                                 uint32_t kek_version) const {
  CUSTOS_ASSIGN_OR_RETURN(SecretBytes dek, UnwrapDek(customer_id, wrapped));
  return WrapDekUnder(customer_id, dek, kek_version);
}

Result<Bytes> Keyring::RewrapIndexKey(std::string_view field, ByteView wrapped,
                                      uint32_t kek_version) const {
  CUSTOS_RETURN_IF_ERROR(CheckAadId("field", field));
  CUSTOS_ASSIGN_OR_RETURN(auto parts, SplitHeader(suite_, wrapped));
  const Bytes aad = BuildAad(kIndexLabel, {field});
  CUSTOS_ASSIGN_OR_RETURN(SecretBytes key, provider_->Unwrap(parts.second, aad));
  return WrapUnder(suite_, *provider_, key, aad, kek_version);
}

Result<Bytes> Keyring::RewrapSigningKey(ByteView wrapped, uint32_t kek_version) const {
  CUSTOS_ASSIGN_OR_RETURN(auto parts, SplitHeader(suite_, wrapped));
  const Bytes aad = BuildAad(kSigningLabel, {});
  CUSTOS_ASSIGN_OR_RETURN(SecretBytes key, provider_->Unwrap(parts.second, aad));
  return WrapUnder(suite_, *provider_, key, aad, kek_version);
}

Result<std::unique_ptr<SigningKey>> Keyring::UnwrapSigningKey(ByteView wrapped) const {
  CUSTOS_ASSIGN_OR_RETURN(auto parts, SplitHeader(suite_, wrapped));
  CUSTOS_ASSIGN_OR_RETURN(SecretBytes bytes,
                          provider_->Unwrap(parts.second, BuildAad(kSigningLabel, {})));
  return SigningKey::FromPrivateKeyBytes(suite_, bytes);
}

}  // namespace custos::crypto
