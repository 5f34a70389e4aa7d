// See output_stream.h.
#include "core/output_stream.h"

#include <utility>

namespace custos {

OutputStream::Buffer::Buffer(std::unique_ptr<OutputFile> file) : file_(std::move(file)) {
  buffer_.reserve(kChunk);
}

bool OutputStream::Buffer::Write(std::string_view bytes) {
  if (!status_.ok()) return false;
  status_ = file_->Append(bytes);
  return status_.ok();
}

bool OutputStream::Buffer::Drain() {
  if (buffer_.empty()) return status_.ok();
  const bool ok = Write(buffer_);
  buffer_.clear();
  return ok;
}

OutputStream::Buffer::int_type OutputStream::Buffer::overflow(int_type ch) {
  if (!status_.ok()) return traits_type::eof();
  if (traits_type::eq_int_type(ch, traits_type::eof())) return Drain() ? 0 : traits_type::eof();
  buffer_.push_back(traits_type::to_char_type(ch));
  if (buffer_.size() >= kChunk && !Drain()) return traits_type::eof();
  return ch;
}

std::streamsize OutputStream::Buffer::xsputn(const char* s, std::streamsize n) {
  if (!status_.ok() || n <= 0) return 0;
  const std::string_view bytes(s, static_cast<size_t>(n));
  if (bytes.size() >= kChunk) {
    // A large write goes straight to the file, after what was buffered before it.
    if (!Drain() || !Write(bytes)) return 0;
    return n;
  }
  buffer_.append(bytes);
  if (buffer_.size() >= kChunk && !Drain()) return 0;
  return n;
}

int OutputStream::Buffer::sync() { return Drain() ? 0 : -1; }

OutputStream::OutputStream(std::unique_ptr<OutputFile> file)
    : std::ostream(nullptr), buf_(std::move(file)) {
  rdbuf(&buf_);
}

// Not committed: the OutputFile (owned by buf_) removes its temporary file.
OutputStream::~OutputStream() = default;

Status OutputStream::Commit() {
  if (!buf_.Drain()) return buf_.status();
  return buf_.file().Commit();
}

Status WriteStreamed(Env& env, const std::filesystem::path& path,
                     const std::function<Status(std::ostream&)>& write, uint32_t mode) {
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<OutputFile> file, env.NewOutputFile(path, mode));
  OutputStream os(std::move(file));
  Status st = write(os);
  if (!os.status().ok()) return os.status();
  CUSTOS_RETURN_IF_ERROR(st);
  return os.Commit();
}

}  // namespace custos
