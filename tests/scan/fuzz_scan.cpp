// libFuzzer target for the scanner's streaming parts, which `custos scan` runs over files
// nobody here wrote: the GB18030 decoder with its map back to original byte offsets, the
// streaming PII scanner with its hold-back between pieces, and `custos scan --redact`. Each
// must give the same answer however its input is cut into pieces, and never crash, hang or
// read out of bounds. The first input byte picks the part, the second seeds how the input is
// cut (or, for redaction, the encoding and layout); the rest is the input (for the decoder
// repeated up to 16 times, so that streams pass the 64 KiB the decoder keeps for mapping).
//
// Checked, for the decoder: the UTF-8 it writes does not depend on the pieces; every character
// it wrote maps back (right after the call that wrote it) to an original offset, offsets grow
// with the text, and the original bytes between two mapped characters decode to exactly that
// character. For the scanner: the findings do not depend on the pieces; each lies inside the
// input, holds the exact bytes at its offset, has the right line, and they come in order.
// For redaction: a file whose scan succeeds gets a copy in which a scan finds none of the
// values found in the file; a file whose scan fails leaves no copy.
// A violated property aborts (a crash for libFuzzer).
//
// Built with clang by scripts/fuzz.sh (build-fuzz, -DCUSTOS_FUZZ=ON); the GCC build runs the
// seed corpus tests/scan/fuzz_corpus through the same function (scan_fuzz_corpus_test).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_temp_dir.h"
#include "scan/file_scan.h"
#include "scan/finding.h"
#include "scan/gb18030.h"
#include "scan/scanner.h"

namespace {

using custos::scan::Encoding;
using custos::scan::FileReport;
using custos::scan::Finding;
using custos::scan::Gb18030Decoder;
using custos::scan::Layout;
using custos::scan::Scanner;
using custos::scan::ScanOptions;
using custos::scan::ScanStream;

[[noreturn]] void Fail(const char* what, uint64_t a, uint64_t b) {
  std::fprintf(stderr, "fuzz_scan: %s (%llu, %llu)\n", what, static_cast<unsigned long long>(a),
               static_cast<unsigned long long>(b));
  std::abort();
}

// xorshift64*: the cut points, reproducible from the seed byte.
struct Cuts {
  uint64_t s;
  explicit Cuts(uint8_t seed) : s(0x9E3779B97F4A7C15ULL ^ (uint64_t{seed} * 0x100000001B3ULL)) {}
  uint64_t Next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ULL;
  }
  // A piece length in [1, max]: mostly short, sometimes the whole rest.
  size_t Piece(size_t max) {
    const uint64_t r = Next();
    if (r % 8 == 0) return max;
    return 1 + static_cast<size_t>((r >> 8) % std::min<size_t>(max, (r % 3 == 0) ? 7 : 4096));
  }
};

bool IsLead(char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }

std::string DecodeAll(Gb18030Decoder& d, std::string_view bytes) {
  std::string out;
  d.Decode(bytes, out);
  d.Finish(out);
  return out;
}

// The characters a Decode or Finish call wrote (out[from, out.size())), mapped while they are
// still kept: a sample of them (every one when few), each with the character after it, so
// that the original bytes between the two offsets can be decoded and compared.
void CheckMapping(Gb18030Decoder& dec, Gb18030Decoder& single, std::string_view stream,
                  std::string_view out, size_t from, uint64_t fed, Cuts& cuts, uint64_t& last_u,
                  uint64_t& last_o) {
  std::vector<size_t> starts;
  for (size_t u = from; u < out.size(); ++u) {
    if (IsLead(out[u])) starts.push_back(u);
  }
  if (starts.empty()) return;
  starts.push_back(out.size());  // the end of the decoded text maps too
  std::vector<size_t> picked;
  if (starts.size() <= 48) {
    for (size_t i = 0; i + 1 < starts.size(); ++i) picked.push_back(i);
  } else {
    picked.push_back(0);
    picked.push_back(starts.size() - 2);
    for (int k = 0; k < 32; ++k) picked.push_back(cuts.Next() % (starts.size() - 1));
    std::sort(picked.begin(), picked.end());
    picked.erase(std::unique(picked.begin(), picked.end()), picked.end());
  }
  for (const size_t i : picked) {
    const uint64_t u1 = starts[i];
    const uint64_t u2 = starts[i + 1];
    auto o1 = dec.OriginalOffset(u1);
    auto o2 = dec.OriginalOffset(u2);
    if (!o1.ok() || !o2.ok()) Fail("a character just written does not map", u1, u2);
    if (*o2 <= *o1) Fail("original offsets do not grow with the text", *o1, *o2);
    if (*o2 > fed) Fail("an offset past the bytes fed", *o2, fed);
    if (u1 > last_u && *o1 <= last_o && last_u != UINT64_MAX) {
      Fail("original offsets go back between calls", last_o, *o1);
    }
    const std::string_view orig = stream.substr(*o1, *o2 - *o1);
    const std::string_view ch = out.substr(u1, u2 - u1);
    if (DecodeAll(single, orig) != ch) Fail("the original bytes decode to another text", *o1, u1);
    last_u = u1;
    last_o = *o1;
  }
}

void FuzzDecoder(uint8_t seed, std::string_view payload) {
  std::string stream;
  const int copies = 1 + seed % 16;
  for (int i = 0; i < copies; ++i) stream.append(payload);
  auto whole_dec = Gb18030Decoder::Create();
  auto dec = Gb18030Decoder::Create();
  auto single = Gb18030Decoder::Create();
  if (!whole_dec.ok() || !dec.ok() || !single.ok()) return;  // no GB18030 in this iconv
  const std::string whole = DecodeAll(**whole_dec, stream);

  Cuts cuts(seed);
  std::string out;
  uint64_t fed = 0;
  uint64_t last_u = UINT64_MAX;
  uint64_t last_o = 0;
  while (fed < stream.size()) {
    const size_t n = cuts.Piece(stream.size() - fed);
    const size_t from = out.size();
    (*dec)->Decode(std::string_view(stream).substr(fed, n), out);
    fed += n;
    CheckMapping(**dec, **single, stream, out, from, fed, cuts, last_u, last_o);
  }
  const size_t from = out.size();
  (*dec)->Finish(out);
  CheckMapping(**dec, **single, stream, out, from, fed, cuts, last_u, last_o);
  if (out != whole) Fail("the text depends on how the input was cut", out.size(), whole.size());
}

bool SameFinding(const Finding& a, const Finding& b) {
  return a.type == b.type && a.offset == b.offset && a.length == b.length && a.line == b.line &&
         a.confidence == b.confidence && a.value == b.value && a.normalized == b.normalized &&
         a.masked == b.masked && a.detail == b.detail;
}

void FuzzScanner(uint8_t seed, std::string_view text) {
  const Scanner* scanner = Scanner::Default();
  if (scanner == nullptr) return;  // no Hyperscan on this CPU
  static std::unique_ptr<ScanStream> one = std::move(scanner->NewStream()).value();
  static std::unique_ptr<ScanStream> pieces = std::move(scanner->NewStream()).value();
  auto all = one->ScanAll(text);
  if (!all.ok()) Fail("ScanAll failed", text.size(), 0);

  std::vector<Finding> fed;
  pieces->Begin([&fed](Finding&& f) { fed.push_back(std::move(f)); });
  Cuts cuts(seed);
  size_t at = 0;
  while (at < text.size()) {
    const size_t n = cuts.Piece(text.size() - at);
    if (!pieces->Feed(text.substr(at, n)).ok()) Fail("Feed failed", at, n);
    at += n;
  }
  if (!pieces->Finish().ok()) Fail("Finish failed", at, 0);

  if (fed.size() != all->size()) Fail("the findings depend on the pieces", fed.size(), all->size());
  uint64_t previous = 0;
  for (size_t i = 0; i < fed.size(); ++i) {
    const Finding& f = (*all)[i];
    if (!SameFinding(f, fed[i])) Fail("a finding depends on the pieces", f.offset, fed[i].offset);
    if (f.offset + f.length > text.size()) Fail("a finding past the input", f.offset, f.length);
    if (text.substr(f.offset, f.length) != f.value) Fail("a finding's bytes differ", f.offset, 0);
    if (f.offset < previous) Fail("findings out of order", previous, f.offset);
    previous = f.offset;
    const uint64_t line =
        1 + static_cast<uint64_t>(std::count(text.begin(), text.begin() + f.offset, '\n'));
    if (f.line != line) Fail("a finding's line is wrong", f.line, line);
  }
}

void FuzzRedaction(uint8_t how, std::string_view text) {
  const Scanner* scanner = Scanner::Default();
  if (scanner == nullptr) return;
  static std::unique_ptr<ScanStream> stream = std::move(scanner->NewStream()).value();
  // The input and its copy (fuzz_temp_dir.h).
  const std::filesystem::path& dir = custos::testing::FuzzTempDir("scan-fuzz");
  constexpr Layout kLayouts[] = {Layout::kText, Layout::kCsv, Layout::kTsv, Layout::kJsonl};
  ScanOptions options;
  options.layout = kLayouts[(how >> 1) % 4];
  std::string content(text);
  if ((how & 1) != 0) {  // GB18030: the input as GB18030 when it encodes, else as it is
    options.encoding = Encoding::kGb18030;
    if (auto gb = custos::scan::EncodeGb18030(text); gb.ok()) content = *gb;
  } else {
    options.encoding = Encoding::kUtf8;
  }
  const std::string in = (dir / "in").string();
  const std::string out = (dir / "out").string();
  std::filesystem::remove(out);
  std::ofstream(in, std::ios::binary | std::ios::trunc) << content;

  const FileReport r = custos::scan::ScanFile(*stream, in, options, nullptr, out);
  const bool copied = std::filesystem::exists(out);
  if (!r.status.ok()) {
    if (copied) Fail("a failed redaction left a copy", r.findings.size(), 0);
    return;
  }
  if (r.skipped_binary) return;
  if (!copied) Fail("a redaction that succeeded wrote no copy", r.findings.size(), 0);
  const FileReport again = custos::scan::ScanFile(*stream, out, options, nullptr);
  if (!again.status.ok()) Fail("the redacted copy cannot be scanned", again.findings.size(), 0);
  for (const Finding& f : again.findings) {
    for (const Finding& before : r.findings) {
      if (f.type == before.type && f.normalized == before.normalized) {
        Fail("the redacted copy still holds a value found in the file", before.offset, f.offset);
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  switch (data[0] % 3) {
    case 0:
      FuzzDecoder(data[1], rest);
      break;
    case 1:
      FuzzScanner(data[1], rest);
      break;
    default:
      FuzzRedaction(data[1], rest);
      break;
  }
  return 0;
}
