// The encrypted package of a share (issue 17; docs/sharing.md): CMS EnvelopedData (RFC 5652)
// to the partner's certificate, AES-256-CBC content encryption, written as S/MIME so that the
// partner opens it with standard tools and no Custos:
//   openssl cms -decrypt -in FILE -inkey key.pem -recip cert.pem -out shared.csv
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace custos::share {

// `content` encrypted to the certificate `cert_pem`, as S/MIME text. InvalidArgument "cert: ..."
// for a certificate OpenSSL cannot parse; Internal when OpenSSL fails to encrypt.
Result<std::string> SealForRecipient(std::string_view cert_pem, std::string_view content);

// Test and trace helper: `smime` opened with the recipient's certificate and private key (PEM).
// PermissionDenied when the key is not the recipient's; InvalidArgument for malformed input.
Result<std::string> OpenAsRecipient(std::string_view smime, std::string_view cert_pem,
                                    std::string_view key_pem);

}  // namespace custos::share
