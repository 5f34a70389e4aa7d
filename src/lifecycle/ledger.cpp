#include "lifecycle/ledger.h"

#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>

#include "crypto/digest.h"

namespace custos::lifecycle {
namespace {

using OrderedJson = nlohmann::ordered_json;

// The Env's message names the file and the step.
Status LedgerError(std::string_view what, const Status& st) {
  return Status(st.code(), fmt::format("ledger: {}: {}", what, st.message()));
}

constexpr std::string_view kEntrySignatureContext = "custos/destruction-ledger-entry/v1\n";
constexpr std::string_view kChainedEntrySignatureContext = "custos/destruction-ledger-entry/v2\n";

struct FileScan {
  LedgerFileState state;
  std::set<int64_t> seqs;
  store::DestructionRow last;  // the last entry and its link (to chain the next one on)
  std::string last_prev;
  std::string last_sig;   // its "sig" as written (hex; empty when there is none)
  int64_t last_line = 0;  // its line number in the file, from 1 (the header is line 1)
};

// Every whole line of the file (a last line without its newline is a torn append, not an
// entry).
Result<FileScan> ScanFile(const std::filesystem::path& file) {
  FileScan scan;
  std::ifstream in(file, std::ios::binary);
  if (!in) return scan;
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t begin = 0;
  int64_t line_no = 0;
  for (size_t end = content.find('\n'); end != std::string::npos;
       begin = end + 1, end = content.find('\n', begin)) {
    ++line_no;
    if (end == begin) continue;
    const auto j = nlohmann::json::parse(content.substr(begin, end - begin), nullptr,
                                         /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      return DataLoss(fmt::format("ledger: line {} is not a JSON object", line_no));
    }
    if (!j.contains("seq") || !j["seq"].is_number_integer()) continue;  // the header
    scan.state.last_seq = j["seq"].get<int64_t>();
    scan.seqs.insert(scan.state.last_seq);
    if (scan.state.last_seq != static_cast<int64_t>(scan.seqs.size())) scan.state.gap = true;
    if (!j.contains("sig")) ++scan.state.unsigned_entries;
    if (!j.contains("prev") || !j["prev"].is_string()) {
      ++scan.state.unchained_entries;
      scan.last_prev.clear();
    } else {
      scan.last_prev = j["prev"].get<std::string>();
    }
    scan.last_line = line_no;
    const auto text = [&](const char* key) {
      return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
    };
    scan.last = store::DestructionRow{
        scan.state.last_seq,
        j.contains("ts_ms") && j["ts_ms"].is_number_integer() ? j["ts_ms"].get<int64_t>() : 0,
        text("run_id"), text("kind"), text("id_hash")};
    scan.last_sig = text("sig");
  }
  return scan;
}

bool SameEntry(const store::DestructionRow& a, const store::DestructionRow& b) {
  return a.seq == b.seq && a.ts_ms == b.ts_ms && a.run_id == b.run_id && a.kind == b.kind &&
         a.id_hash == b.id_hash;
}

// The entry the next one is chained on to must be one this vault signed (its "sig" verifies
// under the vault's checkpoint key over this vault's id and salt and its own link) and, when
// `entries` holds its seq, the one the store's destruction log holds there. Otherwise a forged
// or foreign last line would be built on and signed into the chain, and the ledger spoiled for
// every restore after it. FailedPrecondition naming the file, the line and the rule.
Status CheckLastEntry(const std::filesystem::path& file, std::string_view vault_id,
                      std::string_view salt_hex, const FileScan& scan,
                      const std::vector<store::DestructionRow>& entries, crypto::Suite suite,
                      crypto::ByteView public_key) {
  const auto refuse = [&](std::string_view rule) {
    return FailedPrecondition(fmt::format(
        "ledger {}: line {} (entry {}), the last entry, {}; nothing is chained on to it and the "
        "file is left as it was: move it aside (keep it for inspection) and run again, the "
        "ledger is then written anew from the destruction log",
        file.string(), scan.last_line, scan.last.seq, rule));
  };
  const std::string message = LedgerEntryMessage(vault_id, salt_hex, scan.last, scan.last_prev);
  const Result<crypto::Bytes> sig = crypto::FromHex(scan.last_sig);
  if (!sig.ok() ||
      !crypto::VerifySignature(suite, public_key, crypto::AsBytes(message), *sig).ok()) {
    return refuse(
        "does not verify under the vault's checkpoint key (an entry is chained on only to one "
        "this vault signed)");
  }
  for (const store::DestructionRow& e : entries) {
    if (e.seq == scan.last.seq && !SameEntry(e, scan.last)) {
      return refuse("is not the entry the store's destruction log holds at that seq");
    }
  }
  return Status::Ok();
}

std::string HeaderLine(std::string_view vault_id, std::string_view salt_hex) {
  OrderedJson header;
  header["format"] = kLedgerFormat;
  header["vault_id"] = vault_id;
  header["salt"] = salt_hex;
  return header.dump() + "\n";
}

}  // namespace

std::string IdHash(const crypto::SecretBytes& salt, std::string_view id) {
  auto mac = crypto::Mac::New(crypto::Suite::kAes256Gcm, salt);  // HMAC-SHA256
  if (!mac.ok()) return std::string();
  return crypto::ToHex((*mac)->Compute(crypto::AsBytes(id)));
}

std::string LedgerEntryMessage(std::string_view vault_id, std::string_view salt_hex,
                               const store::DestructionRow& e, std::string_view prev) {
  // nlohmann::json (not ordered_json) sorts the keys: the canonical form backup/ledger.cpp
  // checks.
  nlohmann::json j = {{"vault_id", vault_id}, {"salt", salt_hex},   {"seq", e.seq},
                      {"ts_ms", e.ts_ms},     {"run_id", e.run_id}, {"kind", e.kind},
                      {"id_hash", e.id_hash}};
  if (prev.empty()) return std::string(kEntrySignatureContext) + j.dump();
  j["prev"] = prev;
  return std::string(kChainedEntrySignatureContext) + j.dump();
}

std::string LedgerEntryHash(std::string_view vault_id, std::string_view salt_hex,
                            const store::DestructionRow& e, std::string_view prev) {
  return crypto::Sha256Hex(LedgerEntryMessage(vault_id, salt_hex, e, prev));
}

std::string LedgerHeadMessage(std::string_view vault_id, const LedgerTip& tip) {
  const nlohmann::json j = {{"vault_id", vault_id}, {"seq", tip.seq}, {"hash", tip.hash}};
  return "custos/destruction-ledger-head/v1\n" + j.dump();
}

std::string SignedLedgerHead(std::string_view vault_id, const LedgerTip& tip,
                             const crypto::SigningKey& signer) {
  OrderedJson j;
  j["seq"] = tip.seq;
  j["hash"] = tip.hash;
  j["sig"] = crypto::ToHex(signer.Sign(crypto::AsBytes(LedgerHeadMessage(vault_id, tip))));
  return j.dump();
}

std::string LedgerLine(const store::DestructionRow& e, crypto::ByteView signature,
                       std::string_view prev) {
  OrderedJson j;
  j["seq"] = e.seq;
  j["ts_ms"] = e.ts_ms;
  j["run_id"] = e.run_id;
  j["kind"] = e.kind;
  j["id_hash"] = e.id_hash;
  if (!prev.empty()) j["prev"] = prev;
  j["sig"] = crypto::ToHex(signature);
  return j.dump();
}

Result<LedgerFileState> ScanLedger(const std::filesystem::path& file) {
  CUSTOS_ASSIGN_OR_RETURN(FileScan scan, ScanFile(file));
  return scan.state;
}

Result<int64_t> LastLedgerSeq(const std::filesystem::path& file) {
  CUSTOS_ASSIGN_OR_RETURN(FileScan scan, ScanFile(file));
  return scan.state.last_seq;
}

// A crash during an append can leave a last line without its newline: it is cut off (its
// entries are written again from the store).
Status DropTornTail(const std::filesystem::path& file, Env& env) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::Ok();
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (content.empty() || content.back() == '\n') return Status::Ok();
  const size_t keep = content.rfind('\n') == std::string::npos ? 0 : content.rfind('\n') + 1;
  Status st = env.TruncateFile(file, keep);
  return st.ok() ? st : LedgerError("cannot cut a torn last line", st);
}

Result<LedgerTip> AppendLedger(const std::filesystem::path& file, std::string_view vault_id,
                               std::string_view salt_hex,
                               const std::vector<store::DestructionRow>& entries,
                               crypto::Suite suite, const crypto::SigningKey& signer, Env& env) {
  CUSTOS_RETURN_IF_ERROR(DropTornTail(file, env));
  CUSTOS_ASSIGN_OR_RETURN(FileScan scan, ScanFile(file));
  // Chains `e` on to `tip` and signs it: its line. FailedPrecondition (nothing written) when
  // `e` is not the entry after `tip`; `rule` is what the log given fails to do.
  LedgerTip tip;
  const auto line = [&](const store::DestructionRow& e,
                        std::string_view rule) -> Result<std::string> {
    if (e.seq != tip.seq + 1) {
      return FailedPrecondition(
          fmt::format("ledger {}: the destruction log given does not {} (entry {} after {}); the "
                      "file is left as it was",
                      file.string(), rule, e.seq, tip.seq));
    }
    const std::string prev = tip.seq == 0 ? std::string(kLedgerGenesis) : tip.hash;
    const std::string message = LedgerEntryMessage(vault_id, salt_hex, e, prev);
    tip = LedgerTip{e.seq, crypto::Sha256Hex(message)};
    return LedgerLine(e, signer.Sign(crypto::AsBytes(message)), prev) + "\n";
  };
  if (scan.state.NeedsRewrite()) {
    // A ledger from before entries were signed or chained, or with a line taken out: replaced
    // whole, every entry chained and signed from the store's log (never from the file's own
    // lines, which anyone may have added to).
    std::set<int64_t> given;
    for (const store::DestructionRow& e : entries) given.insert(e.seq);
    for (int64_t seq : scan.seqs) {
      if (given.count(seq) == 0) {
        return FailedPrecondition(fmt::format(
            "ledger {}: is written again from the destruction log (it holds entries unsigned, "
            "unchained or with a gap) and entry {} is not in the log given; the file is left as "
            "it was: move it aside (keep it for inspection) and run again, the ledger is then "
            "written anew from the log",
            file.string(), seq));
      }
    }
    std::string text = HeaderLine(vault_id, salt_hex);
    for (const store::DestructionRow& e : entries) {
      CUSTOS_ASSIGN_OR_RETURN(const std::string chained, line(e, "run from seq 1 without a gap"));
      text += chained;
    }
    Status st = env.WriteFileAtomic(file, text, 0600);
    if (!st.ok()) return LedgerError("cannot replace the destruction ledger", st);
    return tip;
  }
  if (scan.state.last_seq > 0) {
    CUSTOS_RETURN_IF_ERROR(
        CheckLastEntry(file, vault_id, salt_hex, scan, entries, suite, signer.PublicKeyBytes()));
    tip = LedgerTip{scan.state.last_seq,
                    LedgerEntryHash(vault_id, salt_hex, scan.last, scan.last_prev)};
  }
  std::error_code ec;
  const bool is_new =
      !std::filesystem::exists(file, ec) || std::filesystem::file_size(file, ec) == 0;
  std::string text;
  if (is_new) text += HeaderLine(vault_id, salt_hex);
  for (const store::DestructionRow& e : entries) {
    if (e.seq <= tip.seq) continue;
    CUSTOS_ASSIGN_OR_RETURN(const std::string chained, line(e, "continue it"));
    text += chained;
  }
  if (text.empty()) return tip;
  Status st = env.AppendDurable(file, text, 0600);
  if (!st.ok()) return LedgerError("cannot append to the destruction ledger", st);
  return tip;
}

}  // namespace custos::lifecycle
