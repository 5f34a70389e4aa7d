// The KEK-wrapped vault keys: where each lives and how it is rewrapped.
#include "vault/vault_keys.h"

#include <fmt/format.h>

#include "access/credentials.h"
#include "crypto/keyring.h"
#include "vault/access_cache.h"
#include "vault/kek_state.h"

namespace custos::vault {
namespace {

constexpr std::string_view kTotpPrefix = "totp:";

// The keys named by the metadata: the check (provider format), index and signing keys
// (keyring format, with a ciphertext header).
std::vector<std::string> MetaKeyNames(const VaultState& m) {
  std::vector<std::string> names{std::string(kMetaKekCheck), std::string(kMetaSigningKey)};
  for (const schema::FieldDef& def : m.config->fields) {
    names.push_back(std::string(kIndexKeyPrefix) + def.name);
  }
  // The keys of joinable de-identification profiles (deid_release.cpp), wrapped like index keys.
  for (const schema::DeidProfileDef& p : m.config->deid_profiles) {
    if (p.joinable) names.push_back(std::string(kIndexKeyPrefix) + "deid." + p.name);
  }
  return names;
}

// The key check and TOTP secrets are the provider's own format (version first); index and
// signing keys the keyring's (a ciphertext header naming the version).
Result<uint32_t> VersionOf(std::string_view name, const crypto::Bytes& wrapped) {
  const bool provider_format =
      name == kMetaKekCheck || name.substr(0, kTotpPrefix.size()) == kTotpPrefix;
  Result<uint32_t> v =
      provider_format ? crypto::WrappedKekVersion(wrapped) : crypto::WrappedKeyKekVersion(wrapped);
  if (!v.ok()) return DataLoss(fmt::format("vault key '{}': {}", name, v.status().message()));
  return v;
}

Result<crypto::Bytes> RewrapMetaKey(VaultState& m, std::string_view name,
                                    const crypto::Bytes& wrapped, uint32_t to) {
  const crypto::Keyring& keyring = *m.keyring;
  if (name == kMetaKekCheck) {
    CUSTOS_ASSIGN_OR_RETURN(crypto::SecretBytes check,
                            keyring.provider().Unwrap(wrapped, crypto::AsBytes(kKekCheckAad)));
    return keyring.provider().WrapWith(to, check, crypto::AsBytes(kKekCheckAad));
  }
  if (name == kMetaSigningKey) return keyring.RewrapSigningKey(wrapped, to);
  return keyring.RewrapIndexKey(name.substr(kIndexKeyPrefix.size()), wrapped, to);
}

Status Named(std::string_view name, const Status& st) {
  if (st.ok()) return st;
  return Status(st.code(), fmt::format("vault key '{}': {}", name, st.message()));
}

}  // namespace

Result<std::vector<VaultKeyRef>> ListVaultKeys(const VaultState& m, store::Transaction& txn) {
  std::vector<VaultKeyRef> out;
  for (const std::string& name : MetaKeyNames(m)) {
    CUSTOS_ASSIGN_OR_RETURN(auto wrapped, txn.GetMeta(name));
    if (!wrapped.has_value()) continue;
    CUSTOS_ASSIGN_OR_RETURN(uint32_t v, VersionOf(name, *wrapped));
    out.push_back({name, v});
  }
  CUSTOS_ASSIGN_OR_RETURN(auto staff, txn.ListStaff());
  for (const store::StaffRow& s : staff) {
    CUSTOS_ASSIGN_OR_RETURN(auto cred, txn.GetStaffCredential(s.staff_id));
    if (!cred.has_value() || cred->totp_sealed.empty()) continue;
    const std::string name = std::string(kTotpPrefix) + s.staff_id;
    CUSTOS_ASSIGN_OR_RETURN(uint32_t v, VersionOf(name, cred->totp_sealed));
    out.push_back({name, v});
  }
  return out;
}

Result<int64_t> RewrapVaultKeys(VaultState& m, store::Transaction& txn, uint32_t to) {
  int64_t n = 0;
  for (const std::string& name : MetaKeyNames(m)) {
    CUSTOS_ASSIGN_OR_RETURN(auto wrapped, txn.GetMeta(name));
    if (!wrapped.has_value()) continue;
    CUSTOS_ASSIGN_OR_RETURN(uint32_t v, VersionOf(name, *wrapped));
    if (v == to) continue;
    Result<crypto::Bytes> fresh = RewrapMetaKey(m, name, *wrapped, to);
    CUSTOS_RETURN_IF_ERROR(Named(name, fresh.status()));
    CUSTOS_RETURN_IF_ERROR(txn.PutMeta(name, *fresh));
    ++n;
  }
  CUSTOS_ASSIGN_OR_RETURN(auto staff, txn.ListStaff());
  for (const store::StaffRow& s : staff) {
    CUSTOS_ASSIGN_OR_RETURN(auto cred, txn.GetStaffCredential(s.staff_id));
    if (!cred.has_value() || cred->totp_sealed.empty()) continue;
    const std::string name = std::string(kTotpPrefix) + s.staff_id;
    CUSTOS_ASSIGN_OR_RETURN(uint32_t v, VersionOf(name, cred->totp_sealed));
    if (v == to) continue;
    // The TOTP secret is sealed by the provider under the active version, which the rotation
    // made `to` before calling this.
    const crypto::KeyProvider& kek = m.keyring->provider();
    Result<crypto::SecretBytes> secret = access::OpenTotpSecret(kek, s.staff_id, cred->totp_sealed);
    CUSTOS_RETURN_IF_ERROR(Named(name, secret.status()));
    Result<crypto::Bytes> sealed = access::SealTotpSecret(kek, s.staff_id, *secret);
    CUSTOS_RETURN_IF_ERROR(Named(name, sealed.status()));
    cred->totp_sealed = std::move(sealed).value();
    CUSTOS_RETURN_IF_ERROR(txn.PutStaffCredential(*cred));
    // A credential changed: every vault's access cache (this process and others) must drop
    // the row sealed under the old version (access_cache.h).
    CUSTOS_RETURN_IF_ERROR(NewAccessEpoch(txn));
    ++n;
  }
  return n;
}

}  // namespace custos::vault
