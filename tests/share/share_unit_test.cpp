// src/share on its own (issue 17; docs/sharing.md): the unified social credit code's check
// character recomputed here from GB 32100-2015's definition, the keyed spellings (meaning kept,
// chosen by the key), canary values, the tracer's arithmetic (Hoeffding bound, thresholds,
// canary hits), and the CMS package opened by its recipient only.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "share/fingerprint.h"
#include "share/package.h"
#include "share/uscc.h"

namespace custos::share {
namespace {

// GB 32100-2015 §4.3, written out here: the alphabet, weights 3^i mod 31, check 31 - sum mod 31.
char ReferenceCheck(std::string_view first17) {
  static constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  int sum = 0;
  int weight = 1;
  for (char c : first17) {
    sum += static_cast<int>(kAlphabet.find(c)) * weight;
    weight = weight * 3 % 31;
  }
  return kAlphabet[static_cast<size_t>((31 - sum % 31) % 31)];
}

TEST(UsccTest, TheCheckCharacterIsGb32100s) {
  EXPECT_EQ(UsccCheckCharacter("91350100M000100Y4"), '3');
  for (std::string body :
       {"91110108MA01ABCDE", "12100000400000760", "52440300MJL00000U", "91440300708461136"}) {
    const char check = ReferenceCheck(body);
    EXPECT_EQ(UsccCheckCharacter(body), check) << body;
    EXPECT_TRUE(CheckUscc(body + check).ok()) << body + check;
    const char wrong = check == '0' ? '1' : '0';
    const Status st = CheckUscc(body + wrong);
    EXPECT_EQ(st.code(), Code::kInvalidArgument);
    EXPECT_NE(st.message().find("uscc: the check character"), std::string::npos) << st.message();
    EXPECT_EQ(st.message().find(body), std::string::npos) << "the code is never echoed";
  }
  EXPECT_EQ(UsccCheckCharacter("91350100M00010OY4"), '\0');  // O is not in the alphabet
  EXPECT_NE(CheckUscc("91350100M000100Y4").message().find("uscc:"), std::string::npos);
}

FingerprintKey Key(uint8_t seed) {
  FingerprintKey k{};
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(seed + i);
  return k;
}

TEST(FingerprintTest, KeyedSpellingsKeepTheMeaningAndDependOnTheKey) {
  const std::vector<std::string> values = {"13800138000", "user@example.com", "1987-03-14",
                                           "11010519491231002X"};
  for (const std::string& v : values) {
    const auto original = Recognise(v);
    ASSERT_TRUE(original.has_value()) << v;
    for (uint8_t seed : {1, 2, 3}) {
      const std::string marked = Mark(Key(seed), v);
      const auto again = Recognise(marked);
      ASSERT_TRUE(again.has_value()) << marked;
      EXPECT_EQ(again->canonical, original->canonical) << "meaning kept: " << marked;
      EXPECT_EQ(Mark(Key(seed), marked), marked) << "the same key picks the same spelling";
      EXPECT_NE(marked[0], '=');
      EXPECT_NE(marked[0], '+');
    }
  }
  // A value with one spelling is never changed (a pseudonym, a region, free text).
  for (const char* v : {"5f1c2a9be07d44c3a1f0e2d3c4b5a697", "广东省", "理财", "1980-1989"}) {
    EXPECT_EQ(Mark(Key(1), v), v);
  }
  // Two keys agree on about half of 400 dates (2 spellings each): the choice is the key's.
  int agree = 0;
  for (int i = 0; i < 400; ++i) {
    const std::string d = fmt::format("19{:02}-{:02}-{:02}", 50 + i % 50, 1 + i % 12, 1 + i % 28);
    agree += Mark(Key(1), d) == Mark(Key(2), d) ? 1 : 0;
  }
  EXPECT_GT(agree, 140);
  EXPECT_LT(agree, 260);
}

TEST(FingerprintTest, SpellRoundTripsEveryVariant) {
  const auto mobile = Recognise("13800138000");
  ASSERT_TRUE(mobile.has_value());
  std::set<std::string> spellings;
  for (int v = 0; v < mobile->variants; ++v) {
    const std::string s = Spell(mobile->kind, mobile->canonical, v);
    const auto back = Recognise(s);
    ASSERT_TRUE(back.has_value()) << s;
    EXPECT_EQ(back->variant, v);
    EXPECT_EQ(back->canonical, "13800138000");
    spellings.insert(s);
  }
  EXPECT_EQ(spellings.size(), 4u);
}

TEST(FingerprintTest, CanaryValuesAreKeyedValidAndDistinct) {
  EXPECT_EQ(CanaryCount(0), 2);
  EXPECT_EQ(CanaryCount(100), 2);
  EXPECT_EQ(CanaryCount(1000), 20);
  EXPECT_EQ(CanaryCount(10'000'000), 500);
  std::set<std::string> mobiles;
  std::set<std::string> pseudonyms;
  for (int64_t i = 0; i < 50; ++i) {
    const std::string m = CanaryValue(Key(7), i, "cn_mobile");
    ASSERT_TRUE(Recognise(m).has_value()) << m;
    mobiles.insert(m);
    EXPECT_EQ(CanaryValue(Key(7), i, "cn_mobile"), m) << "drawn from the key";
    const std::string p = CanaryPseudonym(Key(7), i, "customer_id");
    EXPECT_EQ(p.size(), 32u);
    EXPECT_EQ(p.find_first_not_of("0123456789abcdef"), std::string::npos) << p;
    pseudonyms.insert(p);
    pseudonyms.insert(CanaryPseudonym(Key(7), i, "household_id"));
    EXPECT_NE(CanaryPseudonym(Key(8), i, "customer_id"), p) << "another share, another value";
  }
  EXPECT_EQ(mobiles.size(), 50u);
  EXPECT_EQ(pseudonyms.size(), 100u);
  EXPECT_TRUE(CanaryValue(Key(7), 0, "free_text").empty());
  const std::string ref = PartnerReference(Key(7), "c-1");
  EXPECT_EQ(ref.size(), 17u);
  EXPECT_EQ(ref[0], 'R');
  EXPECT_NE(PartnerReference(Key(8), "c-1"), ref) << "another partner, another reference";
  for (uint64_t n : {1u, 2u, 7u, 1000u}) {
    for (int i = 0; i < 20; ++i) EXPECT_LT(KeyedChoice(Key(7), fmt::format("x{}", i), n), n);
  }
  EXPECT_EQ(KeyedChoice(Key(7), "x", 0), 0u);
}

// A copy of n distinct dates (2 spellings each), spelled by `key`.
std::vector<std::string> Copy(const FingerprintKey& key, int n) {
  std::vector<std::string> cells;
  for (int i = 0; i < n; ++i) {
    cells.push_back(
        Mark(key, fmt::format("19{:02}-{:02}-{:02}", 50 + i % 50, 1 + (i / 50) % 12, 1 + i % 28)));
  }
  return cells;
}

TEST(TracerTest, TheHoeffdingBoundAndThresholdsAreAsDocumented) {
  Tracer tracer;
  tracer.AddShare("a", Key(1), {});
  tracer.AddShare("b", Key(2), {});
  // 8 values, all agreeing with share a: expected 4 by chance, excess 4:
  // log10 P <= -2 * 4^2 / 8 / ln 10 = -1.737: too weak (the threshold is 1e-6).
  auto few = tracer.Score(Copy(Key(1), 8));
  ASSERT_EQ(few.size(), 2u);
  const TraceScore& a = few[0].share_id == "a" ? few[0] : few[1];
  EXPECT_EQ(a.spellings, 8);
  EXPECT_EQ(a.agreeing, 8);
  EXPECT_DOUBLE_EQ(a.expected, 4.0);
  EXPECT_NEAR(a.log10_chance, -2.0 * 16 / 8 / std::log(10.0), 1e-9);
  EXPECT_FALSE(a.matches);
  // 100 values: log10 P <= -2 * 50^2 / 100 / ln 10 = -21.7: share a, not b.
  auto many = tracer.Score(Copy(Key(1), 100));
  EXPECT_EQ(many[0].share_id, "a");
  EXPECT_TRUE(many[0].matches);
  EXPECT_NEAR(many[0].log10_chance, -2.0 * 2500 / 100 / std::log(10.0), 1e-9);
  EXPECT_GT(many[0].confidence, 0.999999);
  EXPECT_FALSE(many[1].matches);
  // Spelled by a third key: matches none.
  for (const TraceScore& t : tracer.Score(Copy(Key(3), 100))) EXPECT_FALSE(t.matches) << t.share_id;
}

TEST(TracerTest, OneCanaryValueMatchesItsShare) {
  Tracer tracer;
  const std::string canary = CanaryPseudonym(Key(1), 0, "customer_id");
  tracer.AddShare("a", Key(1), {canary});
  tracer.AddShare("b", Key(2), {CanaryPseudonym(Key(2), 0, "customer_id")});
  auto scores = tracer.Score({"理财", canary, "广东省"});
  EXPECT_EQ(scores[0].share_id, "a");
  EXPECT_TRUE(scores[0].matches);
  EXPECT_EQ(scores[0].canary_hits, 1);
  EXPECT_GE(scores[0].confidence, 1.0 - 1e-9);
  EXPECT_FALSE(scores[1].matches);
}

// A self-signed RSA certificate and its key, PEM, made with OpenSSL here.
std::pair<std::string, std::string> Certificate(const char* cn) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_RSA_gen(2048), EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400L * 30);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_sign(cert.get(), key.get(), EVP_sha256());
  auto pem = [](auto write) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    write(bio.get());
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(n));
  };
  return {pem([&](BIO* b) { PEM_write_bio_X509(b, cert.get()); }), pem([&](BIO* b) {
            PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
          })};
}

TEST(PackageTest, OnlyTheRecipientOpensThePackage) {
  const auto [cert, key] = Certificate("partner");
  const auto [other_cert, other_key] = Certificate("other");
  const std::string csv = "ref,phone\nR0123456789ABCDEF,13800138000\n";
  auto sealed = SealForRecipient(cert, csv);
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  EXPECT_EQ(sealed->find("13800138000"), std::string::npos);
  EXPECT_NE(sealed->find("pkcs7-mime"), std::string::npos);
  auto opened = OpenAsRecipient(*sealed, cert, key);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, csv);
  EXPECT_EQ(OpenAsRecipient(*sealed, other_cert, other_key).status().code(),
            Code::kPermissionDenied);
  EXPECT_EQ(SealForRecipient("not a certificate", csv).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace custos::share
