// A renewed certificate without a restart (issue 22 point 4: ExecReload of custos.service):
// after ReloadCertificate new connections are served the new certificate; files that do not
// load leave the old one in use. The certificate served is read with `openssl s_client`.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

#include "api/beast_server.h"
#include "api/metrics.h"
#include "api/pipeline.h"
#include "api/tls_certificate.h"

namespace custos::api {
namespace {

namespace fs = std::filesystem;

// The SHA-256 fingerprint of the certificate served on 127.0.0.1:port ("" if none).
std::string ServedFingerprint(int port) {
  const std::string cmd = "openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                          " </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 "
                          "2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

std::string FileFingerprint(const fs::path& cert) {
  const std::string cmd =
      "openssl x509 -noout -fingerprint -sha256 -in '" + cert.string() + "' 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

TEST(TlsReloadTest, NewConnectionsGetTheRenewedCertificateAndABadOneIsRefused) {
  const fs::path dir =
      fs::temp_directory_path() / ("custos-reload-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  const fs::path cert = dir / "server.crt";
  const fs::path key = dir / "server.key";
  ASSERT_TRUE(WriteSelfSignedCertificate(cert, key).ok());
  const std::string first = FileFingerprint(cert);
  ASSERT_FALSE(first.empty());

  RouteTable routes;
  RateLimiter limiter(100, 100);
  Metrics metrics;
  RequestPipeline pipeline(
      routes,
      [](std::string_view, std::string_view, std::string_view) -> Result<std::string> {
        return std::string("x");
      },
      limiter, metrics);
  BeastServer::Options options;
  options.cert_file = cert;
  options.key_file = key;
  options.io_threads = 1;
  options.workers = 1;
  auto server = BeastServer::Create(options, pipeline);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto port = (*server)->Bind();
  ASSERT_TRUE(port.ok());
  std::thread serving([&] { (void)(*server)->Serve(); });
  EXPECT_EQ(ServedFingerprint(*port), first);

  // Renewed: a new pair in place of the old, then the reload.
  fs::remove(cert);
  fs::remove(key);
  ASSERT_TRUE(WriteSelfSignedCertificate(cert, key).ok());
  const std::string second = FileFingerprint(cert);
  ASSERT_NE(second, first);
  EXPECT_EQ(ServedFingerprint(*port), first) << "nothing changes before the reload";
  ASSERT_TRUE((*server)->ReloadCertificate().ok());
  EXPECT_EQ(ServedFingerprint(*port), second);

  // A broken file: refused, and the server keeps serving the certificate it had.
  FILE* f = fopen(cert.c_str(), "w");
  fputs("not a certificate\n", f);
  fclose(f);
  EXPECT_EQ((*server)->ReloadCertificate().code(), Code::kInvalidArgument);
  EXPECT_EQ(ServedFingerprint(*port), second);

  (*server)->Stop();
  serving.join();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace custos::api
