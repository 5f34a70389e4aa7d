// Config lookups and LoadConfig (file reading); parsing lives in config_parser.cpp.
#include "schema/config.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>

#include <fmt/format.h>

#include "schema/actions.h"

namespace custos::schema {
namespace {

template <typename Def>
const Def* FindByName(const std::vector<Def>& defs, std::string_view name) {
  auto it = std::find_if(defs.begin(), defs.end(), [&](const Def& d) { return d.name == name; });
  return it == defs.end() ? nullptr : &*it;
}

}  // namespace

const FieldDef* Config::FindField(std::string_view name) const { return FindByName(fields, name); }

const PurposeDef* Config::FindPurpose(std::string_view name) const {
  return FindByName(purposes, name);
}

const RecordKindDef* Config::FindRecordKind(std::string_view name) const {
  return FindByName(records, name);
}

const RetentionClassDef* Config::FindRetentionClass(std::string_view name) const {
  return FindByName(retention_classes, name);
}

const RoleDef* Config::FindRole(std::string_view name) const { return FindByName(roles, name); }

const PostDef* Config::FindPost(std::string_view name) const { return FindByName(posts, name); }

bool DpoConfig::RequiresPia(std::string_view what) const {
  return std::find(require_pia.begin(), require_pia.end(), what) != require_pia.end();
}

const OpsThresholds& OpsConfig::For(std::string_view post) const {
  for (const auto& [name, thresholds] : posts) {
    if (name == post) return thresholds;
  }
  return defaults;
}
const DeidProfileDef* Config::FindDeidProfile(std::string_view name) const {
  return FindByName(deid_profiles, name);
}

uint32_t SubjectRequestsConfig::DueDays(std::string_view kind) const {
  for (size_t i = 0; i < kSubjectRequestKinds.size(); ++i) {
    if (kSubjectRequestKinds[i] == kind) return due_days[i];
  }
  return 15;
}

bool IsDirectIdentifier(const FieldDef& field) {
  switch (field.type) {
    case FieldType::kIdCard:
    case FieldType::kMobile:
    case FieldType::kEmail:
    case FieldType::kBankCard:
    case FieldType::kPassword:
      return true;
    default:
      break;
  }
  return field.searchable || field.mask == "name" || field.mask == "address";
}

bool AdministersAccess(const RoleDef& role) {
  return std::any_of(role.grants.begin(), role.grants.end(), [](const GrantDef& g) {
    return std::any_of(g.actions.begin(), g.actions.end(), [](const std::string& a) {
      return a == "staff.manage" || a == "config.manage";
    });
  });
}

bool HandlesCustomerData(const RoleDef& role) {
  return std::any_of(role.grants.begin(), role.grants.end(), [](const GrantDef& g) {
    return std::any_of(g.actions.begin(), g.actions.end(), [](const std::string& a) {
      const std::optional<Action> action = ParseAction(a);
      return action.has_value() && Info(*action).data;
    });
  });
}

std::optional<std::pair<std::string, std::string>> Config::ForbiddenRolePair(
    const std::vector<std::string>& names) const {
  for (const std::string& a : names) {
    const RoleDef* admin = FindRole(a);
    if (admin == nullptr || !AdministersAccess(*admin)) continue;
    for (const std::string& d : names) {
      const RoleDef* data = FindRole(d);
      if (data == nullptr || !HandlesCustomerData(*data)) continue;
      const std::pair<std::string, std::string> pair{a, d};
      if (std::find(access.allowed_role_pairs.begin(), access.allowed_role_pairs.end(), pair) ==
          access.allowed_role_pairs.end()) {
        return pair;
      }
    }
  }
  return std::nullopt;
}

std::vector<const FieldDef*> Config::FieldsAt(Level level) const {
  std::vector<const FieldDef*> out;
  for (const FieldDef& f : fields) {
    if (f.level == level) out.push_back(&f);
  }
  return out;
}

Result<Config> LoadConfig(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return NotFound(fmt::format("{}: configuration file not found", path.string()));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open() || std::filesystem::is_directory(path, ec)) {
    return Unavailable(fmt::format("{}: cannot open the configuration file", path.string()));
  }
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) {
    return Unavailable(fmt::format("{}: cannot read the configuration file", path.string()));
  }
  return ParseConfig(text, path.string());
}

}  // namespace custos::schema
