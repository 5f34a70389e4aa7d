// A self-signed TLS certificate for the demo: `custos init` writes one into the vault so that
// `custos serve` speaks HTTPS from the first run. Production replaces it with the company's
// certificate ([server] cert and key in custos.toml).
//
// The key is ECDSA P-256, made by OpenSSL 3's EVP API; the certificate is X.509 v3, valid for
// `valid_days` from now, with CN and subjectAltName DNS:localhost, IP:127.0.0.1 and IP:::1,
// and basicConstraints CA:FALSE. The key file is written with mode 0600 (created so, never
// widened later); neither file is overwritten if it exists.
//
// Thread safety: safe to call concurrently for different paths.
#pragma once

#include <cstdint>
#include <filesystem>

#include "core/env.h"
#include "core/status.h"

namespace custos::api {

// Success: both PEM files written (the key 0600, the certificate 0600), each through `env` as a
// temporary file fsynced and linked into place (Env::CreateFileAtomic) with its directory
// fsynced; missing parent directories are created (mode 0700, fsynced).
// Conflict: either file already exists (nothing written).
// Unavailable: a file or directory cannot be created or written; the message names it.
// Neither file is then left behind, whole or partial (the key is removed again if the
// certificate fails).
// Internal: OpenSSL fails to make the key or certificate.
Status WriteSelfSignedCertificate(const std::filesystem::path& cert_path,
                                  const std::filesystem::path& key_path, uint32_t valid_days = 825,
                                  Env& env = Env::Default());

}  // namespace custos::api
