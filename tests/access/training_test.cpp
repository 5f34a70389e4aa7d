// The training gate (P5b): a staff member's course is valid from completion until valid_until.
#include "access/training.h"

#include <gtest/gtest.h>

namespace custos::access {
namespace {

constexpr int64_t kDay = 24LL * 3600 * 1000;
constexpr int64_t k2026_10_01 = 1790812800000;  // 2026-10-01T00:00:00Z

TEST(Training, NoRecordMeansNoTraining) {
  TrainingStatus s = EvaluateTraining({}, "privacy-basics", k2026_10_01);
  EXPECT_FALSE(s.valid);
  EXPECT_FALSE(s.on_record);
  EXPECT_EQ(TrainingReason("privacy-basics", s), "no training 'privacy-basics' on record");
}

TEST(Training, TrainingIsValidUntilItsEndDateAndLapsedFromThen) {
  std::vector<store::TrainingRow> rows{
      {"alice", "privacy-basics", k2026_10_01 - 365 * kDay, k2026_10_01, "admin"}};
  TrainingStatus before = EvaluateTraining(rows, "privacy-basics", k2026_10_01 - 1);
  EXPECT_TRUE(before.valid);
  EXPECT_EQ(TrainingReason("privacy-basics", before),
            "training 'privacy-basics' valid until 2026-10-01");
  TrainingStatus after = EvaluateTraining(rows, "privacy-basics", k2026_10_01);
  EXPECT_FALSE(after.valid);
  EXPECT_TRUE(after.on_record);
  EXPECT_EQ(TrainingReason("privacy-basics", after),
            "training 'privacy-basics' lapsed on 2026-10-01");
}

TEST(Training, ARenewalRestoresValidityAndOtherCoursesDoNotCount) {
  std::vector<store::TrainingRow> rows{
      {"alice", "privacy-basics", 0, k2026_10_01, "admin"},
      {"alice", "fire-safety", 0, k2026_10_01 + 400 * kDay, "admin"}};
  EXPECT_FALSE(EvaluateTraining(rows, "privacy-basics", k2026_10_01 + kDay).valid);
  rows.push_back({"alice", "privacy-basics", k2026_10_01 + kDay, k2026_10_01 + 366 * kDay, "dpo"});
  TrainingStatus renewed = EvaluateTraining(rows, "privacy-basics", k2026_10_01 + 2 * kDay);
  EXPECT_TRUE(renewed.valid);
  EXPECT_EQ(renewed.valid_until_ms, k2026_10_01 + 366 * kDay);
}

TEST(Training, UtcDatesArePrintedAsIsoDays) {
  EXPECT_EQ(UtcDate(0), "1970-01-01");
  EXPECT_EQ(UtcDate(k2026_10_01 - 1), "2026-09-30");
}

}  // namespace
}  // namespace custos::access
