#include "crypto/x509.h"

#include <botan/x509cert.h>
#include <fmt/format.h>

#include <system_error>

namespace custos::crypto {

Result<CertificateDates> ReadCertificateDates(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return NotFound(fmt::format("certificate {}: no such file", path.string()));
  }
  try {
    const Botan::X509_Certificate cert(path.string());
    CertificateDates dates;
    dates.not_before_ms = static_cast<int64_t>(cert.not_before().time_since_epoch()) * 1000;
    dates.not_after_ms = static_cast<int64_t>(cert.not_after().time_since_epoch()) * 1000;
    return dates;
  } catch (const std::exception&) {
    return InvalidArgument(
        fmt::format("certificate {}: not a PEM or DER X.509 certificate", path.string()));
  }
}

}  // namespace custos::crypto
