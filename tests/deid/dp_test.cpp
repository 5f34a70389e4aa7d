#include "deid/dp.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

namespace custos::deid {
namespace {

class SeededUniform : public UniformSource {
 public:
  explicit SeededUniform(uint64_t seed) : rng_(seed) {}
  uint64_t Below(uint64_t n) override {
    return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_);
  }

 private:
  std::mt19937_64 rng_;
};

// The discrete Laplace of scale t: P(y) = (1 - q) / (1 + q) * q^|y| with q = exp(-1/t);
// variance 2q / (1 - q)^2. 40,000 samples: mean, P(0), P(1), P(-1) and the variance within
// about five standard errors.
TEST(DiscreteLaplace, SamplesFollowTheDistribution) {
  SeededUniform u(42);
  constexpr int kN = 40000;
  std::map<int64_t, int> counts;
  double sum = 0;
  double sum_sq = 0;
  for (int i = 0; i < kN; ++i) {
    Result<int64_t> y = SampleDiscreteLaplace(2, 1, u);  // scale 2
    ASSERT_TRUE(y.ok());
    ++counts[*y];
    sum += static_cast<double>(*y);
    sum_sq += static_cast<double>(*y) * static_cast<double>(*y);
  }
  const double q = std::exp(-0.5);
  const double p0 = (1 - q) / (1 + q);
  const double variance = 2 * q / ((1 - q) * (1 - q));
  const double mean = sum / kN;
  EXPECT_LT(std::abs(mean), 5 * std::sqrt(variance / kN));
  EXPECT_NEAR(static_cast<double>(counts[0]) / kN, p0, 0.012);
  EXPECT_NEAR(static_cast<double>(counts[1]) / kN, p0 * q, 0.012);
  EXPECT_NEAR(static_cast<double>(counts[-1]) / kN, p0 * q, 0.012);
  EXPECT_NEAR(sum_sq / kN - mean * mean, variance, 0.08 * variance);
}

TEST(DiscreteLaplace, NoiseScalesWithSensitivityOverEpsilon) {
  SeededUniform u(7);
  double small = 0;
  double large = 0;
  for (int i = 0; i < 5000; ++i) {
    small += std::abs(static_cast<double>(*AddDiscreteLaplaceNoise(100, 1, {2, 1}, u) - 100));
    large += std::abs(static_cast<double>(*AddDiscreteLaplaceNoise(100, 10, {1, 10}, u) - 100));
  }
  EXPECT_LT(small / 5000, 1.0);   // scale 0.5
  EXPECT_GT(large / 5000, 50.0);  // scale 100
  EXPECT_FALSE(AddDiscreteLaplaceNoise(1, 0, {1, 1}, u).ok());
  EXPECT_FALSE(AddDiscreteLaplaceNoise(1, 1, {0, 1}, u).ok());
}

TEST(DiscreteLaplace, TheSystemSourceIsUniform) {
  SystemUniform u;
  int below = 0;
  for (int i = 0; i < 2000; ++i) below += u.Below(10) < 5 ? 1 : 0;
  EXPECT_NEAR(below / 2000.0, 0.5, 0.06);
  EXPECT_EQ(Clamp(500, 0, 100), 100);
  EXPECT_EQ(Clamp(-5, 0, 100), 0);
}

}  // namespace
}  // namespace custos::deid
