#include "vault/record_codec.h"

#include <cstring>

namespace custos::vault {
namespace {

void PutU16(crypto::SecretBytes& out, size_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

void PutU32(crypto::SecretBytes& out, size_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

void PutBytes(crypto::SecretBytes& out, std::string_view s) {
  out.insert(out.end(), s.begin(), s.end());
}

class Reader {
 public:
  explicit Reader(crypto::ByteView b) : b_(b) {}
  bool U16(size_t& v) {
    if (b_.size() - pos_ < 2) return false;
    v = (size_t{b_[pos_]} << 8) | b_[pos_ + 1];
    pos_ += 2;
    return true;
  }
  bool U32(size_t& v) {
    if (b_.size() - pos_ < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | b_[pos_ + static_cast<size_t>(i)];
    pos_ += 4;
    return true;
  }
  bool Str(size_t n, std::string& s) {
    if (b_.size() - pos_ < n) return false;
    s.assign(reinterpret_cast<const char*>(b_.data() + pos_), n);
    pos_ += n;
    return true;
  }
  bool AtEnd() const { return pos_ == b_.size(); }

 private:
  crypto::ByteView b_;
  size_t pos_ = 0;
};

}  // namespace

crypto::SecretBytes EncodeFields(const FieldValues& fields) {
  crypto::SecretBytes out;
  size_t total = 2;
  for (const auto& [k, v] : fields) total += 6 + k.size() + v.size();
  out.reserve(total);
  PutU16(out, fields.size());
  for (const auto& [k, v] : fields) {
    PutU16(out, k.size());
    PutBytes(out, k);
    PutU32(out, v.size());
    PutBytes(out, v);
  }
  return out;
}

Result<FieldValues> DecodeFields(crypto::ByteView bytes) {
  Reader r(bytes);
  size_t count = 0;
  if (!r.U16(count)) return DataLoss("sealed record: truncated header");
  FieldValues out;
  for (size_t i = 0; i < count; ++i) {
    size_t nlen = 0, vlen = 0;
    std::string name, value;
    if (!r.U16(nlen) || !r.Str(nlen, name) || !r.U32(vlen) || !r.Str(vlen, value)) {
      return DataLoss("sealed record: truncated field");
    }
    out.emplace(std::move(name), std::move(value));
  }
  if (!r.AtEnd()) return DataLoss("sealed record: trailing bytes");
  return out;
}

}  // namespace custos::vault
