// SamplingRng: the random numbers a seeded sequence samples with, defined bit for bit
// so that a seed gives the same tokens on every platform and build. Counter-based: the
// number for output token n is a pure function of (seed, n), so a sequence that is
// preempted and recomputed continues exactly as if it never was.
//
//   key  = SplitMix64Mix(seed + kGolden)              (decorrelates nearby seeds)
//   x_n  = SplitMix64Mix(key + (n + 1) * kGolden)     (element n of SplitMix64's stream)
//   u_n  = (x_n >> 11) * 2^-53                        (a double in [0, 1))
//
// SplitMix64 is Steele, Lea & Flood's generator (java.util.SplittableRandom), the one
// that seeds xoshiro; its stream passes BigCrush. A value type owned by its Sampler.
#ifndef SHOAL_WORKER_SAMPLER_SAMPLING_RNG_H_
#define SHOAL_WORKER_SAMPLER_SAMPLING_RNG_H_

#include <cstdint>

namespace shoal::worker {

class SamplingRng {
 public:
  static constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

  explicit constexpr SamplingRng(uint64_t seed) : key_(Mix(seed + kGolden)) {}

  // The 64 random bits for output position n.
  constexpr uint64_t Bits(uint64_t n) const { return Mix(key_ + (n + 1) * kGolden); }

  // A uniform double in [0, 1) for output position n (53 random bits).
  constexpr double Uniform(uint64_t n) const {
    return static_cast<double>(Bits(n) >> 11) * 0x1.0p-53;
  }

  // SplitMix64's output function (Stafford's variant 13).
  static constexpr uint64_t Mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t key_;
};

}  // namespace shoal::worker

#endif  // SHOAL_WORKER_SAMPLER_SAMPLING_RNG_H_
