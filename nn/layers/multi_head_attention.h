// MultiHeadAttention: Keras' layer of that name (Vaswani et al.). Queries, keys and values
// are projected per head, attended (ops/attention.h) and projected back:
//
//   q = query W_q + b_q    W_q (query_features, num_heads, key_dim), b_q (num_heads, key_dim)
//   k = key W_k + b_k      W_k (key_features, num_heads, key_dim)
//   v = value W_v + b_v    W_v (value_features, num_heads, value_dim)
//   out = attention(q, k, v) W_o + b_o    W_o (num_heads, value_dim, output_dim)
//
// with Keras' parameter names (query/kernel, query/bias, key/..., value/...,
// attention_output/kernel and /bias) and count. Inputs are (batch, time, features).
//
//   nn::MultiHeadAttention mha(4, 32);
//   Variable y = mha.attend(x, x, {}, {}, /*use_causal_mask=*/true);  // causal self-attention
//   Variable z = mha.attend(query, value);                             // cross-attention
//
// As a one-input layer (in a Sequential), forward(x) is self-attention: attend(x, x), causal
// when the layer was made with use_causal_mask. Each example's time dimension is fixed at
// build time (Dense and LayerNormalization take any; this layer not yet).
#pragma once

#include <cstddef>
#include <memory>

#include "nn/module.h"
#include "ops/attention.h"

namespace xgrad::nn {

// The layer's weights in Keras' layout (the biases may be empty handles: no bias).
template <class T>
struct AttentionWeights {
    VariableOf<T> query_kernel, query_bias;    // (query_features, heads, key_dim), (heads, key_dim)
    VariableOf<T> key_kernel, key_bias;        // (key_features, heads, key_dim)
    VariableOf<T> value_kernel, value_bias;    // (value_features, heads, value_dim)
    VariableOf<T> output_kernel, output_bias;  // (heads, value_dim, output_dim), (output_dim,)
};

// x (batch, time, features) through a (features, heads, dim) kernel and its (heads, dim) bias
// (may be empty): (batch, time, heads * dim), the layout attention() takes.
template <class T>
VariableOf<T> project_heads(const VariableOf<T>& x, const VariableOf<T>& kernel,
                            const VariableOf<T>& bias);
// attention()'s output (batch, time, heads * dim) through the (heads, dim, output) kernel.
template <class T>
VariableOf<T> project_output(const VariableOf<T>& o, const VariableOf<T>& kernel,
                             const VariableOf<T>& bias);

// The layer's formula in any precision (float64 for gradient checks): projections, attention
// with `options` (num_heads is taken from the kernels) and the output projection.
template <class T>
VariableOf<T> multi_head_attention(const VariableOf<T>& query, const VariableOf<T>& value,
                                   const VariableOf<T>& key, const AttentionWeights<T>& weights,
                                   AttentionOptions options = {});

class MultiHeadAttention : public Module {
  public:
    // value_dim 0 means key_dim; output_dim 0 means the query's number of features (Keras'
    // output_shape=None). dropout is Keras' dropout: in training, on the attention
    // probabilities (ops/attention.h). num_heads or key_dim 0, or a dropout outside [0, 1), is
    // a std::invalid_argument.
    MultiHeadAttention(std::size_t num_heads, std::size_t key_dim, std::size_t value_dim = 0,
                       bool use_bias = true, std::size_t output_dim = 0,
                       bool use_causal_mask = false, double dropout = 0);

    std::size_t num_heads() const { return num_heads_; }
    std::size_t key_dim() const { return key_dim_; }
    std::size_t value_dim() const { return value_dim_; }
    bool use_bias() const { return use_bias_; }
    std::size_t output_dim() const { return output_dim_; }
    bool use_causal_mask() const { return use_causal_mask_; }
    double dropout() const { return dropout_; }

    // Keras' call(query, value, key=value, attention_mask, use_causal_mask): attention_mask
    // (queries, keys) or (batch, queries, keys), true where a query may attend to a key;
    // rank 0 (the default) is no mask. Builds on the first call.
    Variable attend(const Variable& query, const Variable& value, const Variable& key = Variable(),
                    const Mask& attention_mask = Mask(), bool use_causal_mask = false);

    Variable forward(const Variable& x) override;
    // {query, value} or {query, value, key}; one output.
    std::vector<Variable> forward(const std::vector<Variable>& inputs) override;
    void build(const Shape& input_shape) override;  // self-attention
    // {query, value} or {query, value, key} shapes, each (time, features).
    void build(const std::vector<Shape>& input_shapes) override;
    Shape output_shape(const Shape& input_shape) const override;
    std::vector<Shape> output_shapes(const std::vector<Shape>& input_shapes) const override;
    std::string type_name() const override { return "MultiHeadAttention"; }
    nlohmann::json config() const override;
    static MultiHeadAttention from_config(const LayerConfig& config);
    // For self-attention on (time, features).
    std::optional<std::uint64_t> weight_count(const Shape& input_shape) const override;

    // The weights as multi_head_attention() takes them (empty handles before build()), e.g.
    // for incremental decoding with cached keys and values.
    AttentionWeights<float> weights() const;

  private:
    void check_shapes(const std::vector<Shape>& shapes) const;

    std::size_t num_heads_, key_dim_, value_dim_;
    bool use_bias_;
    std::size_t output_dim_;
    bool use_causal_mask_;
    double dropout_;
    // query, key, value, attention_output: each holds one kernel and bias in Keras' layout.
    std::shared_ptr<Module> projections_[4];
};

}  // namespace xgrad::nn
