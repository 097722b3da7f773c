// Scaled dot-product attention over several heads as one fused op (Vaswani et al.; the core
// of Keras' MultiHeadAttention and torch's scaled_dot_product_attention):
//
//   for each head h:  out_h = softmax(q_h k_h^T / sqrt(dim) + mask) v_h
//
// q (batch, queries, heads * dim), k (batch, keys, heads * dim) and v (batch, keys,
// heads * value_dim) hold the heads side by side in their last axis, the layout a Dense
// projection produces, so no transposes are needed: each head's products are BLAS calls on a
// column block. The output is (batch, queries, heads * value_dim) in the same layout.
#pragma once

#include <cstddef>

#include "framework/random.h"
#include "framework/variable.h"

namespace xgrad {

struct AttentionOptions {
    std::size_t num_heads = 1;
    // true where a query may attend to a key: shape (queries, keys) or (batch, queries, keys)
    // (Keras' attention_mask). Rank 0, the default, means no mask.
    Mask mask = Mask();
    // Query i attends to keys 0..i only (Keras' use_causal_mask), combined with `mask`.
    bool causal = false;
    // Dropout on the attention probabilities (Keras' dropout, for training): each is zeroed
    // with this probability and the others scaled by 1 / (1 - dropout) after the softmax,
    // drawn from `rng` (nullptr: the process-wide generator). Must be in [0, 1); 0 is none.
    double dropout = 0;
    Rng* rng = nullptr;
};

// A query row that may attend to no key at all gets zeros (and no gradient), not NaN. Shapes
// that do not fit (ranks, batch or time sizes, a last axis not divisible by num_heads, q and
// k of different widths, a mask of another shape) are a ShapeError naming attention and the
// shapes; a dropout outside [0, 1) is a std::invalid_argument. The probabilities are kept for
// backward (batch * heads * queries * keys values, twice that with dropout: its mask too).
template <class T>
VariableOf<T> attention(const VariableOf<T>& q, const VariableOf<T>& k, const VariableOf<T>& v,
                        const AttentionOptions& options = {});

}  // namespace xgrad
