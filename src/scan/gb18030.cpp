#include "scan/gb18030.h"

#include <iconv.h>

#include <algorithm>
#include <cerrno>

namespace custos::scan {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

iconv_t Cd(void* p) { return static_cast<iconv_t>(p); }

// The length of the GB18030 character at s[i] from its bytes alone: one byte below 0x80,
// four if the second byte is a digit (0x30-0x39), else two.
size_t SyntacticLength(std::string_view s, size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80 || b == 0x80 || b == 0xFF || i + 1 >= s.size()) return 1;
  const auto b2 = static_cast<unsigned char>(s[i + 1]);
  return (b2 >= 0x30 && b2 <= 0x39) ? 4 : 2;
}

// Converts `in` with `cd`, appending to `out`. Returns false at the first invalid or
// incomplete sequence, with `consumed` set to the bytes converted before it.
bool Convert(iconv_t cd, std::string_view in, std::string& out, size_t& consumed) {
  char* src = const_cast<char*>(in.data());
  size_t left = in.size();
  char buf[4096];
  bool ok = true;
  while (left > 0) {
    char* dst = buf;
    size_t room = sizeof(buf);
    const size_t r = ::iconv(cd, &src, &left, &dst, &room);
    out.append(buf, static_cast<size_t>(dst - buf));
    if (r == static_cast<size_t>(-1) && errno != E2BIG) {
      ok = false;
      break;
    }
  }
  consumed = in.size() - left;
  ::iconv(cd, nullptr, nullptr, nullptr, nullptr);
  return ok;
}

// iconv_open's error value is (iconv_t)-1 (POSIX).
bool IconvFailed(iconv_t cd) {
  return cd == reinterpret_cast<iconv_t>(-1);  // NOLINT(performance-no-int-to-ptr): POSIX's API
}

}  // namespace

Result<std::unique_ptr<Gb18030Decoder>> Gb18030Decoder::Create() {
  iconv_t cd = ::iconv_open("UTF-8", "GB18030");
  if (IconvFailed(cd)) return Unavailable("iconv has no GB18030 converter");
  std::unique_ptr<Gb18030Decoder> d(new Gb18030Decoder());
  d->cd_ = cd;
  return d;
}

Gb18030Decoder::~Gb18030Decoder() {
  if (cd_ != nullptr) ::iconv_close(Cd(cd_));
}

void Gb18030Decoder::ConvertLine(std::string_view line, std::string& out) {
  const uint64_t utf8_start = utf8_pos_;
  const size_t before = out.size();
  size_t i = 0;
  while (i < line.size()) {
    size_t consumed = 0;
    if (Convert(Cd(cd_), line.substr(i), out, consumed)) break;
    i += consumed;
    out.append(kReplacement);  // one U+FFFD per bad byte, as CharLengths assumes
    ++i;
  }
  utf8_pos_ += out.size() - before;
  lines_.push_back({utf8_start, utf8_pos_, orig_pos_, std::string(line), {}});
  orig_pos_ += line.size();
}

void Gb18030Decoder::Decode(std::string_view in, std::string& out) {
  // What the consumer may still map: the previous call's output and kMappedBytes before it.
  while (!lines_.empty() && lines_.front().utf8_end + kMappedBytes < previous_call_start_) {
    lines_.pop_front();
  }
  previous_call_start_ = utf8_pos_;
  while (!in.empty()) {
    const size_t nl = in.find('\n');
    if (nl == std::string_view::npos) {
      pending_.append(in);
      if (pending_.size() >= kMaxLine) {
        // Cut at the last complete character.
        size_t cut = 0;
        while (cut < pending_.size()) {
          const size_t len = SyntacticLength(pending_, cut);
          if (cut + len > pending_.size()) break;
          cut += len;
        }
        ConvertLine(std::string_view(pending_).substr(0, cut), out);
        pending_.erase(0, cut);
      }
      return;
    }
    if (pending_.empty()) {
      ConvertLine(in.substr(0, nl + 1), out);
    } else {
      pending_.append(in.substr(0, nl + 1));
      ConvertLine(pending_, out);
      pending_.clear();
    }
    in.remove_prefix(nl + 1);
  }
}

void Gb18030Decoder::Finish(std::string& out) {
  if (!pending_.empty()) ConvertLine(pending_, out);
  pending_.clear();
}

std::pair<size_t, size_t> Gb18030Decoder::CharLengths(std::string_view orig, size_t i) {
  ++steps_;
  const size_t len = std::min(SyntacticLength(orig, i), orig.size() - i);
  if (len == 1 && static_cast<unsigned char>(orig[i]) < 0x80) return {1, 1};
  std::string utf8;
  size_t consumed = 0;
  if (Convert(Cd(cd_), orig.substr(i, len), utf8, consumed) && consumed == len) {
    return {len, utf8.size()};
  }
  return {1, kReplacement.size()};
}

Result<uint64_t> Gb18030Decoder::OriginalOffset(uint64_t utf8) {
  if (lines_.empty()) {
    if (utf8 == utf8_pos_) return orig_pos_;
    return Internal("GB18030 offset mapping: the offset is no longer kept");
  }
  if (utf8 >= lines_.back().utf8_end) {
    if (utf8 == utf8_pos_) return orig_pos_;
    return Internal("GB18030 offset mapping: the offset lies past the decoded text");
  }
  auto it = std::upper_bound(lines_.begin(), lines_.end(), utf8,
                             [](uint64_t u, const Line& l) { return u < l.utf8_start; });
  if (it == lines_.begin()) {
    return Internal("GB18030 offset mapping: the offset is no longer kept");
  }
  Line& line = *(it - 1);
  if (line.marks.empty()) MarkLine(line);
  // The last mark at or before the offset, then at most kMarkEvery characters.
  const auto rel = static_cast<uint32_t>(utf8 - line.utf8_start);
  auto mark = std::upper_bound(line.marks.begin(), line.marks.end(), rel,
                               [](uint32_t u, const Mark& m) { return u < m.utf8; });
  --mark;  // marks[0] is {0, 0}
  uint64_t u = line.utf8_start + mark->utf8;
  size_t i = mark->orig;
  while (u < utf8 && i < line.orig.size()) {
    const auto [orig_len, utf8_len] = CharLengths(line.orig, i);
    i += orig_len;
    u += utf8_len;
  }
  return line.orig_start + i;
}

void Gb18030Decoder::MarkLine(Line& line) {
  line.marks.reserve(line.orig.size() / (2 * kMarkEvery) + 1);
  uint32_t u = 0;
  size_t i = 0;
  size_t chars = 0;
  while (i < line.orig.size()) {
    if (chars % kMarkEvery == 0) line.marks.push_back({u, static_cast<uint32_t>(i)});
    const auto [orig_len, utf8_len] = CharLengths(line.orig, i);
    i += orig_len;
    u += static_cast<uint32_t>(utf8_len);
    ++chars;
  }
  if (line.marks.empty()) line.marks.push_back({0, 0});
}

bool LooksLikeGb18030(std::string_view sample) {
  iconv_t cd = ::iconv_open("UTF-8", "GB18030");
  if (IconvFailed(cd)) return false;
  std::string out;
  size_t consumed = 0;
  const bool ok = Convert(cd, sample, out, consumed);
  const int err = errno;
  ::iconv_close(cd);
  // A character cut off by the end of the sample is fine (EINVAL within the last 3 bytes).
  return ok || (err == EINVAL && sample.size() - consumed < 4);
}

Result<std::string> EncodeGb18030(std::string_view utf8) {
  iconv_t cd = ::iconv_open("GB18030", "UTF-8");
  if (IconvFailed(cd)) return Unavailable("iconv has no GB18030 converter");
  std::string out;
  size_t consumed = 0;
  const bool ok = Convert(cd, utf8, out, consumed);
  ::iconv_close(cd);
  if (!ok) return InvalidArgument("text cannot be encoded in GB18030");
  return out;
}

}  // namespace custos::scan
