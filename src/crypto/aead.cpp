// Aead and Mac: the suite's AEAD and MAC under a fixed key. See primitives.h.
#include <cassert>

#include "crypto/internal/framed.h"
#include "crypto/internal/raw.h"
#include "crypto/primitives.h"

namespace custos::crypto {
namespace {

class GcmAead final : public Aead {
 public:
  GcmAead(Suite suite, SecretBytes key) : suite_(suite), key_(std::move(key)) {}

  Bytes Seal(ByteView plaintext, ByteView aad) const override {
    Bytes out;
    // Cannot fail: the key size was checked by New and the nonce is always 96 bits.
    [[maybe_unused]] const Status status = framed::Seal(suite_, key_, aad, plaintext, out);
    assert(status.ok());
    return out;
  }

  Result<SecretBytes> Open(ByteView sealed, ByteView aad) const override {
    return framed::Open(suite_, key_, aad, sealed);
  }

 private:
  const Suite suite_;
  const SecretBytes key_;
};

class HmacMac final : public Mac {
 public:
  HmacMac(Suite suite, SecretBytes key) : suite_(suite), key_(std::move(key)) {}

  Bytes Compute(ByteView message) const override { return raw::HmacCompute(suite_, key_, message); }

  bool Verify(ByteView message, ByteView tag) const override {
    return raw::HmacVerify(suite_, key_, message, tag);
  }

 private:
  const Suite suite_;
  const SecretBytes key_;
};

}  // namespace

Result<std::unique_ptr<Aead>> Aead::New(Suite suite, const SecretBytes& key) {
  if (key.size() != AeadKeySize(suite)) {
    return InvalidArgument("key size is wrong for suite " + std::string(SuiteName(suite)));
  }
  return std::unique_ptr<Aead>(std::make_unique<GcmAead>(suite, key));
}

Result<std::unique_ptr<Mac>> Mac::New(Suite suite, const SecretBytes& key) {
  if (key.empty()) return InvalidArgument("MAC key is empty");
  if (key.size() > raw::kMaxHmacKeySize) return InvalidArgument("MAC key is too long");
  return std::unique_ptr<Mac>(std::make_unique<HmacMac>(suite, key));
}

}  // namespace custos::crypto
