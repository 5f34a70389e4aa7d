#include "share/package.h"

#include <openssl/err.h>

#include "share/openssl_handles.h"

namespace custos::share {
namespace {

using internal::BioPtr;
using internal::CmsPtr;
using internal::PkeyPtr;
using internal::X509Ptr;

}  // namespace

Result<std::string> SealForRecipient(std::string_view cert_pem, std::string_view content) {
  X509Ptr cert = internal::ReadCertificate(cert_pem);
  if (cert == nullptr) return InvalidArgument("cert: not a PEM X.509 certificate");
  STACK_OF(X509)* recipients = sk_X509_new_null();
  if (recipients == nullptr) return Internal("package: out of memory");
  sk_X509_push(recipients, cert.get());
  BioPtr in = internal::ReadBio(content);
  // CMS_BINARY: the content is bytes (the CSV as written), never turned into MIME text.
  CmsPtr cms(CMS_encrypt(recipients, in.get(), EVP_aes_256_cbc(), CMS_BINARY));
  sk_X509_free(recipients);  // the certificate itself stays owned by `cert`
  if (cms == nullptr) {
    ERR_clear_error();
    return Internal("package: CMS encryption to the partner's certificate failed");
  }
  BioPtr out(BIO_new(BIO_s_mem()));
  if (SMIME_write_CMS(out.get(), cms.get(), nullptr, CMS_BINARY) != 1) {
    ERR_clear_error();
    return Internal("package: the S/MIME text cannot be written");
  }
  return internal::BioText(out.get());
}

Result<std::string> OpenAsRecipient(std::string_view smime, std::string_view cert_pem,
                                    std::string_view key_pem) {
  X509Ptr cert = internal::ReadCertificate(cert_pem);
  if (cert == nullptr) return InvalidArgument("cert: not a PEM X.509 certificate");
  BioPtr key_bio = internal::ReadBio(key_pem);
  PkeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) return InvalidArgument("key: not a PEM private key");
  BioPtr in = internal::ReadBio(smime);
  BIO* content = nullptr;
  CmsPtr cms(SMIME_read_CMS(in.get(), &content));
  BIO_free(content);
  if (cms == nullptr) {
    ERR_clear_error();
    return InvalidArgument("package: not an S/MIME CMS message");
  }
  BioPtr out(BIO_new(BIO_s_mem()));
  if (CMS_decrypt(cms.get(), key.get(), cert.get(), nullptr, out.get(), CMS_BINARY) != 1) {
    ERR_clear_error();
    return PermissionDenied("package: this key is not the recipient's");
  }
  return internal::BioText(out.get());
}

}  // namespace custos::share
