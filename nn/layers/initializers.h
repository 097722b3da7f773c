// Weight initialisers by their Keras names. All draw from an Rng, by default the
// process-wide one, so manual_seed(s) makes a model's initial weights reproducible.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "framework/random.h"
#include "framework/tensor.h"

namespace xgrad::nn {

// "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
// "lecun_normal", "random_uniform", "random_normal", "zeros", "ones", "orthogonal".
const std::vector<std::string>& initializer_names();

// A std::invalid_argument listing the valid names, for an unknown one.
void check_initializer_name(const std::string& name);

// A tensor of `shape` filled by the initialiser `name`, for a weight with fan_in inputs and
// fan_out outputs per unit. As in Keras: the uniform variance-scaling ones draw from
// U(-limit, limit) with limit = sqrt(3 * scale / n); the normal ones from a normal truncated
// at two standard deviations, with stddev sqrt(scale / n) / 0.8796 (which restores the
// variance lost by truncating). glorot: scale 1, n = (fan_in + fan_out) / 2; he: scale 2,
// n = fan_in; lecun: scale 1, n = fan_in. random_uniform: U(-0.05, 0.05); random_normal:
// N(0, 0.05). orthogonal (Keras' Orthogonal, for recurrent kernels; rank 2 or more): the
// weight reshaped to (rows, last dimension) has orthonormal rows or columns, whichever are
// fewer.
Tensor initialize(const std::string& name, const Shape& shape, std::size_t fan_in,
                  std::size_t fan_out, Rng& rng = global_rng());

}  // namespace xgrad::nn
