// The canonical byte encodings the audit chain hashes and the checkpoints sign (P3.2c).
//
// Both are deterministic and unambiguous: a domain-separation prefix, then fixed-width
// big-endian integers, then every string or byte field as u32 big-endian length + bytes. No
// two different entries (or checkpoints) encode to the same bytes, and an entry can never be
// mistaken for a checkpoint or for any other Custos message.
//
//   entry:      "custos/audit/v1" seq(i64) ts_ms(i64) actor action target purpose channel
//               decision reason fields request_id prev_hash     (strings length-prefixed)
//   hash:       H(prev_hash || entry)   with H = SHA-256 (aes256gcm) or SM3 (sm4gcm)
//   checkpoint: "custos/checkpoint/v1" seq(i64) hash            (hash length-prefixed)
//
// Changing either encoding breaks every existing log: add a v2 prefix instead.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>

#include "crypto/primitives.h"
#include "store/store.h"

namespace custos::audit {

// prev_hash of the first entry: 32 zero bytes.
crypto::Bytes GenesisHash();

// The canonical encoding of `row` (its seq, ts_ms, event fields and prev_hash; not its hash).
crypto::Bytes CanonicalEntry(const store::AuditRow& row);

// H(row.prev_hash || CanonicalEntry(row)): the hash the row must carry.
crypto::Bytes EntryHash(crypto::Suite suite, const store::AuditRow& row);

// The message a checkpoint signature covers: "the chain up to `seq` has hash `hash`".
crypto::Bytes CheckpointMessage(int64_t seq, crypto::ByteView hash);

}  // namespace custos::audit
