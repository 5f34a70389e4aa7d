// Reading an X.509 certificate's validity period (issue 19: the doctor's TLS check, the
// security report). Only the dates: the TLS server itself (src/api) uses OpenSSL.
// Thread safety: a free function; safe from any thread.
#pragma once

#include <cstdint>
#include <filesystem>

#include "core/status.h"

namespace custos::crypto {

struct CertificateDates {
  int64_t not_before_ms = 0;  // ms since the Unix epoch
  int64_t not_after_ms = 0;
};

// The validity period of the first certificate of the PEM (or DER) file at `path`.
// NotFound: no such file. InvalidArgument: the file holds no certificate Botan can parse (the
// message names the file, not its contents).
Result<CertificateDates> ReadCertificateDates(const std::filesystem::path& path);

}  // namespace custos::crypto
