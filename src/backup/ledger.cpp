#include "backup/ledger.h"

#include <fmt/core.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "backup/format.h"
#include "crypto/digest.h"

namespace custos::backup {
namespace {

using nlohmann::json;

bool ValidKind(std::string_view kind) {
  return kind == "customer" || kind == "profile" || kind == "consent" || kind == "transaction" ||
         kind == "note";
}

std::string HeaderLine(const Ledger& ledger) {
  return json{{"format", kLedgerFormat},
              {"vault_id", ledger.vault_id},
              {"salt", crypto::ToHex(ledger.salt)}}
      .dump();
}

std::string EntryLine(const LedgerEntry& e) {
  json j{{"seq", e.seq},
         {"ts_ms", e.ts_ms},
         {"run_id", e.run_id},
         {"kind", e.kind},
         {"id_hash", e.id_hash}};
  if (!e.prev.empty()) j["prev"] = e.prev;
  if (!e.signature.empty()) j["sig"] = crypto::ToHex(e.signature);
  return j.dump();
}

// The same destroyed item at the same place (whether chained or signed aside).
bool SameFacts(const LedgerEntry& a, const LedgerEntry& b) {
  return a.seq == b.seq && a.ts_ms == b.ts_ms && a.run_id == b.run_id && a.kind == b.kind &&
         a.id_hash == b.id_hash;
}

bool SameEntry(const LedgerEntry& a, const LedgerEntry& b) {
  return SameFacts(a, b) && a.prev == b.prev;
}

bool IsHash(std::string_view hex) {
  return hex.size() == kLedgerGenesis.size() &&
         hex.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// A crash while appending can leave a last line without its newline, and a crash while
// creating the file an empty file or a torn header: what follows the last newline is cut off
// (no entry is lost: an entry counts once its line is whole, and the caller's entries are
// appended again). A file left empty is then written anew, header first.
Status DropTornTail(const std::filesystem::path& path, Env& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Ok();
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (content.empty() || content.back() == '\n') return Status::Ok();
  const size_t newline = content.rfind('\n');
  Status st = env.TruncateFile(path, newline == std::string::npos ? 0 : newline + 1);
  if (!st.ok()) return Status(st.code(), "ledger: cannot cut a torn last line: " + st.message());
  return Status::Ok();
}

// The whole file: the header and every entry of `ledger`, replacing what was there atomically.
Status RewriteLedger(const std::filesystem::path& path, const Ledger& ledger, Env& env) {
  std::string text = HeaderLine(ledger) + "\n";
  for (const LedgerEntry& e : ledger.entries) text += EntryLine(e) + "\n";
  Status st = env.WriteFileAtomic(path, text, 0600);
  if (!st.ok()) return Status(st.code(), "ledger: cannot replace: " + st.message());
  return Status::Ok();
}

// AppendLedger for a chained `ledger` (the vault's own, session 40) over the file's
// `existing` entries: the file must be a prefix of it, and gets its new entries; a file holding
// entries written before the chain or unsigned, each of which `ledger` holds, is replaced by
// `ledger` whole. An entry `ledger` does not hold is never dropped: FailedPrecondition.
Status AppendChained(const std::filesystem::path& path, const Ledger& existing,
                     const Ledger& ledger, Env& env) {
  const auto refuse = [&](std::string_view why) {
    return FailedPrecondition(fmt::format(
        "ledger {}: {}; the file is left as it was: move it aside (keep it for inspection) and "
        "run again, the copy is then written anew from the vault's ledger",
        path.string(), why));
  };
  const size_t n = existing.entries.size();
  if (n > ledger.entries.size()) {
    return refuse(fmt::format("it holds {} entries, more than the vault's ledger ({})", n,
                              ledger.entries.size()));
  }
  bool rewrite = false;
  for (size_t i = 0; i < n; ++i) {
    const LedgerEntry& have = existing.entries[i];
    const LedgerEntry& want = ledger.entries[i];
    if (SameEntry(have, want) && (!have.signature.empty() || want.signature.empty())) continue;
    if (!SameFacts(have, want) || (!have.prev.empty() && have.prev != want.prev)) {
      return refuse(fmt::format(
          "its entry {} is not the vault's ledger's (another copy, or altered)", have.seq));
    }
    rewrite = true;  // written before the chain, or unsigned: the vault's entry replaces it
  }
  if (rewrite) return RewriteLedger(path, ledger, env);
  std::string text;
  for (size_t i = n; i < ledger.entries.size(); ++i) text += EntryLine(ledger.entries[i]) + "\n";
  if (text.empty()) return Status::Ok();
  Status st = env.AppendDurable(path, text, 0600);
  if (!st.ok()) return Status(st.code(), "ledger: cannot append: " + st.message());
  return Status::Ok();
}

}  // namespace

Result<Ledger> ReadLedger(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return NotFound(fmt::format("ledger {} does not exist", path.string()));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Unavailable(fmt::format("ledger {}: cannot read", path.string()));
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  // A last line without its newline was being appended when the writer died.
  in.clear();
  in.seekg(0, std::ios::end);
  const bool torn_tail = !lines.empty() && in.tellg() > 0 && [&] {
    std::ifstream tail(path, std::ios::binary);
    tail.seekg(-1, std::ios::end);
    return tail.get() != '\n';
  }();
  if (torn_tail) lines.pop_back();
  if (lines.empty()) return DataLoss(fmt::format("ledger {}: no header line", path.string()));
  Ledger ledger;
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto bad = [&](std::string_view why) {
      return DataLoss(fmt::format("ledger {}:{}: {}", path.string(), i + 1, why));
    };
    if (lines[i].empty()) continue;
    try {
      const json j = json::parse(lines[i]);
      if (i == 0) {
        if (j.at("format").get<std::string>() != kLedgerFormat) return bad("unknown format");
        ledger.vault_id = j.at("vault_id").get<std::string>();
        auto salt = crypto::FromHex(j.at("salt").get<std::string>());
        if (!salt.ok() || salt->empty()) return bad("salt is not hex");
        ledger.salt = std::move(salt).value();
        continue;
      }
      LedgerEntry e{j.at("seq").get<int64_t>(), j.at("ts_ms").get<int64_t>(),
                    j.at("run_id").get<std::string>(), j.at("kind").get<std::string>(),
                    j.at("id_hash").get<std::string>()};
      if (!ValidKind(e.kind)) return bad("kind must be customer, transaction or note");
      if (!crypto::FromHex(e.id_hash).ok()) return bad("id_hash is not hex");
      if (j.contains("prev")) {
        e.prev = j.at("prev").get<std::string>();
        if (!IsHash(e.prev)) return bad("prev is not a hash");
      }
      if (j.contains("sig")) {
        auto sig = crypto::FromHex(j.at("sig").get<std::string>());
        if (!sig.ok() || sig->empty()) return bad("sig is not hex");
        e.signature = std::move(sig).value();
      }
      ledger.entries.push_back(std::move(e));
    } catch (const json::exception&) {
      return bad("not a ledger line");
    }
  }
  return ledger;
}

std::string LedgerIdHash(crypto::ByteView salt, std::string_view id) {
  const crypto::SecretBytes key(salt.begin(), salt.end());
  auto mac = crypto::Mac::New(crypto::Suite::kAes256Gcm, key);  // HMAC-SHA256
  if (!mac.ok()) return "";
  return crypto::ToHex((*mac)->Compute(crypto::AsBytes(id)));
}

std::string LedgerEntryMessage(std::string_view vault_id, crypto::ByteView salt,
                               const LedgerEntry& e) {
  // json sorts its keys: the canonical form lifecycle::LedgerEntryMessage signs.
  json j = {{"vault_id", vault_id}, {"salt", crypto::ToHex(salt)}, {"seq", e.seq},
            {"ts_ms", e.ts_ms},     {"run_id", e.run_id},          {"kind", e.kind},
            {"id_hash", e.id_hash}};
  if (e.prev.empty()) return "custos/destruction-ledger-entry/v1\n" + j.dump();
  j["prev"] = e.prev;
  return "custos/destruction-ledger-entry/v2\n" + j.dump();
}

std::string LedgerEntryHash(std::string_view vault_id, crypto::ByteView salt,
                            const LedgerEntry& e) {
  return crypto::Sha256Hex(LedgerEntryMessage(vault_id, salt, e));
}

std::string LedgerHeadMessage(std::string_view vault_id, const LedgerHead& head) {
  const json j = {{"vault_id", vault_id}, {"seq", head.seq}, {"hash", head.hash}};
  return "custos/destruction-ledger-head/v1\n" + j.dump();
}

LedgerHead SignLedgerHead(std::string_view vault_id, int64_t seq, std::string hash,
                          const crypto::SigningKey& signer) {
  LedgerHead head{seq, std::move(hash)};
  head.signature = signer.Sign(crypto::AsBytes(LedgerHeadMessage(vault_id, head)));
  return head;
}

Status VerifyLedgerHead(std::string_view vault_id, const LedgerHead& head, crypto::Suite suite,
                        crypto::ByteView public_key) {
  const std::string message = LedgerHeadMessage(vault_id, head);
  if (head.signature.empty() ||
      !crypto::VerifySignature(suite, public_key, crypto::AsBytes(message), head.signature).ok()) {
    return DataLoss(fmt::format(
        "destruction ledger head (entry {}): its signature does not verify under the vault's "
        "checkpoint key",
        head.seq));
  }
  return Status::Ok();
}

std::string LedgerHeadJson(const LedgerHead& head) {
  return nlohmann::ordered_json{
      {"seq", head.seq}, {"hash", head.hash}, {"sig", crypto::ToHex(head.signature)}}
      .dump();
}

Result<LedgerHead> ParseLedgerHead(std::string_view text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("seq") && j["seq"].is_number_integer() && j.contains("hash") &&
      j["hash"].is_string() && j.contains("sig") && j["sig"].is_string()) {
    LedgerHead head{j["seq"].get<int64_t>(), j["hash"].get<std::string>()};
    auto sig = crypto::FromHex(j["sig"].get<std::string>());
    if (head.seq > 0 && IsHash(head.hash) && sig.ok()) {
      head.signature = std::move(sig).value();
      return head;
    }
  }
  return DataLoss("destruction ledger head: not a head's JSON");
}

Result<LedgerChain> CheckLedgerChain(const Ledger& ledger) {
  LedgerChain chain;
  const size_t linked =
      static_cast<size_t>(std::count_if(ledger.entries.begin(), ledger.entries.end(),
                                        [](const LedgerEntry& e) { return !e.prev.empty(); }));
  if (linked == 0) return chain;
  if (linked != ledger.entries.size()) {
    return DataLoss(
        "destruction ledger: some entries are chained and some are not (a ledger is written "
        "chained whole, never in part)");
  }
  std::string prev(kLedgerGenesis);
  for (size_t i = 0; i < ledger.entries.size(); ++i) {
    const LedgerEntry& e = ledger.entries[i];
    if (e.seq != static_cast<int64_t>(i) + 1 || e.prev != prev) {
      return DataLoss(fmt::format(
          "destruction ledger: entry {} of run {} does not follow the entry before it (seq {} "
          "expected, linked to the previous entry's hash): an entry is missing or out of place; "
          "a ledger's entries must follow one another from seq 1 without a gap",
          e.seq, e.run_id, i + 1));
    }
    prev = LedgerEntryHash(ledger.vault_id, ledger.salt, e);
  }
  chain.chained = true;
  chain.head = LedgerHead{ledger.entries.back().seq, prev};
  return chain;
}

void SignLedgerEntries(Ledger& ledger, const crypto::SigningKey& signer) {
  for (LedgerEntry& e : ledger.entries) {
    e.signature = signer.Sign(crypto::AsBytes(LedgerEntryMessage(ledger.vault_id, ledger.salt, e)));
  }
}

int64_t UnsignedEntries(const Ledger& ledger) {
  int64_t n = 0;
  for (const LedgerEntry& e : ledger.entries) n += e.signature.empty() ? 1 : 0;
  return n;
}

Status AppendLedger(const std::filesystem::path& path, const Ledger& ledger, Env& env) {
  using Key = std::pair<std::string, int64_t>;
  std::set<Key> present;
  std::error_code ec;
  std::string text;
  CUSTOS_RETURN_IF_ERROR(DropTornTail(path, env));
  if (std::filesystem::exists(path, ec) && std::filesystem::file_size(path, ec) > 0) {
    CUSTOS_ASSIGN_OR_RETURN(Ledger existing, ReadLedger(path));
    if (existing.vault_id != ledger.vault_id || existing.salt != ledger.salt) {
      return FailedPrecondition(
          fmt::format("ledger {}: belongs to another vault or salt", path.string()));
    }
    if (Result<LedgerChain> chain = CheckLedgerChain(ledger); chain.ok() && chain->chained) {
      return AppendChained(path, existing, ledger, env);
    }
    // Entries from before signatures, which `ledger` now brings signed: the file is written
    // again with them signed (an entry is replaced only by the same entry).
    std::map<Key, const LedgerEntry*> signed_now;
    for (const LedgerEntry& e : ledger.entries) {
      if (!e.signature.empty()) signed_now.emplace(Key{e.run_id, e.seq}, &e);
    }
    bool upgrade = false;
    for (LedgerEntry& e : existing.entries) {
      present.insert({e.run_id, e.seq});
      if (!e.signature.empty()) continue;
      auto found = signed_now.find({e.run_id, e.seq});
      if (found != signed_now.end() && SameEntry(e, *found->second)) {
        e.signature = found->second->signature;
        upgrade = true;
      }
    }
    if (upgrade) {
      for (const LedgerEntry& e : ledger.entries) {
        if (present.insert({e.run_id, e.seq}).second) existing.entries.push_back(e);
      }
      return RewriteLedger(path, existing, env);
    }
  } else {
    text = HeaderLine(ledger) + "\n";
  }
  for (const LedgerEntry& e : ledger.entries) {
    if (present.insert({e.run_id, e.seq}).second) text += EntryLine(e) + "\n";
  }
  if (text.empty()) return Status::Ok();
  Status st = env.AppendDurable(path, text, 0600);
  if (!st.ok()) return Status(st.code(), "ledger: cannot append: " + st.message());
  return Status::Ok();
}

Result<int64_t> DestroyedSet::Add(const Ledger& ledger, std::string_view vault_id,
                                  const LedgerTrust& trust) {
  if (ledger.vault_id != vault_id) {
    return InvalidArgument("destruction ledger: it belongs to another vault than the backup");
  }
  if (trust.public_key.empty()) {
    return InvalidArgument("destruction ledger: no checkpoint public key to check its entries");
  }
  // Every entry is checked before any counts: a ledger is applied whole or not at all.
  int64_t unsigned_applied = 0;
  for (const LedgerEntry& e : ledger.entries) {
    if (e.signature.empty()) {
      if (!trust.accept_unsigned) {
        return DataLoss(fmt::format(
            "destruction ledger: entry {} of run {} is not signed by the vault's checkpoint key",
            e.seq, e.run_id));
      }
      ++unsigned_applied;
      continue;
    }
    const std::string message = LedgerEntryMessage(ledger.vault_id, ledger.salt, e);
    if (!crypto::VerifySignature(trust.suite, trust.public_key, crypto::AsBytes(message),
                                 e.signature)
             .ok()) {
      return DataLoss(fmt::format(
          "destruction ledger: entry {} of run {}: its signature does not verify under the "
          "vault's checkpoint key (forged or altered)",
          e.seq, e.run_id));
    }
  }
  Salted s;
  CUSTOS_ASSIGN_OR_RETURN(
      s.mac, crypto::Mac::New(crypto::Suite::kAes256Gcm,
                              crypto::SecretBytes(ledger.salt.begin(), ledger.salt.end())));
  for (const LedgerEntry& e : ledger.entries) {
    if (e.kind == "customer" || e.kind == "profile") s.customer.insert(e.id_hash);
    if (e.kind == "customer" || e.kind == "consent") s.consent.insert(e.id_hash);
    if (e.kind == "profile") s.profile.emplace(e.id_hash, e);
    if (e.kind == "transaction") s.transaction.insert(e.id_hash);
    if (e.kind == "note") s.note.insert(e.id_hash);
  }
  ledgers_.push_back(std::move(s));
  return unsigned_applied;
}

bool DestroyedSet::Destroyed(std::string_view kind, std::string_view id) const {
  for (const Salted& s : ledgers_) {
    const auto& set = kind == "customer"      ? s.customer
                      : kind == "consent"     ? s.consent
                      : kind == "transaction" ? s.transaction
                                              : s.note;
    if (set.empty()) continue;
    if (set.count(crypto::ToHex(s.mac->Compute(crypto::AsBytes(id)))) > 0) return true;
  }
  return false;
}

const LedgerEntry* DestroyedSet::ProfileOnly(std::string_view id) const {
  if (Destroyed("consent", id)) return nullptr;
  for (const Salted& s : ledgers_) {
    if (s.profile.empty()) continue;
    auto found = s.profile.find(crypto::ToHex(s.mac->Compute(crypto::AsBytes(id))));
    if (found != s.profile.end()) return &found->second;
  }
  return nullptr;
}

}  // namespace custos::backup
