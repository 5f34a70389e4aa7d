// GB18030 input: an incremental decoder to UTF-8 (the scanner's patterns are UTF-8) that can
// map an offset in its UTF-8 output back to the byte offset in the original input, and an
// encoder for writing masked values back in GB18030 when redacting. Both use glibc's iconv.
//
// The decoder converts whole lines ('\n' never occurs inside a GB18030 character) and keeps
// the lines of the output of the current and the previous Decode call, plus kMappedBytes
// before them, for offset mapping: a consumer that maps each finding before it decodes the
// chunk after next (the scanner's hold-back is far below kMappedBytes) maps every offset
// exactly, at any file size, and memory stays bounded by about two chunks (plus the marks of
// the lines mapped into, at most half their size).
// Invalid sequences decode to U+FFFD, one per bad byte.
//
// Thread safety: one thread at a time per object; the free functions are reentrant.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace custos::scan {

class Gb18030Decoder {
 public:
  static constexpr uint64_t kMappedBytes = 1 << 16;
  static constexpr size_t kMaxLine = 1 << 20;  // longer lines are cut at a character boundary

  // Fails with Unavailable if iconv has no GB18030 converter.
  static Result<std::unique_ptr<Gb18030Decoder>> Create();
  ~Gb18030Decoder();
  Gb18030Decoder(const Gb18030Decoder&) = delete;
  Gb18030Decoder& operator=(const Gb18030Decoder&) = delete;

  // Converts the next input bytes, appending UTF-8 to `out`. An unfinished line is held back
  // until the next call or Finish.
  void Decode(std::string_view in, std::string& out);
  void Finish(std::string& out);

  // The original byte offset of UTF-8 output offset `utf8`. Internal if `utf8` lies before
  // the lines still kept (see above): the caller must fail rather than guess an offset. The
  // first call into a line walks it once and keeps a mark every kMarkEvery characters (8
  // bytes each, held as long as the line is); every call then steps over at most kMarkEvery
  // characters, however long the line and in whatever order offsets are asked for.
  Result<uint64_t> OriginalOffset(uint64_t utf8);

  // Test hook: the characters OriginalOffset has stepped over so far (the mapping's work).
  uint64_t TEST_steps() const { return steps_; }

 private:
  Gb18030Decoder() = default;
  // A character boundary of a line: its offsets in the line's UTF-8 and in its original bytes.
  struct Mark {
    uint32_t utf8;
    uint32_t orig;
  };
  // One boundary every kMarkEvery characters, so that mapping an offset walks at most that
  // many characters from the mark before it, not the whole line (a 1 MiB line with thousands
  // of findings took minutes when each offset walked from the line's start).
  static constexpr size_t kMarkEvery = 16;
  struct Line {
    uint64_t utf8_start;
    uint64_t utf8_end;
    uint64_t orig_start;
    std::string orig;
    std::vector<Mark> marks;  // made by the first OriginalOffset into this line
  };
  void ConvertLine(std::string_view line, std::string& out);
  // One character at orig[i]: its length in the input and in UTF-8.
  std::pair<size_t, size_t> CharLengths(std::string_view orig, size_t i);
  void MarkLine(Line& line);

  void* cd_ = nullptr;  // iconv_t
  std::string pending_;
  std::deque<Line> lines_;
  uint64_t utf8_pos_ = 0;
  uint64_t orig_pos_ = 0;
  uint64_t previous_call_start_ = 0;  // utf8_pos_ when the previous Decode call began
  uint64_t steps_ = 0;
};

// True if `sample` decodes as GB18030 without an invalid sequence (a sequence cut off by the
// end of the sample is allowed).
bool LooksLikeGb18030(std::string_view sample);

// `utf8` in GB18030. Fails with InvalidArgument if it cannot be encoded.
Result<std::string> EncodeGb18030(std::string_view utf8);

}  // namespace custos::scan
