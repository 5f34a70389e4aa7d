// Canonical encodings of audit entries and checkpoints. See canonical.h.
#include "audit/canonical.h"

#include <string_view>

namespace custos::audit {
namespace {

constexpr std::string_view kEntryDomain = "custos/audit/v1";
constexpr std::string_view kCheckpointDomain = "custos/checkpoint/v1";
constexpr std::string_view kTreeHeadDomain = "custos/tree-head/v1";

void PutU32(crypto::Bytes& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

// Two's complement, big endian: seq and times are never negative in practice, but the
// encoding must be total anyway.
void PutI64(crypto::Bytes& out, int64_t v) {
  const auto u = static_cast<uint64_t>(v);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(u >> shift));
}

void PutField(crypto::Bytes& out, crypto::ByteView bytes) {
  PutU32(out, static_cast<uint32_t>(bytes.size()));
  out.insert(out.end(), bytes.begin(), bytes.end());
}

void PutField(crypto::Bytes& out, std::string_view s) { PutField(out, crypto::AsBytes(s)); }

void PutDomain(crypto::Bytes& out, std::string_view domain) {
  out.insert(out.end(), domain.begin(), domain.end());
}

}  // namespace

crypto::Bytes GenesisHash() { return crypto::Bytes(32, 0); }

crypto::Bytes CanonicalEntry(const store::AuditRow& row) {
  crypto::Bytes out;
  out.reserve(128 + row.actor.size() + row.action.size() + row.target.size() + row.purpose.size() +
              row.reason.size() + row.fields.size() + row.request_id.size());
  PutDomain(out, kEntryDomain);
  PutI64(out, row.seq);
  PutI64(out, row.ts_ms);
  PutField(out, row.actor);
  PutField(out, row.action);
  PutField(out, row.target);
  PutField(out, row.purpose);
  PutField(out, row.channel);
  PutField(out, row.decision);
  PutField(out, row.reason);
  PutField(out, row.fields);
  PutField(out, row.request_id);
  PutField(out, crypto::ByteView(row.prev_hash));
  return out;
}

crypto::Bytes EntryHash(crypto::Suite suite, const store::AuditRow& row) {
  crypto::Bytes input(row.prev_hash);
  const crypto::Bytes entry = CanonicalEntry(row);
  input.insert(input.end(), entry.begin(), entry.end());
  return crypto::Hash(suite, input);
}

crypto::Bytes CheckpointMessage(int64_t seq, crypto::ByteView hash) {
  crypto::Bytes out;
  PutDomain(out, kCheckpointDomain);
  PutI64(out, seq);
  PutField(out, hash);
  return out;
}

crypto::Bytes TreeHeadMessage(crypto::Suite suite, int64_t tree_size, int64_t ts_ms,
                              crypto::ByteView root_hash) {
  crypto::Bytes out;
  PutDomain(out, kTreeHeadDomain);
  out.push_back(static_cast<uint8_t>(suite));
  PutI64(out, tree_size);
  PutI64(out, ts_ms);
  PutField(out, root_hash);
  return out;
}

}  // namespace custos::audit
