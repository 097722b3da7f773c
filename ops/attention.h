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

#include "framework/variable.h"

namespace xgrad {

struct AttentionOptions {
    std::size_t num_heads = 1;
    // true where a query may attend to a key: shape (queries, keys) or (batch, queries, keys)
    // (Keras' attention_mask). Rank 0, the default, means no mask.
    Mask mask = Mask();
    // Query i attends to keys 0..i only (Keras' use_causal_mask), combined with `mask`.
    bool causal = false;
};

// A query row that may attend to no key at all gets zeros (and no gradient), not NaN. Shapes
// that do not fit (ranks, batch or time sizes, a last axis not divisible by num_heads, q and
// k of different widths, a mask of another shape) are a ShapeError naming attention and the
// shapes. The probabilities are kept for backward (batch * heads * queries * keys values).
template <class T>
VariableOf<T> attention(const VariableOf<T>& q, const VariableOf<T>& k, const VariableOf<T>& v,
                        const AttentionOptions& options = {});

}  // namespace xgrad
