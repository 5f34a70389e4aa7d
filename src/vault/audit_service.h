// AuditService: reading and verifying the audit log (P3.2c, P5, P6). Every call is admitted
// (audit.read / audit.verify) and is itself audited. Thread safety: safe for concurrent use.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/level.h"
#include "core/status.h"
#include "vault/context.h"
#include "vault/record_codec.h"

namespace custos::audit {
struct VerifyReport;
}

namespace custos::vault {

struct VaultState;

class AuditService {
 public:
  // Made by Vault::Open; borrows the vault's state, which outlives it.
  explicit AuditService(VaultState& state) : state_(&state) {}

  // --- audit (P3.2c) ---
  Result<audit::VerifyReport> Verify(const Context& ctx);
  Status Export(const Context& ctx, std::ostream& out_jsonl);
  Status Tail(const Context& ctx, size_t n, std::ostream& out_jsonl);

 private:
  VaultState* state_;
};

}  // namespace custos::vault
