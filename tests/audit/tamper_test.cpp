// An intruder with write access to the database file changes the audit log behind Custos's
// back. Whatever they do — edit, delete, insert, reorder, cut the tail, or recompute the
// whole chain — `audit verify` fails and names the first entry that cannot be trusted.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "audit/export.h"
#include "audit/head_file.h"
#include "audit_fixture.h"

namespace custos::audit::testing {
namespace {

class TamperTest : public AuditTest {};
CUSTOS_AUDIT_SUITES(TamperTest);

TEST_P(TamperTest, AnUntouchedSealedLogVerifies) {
  WriteSealedLogAndClose();
  VerifyReport r = ReopenAndVerify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.entries, 250);
  EXPECT_EQ(r.checkpoints, 5);
  EXPECT_EQ(r.first_bad_seq, 0);
  EXPECT_EQ(r.problem, "");
}

TEST_P(TamperTest, AnEditedActorIsNamedAsTheFirstBadEntry) {
  WriteSealedLogAndClose();
  RawDb(db_path()).Exec("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 17");
  VerifyReport r = ReopenAndVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 17);
  EXPECT_EQ(r.problem, "entry 17: hash does not match its contents (edited?)");
  EXPECT_EQ(r.entries, 250);
}

TEST_P(TamperTest, HidingATouchedFieldIsDetected) {
  WriteSealedLogAndClose();
  RawDb(db_path()).Exec("UPDATE audit_log SET fields = 'name' WHERE seq = 120");
  VerifyReport r = ReopenAndVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 120);
  EXPECT_NE(r.problem.find("edited"), std::string::npos) << r.problem;
}

TEST_P(TamperTest, AnEditedEntryWithARecomputedHashIsStillNamed) {
  WriteSealedLogAndClose();
  {
    RawDb db(db_path());
    store::AuditRow row = db.Entries()[16];  // seq 17
    row.actor = "someone-else";
    row.hash = HashOf(row);
    db.Put(row);
  }
  VerifyReport r = ReopenAndVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 17);
  EXPECT_NE(r.problem.find("edited"), std::string::npos) << r.problem;
}

TEST_P(TamperTest, ADeletedEntryLeavesAGapThatIsNamed) {
  WriteSealedLogAndClose();
  RawDb(db_path()).Exec("DELETE FROM audit_log WHERE seq = 120");
  VerifyReport r = ReopenAndVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 120);
  EXPECT_EQ(r.problem, "entry 120 is missing (deleted?): the log goes from entry 119 to 121");
  EXPECT_EQ(r.entries, 249);
}

TEST_P(TamperTest, ADeletedEntryHiddenByRenumberingIsNamed) {
  WriteSealedLogAndClose();
  {
    RawDb db(db_path());
    db.Exec("DELETE FROM audit_log WHERE seq = 120");
    db.Exec("UPDATE audit_log SET seq = -seq WHERE seq > 120");
    db.Exec("UPDATE audit_log SET seq = -seq - 1 WHERE seq < 0");
  }
  VerifyReport r = ReopenAndVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 120);
  EXPECT_NE(r.problem.find("deleted"), std::string::npos) << r.problem;
}

TEST_P(TamperTest, AForgedEntryInsertedByRenumberingIsNamed) {
  WriteSealedLogAndClose();
  {
    RawDb db(db_path());
    const std::vector<store::AuditRow> rows = db.Entries();
    db.Exec("UPDATE audit_log SET seq = -seq WHERE seq >= 121");
    db.Exec("UPDATE audit_log SET seq = -seq + 1 WHERE seq < 0");
    // A well-formed entry that links to entry 120 and carries a correctly computed hash.
    store::AuditRow forged = rows[120];
    forged.seq = 121;
    forged.actor = "agent-0";
    forged.target = "customer:alibi";
    forged.prev_hash = rows[119].hash;
    forged.hash = HashOf(forged);
    db.Put(forged);
  }
  VerifyReport r = ReopenAndVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 121);
  EXPECT_EQ(r.problem, "entry 121 was inserted: entry 122 links to entry 120");
  EXPECT_EQ(r.entries, 251);
}

TEST_P(TamperTest, TwoSwappedEntriesAreNamedAsReordered) {
  WriteSealedLogAndClose();
  {
    RawDb db(db_path());
    const std::vector<store::AuditRow> rows = db.Entries();
    store::AuditRow a = rows[130];  // seq 131
    store::AuditRow b = rows[129];  // seq 130
    a.seq = 130;
    b.seq = 131;
    db.Put(a);
    db.Put(b);
  }
  VerifyReport r = ReopenAndVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 130);
  EXPECT_EQ(r.problem, "entries 130 and 131 were swapped (reordered)");
}

TEST_P(TamperTest, ACutTailIsCaughtByTheHeadFile) {
  WriteSealedLogAndClose();
  {
    RawDb db(db_path());
    db.Exec("DELETE FROM audit_log WHERE seq > 240");
    db.Exec("DELETE FROM audit_checkpoints WHERE seq > 240");
  }
  VerifyReport r = ReopenAndVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 241);
  EXPECT_EQ(r.problem, "log truncated: head file records entry 250, log ends at 240");
  EXPECT_EQ(r.entries, 240);
  EXPECT_EQ(r.checkpoints, 4);
}

TEST_P(TamperTest, ACutTailIsCaughtByAStrandedCheckpointEvenWithoutTheHeadFile) {
  AppendEntries(250);  // checkpoints at 50..250, never sealed
  CloseStore();
  {
    RawDb db(db_path());
    db.Exec("DELETE FROM audit_log WHERE seq > 240");
    db.Exec("DELETE FROM meta WHERE key = 'audit.tip'");  // the signed tip would name 250 too
  }
  VerifyReport r = ReopenAndVerify(HeadNotRequired());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 241);
  EXPECT_EQ(r.problem, "log truncated: checkpoint records entry 250, log ends at 240");
}

// Recomputes every prev_hash and hash from entry 1 on, as an intruder who knows the
// algorithm but not the signing key would.
void RecomputeChain(RawDb& db, crypto::Suite suite) {
  crypto::Bytes prev = GenesisHash();
  db.Exec("BEGIN");
  for (store::AuditRow row : db.Entries()) {
    row.prev_hash = prev;
    row.hash = EntryHash(suite, row);
    prev = row.hash;
    db.Put(row);
  }
  db.Exec("COMMIT");
}

TEST_P(TamperTest, ARecomputedChainIsCaughtByTheSignedCheckpoints) {
  WriteSealedLogAndClose();
  {
    RawDb db(db_path());
    db.Exec("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 75");
    RecomputeChain(db, GetParam());
  }
  VerifyReport r = ReopenAndVerify();
  EXPECT_FALSE(r.ok);
  // The checkpoint at 50 still matches; the one at 100 does not: the change is in 51..100.
  EXPECT_EQ(r.first_bad_seq, 51);
  EXPECT_NE(r.problem.find("entries 51..100 were rewritten"), std::string::npos) << r.problem;
}

TEST_P(TamperTest, ARecomputedChainWithRecomputedCheckpointsFailsTheirSignatures) {
  WriteSealedLogAndClose();
  {
    RawDb db(db_path());
    db.Exec("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 75");
    RecomputeChain(db, GetParam());
    db.Exec(
        "UPDATE audit_checkpoints SET hash = "
        "(SELECT hash FROM audit_log WHERE audit_log.seq = audit_checkpoints.seq)");
  }
  VerifyReport r = ReopenAndVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 51);
  EXPECT_EQ(r.problem,
            "the checkpoint at entry 100: signature does not verify (forged or altered)");
}

TEST_P(TamperTest, ARecomputedChainWithoutCheckpointsIsCaughtByTheHeadFile) {
  WriteSealedLogAndClose();
  {
    RawDb db(db_path());
    db.Exec("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 75");
    RecomputeChain(db, GetParam());
    db.Exec("DELETE FROM audit_checkpoints");
  }
  VerifyReport r = ReopenAndVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 1);
  // The signed tip (in the database, checked first) and the head file both sign entry 250.
  EXPECT_NE(r.problem.find("signs another hash for entry 250"), std::string::npos) << r.problem;
}

TEST_P(TamperTest, ADeletedHeadFileIsReported) {
  WriteSealedLogAndClose();
  std::filesystem::remove(head_path());
  VerifyReport r = ReopenAndVerify();
  EXPECT_FALSE(r.ok);
  // Every entry is vouched for by the checkpoint at 250; what cannot be shown is that
  // nothing after it was cut.
  EXPECT_EQ(r.first_bad_seq, 251);
  EXPECT_NE(r.problem.find("head file audit.head is missing"), std::string::npos) << r.problem;
}

TEST_P(TamperTest, AnEditedHeadFileIsReported) {
  WriteSealedLogAndClose();
  {
    RawDb db(db_path());
    db.Exec("DELETE FROM audit_log WHERE seq > 240");
    db.Exec("DELETE FROM audit_checkpoints WHERE seq > 200");
  }
  // The intruder also moves the head back to 240, keeping its old signature.
  auto head = ReadHeadFile(head_path());
  ASSERT_TRUE(head.ok() && head->has_value());
  SignedHead moved = **head;
  moved.seq = 240;
  OpenStore();
  {
    auto rows = Tail(*store_, 1);
    ASSERT_TRUE(rows.ok());
    moved.hash = rows->back().hash;
  }
  CloseStore();
  ASSERT_TRUE(WriteHeadFile(head_path(), moved).ok());
  VerifyReport r = ReopenAndVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 201);
  EXPECT_EQ(r.problem, "the head file: signature does not verify (forged or altered)");
}

TEST_P(TamperTest, AGarbledHeadFileIsReported) {
  WriteSealedLogAndClose();
  {
    std::ofstream out(head_path(), std::ios::trunc);
    out << "{\"seq\": 1\n";
  }
  VerifyReport r = ReopenAndVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 251);
  EXPECT_NE(r.problem.find("head file is malformed"), std::string::npos) << r.problem;
}

TEST_P(TamperTest, ALogSignedByAnotherKeyFailsVerification) {
  WriteSealedLogAndClose();
  auto other = crypto::SigningKey::Generate(GetParam());
  ASSERT_TRUE(other.ok());
  AuditOptions opt = log_->options();
  opt.signing_key = nullptr;
  opt.public_key = (*other)->PublicKeyBytes();
  auto verifier = AuditLog::Open(opt);
  ASSERT_TRUE(verifier.ok());
  OpenStore();
  auto r = (*verifier)->Verify(*store_);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->first_bad_seq, 1);
  EXPECT_EQ(r->problem,
            "the checkpoint at entry 50: signature does not verify (forged or altered)");
}

}  // namespace
}  // namespace custos::audit::testing
