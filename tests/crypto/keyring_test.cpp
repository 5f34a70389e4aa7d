// The key hierarchy: envelopes, records, wrapped DEKs, blind indexes, the signing key.
#include "crypto/keyring.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "temp_dir.h"

namespace custos::crypto {
namespace {

using testing::TempDir;

constexpr uint32_t kSchema = 3;

class KeyringTest : public ::testing::TestWithParam<Suite> {
 protected:
  void SetUp() override { keyring_ = MakeKeyring("kek"); }

  std::unique_ptr<Keyring> MakeKeyring(const std::string& keyfile) {
    auto provider = CreateKeyfileProvider(dir_.path() / keyfile, GetParam());
    EXPECT_TRUE(provider.ok()) << provider.status().ToString();
    auto keyring = Keyring::New(GetParam(), std::move(provider).value());
    EXPECT_TRUE(keyring.ok()) << keyring.status().ToString();
    return std::move(keyring).value();
  }

  std::unique_ptr<Keyring> ReopenKeyring(const std::string& keyfile) {
    auto provider = OpenKeyfileProvider(dir_.path() / keyfile, GetParam());
    EXPECT_TRUE(provider.ok()) << provider.status().ToString();
    return std::move(Keyring::New(GetParam(), std::move(provider).value())).value();
  }

  Bytes Seal(const SecretBytes& dek, std::string_view customer, Level level,
             std::string_view text) {
    auto sealed = keyring_->SealEnvelope(dek, customer, level, kSchema, AsBytes(text));
    EXPECT_TRUE(sealed.ok()) << sealed.status().ToString();
    return std::move(sealed).value();
  }

  static std::string Text(const SecretBytes& bytes) { return {bytes.begin(), bytes.end()}; }

  TempDir dir_;
  std::unique_ptr<Keyring> keyring_;
};

INSTANTIATE_TEST_SUITE_P(BothSuites, KeyringTest,
                         ::testing::Values(Suite::kAes256Gcm, Suite::kSm4Gcm),
                         [](const auto& p) { return std::string(SuiteName(p.param)); });

TEST_P(KeyringTest, AnEnvelopeOpensForItsCustomerLevelAndSchemaVersion) {
  const SecretBytes dek = keyring_->NewDek();
  EXPECT_EQ(dek.size(), AeadKeySize(GetParam()));
  const Bytes sealed = Seal(dek, "C0001", Level::kConfidential, "id_number=110101199003074514");
  auto opened = keyring_->OpenEnvelope(dek, "C0001", Level::kConfidential, kSchema, sealed);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(Text(*opened), "id_number=110101199003074514");
}

TEST_P(KeyringTest, AnEmptyEnvelopeRoundTrips) {
  const SecretBytes dek = keyring_->NewDek();
  const Bytes sealed = Seal(dek, "C0001", Level::kGeneral, "");
  auto opened = keyring_->OpenEnvelope(dek, "C0001", Level::kGeneral, kSchema, sealed);
  ASSERT_TRUE(opened.ok());
  EXPECT_TRUE(opened->empty());
}

TEST_P(KeyringTest, TheSameTextSealsToDifferentCiphertexts) {
  const SecretBytes dek = keyring_->NewDek();
  EXPECT_NE(Seal(dek, "C0001", Level::kGeneral, "name=Li Lei"),
            Seal(dek, "C0001", Level::kGeneral, "name=Li Lei"));
}

TEST_P(KeyringTest, AnEnvelopeMovedToAnotherCustomerLevelOrVersionIsDataLoss) {
  const SecretBytes dek = keyring_->NewDek();
  const Bytes sealed = Seal(dek, "C0001", Level::kInternal, "income=12000");
  EXPECT_EQ(keyring_->OpenEnvelope(dek, "C0002", Level::kInternal, kSchema, sealed).status().code(),
            Code::kDataLoss);
  EXPECT_EQ(keyring_->OpenEnvelope(dek, "C0001", Level::kGeneral, kSchema, sealed).status().code(),
            Code::kDataLoss);
  EXPECT_EQ(
      keyring_->OpenEnvelope(dek, "C0001", Level::kConfidential, kSchema, sealed).status().code(),
      Code::kDataLoss);
  EXPECT_EQ(
      keyring_->OpenEnvelope(dek, "C0001", Level::kInternal, kSchema + 1, sealed).status().code(),
      Code::kDataLoss);
  // A prefix of a customer id is another customer.
  EXPECT_EQ(keyring_->OpenEnvelope(dek, "C000", Level::kInternal, kSchema, sealed).status().code(),
            Code::kDataLoss);
}

TEST_P(KeyringTest, FlippingAnyBitOfAnEnvelopeIsDataLoss) {
  const SecretBytes dek = keyring_->NewDek();
  const Bytes sealed = Seal(dek, "C0001", Level::kGeneral, "mobile=13800138000");
  for (size_t bit = 0; bit < sealed.size() * 8; ++bit) {
    Bytes altered = sealed;
    altered[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_EQ(
        keyring_->OpenEnvelope(dek, "C0001", Level::kGeneral, kSchema, altered).status().code(),
        Code::kDataLoss)
        << "bit " << bit;
  }
  // Failed opens leave no state behind: the untouched envelope still opens.
  EXPECT_TRUE(keyring_->OpenEnvelope(dek, "C0001", Level::kGeneral, kSchema, sealed).ok());
}

TEST_P(KeyringTest, ManyCustomersInterleavedEachOpenWithTheirOwnDek) {
  // More DEKs than a thread keeps keyed ciphers for, used out of order.
  std::vector<SecretBytes> deks;
  std::vector<Bytes> sealed;
  for (int i = 0; i < 12; ++i) {
    deks.push_back(keyring_->NewDek());
    sealed.push_back(
        Seal(deks.back(), "C" + std::to_string(i), Level::kGeneral, "n=" + std::to_string(i)));
  }
  for (int i = 11; i >= 0; --i) {
    for (int j : {i, (i + 5) % 12}) {
      auto opened =
          keyring_->OpenEnvelope(deks[static_cast<size_t>(j)], "C" + std::to_string(j),
                                 Level::kGeneral, kSchema, sealed[static_cast<size_t>(j)]);
      ASSERT_TRUE(opened.ok()) << j;
      EXPECT_EQ(Text(*opened), "n=" + std::to_string(j));
    }
    EXPECT_FALSE(keyring_
                     ->OpenEnvelope(deks[static_cast<size_t>((i + 1) % 12)],
                                    "C" + std::to_string(i), Level::kGeneral, kSchema,
                                    sealed[static_cast<size_t>(i)])
                     .ok());
  }
}

TEST_P(KeyringTest, ATruncatedEnvelopeIsDataLoss) {
  const SecretBytes dek = keyring_->NewDek();
  const Bytes sealed = Seal(dek, "C0001", Level::kGeneral, "mobile=13800138000");
  for (size_t len = 0; len < sealed.size(); ++len) {
    const ByteView prefix(sealed.data(), len);
    EXPECT_EQ(
        keyring_->OpenEnvelope(dek, "C0001", Level::kGeneral, kSchema, prefix).status().code(),
        Code::kDataLoss)
        << "length " << len;
  }
}

TEST_P(KeyringTest, AnotherCustomersDekCannotOpenAnEnvelope) {
  const SecretBytes dek = keyring_->NewDek();
  const Bytes sealed = Seal(dek, "C0001", Level::kGeneral, "email=li@example.com");
  EXPECT_EQ(keyring_->OpenEnvelope(keyring_->NewDek(), "C0001", Level::kGeneral, kSchema, sealed)
                .status()
                .code(),
            Code::kDataLoss);
}

TEST_P(KeyringTest, AWronglySizedDekIsRejected) {
  const SecretBytes short_dek(8, 1);
  EXPECT_EQ(keyring_->SealEnvelope(short_dek, "C0001", Level::kGeneral, kSchema, AsBytes("x"))
                .status()
                .code(),
            Code::kInvalidArgument);
  EXPECT_EQ(keyring_->WrapDek("C0001", short_dek).status().code(), Code::kInvalidArgument);
}

TEST_P(KeyringTest, IdsWithNulBytesOrEmptyIdsAreRejected) {
  const SecretBytes dek = keyring_->NewDek();
  const std::string with_nul(
      "C1\0"
      "2",
      4);
  EXPECT_EQ(
      keyring_->SealEnvelope(dek, with_nul, Level::kGeneral, kSchema, AsBytes("x")).status().code(),
      Code::kInvalidArgument);
  EXPECT_EQ(keyring_->SealEnvelope(dek, "", Level::kGeneral, kSchema, AsBytes("x")).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(keyring_->WrapDek("", dek).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(keyring_->SealRecord(dek, "C1", "txn", "", AsBytes("x")).status().code(),
            Code::kInvalidArgument);
}

TEST_P(KeyringTest, TheHeaderCarriesFormatSuiteAndKeyVersion) {
  const SecretBytes dek = keyring_->NewDek();
  const Bytes sealed = Seal(dek, "C0001", Level::kGeneral, "x");
  ASSERT_GE(sealed.size(), kCiphertextHeaderSize + 12 + 16);
  EXPECT_EQ(sealed[0], 1);
  EXPECT_EQ(sealed[1], static_cast<uint8_t>(GetParam()));
  EXPECT_EQ(Bytes(sealed.begin() + 2, sealed.begin() + 6), (Bytes{0, 0, 0, 1}));
  EXPECT_EQ(sealed.size(), kCiphertextHeaderSize + 12 + 1 + 16);

  auto wrapped = keyring_->WrapDek("C0001", dek);
  ASSERT_TRUE(wrapped.ok());
  auto header = ReadCiphertextHeader(*wrapped);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->suite, GetParam());
  EXPECT_EQ(header->key_version, keyring_->provider().Version());
  // The provider's own output, after the header, starts with the KEK version too.
  EXPECT_EQ(Bytes(wrapped->begin() + 6, wrapped->begin() + 10), (Bytes{0, 0, 0, 1}));
}

TEST_P(KeyringTest, AnEnvelopeOfTheOtherSuiteIsDataLoss) {
  const SecretBytes dek = keyring_->NewDek();
  Bytes sealed = Seal(dek, "C0001", Level::kGeneral, "x");
  sealed[1] =
      static_cast<uint8_t>(GetParam() == Suite::kAes256Gcm ? Suite::kSm4Gcm : Suite::kAes256Gcm);
  EXPECT_EQ(keyring_->OpenEnvelope(dek, "C0001", Level::kGeneral, kSchema, sealed).status().code(),
            Code::kDataLoss);
}

TEST_P(KeyringTest, AWrappedDekUnwrapsOnlyForItsCustomer) {
  const SecretBytes dek = keyring_->NewDek();
  auto wrapped = keyring_->WrapDek("C0001", dek);
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
  auto unwrapped = keyring_->UnwrapDek("C0001", *wrapped);
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.status().ToString();
  EXPECT_EQ(*unwrapped, dek);
  EXPECT_EQ(keyring_->UnwrapDek("C0002", *wrapped).status().code(), Code::kDataLoss);
}

TEST_P(KeyringTest, AWrappedDekSurvivesReopeningTheKeyfile) {
  const SecretBytes dek = keyring_->NewDek();
  auto wrapped = keyring_->WrapDek("C0001", dek);
  ASSERT_TRUE(wrapped.ok());
  auto reopened = ReopenKeyring("kek");
  auto unwrapped = reopened->UnwrapDek("C0001", *wrapped);
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.status().ToString();
  EXPECT_EQ(*unwrapped, dek);
}

TEST_P(KeyringTest, AnotherKekCannotUnwrapADek) {
  const SecretBytes dek = keyring_->NewDek();
  auto wrapped = keyring_->WrapDek("C0001", dek);
  ASSERT_TRUE(wrapped.ok());
  auto other = MakeKeyring("other-kek");
  EXPECT_EQ(other->UnwrapDek("C0001", *wrapped).status().code(), Code::kDataLoss);
}

TEST_P(KeyringTest, FlippingAnyBitOfAWrappedDekFails) {
  auto wrapped = keyring_->WrapDek("C0001", keyring_->NewDek());
  ASSERT_TRUE(wrapped.ok());
  for (size_t bit = 0; bit < wrapped->size() * 8; ++bit) {
    Bytes altered = *wrapped;
    altered[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    const Code code = keyring_->UnwrapDek("C0001", altered).status().code();
    // The provider's own version field answers NotFound ("a KEK I do not hold").
    EXPECT_TRUE(code == Code::kDataLoss || code == Code::kNotFound) << "bit " << bit;
  }
}

TEST_P(KeyringTest, ARecordIsBoundToItsKindAndId) {
  const SecretBytes dek = keyring_->NewDek();
  auto sealed = keyring_->SealRecord(dek, "C0001", "txn", "T42", AsBytes("amount=99.50"));
  ASSERT_TRUE(sealed.ok());
  auto opened = keyring_->OpenRecord(dek, "C0001", "txn", "T42", *sealed);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(Text(*opened), "amount=99.50");
  EXPECT_EQ(keyring_->OpenRecord(dek, "C0001", "note", "T42", *sealed).status().code(),
            Code::kDataLoss);
  EXPECT_EQ(keyring_->OpenRecord(dek, "C0001", "txn", "T43", *sealed).status().code(),
            Code::kDataLoss);
  EXPECT_EQ(keyring_->OpenRecord(dek, "C0002", "txn", "T42", *sealed).status().code(),
            Code::kDataLoss);
  // A record is not an envelope, even with look-alike ids.
  EXPECT_EQ(keyring_->OpenEnvelope(dek, "C0001", Level::kGeneral, kSchema, *sealed).status().code(),
            Code::kDataLoss);
}

TEST_P(KeyringTest, ABlindIndexIsSixteenBytesAndDeterministicPerField) {
  ASSERT_TRUE(keyring_->NewIndexKey("mobile").ok());
  ASSERT_TRUE(keyring_->NewIndexKey("email").ok());
  auto a = keyring_->BlindIndex("mobile", "13800138000");
  auto b = keyring_->BlindIndex("mobile", "13800138000");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 16u);
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *keyring_->BlindIndex("mobile", "13800138001"));
  EXPECT_NE(*a, *keyring_->BlindIndex("email", "13800138000"));
}

TEST_P(KeyringTest, BlindIndexesStayStableAcrossManyFields) {
  // More fields than a thread keeps keyed MACs for, queried round robin.
  std::vector<std::string> fields;
  std::vector<Bytes> first;
  for (int i = 0; i < 12; ++i) {
    fields.push_back("field" + std::to_string(i));
    ASSERT_TRUE(keyring_->NewIndexKey(fields.back()).ok());
    first.push_back(*keyring_->BlindIndex(fields.back(), "value"));
  }
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < fields.size(); ++i) {
      EXPECT_EQ(*keyring_->BlindIndex(fields[i], "value"), first[i]) << fields[i];
    }
  }
  for (size_t i = 1; i < first.size(); ++i) EXPECT_NE(first[i], first[0]);
}

TEST_P(KeyringTest, BlindIndexesDifferAcrossVaults) {
  auto other = MakeKeyring("other-kek");
  ASSERT_TRUE(keyring_->NewIndexKey("mobile").ok());
  ASSERT_TRUE(other->NewIndexKey("mobile").ok());
  EXPECT_NE(*keyring_->BlindIndex("mobile", "13800138000"),
            *other->BlindIndex("mobile", "13800138000"));
}

TEST_P(KeyringTest, ALoadedIndexKeyGivesTheSameTokens) {
  auto wrapped = keyring_->NewIndexKey("mobile");
  ASSERT_TRUE(wrapped.ok());
  auto reopened = ReopenKeyring("kek");
  EXPECT_EQ(reopened->BlindIndex("mobile", "13800138000").status().code(), Code::kNotFound);
  ASSERT_TRUE(reopened->LoadIndexKey("mobile", *wrapped).ok());
  EXPECT_EQ(*reopened->BlindIndex("mobile", "13800138000"),
            *keyring_->BlindIndex("mobile", "13800138000"));
}

TEST_P(KeyringTest, AnIndexKeyIsBoundToItsField) {
  auto wrapped = keyring_->NewIndexKey("mobile");
  ASSERT_TRUE(wrapped.ok());
  auto reopened = ReopenKeyring("kek");
  EXPECT_EQ(reopened->LoadIndexKey("email", *wrapped).code(), Code::kDataLoss);
}

TEST_P(KeyringTest, ASecondIndexKeyForAFieldIsAConflict) {
  ASSERT_TRUE(keyring_->NewIndexKey("mobile").ok());
  EXPECT_EQ(keyring_->NewIndexKey("mobile").status().code(), Code::kConflict);
}

TEST_P(KeyringTest, TheSigningKeyRoundTripsThroughItsWrap) {
  auto key = SigningKey::Generate(GetParam());
  ASSERT_TRUE(key.ok());
  auto wrapped = keyring_->WrapSigningKey(**key);
  ASSERT_TRUE(wrapped.ok());
  auto unwrapped = ReopenKeyring("kek")->UnwrapSigningKey(*wrapped);
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.status().ToString();
  EXPECT_EQ((*unwrapped)->PublicKeyBytes(), (*key)->PublicKeyBytes());
  const Bytes message{'c', 'p', '4', '2'};
  EXPECT_TRUE(
      VerifySignature(GetParam(), (*key)->PublicKeyBytes(), message, (*unwrapped)->Sign(message))
          .ok());
  // A wrapped signing key is not a wrapped index key.
  EXPECT_EQ(keyring_->LoadIndexKey("sig", *wrapped).code(), Code::kDataLoss);
}

TEST_P(KeyringTest, SealingIsSafeFromManyThreads) {
  ASSERT_TRUE(keyring_->NewIndexKey("mobile").ok());
  const Bytes expected_token = *keyring_->BlindIndex("mobile", "13800138000");
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string customer = "C" + std::to_string(t * 1000 + i);
        const SecretBytes dek = keyring_->NewDek();
        auto wrapped = keyring_->WrapDek(customer, dek);
        auto sealed = keyring_->SealEnvelope(dek, customer, Level::kGeneral, 1, AsBytes(customer));
        if (!wrapped.ok() || !sealed.ok()) {
          ++failures[t];
          continue;
        }
        auto dek2 = keyring_->UnwrapDek(customer, *wrapped);
        if (!dek2.ok()) {
          ++failures[t];
          continue;
        }
        auto opened = keyring_->OpenEnvelope(*dek2, customer, Level::kGeneral, 1, *sealed);
        if (!opened.ok() || Text(*opened) != customer) ++failures[t];
        if (*keyring_->BlindIndex("mobile", "13800138000") != expected_token) ++failures[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

TEST(KeyringNew, ANullProviderIsRejected) {
  EXPECT_EQ(Keyring::New(Suite::kAes256Gcm, nullptr).status().code(), Code::kInvalidArgument);
}

TEST(CiphertextHeader, ShortOrUnknownHeadersAreDataLoss) {
  EXPECT_EQ(ReadCiphertextHeader(Bytes{1, 1, 0}).status().code(), Code::kDataLoss);
  EXPECT_EQ(ReadCiphertextHeader(Bytes{2, 1, 0, 0, 0, 1}).status().code(), Code::kDataLoss);
  EXPECT_EQ(ReadCiphertextHeader(Bytes{1, 9, 0, 0, 0, 1}).status().code(), Code::kDataLoss);
  auto header = ReadCiphertextHeader(Bytes{1, 2, 0, 0, 1, 2});
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->suite, Suite::kSm4Gcm);
  EXPECT_EQ(header->key_version, 258u);
}

}  // namespace
}  // namespace custos::crypto
