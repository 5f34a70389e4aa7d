// The lifecycle rules and files on their own (issue 6): calendar periods, what of a customer is
// due or held back, and the destruction ledger's append (header once, no entry twice, a torn
// last line repaired, every entry signed, an unsigned ledger signed again from the log).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>

#include "lifecycle/ledger.h"
#include "lifecycle/rules.h"
#include "test_files.h"

namespace custos::lifecycle {
namespace {

constexpr int64_t kDay = 24LL * 3600 * 1000;
// 2021-01-31T10:00:00Z
constexpr int64_t kJan31 = 1612087200000;

schema::Config DefaultConfig() {
  auto c = schema::ParseConfig(schema::DefaultConfigToml(), "custos.toml");
  EXPECT_TRUE(c.ok());
  return std::move(c).value();
}

TEST(AddPeriod, UsesTheCalendar) {
  EXPECT_EQ(UtcDay(AddPeriod(kJan31, {0, 1, 0})), "2021-02-28");  // clamped to the month's end
  EXPECT_EQ(UtcDay(AddPeriod(kJan31, {3, 0, 0})), "2024-01-31");
  EXPECT_EQ(UtcDay(AddPeriod(kJan31, {0, 0, 30})), "2021-03-02");
  EXPECT_EQ(AddPeriod(kJan31, {3, 0, 0}) % kDay, kJan31 % kDay);  // time of day kept
}

store::RetentionFactsRow Facts(int64_t created, int64_t last_txn = 0) {
  store::RetentionFactsRow f;
  f.customer_id = "01HAAAAAAAAAAAAAAAAAAAAAAA";
  f.created_at_ms = created;
  f.updated_at_ms = created;
  f.first_txn_ms = last_txn;
  f.last_txn_ms = last_txn;
  f.last_consent_ms = created;
  return f;
}

TEST(Evaluate, ACustomerIsDueAfterTheCeilingOfItsLastActivity) {
  const schema::Config c = DefaultConfig();
  std::vector<PlanItem> out;
  Evaluate(c, Facts(kJan31), {}, AddPeriod(kJan31, {3, 0, 0}) - 1, out);
  EXPECT_TRUE(out.empty());
  Evaluate(c, Facts(kJan31), {}, AddPeriod(kJan31, {3, 0, 0}), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, "customer");
  EXPECT_TRUE(out[0].held.empty());
  EXPECT_EQ(out[0].due_ms, AddPeriod(kJan31, {3, 0, 0}));
}

TEST(Evaluate, AHoldHoldsBackTheCustomerAndItsRecords) {
  const schema::Config c = DefaultConfig();
  store::RetentionFactsRow f = Facts(kJan31);
  f.on_hold = true;
  std::vector<PlanItem> out;
  Evaluate(c, f, {}, AddPeriod(kJan31, {5, 0, 0}), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].held, "legal hold");
}

TEST(Evaluate, AnOpenDataSubjectRequestHoldsBackTheCustomerAndItsRecords) {
  const schema::Config c = DefaultConfig();
  const int64_t now = AddPeriod(kJan31, {5, 0, 0});
  store::RetentionFactsRow f = Facts(kJan31, kJan31 + kDay);
  f.open_request = true;
  std::vector<PlanItem> out;
  Evaluate(c, f, {}, now, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].held, "open data-subject request");
  // A legal hold is named first when both apply.
  f.on_hold = true;
  out.clear();
  Evaluate(c, f, {}, now, out);
  EXPECT_EQ(out[0].held, "legal hold");
  // An old transaction of a customer who stays is held back too.
  f.on_hold = false;
  f.updated_at_ms = now - kDay;
  out.clear();
  Evaluate(c, f, {{"transaction", "T1", kJan31 + kDay}}, now, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, "transaction");
  EXPECT_EQ(out[0].held, "open data-subject request");
}

// The default config with the customer and consent classes counted from `event`.
schema::Config CountedFrom(std::string_view event) {
  std::string toml(schema::DefaultConfigToml());
  for (const char* name : {"[retention.customer]", "[retention.consent]"}) {
    const size_t at = toml.find(name);
    const size_t ev = toml.find("\nevent = ", at);
    const size_t end = toml.find("\n\n", ev);
    toml.replace(ev, end - ev, fmt::format("\nevent = \"{}\"\nmin = \"0d\"\nmax = \"30d\"", event));
  }
  auto c = schema::ParseConfig(toml, "custos.toml");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return std::move(c).value();
}

TEST(Evaluate, NothingCountedFromAnEventThatHasNotHappenedIsDue) {
  for (std::string_view event : {"account_closure", "consent_withdrawal"}) {
    const schema::Config c = CountedFrom(event);
    store::RetentionFactsRow f = Facts(kJan31);
    std::vector<PlanItem> out;
    Evaluate(c, f, {}, AddPeriod(kJan31, {50, 0, 0}), out);
    EXPECT_TRUE(out.empty()) << event;
    EXPECT_FALSE(MayHaveRecordsDue(c, f, AddPeriod(kJan31, {50, 0, 0})));
    const int64_t happened = AddPeriod(kJan31, {2, 0, 0});
    (event == "account_closure" ? f.closed_at_ms : f.consent_withdrawn_ms) = happened;
    Evaluate(c, f, {}, AddPeriod(happened, {0, 0, 30}) - 1, out);
    EXPECT_TRUE(out.empty()) << event;
    Evaluate(c, f, {}, AddPeriod(happened, {0, 0, 30}), out);
    ASSERT_EQ(out.size(), 1u) << event;
    EXPECT_EQ(out[0].event, event);
    EXPECT_EQ(out[0].event_ms, happened);
    EXPECT_TRUE(out[0].held.empty());
  }
  EXPECT_EQ(AddPeriod(kNeverMs, {3, 0, 0}), kNeverMs);
}

TEST(Evaluate, OldTransactionsOfAnActiveCustomerAreDueAlone) {
  const schema::Config c = DefaultConfig();
  const int64_t now = AddPeriod(kJan31, {3, 0, 10});
  store::RetentionFactsRow f = Facts(kJan31, kJan31 + kDay);
  f.updated_at_ms = now - 30 * kDay;  // active last month
  ASSERT_TRUE(MayHaveRecordsDue(c, f, now));
  std::vector<store::RecordTimeRow> records = {{"transaction", "T1", kJan31 + kDay},
                                               {"transaction", "T2", now - kDay}};
  std::vector<PlanItem> out;
  Evaluate(c, f, records, now, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, "transaction");
  EXPECT_EQ(out[0].record_id, "T1");
  EXPECT_EQ(out[0].rule, "transaction");
}

std::filesystem::path TempFile() {
  std::random_device rd;
  return std::filesystem::temp_directory_path() /
         ("custos-ledger-" + std::to_string(rd()) + ".jsonl");
}

int Lines(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) ++n;
  return n;
}

std::unique_ptr<crypto::SigningKey> NewSigner() {
  return std::move(crypto::SigningKey::Generate(crypto::Suite::kAes256Gcm)).value();
}

using testing::Slurp;

std::vector<std::string> ReadLines(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(Ledger, AppendsEachEntryOnceAfterOneHeader) {
  const auto file = TempFile();
  const auto key = NewSigner();
  std::vector<store::DestructionRow> rows = {{1, 10, "R", "customer", "aa"},
                                             {2, 11, "R", "note", "bb"}};
  ASSERT_TRUE(AppendLedger(file, "V", "00", rows, crypto::Suite::kAes256Gcm, *key).ok());
  ASSERT_TRUE(AppendLedger(file, "V", "00", rows, crypto::Suite::kAes256Gcm, *key).ok());
  EXPECT_EQ(Lines(file), 3);
  rows.push_back({3, 12, "R2", "transaction", "cc"});
  ASSERT_TRUE(AppendLedger(file, "V", "00", rows, crypto::Suite::kAes256Gcm, *key).ok());
  EXPECT_EQ(Lines(file), 4);
  EXPECT_EQ(*LastLedgerSeq(file), 3);
  EXPECT_EQ(LedgerLine(rows[0], crypto::Bytes{0xab, 0xcd}),
            R"({"seq":1,"ts_ms":10,"run_id":"R","kind":"customer","id_hash":"aa","sig":"abcd"})");
  // A crash in the middle of a line: the torn line is cut and written again.
  std::ofstream(file, std::ios::app) << R"({"seq":4,"ts_ms":13,"ru)";
  rows.push_back({4, 13, "R2", "note", "dd"});
  ASSERT_TRUE(AppendLedger(file, "V", "00", rows, crypto::Suite::kAes256Gcm, *key).ok());
  EXPECT_EQ(Lines(file), 5);
  EXPECT_EQ(*LastLedgerSeq(file), 4);
  std::filesystem::remove(file);
}

// Review 39, F4: each entry carries the checkpoint key's signature of its canonical message,
// which binds the vault and the salt; the message is the same for every field order. Session
// 40: the message also binds the hash of the entry before it ("prev"; zeros for seq 1).
TEST(Ledger, EachEntryIsSignedByTheVaultsCheckpointKey) {
  const auto file = TempFile();
  const auto key = NewSigner();
  const std::vector<store::DestructionRow> rows = {{1, 10, "R", "customer", "aa"},
                                                   {2, 11, "R", "profile", "bb"}};
  ASSERT_TRUE(AppendLedger(file, "V", "00", rows, crypto::Suite::kAes256Gcm, *key).ok());
  const auto lines = ReadLines(file);
  ASSERT_EQ(lines.size(), 3u);
  std::string prev(kLedgerGenesis);
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto j = nlohmann::json::parse(lines[i + 1]);
    EXPECT_EQ(j.at("prev"), prev);
    auto sig = crypto::FromHex(j.at("sig").get<std::string>());
    ASSERT_TRUE(sig.ok());
    const std::string message = LedgerEntryMessage("V", "00", rows[i], prev);
    EXPECT_TRUE(crypto::VerifySignature(crypto::Suite::kAes256Gcm, key->PublicKeyBytes(),
                                        crypto::AsBytes(message), *sig)
                    .ok());
    // Another vault, another salt, or another entry before it: the same entry does not verify.
    for (const std::string& other : {LedgerEntryMessage("W", "00", rows[i], prev),
                                     LedgerEntryMessage("V", "01", rows[i], prev),
                                     LedgerEntryMessage("V", "00", rows[i], std::string(64, 'f')),
                                     LedgerEntryMessage("V", "00", rows[i])}) {
      EXPECT_FALSE(crypto::VerifySignature(crypto::Suite::kAes256Gcm, key->PublicKeyBytes(),
                                           crypto::AsBytes(other), *sig)
                       .ok());
    }
    prev = LedgerEntryHash("V", "00", rows[i], prev);
  }
  EXPECT_EQ(LedgerEntryMessage("V", "00", rows[0]),
            "custos/destruction-ledger-entry/v1\n"
            R"({"id_hash":"aa","kind":"customer","run_id":"R","salt":"00","seq":1,"ts_ms":10,)"
            R"("vault_id":"V"})");
  EXPECT_EQ(LedgerEntryMessage("V", "00", rows[0], "ab"),
            "custos/destruction-ledger-entry/v2\n"
            R"({"id_hash":"aa","kind":"customer","prev":"ab","run_id":"R","salt":"00","seq":1,)"
            R"("ts_ms":10,"vault_id":"V"})");
  EXPECT_EQ(ScanLedger(file)->unsigned_entries, 0);
  EXPECT_EQ(ScanLedger(file)->unchained_entries, 0);
  std::filesystem::remove(file);
}

// Session 40: the append returns where the ledger ends (the head the store records); a file
// with an entry taken out, or from before the chain, is written again whole from the log given,
// chained; a log that does not continue the file is refused, the file left as it was.
TEST(Ledger, AFileWithAGapOrWithoutTheChainIsWrittenAgainChainedFromTheLog) {
  const auto file = TempFile();
  const auto key = NewSigner();
  const std::vector<store::DestructionRow> rows = {
      {1, 10, "R", "customer", "aa"}, {2, 11, "R", "note", "bb"}, {3, 12, "R2", "note", "cc"}};
  auto tip = AppendLedger(file, "V", "00", rows, crypto::Suite::kAes256Gcm, *key);
  ASSERT_TRUE(tip.ok()) << tip.status().ToString();
  EXPECT_EQ(tip->seq, 3);
  const std::string whole = Slurp(file);
  // Entry 2 taken out: a gap, written again from the log, the same chain.
  auto lines = ReadLines(file);
  std::ofstream(file, std::ios::trunc) << lines[0] << "\n" << lines[1] << "\n" << lines[3] << "\n";
  EXPECT_TRUE(ScanLedger(file)->gap);
  auto again = AppendLedger(file, "V", "00", rows, crypto::Suite::kAes256Gcm, *key);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->hash, tip->hash);
  EXPECT_EQ(ReadLines(file).size(), 4u);
  EXPECT_FALSE(ScanLedger(file)->NeedsRewrite());
  // Written before the chain: the same.
  std::string unchained;
  for (const std::string& line : ReadLines(file)) {
    auto j = nlohmann::json::parse(line);
    j.erase("prev");
    unchained += j.dump() + "\n";
  }
  std::ofstream(file, std::ios::trunc) << unchained;
  EXPECT_EQ(ScanLedger(file)->unchained_entries, 3);
  auto chained = AppendLedger(file, "V", "00", rows, crypto::Suite::kAes256Gcm, *key);
  ASSERT_TRUE(chained.ok()) << chained.status().ToString();
  EXPECT_EQ(chained->hash, tip->hash);
  EXPECT_EQ(ScanLedger(file)->unchained_entries, 0);
  // A log that skips a seq does not continue the file.
  const std::string before = Slurp(file);
  const std::vector<store::DestructionRow> skipping = {{5, 13, "R3", "note", "dd"}};
  EXPECT_EQ(
      AppendLedger(file, "V", "00", skipping, crypto::Suite::kAes256Gcm, *key).status().code(),
      Code::kFailedPrecondition);
  EXPECT_EQ(Slurp(file), before);
  EXPECT_NE(whole, "");
  std::filesystem::remove(file);
}

// A ledger written before entries were signed is replaced at the next append, every entry
// signed from the log the caller gives (the store's), never from the file's own lines: a line
// the log does not hold leaves the file as it was.
TEST(Ledger, AnUnsignedLedgerIsWrittenAgainSignedFromTheLogNotFromItsLines) {
  const auto file = TempFile();
  const auto key = NewSigner();
  const std::string old_text =
      R"({"format":"custos-destruction-ledger/1","vault_id":"V","salt":"00"})"
      "\n"
      R"({"seq":1,"ts_ms":10,"run_id":"R","kind":"customer","id_hash":"aa"})"
      "\n"
      R"({"seq":2,"ts_ms":11,"run_id":"R","kind":"customer","id_hash":"ff"})"
      "\n";
  std::ofstream(file, std::ios::binary) << old_text;
  ASSERT_EQ(ScanLedger(file)->unsigned_entries, 2);
  // The store knows only entry 1: entry 2 was added to the file by someone else.
  const std::vector<store::DestructionRow> log1 = {{1, 10, "R", "customer", "aa"}};
  const Status refused =
      AppendLedger(file, "V", "00", log1, crypto::Suite::kAes256Gcm, *key).status();
  EXPECT_EQ(refused.code(), Code::kFailedPrecondition) << refused.ToString();
  EXPECT_EQ(Slurp(file), old_text);
  // The store's whole log, with entry 2 as the store holds it (another id) and a new entry 3.
  const std::vector<store::DestructionRow> log = {
      {1, 10, "R", "customer", "aa"}, {2, 11, "R", "customer", "bb"}, {3, 12, "R2", "note", "cc"}};
  ASSERT_TRUE(AppendLedger(file, "V", "00", log, crypto::Suite::kAes256Gcm, *key).ok());
  const LedgerFileState state = *ScanLedger(file);
  EXPECT_EQ(state.unsigned_entries, 0);
  EXPECT_EQ(state.last_seq, 3);
  const auto lines = ReadLines(file);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(nlohmann::json::parse(lines[2])["id_hash"], "bb") << "the file's own line is gone";
  std::filesystem::remove(file);
}

// An entry is chained on only to a last entry the vault signed that the store's log holds
// there: a last line whose signature was altered, one signed by another key, or one the vault's
// key signed that is not the log's entry at its seq is refused, naming the file, the line and
// the rule, and the file is left as it was (before, the next entry was signed on to it and the
// ledger spoiled for every restore). Moved aside, the ledger is written anew from the log.
TEST(Ledger, AnEntryIsNotChainedOnToALastLineTheVaultDidNotSign) {
  const auto file = TempFile();
  const auto key = NewSigner();
  const std::vector<store::DestructionRow> first = {{1, 10, "R", "customer", "aa"},
                                                    {2, 11, "R", "note", "bb"}};
  std::vector<store::DestructionRow> log = first;
  log.push_back({3, 12, "R2", "note", "cc"});
  ASSERT_TRUE(AppendLedger(file, "V", "00", first, crypto::Suite::kAes256Gcm, *key).ok());
  const std::string genuine = Slurp(file);
  const auto lines = ReadLines(file);
  ASSERT_EQ(lines.size(), 3u);
  const auto expect_refused = [&](const std::string& last_line, const std::string& rule) {
    const std::string text = lines[0] + "\n" + lines[1] + "\n" + last_line + "\n";
    std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
    ASSERT_FALSE(ScanLedger(file)->NeedsRewrite());
    const Status st = AppendLedger(file, "V", "00", log, crypto::Suite::kAes256Gcm, *key).status();
    EXPECT_EQ(st.code(), Code::kFailedPrecondition) << st.ToString();
    EXPECT_NE(st.message().find(file.string()), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("line 3 (entry 2)"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find(rule), std::string::npos) << st.message();
    EXPECT_EQ(Slurp(file), text);
  };
  // The last line's signature altered.
  auto altered = nlohmann::json::parse(lines[2]);
  std::string sig = altered.at("sig");
  sig[0] = sig[0] == '0' ? '1' : '0';
  altered["sig"] = sig;
  expect_refused(altered.dump(), "does not verify under the vault's checkpoint key");
  // Another entry 2 (another customer's hash), signed by another key.
  const std::string prev = nlohmann::json::parse(lines[2]).at("prev");
  store::DestructionRow other_entry = first[1];
  other_entry.id_hash = "ff";
  const std::string message = LedgerEntryMessage("V", "00", other_entry, prev);
  expect_refused(LedgerLine(other_entry, NewSigner()->Sign(crypto::AsBytes(message)), prev),
                 "does not verify under the vault's checkpoint key");
  // Signed by the vault's key, but not the entry the store's log holds at seq 2.
  expect_refused(LedgerLine(other_entry, key->Sign(crypto::AsBytes(message)), prev),
                 "is not the entry the store's destruction log holds at that seq");
  // Moved aside: written anew from the log, the same entries 1 and 2 (Ed25519 is deterministic).
  std::filesystem::remove(file);
  auto anew = AppendLedger(file, "V", "00", log, crypto::Suite::kAes256Gcm, *key);
  ASSERT_TRUE(anew.ok()) << anew.status().ToString();
  EXPECT_EQ(anew->seq, 3);
  EXPECT_EQ(Slurp(file).substr(0, genuine.size()), genuine);
  std::filesystem::remove(file);
}

TEST(Ledger, IdHashIsHmacSha256OfTheId) {
  // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
  const std::string key = "Jefe";
  const crypto::SecretBytes salt(key.begin(), key.end());
  EXPECT_EQ(IdHash(salt, "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
}  // namespace custos::lifecycle
