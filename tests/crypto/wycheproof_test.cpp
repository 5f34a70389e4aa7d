// Wycheproof vectors against the code paths the vault runs: raw::GcmOpen/GcmSeal (under
// Aead, the KEK providers and the Keyring), Aead::Open itself, raw::HmacVerify/Mac (under
// blind indexes), raw::Hkdf (under the KEK derivation) and VerifySignature (under audit
// checkpoints). Every vector's expected result is checked; each file must yield checks, so a
// missing file fails the test.
//
// Skipped on purpose, because Custos never uses these parameters, but still checked to be
// *rejected* with InvalidArgument by our code: GCM IVs other than 96 bits, and AES keys other
// than 256 bits (the aes256gcm suite is AES-256 only). All Wycheproof GCM tags are 128 bits,
// the only tag size Custos uses.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "crypto/internal/raw.h"
#include "crypto/primitives.h"

namespace custos::crypto {
namespace {

using nlohmann::json;

json LoadVectors(const std::string& name) {
  const std::string path = std::string(CUSTOS_SHARED_DIR) + "/testdata/wycheproof/" + name;
  std::ifstream in(path);
  if (!in) {
    ADD_FAILURE() << "cannot open " << path;
    return json::object();
  }
  return json::parse(in);
}

Bytes Hex(const json& value) {
  auto bytes = FromHex(value.get<std::string>());
  EXPECT_TRUE(bytes.ok());
  return bytes.ok() ? *bytes : Bytes{};
}

Bytes Concat(const Bytes& a, const Bytes& b) {
  Bytes out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

struct Tally {
  int checked = 0;   // vectors whose expected result was compared with ours
  int rejected = 0;  // unsupported parameters, confirmed rejected
};

std::string Describe(const std::string& file, const json& test) {
  return file + " tcId " + std::to_string(test["tcId"].get<int>()) + " (" +
         test["comment"].get<std::string>() + ")";
}

// --- AEAD ---

void CheckGcmVector(Suite suite, const std::string& file, const json& test, Tally& tally) {
  const Bytes key = Hex(test["key"]), iv = Hex(test["iv"]), aad = Hex(test["aad"]);
  const Bytes msg = Hex(test["msg"]), ct = Hex(test["ct"]), tag = Hex(test["tag"]);
  const std::string result = test["result"];
  const std::string where = Describe(file, test);
  const Bytes ct_tag = Concat(ct, tag);

  if (key.size() != AeadKeySize(suite) || iv.size() != raw::kGcmIvSize) {
    Bytes out;
    EXPECT_EQ(raw::GcmSeal(suite, key, iv, aad, msg, out).code(), Code::kInvalidArgument) << where;
    EXPECT_EQ(raw::GcmOpen(suite, key, iv, aad, ct_tag).status().code(), Code::kInvalidArgument)
        << where;
    ++tally.rejected;
    return;
  }

  // Decryption through the raw function and through the public Aead (nonce || ct || tag).
  auto opened = raw::GcmOpen(suite, key, iv, aad, ct_tag);
  auto aead = Aead::New(suite, SecretBytes(key.begin(), key.end()));
  ASSERT_TRUE(aead.ok()) << where;
  auto opened_public = (*aead)->Open(Concat(iv, ct_tag), aad);
  Bytes sealed;
  const Status seal_status = raw::GcmSeal(suite, key, iv, aad, msg, sealed);
  ASSERT_TRUE(seal_status.ok()) << where;

  if (result == "valid") {
    ASSERT_TRUE(opened.ok()) << where << ": " << opened.status().ToString();
    EXPECT_EQ(Bytes(opened->begin(), opened->end()), msg) << where;
    ASSERT_TRUE(opened_public.ok()) << where;
    EXPECT_EQ(Bytes(opened_public->begin(), opened_public->end()), msg) << where;
    EXPECT_EQ(sealed, ct_tag) << where;
  } else if (result == "invalid") {
    EXPECT_EQ(opened.status().code(), Code::kDataLoss) << where;
    EXPECT_EQ(opened_public.status().code(), Code::kDataLoss) << where;
    EXPECT_NE(sealed, ct_tag) << where;
  } else {
    // "acceptable": either outcome is allowed, as long as it is a clean one.
    EXPECT_TRUE(opened.ok() || opened.status().code() == Code::kDataLoss) << where;
  }
  ++tally.checked;
}

void CheckGcmFile(Suite suite, const std::string& file) {
  const json doc = LoadVectors(file);
  Tally tally;
  for (const auto& group : doc.value("testGroups", json::array())) {
    for (const auto& test : group["tests"]) CheckGcmVector(suite, file, test, tally);
  }
  EXPECT_GT(tally.checked, 0) << file;
  EXPECT_EQ(tally.checked + tally.rejected, doc.value("numberOfTests", -1)) << file;
  ::testing::Test::RecordProperty("checked", tally.checked);
  ::testing::Test::RecordProperty("rejected_unsupported", tally.rejected);
}

TEST(Wycheproof, AesGcm) { CheckGcmFile(Suite::kAes256Gcm, "aes_gcm_test.json"); }
TEST(Wycheproof, Sm4Gcm) { CheckGcmFile(Suite::kSm4Gcm, "sm4_gcm_test.json"); }

// --- HMAC (full and 128-bit truncated tags; blind indexes use the first 16 bytes) ---

void CheckHmacFile(Suite suite, const std::string& file) {
  const json doc = LoadVectors(file);
  Tally tally;
  for (const auto& group : doc.value("testGroups", json::array())) {
    for (const auto& test : group["tests"]) {
      const Bytes key = Hex(test["key"]), msg = Hex(test["msg"]), tag = Hex(test["tag"]);
      const std::string result = test["result"];
      const std::string where = Describe(file, test);
      const bool expect_valid = result == "valid";
      ASSERT_NE(result, "acceptable") << where;

      EXPECT_EQ(raw::HmacVerify(suite, key, msg, tag), expect_valid) << where;
      const Bytes full = raw::HmacCompute(suite, key, msg);
      EXPECT_EQ(Bytes(full.begin(), full.begin() + static_cast<long>(tag.size())) == tag,
                expect_valid)
          << where;
      auto mac = Mac::New(suite, SecretBytes(key.begin(), key.end()));
      ASSERT_TRUE(mac.ok()) << where;
      EXPECT_EQ((*mac)->Verify(msg, tag), expect_valid) << where;
      ++tally.checked;
    }
  }
  EXPECT_GT(tally.checked, 0) << file;
  EXPECT_EQ(tally.checked, doc.value("numberOfTests", -1)) << file;
}

TEST(Wycheproof, HmacSha256) { CheckHmacFile(Suite::kAes256Gcm, "hmac_sha256_test.json"); }
TEST(Wycheproof, HmacSm3) { CheckHmacFile(Suite::kSm4Gcm, "hmac_sm3_test.json"); }

// --- HKDF-SHA256 (the aes256gcm KEK derivation) ---

TEST(Wycheproof, HkdfSha256) {
  const std::string file = "hkdf_sha256_test.json";
  const json doc = LoadVectors(file);
  Tally tally;
  for (const auto& group : doc.value("testGroups", json::array())) {
    for (const auto& test : group["tests"]) {
      const std::string where = Describe(file, test);
      const std::string result = test["result"];
      auto okm = raw::Hkdf(Suite::kAes256Gcm, Hex(test["ikm"]), Hex(test["salt"]),
                           Hex(test["info"]), test["size"].get<size_t>());
      if (result == "valid") {
        ASSERT_TRUE(okm.ok()) << where << ": " << okm.status().ToString();
        EXPECT_EQ(Bytes(okm->begin(), okm->end()), Hex(test["okm"])) << where;
      } else {
        ASSERT_EQ(result, "invalid") << where;
        EXPECT_EQ(okm.status().code(), Code::kInvalidArgument) << where;
      }
      ++tally.checked;
    }
  }
  EXPECT_GT(tally.checked, 0) << file;
  EXPECT_EQ(tally.checked, doc.value("numberOfTests", -1)) << file;
}

// --- Ed25519 (aes256gcm checkpoint signatures) ---

TEST(Wycheproof, Ed25519) {
  const std::string file = "ed25519_test.json";
  const json doc = LoadVectors(file);
  Tally tally;
  for (const auto& group : doc.value("testGroups", json::array())) {
    const Bytes public_key = Hex(group["publicKey"]["pk"]);
    for (const auto& test : group["tests"]) {
      const std::string where = Describe(file, test);
      const std::string result = test["result"];
      const Status status =
          VerifySignature(Suite::kAes256Gcm, public_key, Hex(test["msg"]), Hex(test["sig"]));
      if (result == "valid") {
        EXPECT_TRUE(status.ok()) << where << ": " << status.ToString();
      } else if (result == "invalid") {
        EXPECT_EQ(status.code(), Code::kDataLoss) << where;
      } else {
        EXPECT_TRUE(status.ok() || status.code() == Code::kDataLoss) << where;
      }
      ++tally.checked;
    }
  }
  EXPECT_GT(tally.checked, 0) << file;
  EXPECT_EQ(tally.checked, doc.value("numberOfTests", -1)) << file;
}

}  // namespace
}  // namespace custos::crypto
