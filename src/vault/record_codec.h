// RecordCodec: the plaintext layout inside an envelope or a sealed record — a list of
// (name, value) pairs, length-prefixed so that no value can forge another field.
//   u16 count, then per pair: u16 name length, name bytes, u32 value length, value bytes.
// Decoding is strict: any trailing or missing byte is DataLoss (the AEAD already authenticated
// the bytes, so this only fires on a format bug).
#pragma once

#include <map>
#include <string>

#include "core/status.h"
#include "crypto/primitives.h"

namespace custos::vault {

using FieldValues = std::map<std::string, std::string, std::less<>>;

crypto::SecretBytes EncodeFields(const FieldValues& fields);
Result<FieldValues> DecodeFields(crypto::ByteView bytes);

}  // namespace custos::vault
