// UTF-8 (core/utf8.h): what is well-formed, what the API echoes, and the scanner's lenient
// decode, pinned byte by byte.
#include "core/utf8.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace custos::core {
namespace {

TEST(Utf8, ChineseEmojiAndAsciiAreValid) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("ascii 中文 😀"));
  EXPECT_TRUE(IsValidUtf8("\xef\xbf\xbf"));      // U+FFFF
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF, the last code point
  EXPECT_TRUE(IsValidUtf8(std::string("a\0b", 3)));
}

TEST(Utf8, OverlongFormsAreRefused) {
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));  // '/' in two bytes
  EXPECT_FALSE(IsValidUtf8("\xc1\xbf"));
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // '/' in three bytes
  EXPECT_FALSE(IsValidUtf8("\xe0\x9f\xbf"));      // U+07FF in three bytes
  EXPECT_FALSE(IsValidUtf8("\xf0\x8f\xbf\xbf"));  // U+FFFF in four bytes
}

TEST(Utf8, SurrogatesAndCodePointsBeyondUnicodeAreRefused) {
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // U+D800
  EXPECT_FALSE(IsValidUtf8("\xed\xbf\xbf"));      // U+DFFF
  EXPECT_TRUE(IsValidUtf8("\xed\x9f\xbf"));       // U+D7FF, just below
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(IsValidUtf8("\xf5\x80\x80\x80"));  // lead byte F5
  EXPECT_FALSE(IsValidUtf8("\xf8\x88\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
}

TEST(Utf8, TruncatedAndStraySequencesAreRefused) {
  EXPECT_FALSE(IsValidUtf8("\xe4\xb8"));      // 中 without its last byte
  EXPECT_FALSE(IsValidUtf8("\xf0\x9f\x98"));  // 😀 without its last byte
  EXPECT_FALSE(IsValidUtf8("\xc3"));
  EXPECT_FALSE(IsValidUtf8("\x80"));        // stray continuation byte
  EXPECT_FALSE(IsValidUtf8("a\xe4z\xad"));  // continuation replaced by ASCII
  EXPECT_FALSE(IsValidUtf8("\xe4\xb8\xad\xad"));
}

TEST(Utf8, TextRefusesC0ControlsAndDelButNotC1) {
  EXPECT_TRUE(IsValidUtf8Text("name 张三"));
  EXPECT_TRUE(IsValidUtf8Text(""));
  EXPECT_FALSE(IsValidUtf8Text("a\tb"));
  EXPECT_FALSE(IsValidUtf8Text("a\nb"));
  EXPECT_FALSE(IsValidUtf8Text(std::string("a\0b", 3)));
  EXPECT_FALSE(IsValidUtf8Text("a\x7f"));
  EXPECT_TRUE(IsValidUtf8Text("\xc2\x85"));  // U+0085 (C1 NEL) is allowed, as before
  EXPECT_FALSE(IsValidUtf8Text("\xc0\xaf"));
}

TEST(Utf8, CharStartsCountCharactersNotBytes) {
  EXPECT_EQ(Utf8CharStarts(""), std::vector<size_t>({0}));
  EXPECT_EQ(Utf8CharStarts("a中😀b"), std::vector<size_t>({0, 1, 4, 8, 9}));
  // Not UTF-8: never past the end, a non-lead byte steps four bytes.
  EXPECT_EQ(Utf8CharStarts("\x80"
                           "ab"),
            std::vector<size_t>({0, 3}));
}

TEST(Utf8, LossyDecodeReadsEachCharacter) {
  const std::string s = "a中😀";
  EXPECT_EQ(DecodeUtf8Lossy(s, 0).cp, U'a');
  EXPECT_EQ(DecodeUtf8Lossy(s, 1).cp, U'中');
  EXPECT_EQ(DecodeUtf8Lossy(s, 1).len, 3u);
  EXPECT_EQ(DecodeUtf8Lossy(s, 4).cp, U'😀');
  EXPECT_EQ(DecodeUtf8Lossy(s, 4).len, 4u);
  EXPECT_EQ(Utf8PrevCharStart(s, 8), 4u);
  EXPECT_EQ(Utf8PrevCharStart(s, 4), 1u);
  EXPECT_EQ(Utf8PrevCharStart(s, 1), 0u);
}

TEST(Utf8, LossyDecodeAlwaysMakesProgress) {
  for (std::string bad : {"\x80", "\xff", "\xe4\xb8",
                          "\xe4"
                          "a",
                          "\xf8\x88\x80\x80\x80"}) {
    const Utf8Char c = DecodeUtf8Lossy(bad, 0);
    EXPECT_EQ(c.cp, 0xFFFDu);
    EXPECT_EQ(c.len, 1u);
  }
}

// The scanner's decode has always read these by their bits; IsValidUtf8 refuses them.
TEST(Utf8, LossyDecodeIsLenientAboutOverlongsAndSurrogates) {
  EXPECT_EQ(DecodeUtf8Lossy("\xc0\xaf", 0).cp, U'/');
  EXPECT_EQ(DecodeUtf8Lossy("\xc0\xaf", 0).len, 2u);
  EXPECT_EQ(DecodeUtf8Lossy("\xed\xa0\x80", 0).cp, 0xD800u);
  EXPECT_EQ(DecodeUtf8Lossy("\xf4\x90\x80\x80", 0).cp, 0x110000u);
}

}  // namespace
}  // namespace custos::core
