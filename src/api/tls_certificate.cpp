#include "api/tls_certificate.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fmt/format.h>

#include <memory>
#include <string>
#include <system_error>

namespace custos::api {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct ExtFree {
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

Status AddExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, ExtFree> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return Internal("tls: cannot add a certificate extension");
  }
  return Status::Ok();
}

Result<Cert> MakeCertificate(EVP_PKEY* key, uint32_t valid_days) {
  Cert cert(X509_new());
  if (!cert) return Internal("tls: cannot allocate a certificate");
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return Internal("tls: no randomness for a serial");
  serial[0] &= 0x7F;  // a positive INTEGER
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  const bool serial_ok = bn != nullptr && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  if (!serial_ok) return Internal("tls: cannot set the serial number");
  X509_NAME* name = X509_get_subject_name(cert.get());
  const auto* cn = reinterpret_cast<const unsigned char*>("custos demo (self-signed)");
  const bool ok = X509_set_version(cert.get(), 2) == 1 &&
                  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300) != nullptr &&
                  X509_gmtime_adj(X509_getm_notAfter(cert.get()),
                                  static_cast<long>(valid_days) * 86400L) != nullptr &&
                  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, cn, -1, -1, 0) == 1 &&
                  X509_set_issuer_name(cert.get(), name) == 1 &&
                  X509_set_pubkey(cert.get(), key) == 1;
  if (!ok) return Internal("tls: cannot fill in the certificate");
  CUSTOS_RETURN_IF_ERROR(AddExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  CUSTOS_RETURN_IF_ERROR(AddExtension(cert.get(), NID_key_usage, "critical,digitalSignature"));
  CUSTOS_RETURN_IF_ERROR(AddExtension(cert.get(), NID_ext_key_usage, "serverAuth"));
  CUSTOS_RETURN_IF_ERROR(
      AddExtension(cert.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1"));
  if (X509_sign(cert.get(), key, EVP_sha256()) <= 0) return Internal("tls: cannot sign");
  return cert;
}

// PEM text from a writer such as PEM_write_bio_X509.
template <typename Write>
Result<std::string> ToPem(Write write) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) return Internal("tls: cannot encode PEM");
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

// Creates `path` with `mode` through the Env (never replaces a file; a failure leaves none).
Status WriteNewFile(Env& env, const std::filesystem::path& path, const std::string& text,
                    uint32_t mode) {
  Status st = env.CreateFileAtomic(path, text, mode);
  if (st.ok()) return st;
  if (st.code() == Code::kConflict) {
    return Conflict(fmt::format("tls: {} already exists", path.string()));
  }
  return Unavailable(fmt::format("tls: cannot write {}: {}", path.string(), st.message()));
}

}  // namespace

Status WriteSelfSignedCertificate(const std::filesystem::path& cert_path,
                                  const std::filesystem::path& key_path, uint32_t valid_days,
                                  Env& env) {
  if (env.FileExists(cert_path) || env.FileExists(key_path)) {
    return Conflict("tls: a certificate or key file already exists");
  }
  Pkey key(EVP_EC_gen("P-256"));
  if (!key) return Internal("tls: cannot generate a P-256 key");
  CUSTOS_ASSIGN_OR_RETURN(Cert cert, MakeCertificate(key.get(), valid_days));
  CUSTOS_ASSIGN_OR_RETURN(std::string key_pem, ToPem([&](BIO* b) {
                            return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0,
                                                            nullptr, nullptr);
                          }));
  CUSTOS_ASSIGN_OR_RETURN(std::string cert_pem,
                          ToPem([&](BIO* b) { return PEM_write_bio_X509(b, cert.get()); }));
  for (const auto& p : {cert_path, key_path}) {
    if (!p.has_parent_path()) continue;
    if (Status st = env.CreateDirDurable(p.parent_path(), 0700); !st.ok()) {
      OPENSSL_cleanse(key_pem.data(), key_pem.size());
      return Unavailable(
          fmt::format("tls: cannot create the directory of {}: {}", p.string(), st.message()));
    }
  }
  Status key_written = WriteNewFile(env, key_path, key_pem, 0600);
  // key_pem holds the private key in a plain std::string: scrub it before it is freed.
  OPENSSL_cleanse(key_pem.data(), key_pem.size());
  CUSTOS_RETURN_IF_ERROR(key_written);
  Status written = WriteNewFile(env, cert_path, cert_pem, 0600);
  if (!written.ok()) {
    // Both or neither: a key without its certificate is taken away again.
    Status removed = env.RemoveFile(key_path);
    if (removed.ok()) removed = env.SyncDir(Env::DirOf(key_path));
    if (!removed.ok()) {
      return Unavailable(fmt::format("{}; and the key file {} could not be removed: {}",
                                     written.message(), key_path.string(), removed.message()));
    }
  }
  return written;
}

}  // namespace custos::api
