// The head file: the latest signed checkpoint of the audit chain, kept OUTSIDE the database.
//
// Why it exists: a hash chain shows that no entry was edited, removed or inserted between two
// entries, but not that the newest entries were cut off (a shorter chain is still a valid
// chain), and anyone who can write the database can recompute a whole chain. The head file
// records "the log had reached entry seq with hash H", signed with the checkpoint key, in a
// place a database edit does not reach; Verify compares the log against it.
//
// Format: one line of JSON,
//   {"format":"custos-audit-head/1","suite":"aes256gcm","seq":250,"ts_ms":...,
//    "hash":"<hex>","signature":"<hex>"}
// seq 0 with a hash of 32 zero bytes records an empty log.
//
// Thread safety: the functions are thread-safe for distinct paths; AuditLog serialises its
// own writes to one path.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/env.h"
#include "core/status.h"
#include "crypto/primitives.h"

namespace custos::audit {

struct SignedHead {
  crypto::Suite suite = crypto::Suite::kAes256Gcm;
  int64_t seq = 0;
  int64_t ts_ms = 0;
  crypto::Bytes hash;
  crypto::Bytes signature;  // over CheckpointMessage(seq, hash)
};

// Replaces the file atomically through `env` (Env::WriteFileAtomic: a temporary file of this
// process, fsynced, renamed over `path`, the directory fsynced), so a crash leaves either the
// old head or the new one. Unavailable naming the file and the step if any step fails; the
// old head file is then untouched (only a failed directory fsync comes after the rename).
Status WriteHeadFile(const std::filesystem::path& path, const SignedHead& head,
                     Env& env = Env::Default());

// The one-line JSON form of `head` (with its trailing newline), as in the head file; also the
// form of a signed tip kept in the database (DecodeTip also reads a MAC tip) and of a witness
// file's lines.
std::string EncodeHead(const SignedHead& head);
// The head in `text` (one head line, surrounding whitespace allowed). DataLoss if it is not a
// well-formed head line. The signature is not checked (VerifyHead does).
Result<SignedHead> DecodeHead(std::string_view text);
// OK if `head.signature` is the audit key's signature over (seq, hash) and `head.suite` is
// `suite`; DataLoss naming what is wrong otherwise; InvalidArgument for a malformed key.
Status VerifyHead(const SignedHead& head, crypto::Suite suite, crypto::ByteView public_key);

// As WriteHeadFile, but never replaces (Env::CreateFileAtomic): Conflict if `path` exists.
// For a new vault's first head.
Status CreateHeadFile(const std::filesystem::path& path, const SignedHead& head,
                      Env& env = Env::Default());

// The tip kept with the log in the database (AuditLog, kTipMetaKey): either a signed head line
// as above, or a MAC tip line
//   {"format":"custos-audit-tip-mac/1","suite":"aes256gcm","seq":251,"ts_ms":...,
//    "hash":"<hex>","mac":"<hex>"}
// whose tag is HMAC (SHA-256, or SM3 for sm4gcm) over CheckpointMessage(seq, hash) under a key
// derived from the audit signing key (docs/decisions.md, "MAC tips"). A MAC tip is never a
// head file or witness line: DecodeHead refuses it.
struct StoredTip {
  SignedHead head;  // head.signature holds the MAC tag when `mac`
  bool mac = false;
};
std::string EncodeMacTip(const SignedHead& head);
// Either form; DataLoss if `text` is neither.
Result<StoredTip> DecodeTip(std::string_view text);

// The head recorded in `path`; nullopt if the file does not exist.
// DataLoss if it is not a well-formed head line (edited or damaged).
// Unavailable if it exists but cannot be read.
Result<std::optional<SignedHead>> ReadHeadFile(const std::filesystem::path& path,
                                               Env& env = Env::Default());

}  // namespace custos::audit
