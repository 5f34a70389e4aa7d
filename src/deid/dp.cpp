#include "deid/dp.h"

#include <algorithm>
#include <cstring>

#include "crypto/primitives.h"

namespace custos::deid {
namespace {

constexpr uint64_t kMaxParameter = uint64_t{1} << 32;

// True with probability a / b (0 <= a <= b, b > 0).
bool Bernoulli(uint64_t a, uint64_t b, UniformSource& u) { return u.Below(b) < a; }

// True with probability exp(-n / d) for 0 <= n <= d (CKS Algorithm 1, gamma in [0, 1]).
bool BernoulliExpUnit(uint64_t n, uint64_t d, UniformSource& u) {
  uint64_t k = 1;
  while (Bernoulli(n, d * k, u)) ++k;
  return k % 2 == 1;
}

// True with probability exp(-n / d) for any n >= 0.
bool BernoulliExp(uint64_t n, uint64_t d, UniformSource& u) {
  while (n > d) {
    if (!BernoulliExpUnit(1, 1, u)) return false;
    n -= d;
  }
  return BernoulliExpUnit(n, d, u);
}

}  // namespace

uint64_t SystemUniform::Below(uint64_t n) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;  // reject the incomplete last block
  while (true) {
    const crypto::Bytes b = crypto::RandomBytes(8);
    uint64_t x = 0;
    std::memcpy(&x, b.data(), sizeof x);
    if (x < limit) return x % n;
  }
}

Result<int64_t> SampleDiscreteLaplace(uint64_t num, uint64_t den, UniformSource& uniform) {
  if (num == 0 || den == 0 || num > kMaxParameter || den > kMaxParameter) {
    return InvalidArgument("the scale must be a fraction of two integers from 1 to 2^32");
  }
  // CKS Algorithm 2 with scale t = num / den.
  while (true) {
    const uint64_t u = uniform.Below(num);
    if (!BernoulliExp(u, num, uniform)) continue;
    uint64_t v = 0;
    while (BernoulliExp(1, 1, uniform)) ++v;
    const uint64_t x = u + num * v;
    const auto y = static_cast<int64_t>(x / den);
    const bool negative = Bernoulli(1, 2, uniform);
    if (negative && y == 0) continue;
    return negative ? -y : y;
  }
}

Result<int64_t> AddDiscreteLaplaceNoise(int64_t value, uint64_t sensitivity, Epsilon epsilon,
                                        UniformSource& uniform) {
  if (sensitivity == 0 || epsilon.numerator == 0 || epsilon.denominator == 0) {
    return InvalidArgument("sensitivity and epsilon must be positive");
  }
  // scale = sensitivity / epsilon = sensitivity * den / num.
  CUSTOS_ASSIGN_OR_RETURN(int64_t noise, SampleDiscreteLaplace(sensitivity * epsilon.denominator,
                                                               epsilon.numerator, uniform));
  return value + noise;
}

int64_t Clamp(int64_t value, int64_t lower, int64_t upper) {
  return std::clamp(value, lower, upper);
}

}  // namespace custos::deid
