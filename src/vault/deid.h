// DeidService: de-identified data for analysis (issue 16, policy P3.3b; docs/deid.md).
//
// A release follows a profile of custos.toml ([deid.profiles.NAME]): it reads the customers of
// the profile's population through the admission core, derives and transforms their fields,
// searches the generalisation lattice for the transformation that meets the profile's privacy
// model with the least loss (src/deid), writes the de-identified rows and records the release
// in the register (table deid_releases). Memory stays bounded: the first pass keeps only a
// dictionary-encoded frequency set of the quasi-identifiers and sensitive attributes
// (deid/dataset.h); the second pass reads the customers again and writes row by row. No
// plaintext copy of the vault is ever held.
//
// Who may: the action deid.release for the profile's purpose (the analyst role by default),
// and only a staff member holding one of the roles the profile names. Listing profiles and
// the register, and checking a file, need deid.read.
//
// Audit: the start ("deid.release", with the profile and its hash), one "deid.customer" entry
// per customer read in the first pass (consent decided per customer, before decryption), one
// entry per page written in the second, and the outcome: "deid.release.complete" committed
// with the register row, or "deid.release.refused" with the reason when the model cannot be
// met.
//
// Thread safety: as the Vault (safe for concurrent use); one release at a time per stream.
#pragma once

#include <cstdint>
#include <istream>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "deid/check.h"
#include "deid/model.h"
#include "schema/config.h"
#include "store/store.h"
#include "vault/context.h"

namespace custos::vault {

struct VaultState;

struct DeidReleaseOptions {
  std::string profile;
  deid::FileFormat format = deid::FileFormat::kCsv;
  std::string recipients;  // who receives the file (free text for the register; may be empty)
  size_t page_size = 500;  // customers per transaction in each pass
};

// What a release achieved (or, when `met` is false, the best achievable).
struct DeidReleaseReport {
  std::string release_id;  // empty when not met (nothing was registered)
  std::string profile;
  std::string profile_sha256;
  bool met = false;
  std::string reason;                          // why the model cannot be met
  std::vector<std::string> quasi_identifiers;  // field names, in the order of figures.levels
  std::vector<std::string> columns;            // of the file
  deid::Figures figures;
  uint64_t lattice_nodes = 0;
  uint64_t evaluated_nodes = 0;
  int64_t rows_written = 0;
  std::string file_sha256;
  int64_t search_ms = 0;
};

class DeidService {
 public:
  explicit DeidService(VaultState& state) : state_(&state) {}

  // The profiles of custos.toml (deid.read). PermissionDenied if not granted (audited).
  Result<std::vector<schema::DeidProfileDef>> Profiles(const Context& ctx);

  // Releases under `options.profile`, writing the rows to `out` (CSV with a header line, or
  // JSON Lines). OK with met = true: the file is complete and registered. OK with met = false:
  // the model cannot be met; `out` holds nothing, the refusal is audited and the report
  // carries the reason and the best achievable figures. Errors: NotFound (no such profile),
  // PermissionDenied (grant, role or purpose), Conflict (customers changed between the two
  // passes so that the written rows would no longer meet the model: the caller must discard
  // `out`), Unavailable (output or audit not writable), and store errors.
  Result<DeidReleaseReport> Release(const Context& ctx, const DeidReleaseOptions& options,
                                    std::ostream& out);

  // The register, oldest first, at most `limit` (deid.read).
  Result<std::vector<store::DeidReleaseRow>> Releases(const Context& ctx, size_t limit);

  // Recomputes k, l and the risks of a released file over the profile's quasi-identifier and
  // sensitive columns (deid/check.h, which shares no code with the release), and whether they
  // meet the profile (deid.read). InvalidArgument for a malformed file.
  struct CheckReport {
    deid::FileCheck figures;
    bool meets = false;
  };
  Result<CheckReport> Check(const Context& ctx, std::string_view profile, deid::FileFormat format,
                            std::istream& in);

 private:
  VaultState* state_;
};

// The privacy model a profile asks for.
deid::PrivacyModel ModelOf(const schema::DeidProfileDef& profile);
// The columns of a profile's file, in order: every field not dropped.
std::vector<std::string> ReleaseColumns(const schema::DeidProfileDef& profile);
// The SHA-256 (hex) of a profile's canonical text: what the register names.
std::string ProfileSha256(const schema::DeidProfileDef& profile);
// JSON texts of the register: the parameters a profile asks for, and the figures achieved
// (levels named by quasi-identifier).
std::string ParametersJson(const schema::DeidProfileDef& profile, deid::FileFormat format);
std::string FiguresJson(const deid::Figures& figures, const std::vector<std::string>& quasi);

}  // namespace custos::vault
