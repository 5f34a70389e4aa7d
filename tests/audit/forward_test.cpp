// Heads only move forward (issue 13): SealHead signs a new head only for a log that extends
// the signed one, every AppendAll authenticates its tip (a signature at most once per
// signed_tip_every_ms, a MAC in between: issue 14), and the witness file gets every sealed head.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "audit/canonical.h"
#include "audit/head_file.h"
#include "audit_fixture.h"
#include "store/sql.h"

namespace custos::audit::testing {
namespace {

class ForwardTest : public AuditTest {
 protected:
  std::filesystem::path witness_path() const { return dir_ / "elsewhere.witness"; }
  // The stored tip as its bytes (to be put back later).
  crypto::Bytes TipBytes() {
    auto txn = store_->Begin();
    EXPECT_TRUE(txn.ok());
    auto tip = (*txn)->GetMeta(kTipMetaKey);
    EXPECT_TRUE(tip.ok() && tip->has_value());
    return tip.ok() && tip->has_value() ? **tip : crypto::Bytes{};
  }
  // The log cut back to its first 240 entries, with `tip` (the tip of then) put back.
  void CutBackTo240(const crypto::Bytes& tip) {
    auto txn = store_->Begin();
    ASSERT_TRUE(txn.ok());
    for (const char* sql : {"DELETE FROM audit_log WHERE seq > 240",
                            "DELETE FROM audit_checkpoints WHERE seq > 240"}) {
      ASSERT_TRUE((*txn)->Exec(store::Statement::Same(sql), {}, "tamper").ok()) << sql;
    }
    ASSERT_TRUE((*txn)->PutMeta(kTipMetaKey, tip).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  // Review 39's rollback: a log sealed at 20 and 30 (witness lines 1 and 2), then custos.db and
  // the head file put back as they were at 20, and two entries appended by another process
  // (log_, which never saw entry 30): the log ends at 22.
  void RollBackBehindTheWitnessFile() {
    log_ = WithWitness();
    AppendEntries(20);
    ASSERT_TRUE(log_->SealHead(*store_).ok());  // head file and witness at 20
    CloseStore();
    const std::filesystem::path saved_db = db_path().string() + ".saved";
    const std::filesystem::path saved_head = head_path().string() + ".saved";
    std::filesystem::copy_file(db_path(), saved_db);
    std::filesystem::copy_file(head_path(), saved_head);
    OpenStore();
    AppendEntries(10);
    ASSERT_TRUE(log_->SealHead(*store_).ok());  // witness line 2 at 30
    CloseStore();
    std::filesystem::copy_file(saved_db, db_path(),
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(saved_head, head_path(),
                               std::filesystem::copy_options::overwrite_existing);
    OpenStore();
    log_ = WithWitness();  // another process: it never saw entry 30
    AppendEntries(2);      // entries 21 and 22 of the rolled-back log
  }
  // Review 39's rollback with `junk` (a line that is not a head) appended to the witness file
  // after its last head: the seal still sees the rollback and adds no head.
  void ExpectTheRollbackSeenPast(const std::string& junk) {
    ASSERT_NO_FATAL_FAILURE(RollBackBehindTheWitnessFile());
    std::ofstream(witness_path(), std::ios::app) << junk << "\n";
    Status st = log_->SealHead(*store_);
    EXPECT_EQ(st.code(), Code::kDataLoss) << st.ToString();
    EXPECT_NE(st.message().find("holds head at seq 30, the log ends at 22: rollback or cut"),
              std::string::npos)
        << st.ToString();
    EXPECT_EQ(WitnessLineCount(), 3) << "no conflicting head added";
  }

  // `junk` appended to the witness file between two seals of a log that moves forward: the
  // second seal is appended all the same, and verify names the junk (line 2).
  void ExpectJunkStopsNoSealAndVerifyNamesIt(const std::string& junk) {
    log_ = WithWitness();
    AppendEntries(10);
    ASSERT_TRUE(log_->SealHead(*store_).ok());
    std::ofstream(witness_path(), std::ios::app) << junk << "\n";
    AppendEntries(5);
    Status st = log_->SealHead(*store_);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(WitnessLineCount(), 3) << "the seal's head appended";
    auto rep = log_->Verify(*store_);
    ASSERT_TRUE(rep.ok()) << rep.status().ToString();
    EXPECT_FALSE(rep->ok);
    EXPECT_NE(rep->problem.find("line 2 is malformed"), std::string::npos) << rep->problem;
  }

  int WitnessLineCount() const {
    std::ifstream in(witness_path());
    int lines = 0;
    for (std::string line; std::getline(in, line);) ++lines;
    return lines;
  }

  std::unique_ptr<AuditLog> WithWitness() {
    AuditOptions opt = log_->options();
    opt.witness_file = witness_path();
    auto log = AuditLog::Open(opt);
    EXPECT_TRUE(log.ok());
    return log.ok() ? std::move(*log) : nullptr;
  }
  // The tip stored with the log.
  StoredTip Tip() {
    auto txn = store_->Begin();
    EXPECT_TRUE(txn.ok());
    if (!txn.ok()) return {};
    auto stored = (*txn)->GetMeta(kTipMetaKey);
    EXPECT_TRUE(stored.ok() && stored->has_value());
    if (!stored.ok() || !stored->has_value()) return {};
    auto tip = DecodeTip(std::string((*stored)->begin(), (*stored)->end()));
    EXPECT_TRUE(tip.ok());
    return tip.ok() ? *tip : StoredTip{};
  }
  int64_t HeadSeq() {
    auto head = ReadHeadFile(head_path());
    EXPECT_TRUE(head.ok() && head->has_value());
    return head.ok() && head->has_value() ? (*head)->seq : -1;
  }
};
CUSTOS_AUDIT_SUITES(ForwardTest);

TEST_P(ForwardTest, EveryTransactionAuthenticatesItsTip) {
  std::vector<AuditEvent> batch = {Read(1), Read(2), Read(3)};
  auto txn = store_->Begin();
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE(log_->AppendAll(**txn, batch).ok());
  ASSERT_TRUE((*txn)->Commit().ok());
  const StoredTip tip = Tip();
  EXPECT_EQ(tip.head.seq, 3);
  // The head was signed at init a moment ago: this tip is a MAC, which no verifier holding
  // only the public key accepts and no head file may be.
  EXPECT_TRUE(tip.mac);
  EXPECT_FALSE(VerifyHead(tip.head, GetParam(), key_->PublicKeyBytes()).ok());
  EXPECT_EQ(DecodeHead(EncodeMacTip(tip.head)).status().code(), Code::kDataLoss);
  auto r = log_->Verify(*store_);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok) << r->problem;
  EXPECT_EQ(r->witnesses_used.front(), "MAC tip");
}

// Issue 14 (the read path): a tip is signed at most once per signed_tip_every_ms; the tips in
// between are HMACs under a key derived from the signing key (docs/decisions.md, "MAC tips").
TEST_P(ForwardTest, ATipIsSignedOncePerIntervalAndMacedInBetween) {
  AppendEntries(25);
  EXPECT_TRUE(Tip().mac);
  clock_ms_ += 1000;  // a second since the last signature
  AppendEntries(1);
  StoredTip tip = Tip();
  EXPECT_FALSE(tip.mac);
  EXPECT_EQ(tip.head.seq, 26);
  EXPECT_TRUE(VerifyHead(tip.head, GetParam(), key_->PublicKeyBytes()).ok());
  AppendEntries(1);
  EXPECT_TRUE(Tip().mac);
  // A seal leaves a signed tip: a closed log holds no MAC tip.
  ASSERT_TRUE(log_->SealHead(*store_).ok());
  tip = Tip();
  EXPECT_FALSE(tip.mac);
  EXPECT_EQ(tip.head.seq, 27);
  EXPECT_TRUE(VerifyHead(tip.head, GetParam(), key_->PublicKeyBytes()).ok());
  AppendEntries(1);
  EXPECT_TRUE(Tip().mac);
  // With the interval 0, every tip is signed, as before issue 14.
  AuditOptions opt = log_->options();
  opt.signed_tip_every_ms = 0;
  auto every = AuditLog::Open(opt);
  ASSERT_TRUE(every.ok());
  log_ = std::move(*every);
  for (int i = 0; i < 3; ++i) {
    AppendEntries(1);
    EXPECT_FALSE(Tip().mac);
  }
  auto r = log_->Verify(*store_);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok) << r->problem;
  EXPECT_EQ(r->entries, 31);
}

TEST_P(ForwardTest, AForgedMacTipIsRefusedByTheNextAppendAndNamedByVerify) {
  AppendEntries(5);
  ASSERT_TRUE(Tip().mac);
  CloseStore();
  store::AuditRow forged;
  {
    RawDb db(db_path());
    std::vector<store::AuditRow> rows = db.Entries();
    forged = rows.back();
    forged.seq += 1;
    forged.prev_hash = rows.back().hash;
    forged.hash = HashOf(forged);
    db.Put(forged);
  }
  OpenStore();
  {
    // The intruder's MAC tip over the added entry, under a key of their own.
    auto mac = crypto::Mac::New(GetParam(), crypto::SecretBytes(32, 0x5a));
    ASSERT_TRUE(mac.ok());
    SignedHead tip;
    tip.suite = GetParam();
    tip.seq = forged.seq;
    tip.ts_ms = forged.ts_ms;
    tip.hash = forged.hash;
    tip.signature = (*mac)->Compute(CheckpointMessage(forged.seq, forged.hash));
    const std::string text = EncodeMacTip(tip);
    auto txn = store_->Begin();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->PutMeta(kTipMetaKey, crypto::Bytes(text.begin(), text.end())).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  auto txn = store_->Begin();
  ASSERT_TRUE(txn.ok());
  Status st = log_->Append(**txn, Read(9));
  EXPECT_EQ(st.code(), Code::kDataLoss);
  EXPECT_NE(st.message().find("MAC does not verify"), std::string::npos) << st.ToString();
  txn->reset();
  auto r = log_->Verify(*store_);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  EXPECT_NE(r->problem.find("MAC does not verify"), std::string::npos) << r->problem;
}

TEST_P(ForwardTest, ALogCutBelowItsMacTipIsCaughtWithoutTheHeadFile) {
  AppendEntries(60);  // a checkpoint at 50, the MAC tip at 60
  ASSERT_TRUE(Tip().mac);
  CloseStore();
  RawDb(db_path()).Exec("DELETE FROM audit_log WHERE seq > 55");
  OpenStore();
  auto r = log_->Verify(*store_, HeadNotRequired());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->first_bad_seq, 56);
  EXPECT_EQ(r->problem, "log truncated: MAC tip records entry 60, log ends at 55");
}

TEST_P(ForwardTest, AVerifierWithoutTheVaultKeyCannotTakeAMacTipsWord) {
  AppendEntries(60);  // a checkpoint at 50, the MAC tip at 60, not sealed
  ASSERT_TRUE(Tip().mac);
  auto verifier = MakeLog(nullptr);
  ASSERT_NE(verifier, nullptr);
  auto r = verifier->Verify(*store_, HeadNotRequired());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->first_bad_seq, 51);
  EXPECT_NE(r->problem.find("verify with the vault unlocked"), std::string::npos) << r->problem;
  // Sealed, the head is signed and the public key alone verifies everything.
  ASSERT_TRUE(log_->SealHead(*store_).ok());
  r = verifier->Verify(*store_);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok) << r->problem;
}

TEST_P(ForwardTest, SealingRefusesALogShorterThanTheSignedHead) {
  AppendEntries(240);
  const crypto::Bytes old_tip = TipBytes();
  AppendEntries(10);
  ASSERT_TRUE(log_->SealHead(*store_).ok());  // head at 250
  CutBackTo240(old_tip);  // with the tip of then: consistent in the database alone
  CloseStore();
  OpenStore();
  log_ = MakeLog(key_.get());  // another process: it never observed entry 250
  Status st = log_->SealHead(*store_);
  EXPECT_EQ(st.code(), Code::kDataLoss);
  EXPECT_NE(st.message().find("head file audit.head records entry 250, the log ends at 240"),
            std::string::npos)
      << st.ToString();
  EXPECT_EQ(HeadSeq(), 250);
}

// A review removed a running server's last entries and put back the tip of before them: the tip
// is authentic and signs the log's new end, so the tip alone cannot show the cut. The process
// that saw the log grow refuses to append to it.
TEST_P(ForwardTest, AProcessThatSawTheLogGrowRefusesItCutBackUnderAnEarlierTip) {
  AppendEntries(240);
  const crypto::Bytes old_tip = TipBytes();
  AppendEntries(10);
  log_->ObserveCommitted(*store_);  // as a server's journal folder does
  // The cut, made by another process (another connection to the store).
  CloseStore();
  OpenStore();
  CutBackTo240(old_tip);
  auto txn = store_->Begin();
  ASSERT_TRUE(txn.ok());
  Status st = log_->Append(**txn, Read(0));
  EXPECT_EQ(st.code(), Code::kDataLoss) << st.ToString();
  EXPECT_NE(st.message().find("saw it reach entry 250, it now ends at 240"), std::string::npos)
      << st.ToString();
  // A process that never saw entry 250 cannot tell (the witnesses and `audit verify` do).
  txn->reset();
  log_ = MakeLog(key_.get());
  AppendEntries(1);
}

// The tip this process wrote last, put back after another process's later entries were cut: the
// process knows that tip's text, but it saw the log go further (a review of the first version).
TEST_P(ForwardTest, ATipThisProcessWroteIsRefusedOnceItSawTheLogGoFurther) {
  AppendEntries(240);
  const crypto::Bytes own_tip = TipBytes();
  std::unique_ptr<AuditLog> mine = std::move(log_);
  log_ = MakeLog(key_.get());  // another process appends 10 more
  AppendEntries(10);
  mine->ObserveCommitted(*store_);
  CloseStore();  // the cut, through another connection
  OpenStore();
  CutBackTo240(own_tip);
  auto txn = store_->Begin();
  ASSERT_TRUE(txn.ok());
  Status st = mine->Append(**txn, Read(0));
  EXPECT_EQ(st.code(), Code::kDataLoss) << st.ToString();
  EXPECT_NE(st.message().find("saw it reach entry 250, it now ends at 240"), std::string::npos)
      << st.ToString();
}

TEST_P(ForwardTest, SealingRefusesALogThatDivergesFromTheSignedHead) {
  AppendEntries(30);
  ASSERT_TRUE(log_->SealHead(*store_).ok());  // head at 30
  AppendEntries(10);
  CloseStore();
  {
    RawDb db(db_path());
    db.Exec("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 35");
  }
  OpenStore();
  Status st = log_->SealHead(*store_);
  EXPECT_EQ(st.code(), Code::kDataLoss);
  EXPECT_NE(st.message().find("diverges from the signed head at entry 35"), std::string::npos)
      << st.ToString();
  EXPECT_EQ(HeadSeq(), 30);
}

TEST_P(ForwardTest, AMissingHeadFileIsNotAFreshStart) {
  AppendEntries(5);
  std::filesystem::remove(head_path());
  EXPECT_EQ(log_->SealHead(*store_).code(), Code::kFailedPrecondition);
  EXPECT_FALSE(std::filesystem::exists(head_path()));
  EXPECT_EQ(log_->CreateHead(*store_).code(), Code::kOk);  // only init (or a reseal) may
  EXPECT_EQ(log_->CreateHead(*store_).code(), Code::kConflict);
}

TEST_P(ForwardTest, AppendingOverAnUnsignedEntryIsRefused) {
  AppendEntries(5);
  CloseStore();
  {
    RawDb db(db_path());
    std::vector<store::AuditRow> rows = db.Entries();
    store::AuditRow forged = rows.back();
    forged.seq += 1;
    forged.prev_hash = rows.back().hash;
    forged.hash = HashOf(forged);
    db.Put(forged);
  }
  OpenStore();
  auto txn = store_->Begin();
  ASSERT_TRUE(txn.ok());
  Status st = log_->Append(**txn, Read(9));
  EXPECT_EQ(st.code(), Code::kDataLoss);
  EXPECT_NE(st.message().find("entries 6..6 are not signed"), std::string::npos) << st.ToString();
}

// A review put back an earlier custos.db with its audit.head (which the witness file shows) and
// the next command's close sealed the rolled-back log, adding a second, conflicting head for the
// same entry to the witness file. A seal now refuses a log the witness file is ahead of.
TEST_P(ForwardTest, SealingRefusesALogTheWitnessFileIsAheadOf) {
  RollBackBehindTheWitnessFile();
  Status st = log_->SealHead(*store_);
  EXPECT_EQ(st.code(), Code::kDataLoss) << st.ToString();
  EXPECT_NE(st.message().find("holds head at seq 30, the log ends at 22: rollback or cut"),
            std::string::npos)
      << st.ToString();
  EXPECT_EQ(WitnessLineCount(), 2) << "no conflicting head added";
}

// Session 40: a line that is not a head after the last signed one (junk written to the witness
// file, a line of another key) turned the check above off: the seal read only the last line.
// The seal now compares the last head the audit key signed, and verify names the junk line.
TEST_P(ForwardTest, AJunkLastLineInTheWitnessFileDoesNotTurnTheSealsCheckOff) {
  ExpectTheRollbackSeenPast("not a head at all");
}

// The junk itself stops no seal of a log that extends the last signed head (an append-only
// witness file cannot be mended, and the head file must keep moving forward); verify, and so
// the doctor, fail on it, naming the line.
TEST_P(ForwardTest, AJunkLineInTheWitnessFileIsNamedByVerifyNotHiddenBySeals) {
  ExpectJunkStopsNoSealAndVerifyNamesIt("not a head at all");
}

// Review 40 (LOW): a junk line of more than 64 KiB after the last head in the witness file
// stopped every seal ("a line of more than 65536 bytes"), for good: the file is append-only.
// A seal passes over it as over any junk, reading backwards a block at a time, and compares
// the last head the audit key signed: the check stays on, and a log that extends the head is
// sealed. Verify still names the line.
TEST_P(ForwardTest, AJunkLineOf100KiBAfterTheLastHeadDoesNotTurnTheSealsCheckOff) {
  ExpectTheRollbackSeenPast(std::string(100 * 1024, 'x'));
}

TEST_P(ForwardTest, AJunkLineOf100KiBAfterTheLastHeadStopsNoSealAndVerifyNamesIt) {
  ExpectJunkStopsNoSealAndVerifyNamesIt(std::string(100 * 1024, 'x'));
}

// A witness file with no head at all and a line too long to be one still stops the seal (as
// before): nothing in it can be compared, and it is not what a seal writes.
TEST_P(ForwardTest, AWitnessFileWithNoHeadButALineOver64KiBStopsTheSeal) {
  log_ = WithWitness();
  AppendEntries(3);
  std::ofstream(witness_path()) << "not a head\n" << std::string(100 * 1024, 'x') << "\nnor this\n";
  Status st = log_->SealHead(*store_);
  EXPECT_EQ(st.code(), Code::kDataLoss) << st.ToString();
  EXPECT_NE(st.message().find("a line of more than 65536 bytes"), std::string::npos)
      << st.ToString();
  EXPECT_EQ(WitnessLineCount(), 3) << "no head appended";
}

TEST_P(ForwardTest, EachSealIsAppendedToTheWitnessFileAndVerifyChecksIt) {
  log_ = WithWitness();
  AppendEntries(10);
  ASSERT_TRUE(log_->SealHead(*store_).ok());
  AppendEntries(10);
  ASSERT_TRUE(log_->SealHead(*store_).ok());
  ASSERT_TRUE(log_->SealHead(*store_).ok());  // nothing new: no line
  {
    std::ifstream in(witness_path());
    int lines = 0;
    for (std::string line; std::getline(in, line);) ++lines;
    EXPECT_EQ(lines, 2);
  }
  // A torn last line (a crash while appending) is skipped.
  std::ofstream(witness_path(), std::ios::app) << "{\"format\":\"custos-au";
  auto r = log_->Verify(*store_);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok) << r->problem;
  ASSERT_EQ(r->witnesses_used.size(), 3u);
  EXPECT_NE(r->witnesses_used[2].find("(2 heads)"), std::string::npos);
  // A witness ahead of the log.
  CloseStore();
  RawDb(db_path()).Exec("DELETE FROM audit_log WHERE seq > 15");
  RawDb(db_path()).Exec("DELETE FROM audit_checkpoints WHERE seq > 15");
  RawDb(db_path()).Exec("DELETE FROM meta WHERE key = 'audit.tip'");
  std::filesystem::remove(head_path());
  VerifyReport rep = ReopenAndVerify(HeadNotRequired());
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.first_bad_seq, 16);
  EXPECT_NE(rep.problem.find("line 2 holds head at seq 20, the log ends at 15: rollback or cut"),
            std::string::npos)
      << rep.problem;
}

}  // namespace
}  // namespace custos::audit::testing
