#pragma once
// The one SHA-256 in lower-case hex that documents, files and packages are named by (plans,
// certificates, evidence, share packages, agreements). Always SHA-256, whatever the vault's
// suite: the digests are compared outside the vault (sha256sum, a partner's tools).
#include <string>
#include <string_view>

namespace custos::crypto {

std::string Sha256Hex(std::string_view bytes);

}  // namespace custos::crypto
