// Roles, their grants, and posts. Every check here turns a typo in the access policy into a
// load error: a misspelt action or purpose would otherwise silently grant nothing (or, worse,
// a misspelt level would be read as a different one).
#include "schema/internal/role_section.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "schema/actions.h"

namespace custos::schema::internal {
namespace {

constexpr std::array<std::string_view, 3> kRoleKeys = {"label", "description", "grants"};
constexpr std::array<std::string_view, 5> kGrantKeys = {"actions", "levels", "purposes", "effect",
                                                        "requires_training"};
constexpr std::array<std::string_view, 2> kPostKeys = {"label", "roles"};
constexpr std::array<std::string_view, 3> kLevelNames = {
    LevelName(Level::kGeneral), LevelName(Level::kInternal), LevelName(Level::kConfidential)};

bool IsIdentifier(std::string_view name) {
  if (name.empty() || name.size() > 63 || name[0] < 'a' || name[0] > 'z') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

template <typename T>
bool HasDuplicate(const std::vector<T>& items) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (std::find(items.begin() + static_cast<std::ptrdiff_t>(i) + 1, items.end(), items[i]) !=
        items.end()) {
      return true;
    }
  }
  return false;
}

// The names of the grantable actions (only the data actions when `data_only`).
std::vector<std::string_view> ActionNames(bool data_only) {
  std::vector<std::string_view> out;
  for (const ActionInfo& info : AllActions()) {
    if (info.grantable && (!data_only || info.data)) out.push_back(info.name);
  }
  return out;
}

// `name` for an error message: a configuration value, shown unless it is not printable.
std::string PrintableName(std::string_view name) {
  if (name.size() > 64) return "(too long)";
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return "(unprintable)";
  }
  return std::string(name);
}

Result<std::vector<std::string>> ReadActions(const TomlSection& g, bool& data, bool& writes) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<std::string> actions, g.StringList("actions", true));
  if (actions.empty()) return g.Error("actions", "must name at least one action");
  if (HasDuplicate(actions)) return g.Error("actions", "names an action twice");
  size_t data_count = 0;
  for (const std::string& a : actions) {
    const std::optional<Action> action = ParseGrantableAction(a);
    if (!action.has_value()) {
      return g.Error("actions", fmt::format("unknown action '{}' (expected names from {})",
                                            PrintableName(a), JoinNames(ActionNames(false))));
    }
    if (Info(*action).data) ++data_count;
    if (Info(*action).writes) writes = true;
  }
  if (data_count != 0 && data_count != actions.size()) {
    return g.Error("actions", fmt::format("mixes data actions ({}) with other actions; put "
                                          "them in separate grants",
                                          JoinNames(ActionNames(true))));
  }
  data = data_count != 0;
  return actions;
}

Result<std::vector<Level>> ReadLevels(const TomlSection& g, bool data) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<std::string> names, g.StringList("levels", false));
  if (!data) {
    if (g.Has("levels")) return g.Error("levels", "only data actions are granted per level");
    return std::vector<Level>{};
  }
  if (names.empty()) return g.Error("levels", "a grant of data actions needs at least one level");
  if (HasDuplicate(names)) return g.Error("levels", "names a level twice");
  std::vector<Level> out;
  for (const std::string& n : names) {
    if (!ParseLevel(n)) {
      return g.Error("levels", fmt::format("must be one of {}", JoinNames(kLevelNames)));
    }
    out.push_back(*ParseLevel(n));
  }
  return out;
}

Result<std::vector<std::string>> ReadGrantPurposes(const TomlSection& g, bool data,
                                                   const std::vector<PurposeDef>& purposes) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<std::string> names, g.StringList("purposes", false));
  if (data && names.empty()) {
    return g.Error("purposes", "a grant of data actions needs at least one purpose (P3.3a)");
  }
  if (HasDuplicate(names)) return g.Error("purposes", "names a purpose twice");
  for (const std::string& n : names) {
    const bool known = std::any_of(purposes.begin(), purposes.end(),
                                   [&](const PurposeDef& p) { return p.name == n; });
    if (!known) return g.Error("purposes", "must name purposes declared in [purposes]");
  }
  return names;
}

Result<GrantDef> ReadGrant(const TomlSection& g, const std::vector<PurposeDef>& purposes) {
  CUSTOS_RETURN_IF_ERROR(g.RejectUnknownKeys(kGrantKeys));
  GrantDef grant;
  grant.line = g.line();
  bool data = false;
  bool writes = false;
  CUSTOS_ASSIGN_OR_RETURN(grant.actions, ReadActions(g, data, writes));
  CUSTOS_ASSIGN_OR_RETURN(grant.levels, ReadLevels(g, data));
  CUSTOS_ASSIGN_OR_RETURN(grant.purposes, ReadGrantPurposes(g, data, purposes));
  CUSTOS_ASSIGN_OR_RETURN(std::string effect, g.Choice("effect", kGrantEffects, "allow"));
  grant.effect = effect == "mask" ? GrantEffect::kMask : GrantEffect::kAllow;
  if (grant.effect == GrantEffect::kMask && (writes || !data)) {
    return g.Error("effect",
                   "\"mask\" applies to reading data only; a grant that writes or "
                   "names non-data actions must use \"allow\"");
  }
  const bool confidential = std::find(grant.levels.begin(), grant.levels.end(),
                                      Level::kConfidential) != grant.levels.end();
  CUSTOS_ASSIGN_OR_RETURN(grant.requires_training, g.String("requires_training", ""));
  if (confidential && grant.requires_training.empty()) {
    return g.Error("requires_training",
                   "a grant covering confidential must name the "
                   "training course it needs (P5b)");
  }
  if (!confidential && g.Has("requires_training")) {
    return g.Error("requires_training", "only a grant covering confidential needs training");
  }
  return grant;
}

}  // namespace

Result<std::vector<RoleDef>> ReadRoles(const TomlSection& s,
                                       const std::vector<PurposeDef>& purposes) {
  CUSTOS_ASSIGN_OR_RETURN(auto entries, s.NamedTables());
  std::vector<RoleDef> out;
  for (const auto& [name, entry] : entries) {
    if (!IsIdentifier(name)) {
      return entry.TableError("a role name must match [a-z][a-z0-9_]{0,62}");
    }
    CUSTOS_RETURN_IF_ERROR(entry.RejectUnknownKeys(kRoleKeys));
    RoleDef role;
    role.name = name;
    CUSTOS_ASSIGN_OR_RETURN(role.label, entry.String("label"));
    CUSTOS_ASSIGN_OR_RETURN(role.description, entry.String("description"));
    CUSTOS_ASSIGN_OR_RETURN(std::vector<TomlSection> grants, entry.TableArray("grants"));
    for (const TomlSection& g : grants) {
      CUSTOS_ASSIGN_OR_RETURN(GrantDef grant, ReadGrant(g, purposes));
      role.grants.push_back(std::move(grant));
      // Separation of duties: one role never both administers access and handles data.
      if (AdministersAccess(role) && HandlesCustomerData(role)) {
        return g.Error("actions",
                       "separation of duties: a role that administers access "
                       "(staff.manage, config.manage) cannot also grant data actions; "
                       "put them in separate roles");
      }
    }
    out.push_back(std::move(role));
  }
  return out;
}

Result<std::vector<PostDef>> ReadPosts(const TomlSection& s, const std::vector<RoleDef>& roles) {
  CUSTOS_ASSIGN_OR_RETURN(auto entries, s.NamedTables());
  std::vector<PostDef> out;
  for (const auto& [name, entry] : entries) {
    if (!IsIdentifier(name)) {
      return entry.TableError("a post name must match [a-z][a-z0-9_]{0,62}");
    }
    CUSTOS_RETURN_IF_ERROR(entry.RejectUnknownKeys(kPostKeys));
    PostDef post;
    post.name = name;
    CUSTOS_ASSIGN_OR_RETURN(post.label, entry.String("label"));
    CUSTOS_ASSIGN_OR_RETURN(post.roles, entry.StringList("roles", true));
    if (HasDuplicate(post.roles)) return entry.Error("roles", "names a role twice");
    for (const std::string& r : post.roles) {
      const bool known =
          std::any_of(roles.begin(), roles.end(), [&](const RoleDef& d) { return d.name == r; });
      if (!known) return entry.Error("roles", "must name roles declared in [roles]");
    }
    out.push_back(std::move(post));
  }
  return out;
}

Status CheckSeparation(const TomlSection& posts, const TomlSection& access, const Config& c) {
  for (const auto& [admin, data] : c.access.allowed_role_pairs) {
    const RoleDef* a = c.FindRole(admin);
    const RoleDef* d = c.FindRole(data);
    if (a == nullptr || d == nullptr || !AdministersAccess(*a) || !HandlesCustomerData(*d)) {
      return access.Error("allowed_role_pairs",
                          "each entry must be \"ADMIN_ROLE+DATA_ROLE\": a declared role that "
                          "administers access, then a declared role that handles customer data");
    }
  }
  CUSTOS_ASSIGN_OR_RETURN(auto entries, posts.NamedTables());
  for (const auto& [name, entry] : entries) {
    const PostDef* post = c.FindPost(name);
    if (post == nullptr) continue;
    if (auto pair = c.ForbiddenRolePair(post->roles); pair.has_value()) {
      return entry.Error("roles", fmt::format("separation of duties: '{}' administers access and "
                                              "'{}' handles customer data; list the pair in "
                                              "[access] allowed_role_pairs to allow it",
                                              pair->first, pair->second));
    }
  }
  return Status::Ok();
}

}  // namespace custos::schema::internal
