// Tests that tamper with, or read, a vault's database directly (the audit tamper and proof
// suites, the backup suite) open it the way the vault does, without the vault.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

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

}  // namespace custos::vault::testing
