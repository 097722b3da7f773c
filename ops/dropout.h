// Inverted dropout: in training, zeroes each element with probability `rate` and scales the
// rest by 1 / (1 - rate); outside training it is the identity.
#pragma once

#include "framework/random.h"
#include "framework/variable.h"

namespace xgrad {

// The mask dropout multiplies by: each element 0 with probability `rate`, else 1 / (1 - rate),
// drawn from `rng` (the same seed gives the same mask). rate must be in [0, 1).
template <class T>
TensorOf<T> dropout_mask(const Shape& shape, double rate, Rng& rng);

template <class T>
VariableOf<T> dropout(const VariableOf<T>& x, double rate, bool training, Rng& rng);

// Same, with the process-wide generator (see manual_seed).
template <class T>
VariableOf<T> dropout(const VariableOf<T>& x, double rate, bool training);

}  // namespace xgrad
