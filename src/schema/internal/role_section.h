// ReadRoles / ReadPosts: the [roles] and [posts] tables of custos.toml (issue 3, P3.2b).
//
// Internal to the schema component; config_parser.cpp calls them after the purposes, which
// grants refer to. The rules are listed in config.h. Thread safety: pure functions.
#pragma once

#include <vector>

#include "core/status.h"
#include "schema/config.h"
#include "schema/internal/toml_section.h"

namespace custos::schema::internal {

// Success: the roles in file order, each grant checked against the action, level and purpose
// vocabularies. Failure: InvalidArgument "FILE:LINE: key 'roles.NAME.grants[i].KEY': RULE".
Result<std::vector<RoleDef>> ReadRoles(const TomlSection& s,
                                       const std::vector<PurposeDef>& purposes);

// Success: the posts in file order. Failure: InvalidArgument naming the key, e.g. a role that
// is not declared in [roles].
Result<std::vector<PostDef>> ReadPosts(const TomlSection& s, const std::vector<RoleDef>& roles);

// Separation of duties (docs/security.md): every [access] allowed_role_pairs entry names an
// administrative and a data role, and no post combines such roles unless the pair is allowed.
// InvalidArgument naming the line otherwise.
Status CheckSeparation(const TomlSection& posts, const TomlSection& access, const Config& c);

}  // namespace custos::schema::internal
