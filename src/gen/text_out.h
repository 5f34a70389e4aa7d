// Fast text building for the generator's writers: integers, RFC 4180 CSV fields and JSON
// strings appended to a std::string, and a buffer that hands the stream 64 KiB at a time.
// Internal to gen.
//
// Thread safety: BufferedOut is used by one thread.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include "core/status.h"

namespace custos::gen {

// Appends `v` in decimal, left-padded with zeros to `width` digits (0: no padding).
void AppendUint(std::string& out, uint64_t v, int width);

// Appends `field`, quoted (with "" for ") only if it holds a comma, quote, CR or LF.
void AppendCsvField(std::string& out, std::string_view field);

// Appends `s` as a JSON string literal (quotes included); `s` is UTF-8.
void AppendJsonString(std::string& out, std::string_view s);

class BufferedOut {
 public:
  explicit BufferedOut(std::ostream& os) : os_(os) { buffer_.reserve(kChunk + 4096); }

  std::string& buffer() { return buffer_; }

  // Writes the buffer out once it holds a chunk. False if the stream failed.
  bool MaybeFlush() { return buffer_.size() < kChunk || Flush(); }

  // Writes everything buffered to the stream. False if the stream failed.
  bool Flush();

 private:
  static constexpr size_t kChunk = size_t{64} * 1024;
  std::ostream& os_;
  std::string buffer_;
};

// Unavailable status for a failed output stream.
Status StreamFailed();

}  // namespace custos::gen
