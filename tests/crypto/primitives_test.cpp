// Suite names, hex, hashing, randomness, Aead and Mac.
#include "crypto/primitives.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#include "crypto/digest.h"

namespace custos::crypto {
namespace {

TEST(Suite, NamesRoundTripAndUnknownNamesAreRejected) {
  for (Suite suite : {Suite::kAes256Gcm, Suite::kSm4Gcm}) {
    auto parsed = ParseSuite(SuiteName(suite));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, suite);
  }
  EXPECT_EQ(ParseSuite("aes128gcm").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(AeadKeySize(Suite::kAes256Gcm), 32u);
  EXPECT_EQ(AeadKeySize(Suite::kSm4Gcm), 16u);
}

TEST(Hex, RoundTripsAndRejectsMalformedInput) {
  const Bytes bytes{0x00, 0x7f, 0xab, 0xff};
  EXPECT_EQ(ToHex(bytes), "007fabff");
  EXPECT_EQ(*FromHex("007FabfF"), bytes);
  EXPECT_EQ(FromHex("abc").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(FromHex("zz").status().code(), Code::kInvalidArgument);
}

TEST(Hash, MatchesTheKnownAnswersForAbc) {
  // FIPS 180-2 and GB/T 32905-2016 example 1.
  EXPECT_EQ(ToHex(Hash(Suite::kAes256Gcm, AsBytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ToHex(Hash(Suite::kSm4Gcm, AsBytes("abc"))),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
  EXPECT_EQ(HashSize(Suite::kSm4Gcm), 32u);
}

TEST(Hash, DocumentDigestsAreSha256InHexWhateverTheSuite) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Random, GivesTheRequestedLengthAndDoesNotRepeat) {
  EXPECT_EQ(RandomBytes(12).size(), 12u);
  EXPECT_NE(RandomSecret(32), RandomSecret(32));
}

class AeadMacTest : public ::testing::TestWithParam<Suite> {};
INSTANTIATE_TEST_SUITE_P(BothSuites, AeadMacTest,
                         ::testing::Values(Suite::kAes256Gcm, Suite::kSm4Gcm),
                         [](const auto& p) { return std::string(SuiteName(p.param)); });

// The per-thread generator draws without a system call; a forked child must still never
// repeat its parent's stream (thread_rng.h): the child's first draw differs from the parent's
// next one, and from a second child's.
TEST(Random, AForkedChildDoesNotRepeatItsParentsStream) {
  RandomBytes(16);  // the generator of this thread exists before the fork
  std::vector<Bytes> children;
  for (int i = 0; i < 2; ++i) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      const Bytes drawn = RandomBytes(32);
      _exit(::write(fds[1], drawn.data(), drawn.size()) == 32 ? 0 : 1);
    }
    ::close(fds[1]);
    Bytes got(32);
    EXPECT_EQ(::read(fds[0], got.data(), got.size()), 32);
    ::close(fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    children.push_back(got);
  }
  const Bytes parent = RandomBytes(32);
  EXPECT_NE(children[0], parent);
  EXPECT_NE(children[1], parent);
  EXPECT_NE(children[0], children[1]);
}

TEST_P(AeadMacTest, AeadSealsWithANonceAndOpensOnlyWithItsAad) {
  auto aead = Aead::New(GetParam(), RandomSecret(AeadKeySize(GetParam())));
  ASSERT_TRUE(aead.ok());
  const Bytes sealed = (*aead)->Seal(AsBytes("hello"), AsBytes("aad"));
  EXPECT_EQ(sealed.size(), 12u + 5 + 16);
  auto opened = (*aead)->Open(sealed, AsBytes("aad"));
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(std::string(opened->begin(), opened->end()), "hello");
  EXPECT_EQ((*aead)->Open(sealed, AsBytes("other")).status().code(), Code::kDataLoss);
  EXPECT_EQ((*aead)->Open(ByteView(sealed.data(), 27), AsBytes("aad")).status().code(),
            Code::kDataLoss);
}

TEST_P(AeadMacTest, AeadRejectsAKeyOfTheWrongSize) {
  EXPECT_EQ(Aead::New(GetParam(), RandomSecret(24)).status().code(), Code::kInvalidArgument);
}

TEST_P(AeadMacTest, MacVerifiesFullAndTruncatedTagsOnly) {
  auto mac = Mac::New(GetParam(), RandomSecret(32));
  ASSERT_TRUE(mac.ok());
  const Bytes tag = (*mac)->Compute(AsBytes("13800138000"));
  EXPECT_EQ(tag.size(), 32u);
  EXPECT_TRUE((*mac)->Verify(AsBytes("13800138000"), tag));
  EXPECT_TRUE((*mac)->Verify(AsBytes("13800138000"), ByteView(tag.data(), 16)));
  EXPECT_FALSE((*mac)->Verify(AsBytes("13800138000"), ByteView(tag.data(), 15)));
  EXPECT_FALSE((*mac)->Verify(AsBytes("13800138001"), tag));
  EXPECT_EQ(Mac::New(GetParam(), SecretBytes{}).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace custos::crypto
