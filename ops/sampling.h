// Drawing class indices from probabilities or logits, for generating text from a language
// model. Not differentiable (the results are indices); reproducible: the same generator state
// gives the same draws.
#pragma once

#include <cstddef>

#include "framework/random.h"
#include "framework/tensor.h"

namespace xgrad {

// `num_samples` indices per row of `weights` ((classes,) or (rows, classes)), each drawn with
// probability weight / row sum, with replacement (torch.multinomial). Weights need not sum
// to 1. A negative, infinite or NaN weight, a row summing to 0, or a rank other than 1 or 2
// is a std::invalid_argument naming it. The result is (num_samples,) or (rows, num_samples).
IndexTensor multinomial(const Tensor& weights, std::size_t num_samples, Rng& rng = global_rng());

struct SamplingOptions {
    // Divides the logits: below 1 sharpens the distribution, above 1 flattens it; 0 takes the
    // most likely class (greedy). Negative or non-finite is an error.
    double temperature = 1.0;
    // Only the k most likely classes can be drawn; 0 means all of them.
    std::size_t top_k = 0;
};

// One class index per row of `logits` ((classes,) or (rows, classes)) drawn from
// softmax(logits / temperature), restricted to the top_k largest logits: a () or (rows,)
// result. Ties at the k-th largest logit are all kept.
IndexTensor sample_categorical(const Tensor& logits, const SamplingOptions& options = {},
                               Rng& rng = global_rng());

}  // namespace xgrad
