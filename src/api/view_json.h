// The JSON shapes of the vault's views in API responses (docs/openapi.yaml, components).
// Field values are the vault's output as they are: already masked or omitted by the vault.
//
// Thread safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include "vault/vault.h"

namespace custos::api {

nlohmann::json CustomerJson(const vault::CustomerView& view);
nlohmann::json TransactionJson(const vault::TransactionView& view);
nlohmann::json NoteJson(const vault::NoteView& view);
// Also the shape of `custos staff list --json`: one shape for the CLI and the API.
nlohmann::json StaffJson(const vault::StaffView& view);

// Serialises without throwing on invalid UTF-8 (replaced by U+FFFD).
std::string Dump(const nlohmann::json& doc);

}  // namespace custos::api
