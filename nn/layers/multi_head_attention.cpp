#include "nn/layers/multi_head_attention.h"

#include <limits>
#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <xtensor/xbuilder.hpp>

#include "framework/errors.h"
#include "nn/io/layer_registry.h"
#include "nn/layers/initializers.h"
#include "ops/attention.h"
#include "ops/linalg.h"
#include "ops/shape.h"

namespace xgrad::nn {

namespace {

// One of the four projections, as Keras' EinsumDense sublayer: a kernel of any rank and an
// optional bias, initialised as Keras does (glorot_uniform with fans from the kernel's shape,
// zeros). Its parameters are used by MultiHeadAttention directly; it is never called.
class EinsumDense : public Module {
  public:
    EinsumDense(std::string name, Shape kernel_shape, Shape bias_shape, bool use_bias)
        : kernel_shape_(std::move(kernel_shape)),
          bias_shape_(std::move(bias_shape)),
          use_bias_(use_bias) {
        set_name(std::move(name));
    }
    std::string type_name() const override { return "EinsumDense"; }
    void build(const Shape& input_shape) override {
        if (!needs_build(input_shape)) return;
        // Keras' compute_fans: the dimensions before the last two form the receptive field.
        const std::size_t r = kernel_shape_.size();
        std::size_t field = 1;
        for (std::size_t d = 0; d + 2 < r; ++d) field *= kernel_shape_[d];
        const std::size_t fan_in = kernel_shape_[r - 2] * field;
        const std::size_t fan_out = kernel_shape_[r - 1] * field;
        register_parameter("kernel", initialize("glorot_uniform", kernel_shape_, fan_in, fan_out));
        if (use_bias_) register_parameter("bias", xt::zeros<float>(bias_shape_));
        Module::build(input_shape);
    }

  private:
    Shape kernel_shape_, bias_shape_;
    bool use_bias_;
};

long as_long(std::size_t v) {
    return static_cast<long>(v);
}

}  // namespace

// The (features, heads, dim) kernel as the (features, heads * dim) matrix of one product.
template <class T>
VariableOf<T> project_heads(const VariableOf<T>& x, const VariableOf<T>& kernel,
                            const VariableOf<T>& bias) {
    return linear(x, reshape(kernel, {as_long(kernel.shape()[0]), -1}),
                  bias.defined() ? reshape(bias, {-1}) : bias);
}

// The (heads, dim, output) kernel as the (heads * dim, output) matrix.
template <class T>
VariableOf<T> project_output(const VariableOf<T>& o, const VariableOf<T>& kernel,
                             const VariableOf<T>& bias) {
    return linear(o, reshape(kernel, {-1, as_long(kernel.shape().back())}), bias);
}

template <class T>
VariableOf<T> multi_head_attention(const VariableOf<T>& query, const VariableOf<T>& value,
                                   const VariableOf<T>& key, const AttentionWeights<T>& w,
                                   AttentionOptions options) {
    const Shape qk = w.query_kernel.shape(), ok = w.output_kernel.shape();
    if (qk.size() != 3 || ok.size() != 3) {
        throw ShapeError("multi_head_attention",
                         "expected kernels of shape (features, heads, dim) and an output kernel "
                         "(heads, dim, output), got " +
                             format_shape(qk) + " and " + format_shape(ok));
    }
    options.num_heads = qk[1];
    const VariableOf<T> q = project_heads(query, w.query_kernel, w.query_bias);
    const VariableOf<T> k = project_heads(key, w.key_kernel, w.key_bias);
    const VariableOf<T> v = project_heads(value, w.value_kernel, w.value_bias);
    return project_output(attention(q, k, v, options), w.output_kernel, w.output_bias);
}

#define XGRAD_INSTANTIATE_MHA(T)                                                                  \
    template VariableOf<T> multi_head_attention(const VariableOf<T>&, const VariableOf<T>&,       \
                                                const VariableOf<T>&, const AttentionWeights<T>&, \
                                                AttentionOptions);                                \
    template VariableOf<T> project_heads(const VariableOf<T>&, const VariableOf<T>&,              \
                                         const VariableOf<T>&);                                   \
    template VariableOf<T> project_output(const VariableOf<T>&, const VariableOf<T>&,             \
                                          const VariableOf<T>&);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_MHA)

MultiHeadAttention::MultiHeadAttention(std::size_t num_heads, std::size_t key_dim,
                                       std::size_t value_dim, bool use_bias, std::size_t output_dim,
                                       bool use_causal_mask, double dropout)
    : num_heads_(num_heads),
      key_dim_(key_dim),
      value_dim_(value_dim == 0 ? key_dim : value_dim),
      use_bias_(use_bias),
      output_dim_(output_dim),
      use_causal_mask_(use_causal_mask),
      dropout_(dropout) {
    if (num_heads == 0 || key_dim == 0) {
        throw std::invalid_argument(
            "MultiHeadAttention: num_heads and key_dim must be positive, "
            "got " +
            std::to_string(num_heads) + " and " + std::to_string(key_dim));
    }
    if (!(dropout >= 0 && dropout < 1)) {
        throw std::invalid_argument(
            fmt::format("MultiHeadAttention: dropout must be in [0, 1), got {}", dropout));
    }
}

void MultiHeadAttention::check_shapes(const std::vector<Shape>& shapes) const {
    std::string all;
    for (const auto& s : shapes) all += (all.empty() ? "" : ", ") + format_batch_shape(s);
    if (shapes.size() < 2 || shapes.size() > 3) {
        throw ShapeError(name(), "expected inputs (query, value) or (query, value, key), got " +
                                     std::to_string(shapes.size()) + " inputs " + all);
    }
    bool ok = true;
    for (const auto& s : shapes) ok = ok && s.size() == 2 && s[1] > 0;
    const Shape& key = shapes.size() == 3 ? shapes[2] : shapes[1];
    if (!ok || key[0] != shapes[1][0]) {
        throw ShapeError(name(),
                         "expected query, value (and key) of shape (None, time, "
                         "features), key and value of the same time, got " +
                             all);
    }
}

void MultiHeadAttention::build(const Shape& input_shape) {
    if (built()) return Module::build(input_shape);  // checks the shape
    build(std::vector<Shape>{input_shape, input_shape});
}

void MultiHeadAttention::build(const std::vector<Shape>& input_shapes) {
    if (built()) {
        if (input_shapes.size() == 2 && input_shapes[0] == input_shapes[1]) {
            return Module::build(input_shapes[0]);
        }
        return Module::build(input_shapes);  // checks the shapes
    }
    check_shapes(input_shapes);
    const std::size_t dq = input_shapes[0][1], dv = input_shapes[1][1];
    const std::size_t dk = input_shapes.size() == 3 ? input_shapes[2][1] : dv;
    const std::size_t dout = output_dim_ == 0 ? dq : output_dim_;
    const std::size_t h = num_heads_;
    projections_[0] = std::make_shared<EinsumDense>("query", Shape{dq, h, key_dim_},
                                                    Shape{h, key_dim_}, use_bias_);
    projections_[1] =
        std::make_shared<EinsumDense>("key", Shape{dk, h, key_dim_}, Shape{h, key_dim_}, use_bias_);
    projections_[2] = std::make_shared<EinsumDense>("value", Shape{dv, h, value_dim_},
                                                    Shape{h, value_dim_}, use_bias_);
    projections_[3] = std::make_shared<EinsumDense>("attention_output", Shape{h, value_dim_, dout},
                                                    Shape{dout}, use_bias_);
    for (auto& p : projections_) {
        register_module(p);
        p->build(Shape{});
    }
    // A self-attention layer (one input) records one input shape, so that it is called with one.
    if (input_shapes.size() == 2 && input_shapes[0] == input_shapes[1]) {
        Module::build(input_shapes[0]);
    } else {
        Module::build(input_shapes);
    }
}

AttentionWeights<float> MultiHeadAttention::weights() const {
    AttentionWeights<float> w;
    if (!built()) return w;
    Variable* slots[4][2] = {{&w.query_kernel, &w.query_bias},
                             {&w.key_kernel, &w.key_bias},
                             {&w.value_kernel, &w.value_bias},
                             {&w.output_kernel, &w.output_bias}};
    for (std::size_t i = 0; i < 4; ++i) {
        const auto params = projections_[i]->parameters();
        *slots[i][0] = params[0];
        if (use_bias_) *slots[i][1] = params[1];
    }
    return w;
}

Variable MultiHeadAttention::attend(const Variable& query, const Variable& value,
                                    const Variable& key, const Mask& attention_mask,
                                    bool use_causal_mask) {
    const Variable& k_in = key.defined() ? key : value;
    std::vector<Shape> shapes;
    for (const Variable* v : {&query, &value, &k_in}) {
        const Shape s = v->shape();
        if (s.size() != 3) {
            throw ShapeError(name(),
                             "expected query, value and key of shape (batch, time, "
                             "features), got " +
                                 format_shape(query.shape()) + ", " + format_shape(value.shape()) +
                                 " and " + format_shape(k_in.shape()));
        }
        shapes.push_back(Shape(s.begin() + 1, s.end()));
    }
    if (!key.defined()) shapes.pop_back();
    if (!built()) build(shapes);
    return multi_head_attention(query, value, k_in, weights(),
                                {.mask = attention_mask,
                                 .causal = use_causal_mask,
                                 .dropout = is_training() ? dropout_ : 0});
}

Variable MultiHeadAttention::forward(const Variable& x) {
    return attend(x, x, Variable(), Mask(), use_causal_mask_);
}

std::vector<Variable> MultiHeadAttention::forward(const std::vector<Variable>& inputs) {
    if (inputs.size() == 1) return {forward(inputs[0])};
    std::vector<Shape> shapes;
    for (const auto& in : inputs) shapes.push_back(in.shape());
    if (inputs.size() > 3) check_shapes(shapes);  // throws: too many inputs
    return {attend(inputs[0], inputs[1], inputs.size() == 3 ? inputs[2] : Variable(), Mask(),
                   use_causal_mask_)};
}

nlohmann::json MultiHeadAttention::config() const {
    return {{"num_heads", num_heads_},   {"key_dim", key_dim_},
            {"value_dim", value_dim_},   {"use_bias", use_bias_},
            {"output_dim", output_dim_}, {"use_causal_mask", use_causal_mask_},
            {"dropout", dropout_}};
}

MultiHeadAttention MultiHeadAttention::from_config(const LayerConfig& c) {
    return MultiHeadAttention(c.count("num_heads"), c.count("key_dim"), c.count("value_dim"),
                              c.boolean("use_bias"), c.count("output_dim"),
                              c.boolean("use_causal_mask"),
                              c.has("dropout") ? c.number("dropout") : 0.0);  // older files: none
}

std::optional<std::uint64_t> MultiHeadAttention::weight_count(const Shape& input_shape) const {
    if (input_shape.size() != 2) return std::nullopt;
    const std::uint64_t d = input_shape[1], h = num_heads_,
                        out = output_dim_ == 0 ? d : output_dim_;
    const std::uint64_t b = use_bias_ ? 1 : 0;
    const std::uint64_t q = saturating_product({d + b, h, key_dim_});
    const std::uint64_t v = saturating_product({d + b, h, value_dim_});
    const std::uint64_t o = saturating_product({h * value_dim_ + b, out});
    const std::uint64_t most = std::numeric_limits<std::uint64_t>::max() / 4;
    if (q > most || v > most || o > most) return std::numeric_limits<std::uint64_t>::max();
    return 2 * q + v + o;
}

Shape MultiHeadAttention::output_shape(const Shape& input_shape) const {
    return output_shapes({input_shape, input_shape})[0];
}

std::vector<Shape> MultiHeadAttention::output_shapes(const std::vector<Shape>& input_shapes) const {
    check_shapes(input_shapes);
    return {Shape{input_shapes[0][0], output_dim_ == 0 ? input_shapes[0][1] : output_dim_}};
}

}  // namespace xgrad::nn
