// A partner's X.509 certificate (issue 17): parsed once when the partner is registered, kept as
// PEM, and used to encrypt every share to the partner (package.h). OpenSSL 3 does the parsing.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace custos::share {

// What Custos keeps of a certificate.
struct PartnerCertificate {
  std::string pem;      // the certificate alone, re-encoded as PEM
  std::string sha256;   // hex, of its DER: the fingerprint partners compare
  std::string subject;  // RFC 2253 text of the subject name
  int64_t not_before_ms = 0;
  int64_t not_after_ms = 0;
  std::string key_type;  // "RSA" or "EC": both can receive CMS EnvelopedData
};

// Parses the first certificate of `pem` (PEM text). InvalidArgument naming the field "cert"
// and the rule: not a PEM X.509 certificate, a public key CMS cannot encrypt to (RSA of at
// least 2048 bits, or EC), or a key usage that excludes encipherment.
Result<PartnerCertificate> ParseCertificate(std::string_view pem);

}  // namespace custos::share
