#include "framework/random.h"

namespace xgrad {

Rng& global_rng() {
    static Rng rng(0);
    return rng;
}

void manual_seed(std::uint64_t seed) {
    global_rng().seed(seed);
}

}  // namespace xgrad
