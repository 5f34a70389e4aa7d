// Fingerprints of shares (issue 17 item 4; docs/sharing.md, "Tracing a leak"). Each share
// carries two marks tied to a secret of its own (its fingerprint key, which the vault derives
// from its signing key and the share id and never writes anywhere):
//   * keyed, meaning-preserving choices: every value with equivalent spellings — a mobile
//     number (13800138000, 138-0013-8000, 138 0013 8000, 0086 13800138000;
//     no spelling starts with a character a spreadsheet reads as a formula), an e-mail's domain
//     in lower or upper case, a date with - or /, an ID number's check character x or X — is
//     written in the spelling an HMAC of the key and the value itself picks. Keyed on the
//     value, not on its row or column, the choice survives re-sorting, dropped columns and
//     sampling: any cell of a leaked copy is evidence on its own;
//   * canary rows: plausible customers that exist nowhere else (their reference, mobile,
//     e-mail and ID number are drawn from the key), mixed into the package.
// Tracing a copy scores every recorded share: how many distinct spellings agree with what the
// share's key picks, against what chance gives (a Hoeffding bound on the probability that
// another share, or none, agrees as well), and whether a canary value appears.
// Thread safety: pure functions; a Tracer is a plain value used from one thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace custos::share {

using FingerprintKey = std::array<uint8_t, 32>;

// HMAC-SHA256 of `message` under `key`.
std::array<uint8_t, 32> Hmac(const FingerprintKey& key, std::string_view message);
// The key of one share, derived from the vault's fingerprint secret and the share id.
FingerprintKey ShareKey(std::string_view vault_secret, std::string_view share_id);

// A value with equivalent spellings, recognised in any of them.
struct Spelling {
  int kind = 0;           // 1 mobile, 2 e-mail, 3 date, 4 ID number with X
  std::string canonical;  // the value in its one canonical form
  int variant = 0;        // which spelling the cell uses
  int variants = 1;       // how many there are
};
// nullopt for a value with a single spelling.
std::optional<Spelling> Recognise(std::string_view value);
// `canonical` (of `kind`) written as spelling `variant`.
std::string Spell(int kind, std::string_view canonical, int variant);
// `value` in the spelling the key picks (unchanged when it has one spelling).
std::string Mark(const FingerprintKey& key, std::string_view value);

// A reference for a customer the partner may keep (stable for one partner, different for
// each partner): "R" and 16 hex digits of an HMAC under `partner_key`.
std::string PartnerReference(const FingerprintKey& partner_key, std::string_view customer_id);

// How many canary rows a share of `rows` customers carries: 2% of the rows, 2 to 500.
int64_t CanaryCount(int64_t rows);
// The value of canary row `index` for a column whose catalogue validator is `validator`
// (core/validators.h names: cn_mobile, email, gb11643, date, gender, bank_card; "ref" for the
// reference column); empty for a column whose canary value the caller copies from a real row.
std::string CanaryValue(const FingerprintKey& key, int64_t index, std::string_view validator);
// The canary value of canary row `index` in a pseudonym column `column` of a share under a
// de-identification profile: 32 lower-case hex digits of an HMAC under the share's key, the
// form the release's pseudonyms take (deid::Pseudonymiser, a joinable profile's blind index).
std::string CanaryPseudonym(const FingerprintKey& key, int64_t index, std::string_view column);
// A keyed choice in [0, n) for `what` (which real row a canary copies a free-text value
// from, where a canary row goes).
uint64_t KeyedChoice(const FingerprintKey& key, std::string_view what, uint64_t n);

// What tracing found for one share.
struct TraceScore {
  std::string share_id;
  int64_t spellings = 0;  // distinct values of the copy with several spellings
  int64_t agreeing = 0;   // of them, those spelled as the share's key picks
  double expected = 0;    // how many would agree by chance
  int64_t canary_hits = 0;
  double log10_chance = 0;  // log10 of the bound on the chance of such agreement (<= 0)
  double confidence = 0;    // 0 .. 1
  bool matches = false;
};

// Scores a copy against shares. Add each share (its id, key and canary values, canonical),
// then Score the cells of the copy (any order, any columns).
class Tracer {
 public:
  void AddShare(std::string share_id, const FingerprintKey& key, std::set<std::string> canaries);
  // Best first (matches, then confidence, then agreement).
  std::vector<TraceScore> Score(const std::vector<std::string>& cells) const;

 private:
  struct Candidate {
    std::string share_id;
    FingerprintKey key;
    std::set<std::string> canaries;
  };
  std::vector<Candidate> shares_;
};

}  // namespace custos::share
