#include "deid/transform.h"

#include <fmt/format.h>

#include <array>
#include <cstdlib>
#include <map>
#include <vector>

#include "core/region_codes.h"
#include "core/validators.h"

namespace custos::deid {
namespace {

constexpr std::array<std::pair<std::string_view, TransformKind>, 7> kTransforms = {{
    {"drop", TransformKind::kDrop},
    {"keep", TransformKind::kKeep},
    {"pseudonymise", TransformKind::kPseudonymise},
    {"generalise", TransformKind::kGeneralise},
    {"suppress", TransformKind::kSuppress},
    {"top_bottom", TransformKind::kTopBottom},
    {"round", TransformKind::kRound},
}};

std::string TopBottom(const FieldRule& rule, std::string_view value) {
  const std::optional<int64_t> cents = ParseCents(value);
  if (!cents) return "*";
  if (rule.bottom_cents && *cents < *rule.bottom_cents) {
    return "<" + CentsText(*rule.bottom_cents);
  }
  if (rule.top_cents && *cents > *rule.top_cents) return ">" + CentsText(*rule.top_cents);
  return CentsText(*cents);
}

std::string Round(const FieldRule& rule, std::string_view value) {
  const std::optional<int64_t> cents = ParseCents(value);
  if (!cents) return "*";
  const int64_t base = rule.round_base_cents;
  const int64_t half = base / 2;
  const int64_t magnitude = (std::abs(*cents) + half) / base * base;
  return CentsText(*cents < 0 ? -magnitude : magnitude);
}

// Province name -> its two-digit code, and prefecture name -> four-digit code per province.
struct PlaceNames {
  std::vector<std::pair<std::string_view, std::string>> provinces;
  std::map<std::string, std::vector<std::pair<std::string_view, std::string>>> prefectures;
  std::map<std::string, std::vector<const core::Region*>> counties;  // by province code
};

const PlaceNames& Places() {
  static const PlaceNames names = [] {
    PlaceNames p;
    for (int code = 11; code <= 99; ++code) {
      const std::string c2 = fmt::format("{}", code);
      const std::string_view name = core::ProvinceName(c2);
      if (name.empty()) continue;
      p.provinces.emplace_back(name, c2);
      for (int f = 1; f <= 99; ++f) {
        const std::string c4 = fmt::format("{}{:02}", c2, f);
        const std::string_view pref = core::PrefectureName(c4);
        if (!pref.empty()) p.prefectures[c2].emplace_back(pref, c4);
      }
    }
    for (const core::Region& r : core::KnownRegions()) {
      if (!r.county.empty()) p.counties[std::string(r.code.substr(0, 2))].push_back(&r);
    }
    return p;
  }();
  return names;
}

}  // namespace

std::string_view TransformName(TransformKind kind) {
  for (const auto& [name, k] : kTransforms) {
    if (k == kind) return name;
  }
  return "drop";
}

Result<TransformKind> ParseTransform(std::string_view name) {
  for (const auto& [n, k] : kTransforms) {
    if (n == name) return k;
  }
  return InvalidArgument(fmt::format("must be one of {}", TransformNames()));
}

std::string_view TransformNames() {
  return "drop, keep, pseudonymise, generalise, suppress, top_bottom, round";
}

std::string ApplyRule(const FieldRule& rule, std::string_view value, int level) {
  switch (rule.kind) {
    case TransformKind::kKeep:
      return std::string(value);
    case TransformKind::kGeneralise:
      return rule.hierarchy ? rule.hierarchy->Generalise(value, level) : "*";
    case TransformKind::kTopBottom:
      return TopBottom(rule, value);
    case TransformKind::kRound:
      return Round(rule, value);
    case TransformKind::kSuppress:
    case TransformKind::kDrop:
    case TransformKind::kPseudonymise:
      return "*";
  }
  return "*";
}

Result<std::unique_ptr<Pseudonymiser>> Pseudonymiser::New(crypto::Suite suite,
                                                          const crypto::SecretBytes& key) {
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<crypto::Mac> mac, crypto::Mac::New(suite, key));
  return std::unique_ptr<Pseudonymiser>(new Pseudonymiser(std::move(mac)));
}

std::string Pseudonymiser::Pseudonym(std::string_view field, std::string_view value) const {
  std::string message(field);
  message.push_back('\0');
  message.append(value);
  crypto::Bytes tag = mac_->Compute(crypto::AsBytes(message));
  tag.resize(16);
  return crypto::ToHex(tag);
}

std::optional<IdDerived> DeriveFromIdNumber(std::string_view id_number) {
  Result<core::IdCardFacts> facts = core::ParseIdCardNumber(id_number);
  if (!facts.ok()) return std::nullopt;
  return IdDerived{facts->region_code, facts->birth_date.substr(0, 4),
                   std::string(1, facts->gender)};
}

std::string RegionOfAddress(std::string_view address) {
  const PlaceNames& places = Places();
  for (const auto& [province, c2] : places.provinces) {
    if (address.find(province) == std::string_view::npos) continue;
    std::string code = c2 + "0000";
    size_t best = 0;
    auto it = places.prefectures.find(c2);
    for (size_t i = 0; it != places.prefectures.end() && i < it->second.size(); ++i) {
      const auto& [pref, c4] = it->second[i];
      if (pref.size() > best && address.find(pref) != std::string_view::npos) {
        code = c4 + "00";
        best = pref.size();
      }
    }
    auto counties = places.counties.find(c2);
    if (counties == places.counties.end()) return code;
    for (const core::Region* r : counties->second) {
      if (best > 0 && r->code.substr(0, 4) != std::string_view(code).substr(0, 4)) continue;
      if (address.find(r->county) != std::string_view::npos) return std::string(r->code);
    }
    return code;
  }
  return {};
}

}  // namespace custos::deid
