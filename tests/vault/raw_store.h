// Tests that tamper with, or read, a vault's database directly (the audit tamper and proof
// suites, the backup suite) open it the way the vault does, without the vault.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "crypto/keyring.h"
#include "schema/config.h"
#include "store/store.h"
#include "vault/vault_impl.h"

namespace custos::vault::testing {

// The database of the vault in `dir`, opened beside it as an intruder or an auditor would:
// the store its custos.toml names, through the vault's own wiring (OpenVaultStore), not
// created or migrated. nullptr (with a test failure) when it cannot be opened.
inline std::unique_ptr<store::Store> OpenRawStore(const std::filesystem::path& dir) {
  auto config = schema::LoadConfig(dir / "custos.toml");
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  if (!config.ok()) return nullptr;
  auto st = OpenVaultStore(*config, dir, /*create=*/false);
  EXPECT_TRUE(st.ok()) << st.status().ToString();
  return st.ok() ? std::move(*st) : nullptr;
}

// The checkpoint signing key of the vault in `dir`, unwrapped with its KEK beside it (a
// keyfile vault): what signs the ledger entries, manifests and certificates the vault writes,
// for tests that write such files themselves (a ledger of their own, or the files of an older
// version). Test failures when it cannot be unwrapped.
inline std::unique_ptr<crypto::SigningKey> VaultSigningKey(const std::filesystem::path& dir) {
  auto config = schema::LoadConfig(dir / "custos.toml");
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  auto raw = OpenRawStore(dir);
  auto txn = raw->Begin();
  auto salt = (*txn)->GetMeta("kek_salt");
  auto wrapped = (*txn)->GetMeta("signing_key");
  EXPECT_TRUE(wrapped.ok() && wrapped->has_value());
  auto provider = OpenVaultKeyProvider(*config, dir, "", salt->value_or(crypto::Bytes{}));
  EXPECT_TRUE(provider.ok()) << provider.status().ToString();
  auto keyring =
      crypto::Keyring::New(*crypto::ParseSuite(config->keys.suite), std::move(*provider));
  EXPECT_TRUE(keyring.ok()) << keyring.status().ToString();
  auto key = (*keyring)->UnwrapSigningKey(**wrapped);
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  return std::move(key).value();
}

}  // namespace custos::vault::testing
