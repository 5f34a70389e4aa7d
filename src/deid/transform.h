// Field transforms of a release (issue 16 item 1) and the values derived from other fields.
//
// Every field a release profile names gets one rule:
//   drop          left out of the file;
//   keep          written as it is (for attributes that identify nobody, e.g. a sensitive
//                 attribute that l-diversity protects);
//   pseudonymise  HMAC-SHA256 (HMAC-SM3 on an sm4gcm vault) of the value under the release's
//                 key, 16 bytes in hex: equal values give equal pseudonyms within one key;
//   generalise    along a hierarchy (hierarchy.h) to the level the lattice search chose; the
//                 quasi-identifiers of the privacy model are exactly these fields;
//   suppress      "*" for every record;
//   top_bottom    amounts below `bottom` become "<bottom", above `top` ">top";
//   round         amounts rounded to the nearest multiple of `base` (half away from zero).
//
// Derived values (issue 16 item 1, GB 11643-1999): from an ID number its region code (six
// digits), birth year and gender; from an address its region code, found by the province,
// prefecture and county names it mentions (region_codes.h).
//
// Thread safety: pure functions; a Pseudonymiser is immutable and safe to share.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "crypto/primitives.h"
#include "deid/hierarchy.h"

namespace custos::deid {

enum class TransformKind : uint8_t {
  kDrop,
  kKeep,
  kPseudonymise,
  kGeneralise,
  kSuppress,
  kTopBottom,
  kRound,
};

// "drop", "keep", ...; ParseTransform: InvalidArgument naming the accepted names.
std::string_view TransformName(TransformKind kind);
Result<TransformKind> ParseTransform(std::string_view name);
std::string_view TransformNames();

// One field's rule. `hierarchy` is set for kGeneralise; bottom/top (either may be absent) for
// kTopBottom, in hundredths; round_base (> 0, in hundredths) for kRound.
struct FieldRule {
  std::string field;
  TransformKind kind = TransformKind::kDrop;
  std::optional<Hierarchy> hierarchy;
  bool sensitive = false;  // a sensitive attribute of the privacy model (l-diversity, t)
  std::optional<int64_t> bottom_cents;
  std::optional<int64_t> top_cents;
  int64_t round_base_cents = 100;
};

// The value `rule` writes for `value` (kGeneralise at `level`; other kinds ignore it). Not for
// kDrop (no value) or kPseudonymise (needs the key: Pseudonymiser). A value that is not an
// amount under kTopBottom / kRound becomes "*".
std::string ApplyRule(const FieldRule& rule, std::string_view value, int level);

// Keyed pseudonyms. The key is the release's (random, never stored: two releases cannot be
// joined) or the profile's (when it is joinable; kept by the vault).
class Pseudonymiser {
 public:
  // InvalidArgument on an empty key.
  static Result<std::unique_ptr<Pseudonymiser>> New(crypto::Suite suite,
                                                    const crypto::SecretBytes& key);
  // 32 hex characters: the first 16 bytes of the MAC of `field` 0x00 `value` (the field name
  // separates pseudonyms of equal values in different fields).
  std::string Pseudonym(std::string_view field, std::string_view value) const;

 private:
  explicit Pseudonymiser(std::unique_ptr<crypto::Mac> mac) : mac_(std::move(mac)) {}
  std::unique_ptr<crypto::Mac> mac_;
};

// What a normalised ID number states: region code, birth year, gender ("M"/"F"). nullopt if
// the number does not parse (core::ParseIdCardNumber).
struct IdDerived {
  std::string region_code;
  std::string birth_year;
  std::string gender;
};
std::optional<IdDerived> DeriveFromIdNumber(std::string_view id_number);

// The region code (six digits: county "440305", else prefecture "440300", else province
// "440000") of the place an address names; empty if it names no mainland province.
std::string RegionOfAddress(std::string_view address);

}  // namespace custos::deid
