// `custos init` makes a self-signed certificate for the demo: a P-256 key only its owner can
// read, and a certificate for localhost that matches it.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <random>

#include "api/tls_certificate.h"

namespace custos::api {
namespace {

class TlsCertificateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("custos-tls-" + std::to_string(std::random_device{}()));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(TlsCertificateTest, TheKeyIsOwnerOnlyAndMatchesTheCertificate) {
  ASSERT_TRUE(WriteSelfSignedCertificate(dir_ / "tls/server.crt", dir_ / "tls/server.key").ok());
  struct stat st {};
  ASSERT_EQ(stat((dir_ / "tls/server.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  FILE* cf = std::fopen((dir_ / "tls/server.crt").c_str(), "r");
  FILE* kf = std::fopen((dir_ / "tls/server.key").c_str(), "r");
  ASSERT_NE(cf, nullptr);
  ASSERT_NE(kf, nullptr);
  X509* cert = PEM_read_X509(cf, nullptr, nullptr, nullptr);
  EVP_PKEY* key = PEM_read_PrivateKey(kf, nullptr, nullptr, nullptr);
  std::fclose(cf);
  std::fclose(kf);
  ASSERT_NE(cert, nullptr);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(X509_check_private_key(cert, key), 1);
  EXPECT_EQ(X509_check_host(cert, "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
  X509_free(cert);
  EVP_PKEY_free(key);
}

TEST_F(TlsCertificateTest, AnExistingPairIsNeverOverwritten) {
  ASSERT_TRUE(WriteSelfSignedCertificate(dir_ / "a.crt", dir_ / "a.key").ok());
  EXPECT_EQ(WriteSelfSignedCertificate(dir_ / "a.crt", dir_ / "a.key").code(), Code::kConflict);
}

}  // namespace
}  // namespace custos::api
