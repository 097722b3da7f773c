// The random generator shared by initialisers, dropout and shuffling, seedable for
// reproducible runs. Components that take their own generator accept an Rng&.
#pragma once

#include <cstdint>
#include <random>

namespace xgrad {

using Rng = std::mt19937_64;

// The process-wide generator used when no other is given.
Rng& global_rng();

// Reseeds the process-wide generator.
void manual_seed(std::uint64_t seed);

}  // namespace xgrad
