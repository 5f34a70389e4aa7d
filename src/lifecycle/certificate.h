// Destruction certificates (P3.4b-c, docs/retention.md): the signed record of one retention
// run — what was destroyed (counts and the salted hashes of the ids, never the ids), the
// rules and the plan (id and SHA-256), the method, the approvals, who ran it and when. Signed
// with the vault's checkpoint signing key (Ed25519 or SM2 by suite), so the DPO can show it
// to an auditor and anyone can check it has not been altered.
//
//   {"format":"custos-destruction-certificate/1","vault_id":"...","suite":"aes256gcm",
//    "run_id":"...","plan":{"id":"...","sha256":"..."},"rules":{...},"method":"...",
//    "approvals":[{"id","requester","approver","decided_at_ms"}],"run_by":"...",
//    "started_at_ms":N,"finished_at_ms":N,"counts":{"customer":N,"transaction":N,"note":N},
//    "id_hash":"HMAC-SHA256(lifecycle.id_salt, id)","items":[{"seq","kind","id_hash"}],
//    "backups":{"complete_by_ms":N,"epochs":[n-3,...,n]},
//    "public_key":"<hex>","signature":"<hex>"}
//
// "backups" (issue 23; docs/retention.md "The completion date"): the destroyed data keys are
// gone from the live vault at finished_at_ms; older copies (data backups, database copies)
// hold them wrapped under the epochs listed, and are unrecoverable once those epoch keys are
// destroyed, which the schedule does by complete_by_ms. Certificates written before issue 23
// have no "backups" member and still verify.
//
// The signature covers the canonical JSON (keys sorted, no spaces) of every member but
// "signature".
//
// Thread safety: pure functions (the signing key is immutable and shareable).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "crypto/primitives.h"
#include "store/store.h"

namespace custos::lifecycle {

inline constexpr std::string_view kCertificateFormat = "custos-destruction-certificate/1";

struct CertificateApproval {
  std::string approval_id;
  std::string requester;
  std::string approver;
  int64_t decided_at_ms = 0;
};

struct CertificateFacts {
  std::string vault_id;
  crypto::Suite suite = crypto::Suite::kAes256Gcm;
  std::string run_id;
  std::string plan_id;
  std::string plan_sha256;
  std::string rules_json;
  std::string method;
  std::vector<CertificateApproval> approvals;
  std::string run_by;
  int64_t started_at_ms = 0;
  int64_t finished_at_ms = 0;
  std::vector<store::DestructionRow> items;  // the run's destruction-log entries
  // The completion date in every copy; absent (complete_by_ms 0) for a vault without epochs.
  int64_t backups_complete_by_ms = 0;
  std::vector<uint32_t> backups_epochs;  // ascending
};

// The signed certificate as JSON text (pretty-printed, ending in a newline).
std::string SignCertificate(const CertificateFacts& facts, const crypto::SigningKey& key);

struct CertificateCheck {
  std::string run_id;
  std::string plan_id;
  int64_t customers = 0;
  int64_t transactions = 0;
  int64_t notes = 0;
  std::string public_key_hex;
  int64_t finished_at_ms = 0;
  // "backups": 0 and empty when the certificate has none (written before issue 23).
  int64_t backups_complete_by_ms = 0;
  std::vector<uint32_t> backups_epochs;
};

// Checks shape and signature. When `expected_public_key_hex` is not empty the certificate must
// also be signed by that key. InvalidArgument naming the member at fault for a malformed
// certificate (wrong format, a missing member, counts that disagree with the items);
// DataLoss when the signature does not verify (the certificate was altered) or is by another
// key than the expected one.
Result<CertificateCheck> VerifyCertificate(std::string_view text,
                                           std::string_view expected_public_key_hex);

}  // namespace custos::lifecycle
