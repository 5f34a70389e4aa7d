// OutputStream: a std::ostream over an OutputFile (core/env.h), for the writers that produce
// a stream — `custos export -o`, `custos audit export --out`, `custos gen -o`. The bytes are
// buffered (64 KiB) and handed to OutputFile::Append; nothing appears under the destination's
// name until Commit, and an OutputStream destroyed without a successful Commit leaves the
// destination as it was and no temporary file.
//
// A write error sets the stream's badbit (so a writer that checks its stream stops early) and
// is kept: status() and Commit() return it, naming the destination and the failed step.
//
// Thread safety: used by one thread at a time.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <streambuf>
#include <string>

#include "core/env.h"
#include "core/status.h"

namespace custos {

class OutputStream : public std::ostream {
 public:
  // Takes the output; `file` must not be null.
  explicit OutputStream(std::unique_ptr<OutputFile> file);
  ~OutputStream() override;
  OutputStream(const OutputStream&) = delete;
  OutputStream& operator=(const OutputStream&) = delete;

  // The first write error (Unavailable naming the destination and the step); OK if none.
  const Status& status() const { return buf_.status(); }
  // Writes out what is buffered and publishes the file (OutputFile::Commit). The first write
  // error if there was one (then nothing is published); Commit's own error otherwise.
  [[nodiscard]] Status Commit();

 private:
  class Buffer final : public std::streambuf {
   public:
    explicit Buffer(std::unique_ptr<OutputFile> file);
    const Status& status() const { return status_; }
    OutputFile& file() { return *file_; }
    // Hands what is buffered to the file; false (and status() set) on failure.
    bool Drain();

   protected:
    int_type overflow(int_type ch) override;
    std::streamsize xsputn(const char* s, std::streamsize n) override;
    int sync() override;

   private:
    static constexpr size_t kChunk = size_t{64} * 1024;
    bool Write(std::string_view bytes);
    std::unique_ptr<OutputFile> file_;
    std::string buffer_;
    Status status_;
  };

  Buffer buf_;
};

// Runs `write` on an OutputStream to `path` (Env::NewOutputFile with `mode`) and publishes the
// file if it succeeds. The first write error of the stream if there was one (Unavailable
// naming `path` and the step: a writer's own "stream failed" says less); otherwise `write`'s
// error, with nothing published; otherwise Commit's. On any failure `path` is as it was and
// no temporary file is left.
[[nodiscard]] Status WriteStreamed(Env& env, const std::filesystem::path& path,
                                   const std::function<Status(std::ostream&)>& write,
                                   uint32_t mode = 0600);

}  // namespace custos
