// `custos init` makes a self-signed certificate for the demo: a P-256 key only its owner can
// read, and a certificate for localhost that matches it.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <random>

#include "api/tls_certificate.h"
#include "core/env.h"

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

// The writer driven through injected faults (issue 11 point 3): ENOSPC and EIO at each
// file-system call in turn, and a crash at each point. A failure names the file; the pair is
// written whole or not at all (a key alone is taken away again); no temporary copy of the
// private key stays behind except by a crash.
TEST_F(TlsCertificateTest, AFullDiskOrAnIoErrorAtAnyStepLeavesNeitherFile) {
  FaultInjectingEnv env(Env::Default());
  const auto cert = dir_ / "tls/server.crt";
  const auto key = dir_ / "tls/server.key";
  for (int err : {ENOSPC, EIO}) {
    for (int64_t n = 1;; ++n) {
      std::filesystem::remove_all(dir_);
      env.FailCall(n, err);
      Status st = WriteSelfSignedCertificate(cert, key, 825, env);
      if (!env.fired()) {
        ASSERT_TRUE(st.ok()) << st.ToString();
        EXPECT_GT(n, 10);
        break;
      }
      SCOPED_TRACE("errno " + std::to_string(err) + " at call " + std::to_string(n));
      ASSERT_FALSE(st.ok());
      EXPECT_EQ(st.code(), Code::kUnavailable);
      EXPECT_NE(st.message().find(dir_.string()), std::string::npos) << st.message();
      EXPECT_FALSE(std::filesystem::exists(cert)) << st.message();
      EXPECT_FALSE(std::filesystem::exists(key)) << st.message();
      if (std::filesystem::exists(dir_ / "tls") &&
          st.message().find("unlink") == std::string::npos) {
        EXPECT_TRUE(std::filesystem::is_empty(dir_ / "tls")) << st.message();
      }
      // Once the disk is healthy, init runs again.
      env.Reset();
      ASSERT_TRUE(WriteSelfSignedCertificate(cert, key, 825, env).ok());
    }
  }
}

TEST_F(TlsCertificateTest, ACrashAtAnyPointLeavesNoHalfWrittenFile) {
  FaultInjectingEnv env(Env::Default());
  const auto cert = dir_ / "server.crt";
  const auto key = dir_ / "server.key";
  for (int64_t k = 0;; ++k) {
    std::filesystem::remove_all(dir_);
    env.CrashAfter(k);
    Status st = WriteSelfSignedCertificate(cert, key, 825, env);
    if (!env.fired()) {
      ASSERT_TRUE(st.ok());
      break;
    }
    // Whatever is under the real names is a whole PEM file.
    for (const auto& p : {cert, key}) {
      if (!std::filesystem::exists(p)) continue;
      FILE* f = std::fopen(p.c_str(), "r");
      ASSERT_NE(f, nullptr);
      if (p == cert) {
        X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
        EXPECT_NE(x, nullptr) << "crash after " << k;
        X509_free(x);
      } else {
        EVP_PKEY* pk = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
        EXPECT_NE(pk, nullptr) << "crash after " << k;
        EVP_PKEY_free(pk);
      }
      std::fclose(f);
    }
  }
}

}  // namespace
}  // namespace custos::api
