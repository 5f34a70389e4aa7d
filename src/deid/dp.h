// Differentially private noise without floating point (issue 16 item 4): the discrete Laplace
// mechanism sampled exactly with integer arithmetic (Canonne, Kamath, Steinke, "The Discrete
// Gaussian for Differential Privacy", NeurIPS 2020, Algorithms 1 and 2). A naive double Laplace
// leaks through the gaps of floating-point numbers (Mironov, CCS 2012); here every step is a
// Bernoulli trial with a rational probability drawn from uniform integers.
//
// Contribution bounding is the caller's: each customer adds at most one to a count (one row per
// customer), and a sum adds each customer's value clamped to [lower, upper] (Clamp), so the
// sensitivity is 1 for counts and max(|lower|, |upper|) for sums.
//
// Used by the vault's `deid aggregate` (vault/deid_aggregate.cpp), which keeps the privacy
// budget per profile and analyst and audits each answer (docs/deid.md).
//
// Thread safety: a UniformSource is used by one thread at a time; the functions are pure.
#pragma once

#include <cstdint>

#include "core/status.h"

namespace custos::deid {

// Uniform integers.
class UniformSource {
 public:
  virtual ~UniformSource() = default;
  // A uniform integer in [0, n). Precondition: n > 0.
  virtual uint64_t Below(uint64_t n) = 0;
};

// The system's cryptographic generator (crypto::RandomBytes), with rejection sampling.
class SystemUniform : public UniformSource {
 public:
  uint64_t Below(uint64_t n) override;
};

// A privacy parameter as a fraction: epsilon = numerator / denominator, both > 0.
struct Epsilon {
  uint64_t numerator = 1;
  uint64_t denominator = 1;
};

// A sample of the discrete Laplace distribution with scale num / den: P(y) is proportional to
// exp(-|y| * den / num). InvalidArgument if num or den is 0 or above 2^32.
Result<int64_t> SampleDiscreteLaplace(uint64_t num, uint64_t den, UniformSource& uniform);

// `value` + discrete Laplace noise of scale sensitivity / epsilon: epsilon-differentially
// private for a query of that sensitivity. InvalidArgument on a zero sensitivity or epsilon.
Result<int64_t> AddDiscreteLaplaceNoise(int64_t value, uint64_t sensitivity, Epsilon epsilon,
                                        UniformSource& uniform);

// `value` clamped to [lower, upper] (contribution bounding of a sum).
int64_t Clamp(int64_t value, int64_t lower, int64_t upper);

}  // namespace custos::deid
