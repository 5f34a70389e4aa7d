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
//   tree head:  "custos/tree-head/v1" suite(u8) tree_size(i64) ts_ms(i64) root_hash
//               (root_hash length-prefixed; suite 1 = aes256gcm/SHA-256, 2 = sm4gcm/SM3)
//
// The entry encoding is also the leaf input of the Merkle tree (merkle.h).
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

// The message a signed tree head covers (tree_head.h): "the Merkle tree of the first
// `tree_size` entries, hashed with `suite`'s hash, had root `root_hash` at `ts_ms`".
crypto::Bytes TreeHeadMessage(crypto::Suite suite, int64_t tree_size, int64_t ts_ms,
                              crypto::ByteView root_hash);

}  // namespace custos::audit
