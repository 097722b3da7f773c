// Conv2D: y = activation(conv2d(x, kernel) + bias), Keras' 2-D convolution layer on
// channels-last inputs (None, height, width, channels).
//
//   model.add(nn::Conv2D(32, {3, 3}, "relu"));                  // Keras Conv2D(32, 3,
//   activation='relu') model.add(nn::Conv2D(64, {3, 3}, {2, 2}, "same", "relu"));  // strides and
//   padding
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "nn/layers/pooling.h"
#include "nn/module.h"
#include "ops/conv.h"

namespace xgrad::nn {

class Conv2D : public Module {
  public:
    // padding "valid" or "same"; `activation` any name of ops/activation.h ("linear" = none).
    // The kernel is (kh, kw, in_channels, filters) as in Keras, glorot_uniform by default with
    // fan_in = kh * kw * in_channels and fan_out = kh * kw * filters; the bias starts at zero.
    Conv2D(std::size_t filters, Size2 kernel_size, Size2 strides = {1, 1},
           std::string padding = "valid", std::string activation = "linear", bool use_bias = true,
           std::string kernel_initializer = "glorot_uniform", Size2 dilation_rate = {1, 1});
    // Conv2D(32, {3, 3}, "relu"): the common case, stride 1 and 'valid' padding.
    Conv2D(std::size_t filters, Size2 kernel_size, const char* activation)
        : Conv2D(filters, kernel_size, {1, 1}, "valid", activation) {}

    std::size_t filters() const { return filters_; }
    Size2 kernel_size() const { return kernel_size_; }
    Size2 strides() const { return strides_; }
    const std::string& padding() const { return padding_; }
    const std::string& activation() const { return activation_; }
    bool use_bias() const { return use_bias_; }
    const std::string& kernel_initializer() const { return kernel_initializer_; }
    Size2 dilation_rate() const { return dilation_; }

    Variable kernel() const { return kernel_; }
    Variable bias() const { return bias_; }

    Variable forward(const Variable& x) override;
    // pool(forward(x)) as one op (conv2d_max_pool), when this layer is built, its activation
    // is relu or linear and the pool's windows do not overlap; std::nullopt otherwise (call
    // the two layers then). Sequential uses it for a Conv2D followed by a MaxPooling2D.
    std::optional<Variable> forward_max_pooled(const Variable& x, const MaxPooling2D& pool);
    // The input must be (height, width, channels) per example.
    void build(const Shape& input_shape) override;
    Shape output_shape(const Shape& input_shape) const override;
    std::string type_name() const override { return "Conv2D"; }

    nlohmann::json config() const override;
    static Conv2D from_config(const LayerConfig& config);
    std::optional<std::uint64_t> weight_count(const Shape& input_shape) const override;

  private:
    void check_rank(const Shape& input_shape) const;

    std::size_t filters_;
    Size2 kernel_size_, strides_;
    std::string padding_, activation_;
    bool use_bias_;
    std::string kernel_initializer_;
    Size2 dilation_;
    Variable kernel_, bias_;
};

}  // namespace xgrad::nn
