#include "lifecycle/ledger.h"

#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

namespace custos::lifecycle {
namespace {

using OrderedJson = nlohmann::ordered_json;

// The Env's message names the file and the step.
Status LedgerError(std::string_view what, const Status& st) {
  return Status(st.code(), fmt::format("ledger: {}: {}", what, st.message()));
}

}  // namespace

std::string IdHash(const crypto::SecretBytes& salt, std::string_view id) {
  auto mac = crypto::Mac::New(crypto::Suite::kAes256Gcm, salt);  // HMAC-SHA256
  if (!mac.ok()) return std::string();
  return crypto::ToHex((*mac)->Compute(crypto::AsBytes(id)));
}

std::string LedgerLine(const store::DestructionRow& e) {
  OrderedJson j;
  j["seq"] = e.seq;
  j["ts_ms"] = e.ts_ms;
  j["run_id"] = e.run_id;
  j["kind"] = e.kind;
  j["id_hash"] = e.id_hash;
  return j.dump();
}

Result<int64_t> LastLedgerSeq(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return int64_t{0};
  std::string line;
  int64_t last = 0;
  int64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      return DataLoss(fmt::format("ledger: line {} is not a JSON object", line_no));
    }
    if (j.contains("seq") && j["seq"].is_number_integer()) last = j["seq"].get<int64_t>();
  }
  return last;
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

Status AppendLedger(const std::filesystem::path& file, std::string_view vault_id,
                    std::string_view salt_hex, const std::vector<store::DestructionRow>& entries,
                    Env& env) {
  CUSTOS_RETURN_IF_ERROR(DropTornTail(file, env));
  CUSTOS_ASSIGN_OR_RETURN(int64_t last, LastLedgerSeq(file));
  std::error_code ec;
  const bool is_new =
      !std::filesystem::exists(file, ec) || std::filesystem::file_size(file, ec) == 0;
  std::string text;
  if (is_new) {
    OrderedJson header;
    header["format"] = kLedgerFormat;
    header["vault_id"] = vault_id;
    header["salt"] = salt_hex;
    text += header.dump() + "\n";
  }
  for (const store::DestructionRow& e : entries) {
    if (e.seq > last) text += LedgerLine(e) + "\n";
  }
  if (text.empty()) return Status::Ok();
  Status st = env.AppendDurable(file, text, 0600);
  return st.ok() ? st : LedgerError("cannot append to the destruction ledger", st);
}

}  // namespace custos::lifecycle
