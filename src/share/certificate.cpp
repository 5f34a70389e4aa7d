#include "share/certificate.h"

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "crypto/digest.h"
#include "share/openssl_handles.h"
#include "share/package.h"

namespace custos::share {
namespace {

using internal::BioPtr;
using internal::X509Ptr;

// An ASN1_TIME as milliseconds since the epoch; false when it does not convert.
bool ToMs(const ASN1_TIME* t, int64_t& ms) {
  struct tm parts {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &parts) != 1) return false;
  ms = static_cast<int64_t>(timegm(&parts)) * 1000;
  return true;
}

}  // namespace

Result<PartnerCertificate> ParseCertificate(std::string_view pem) {
  X509Ptr cert = internal::ReadCertificate(pem);
  if (cert == nullptr) return InvalidArgument("cert: not a PEM X.509 certificate");
  PartnerCertificate out;
  EVP_PKEY* key = X509_get0_pubkey(cert.get());
  if (key == nullptr) return InvalidArgument("cert: the certificate's public key cannot be read");
  switch (EVP_PKEY_base_id(key)) {
    case EVP_PKEY_RSA:
      if (EVP_PKEY_bits(key) < 2048) {
        return InvalidArgument("cert: an RSA key must have at least 2048 bits");
      }
      out.key_type = "RSA";
      break;
    case EVP_PKEY_EC:
      out.key_type = "EC";
      break;
    default:
      return InvalidArgument(
          "cert: the public key must be RSA or EC (CMS EnvelopedData key transport or agreement)");
  }
  const uint32_t usage = X509_get_key_usage(cert.get());
  if (usage != UINT32_MAX &&
      (usage & (KU_KEY_ENCIPHERMENT | KU_KEY_AGREEMENT | KU_DATA_ENCIPHERMENT)) == 0) {
    return InvalidArgument(
        "cert: its key usage allows no encipherment (keyEncipherment or keyAgreement needed)");
  }
  if (!ToMs(X509_get0_notBefore(cert.get()), out.not_before_ms) ||
      !ToMs(X509_get0_notAfter(cert.get()), out.not_after_ms)) {
    return InvalidArgument("cert: its validity dates cannot be read");
  }
  BioPtr subject(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(subject.get(), X509_get_subject_name(cert.get()), 0, XN_FLAG_RFC2253);
  out.subject = internal::BioText(subject.get());
  BioPtr pem_out(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(pem_out.get(), cert.get()) != 1) {
    return Internal("cert: the certificate cannot be re-encoded");
  }
  out.pem = internal::BioText(pem_out.get());
  unsigned char* der = nullptr;
  const int n = i2d_X509(cert.get(), &der);
  if (n <= 0) return Internal("cert: the certificate cannot be encoded as DER");
  out.sha256 = crypto::Sha256Hex(
      std::string_view(reinterpret_cast<const char*>(der), static_cast<size_t>(n)));
  OPENSSL_free(der);
  return out;
}

}  // namespace custos::share
