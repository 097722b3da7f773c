// Dense: y = activation(x W + b), Keras' fully connected layer. On inputs of rank > 2 it
// applies to the last axis, as Keras does: (None, 10, 32) -> (None, 10, units).
#pragma once

#include <cstddef>
#include <string>

#include "nn/module.h"

namespace xgrad::nn {

class Dense : public Module {
  public:
    // `activation` is any name of ops/activation.h ("linear", the default, means none; ""
    // and "none" mean the same). Unknown activation or initialiser names are a
    // std::invalid_argument listing the valid ones. The bias starts at zero.
    explicit Dense(std::size_t units, std::string activation = "linear", bool use_bias = true,
                   std::string kernel_initializer = "glorot_uniform");

    std::size_t units() const { return units_; }
    const std::string& activation() const { return activation_; }
    bool use_bias() const { return use_bias_; }
    const std::string& kernel_initializer() const { return kernel_initializer_; }

    // kernel (in, units) and bias (units,); empty handles before build() (bias: or without
    // use_bias).
    Variable kernel() const { return kernel_; }
    Variable bias() const { return bias_; }

    // x W + b without the activation.
    Variable forward_linear(const Variable& x);
    Variable forward(const Variable& x) override;
    using Module::forward;

    // The kernel is (last axis of the input, units).
    void build(const Shape& input_shape) override;
    Shape output_shape(const Shape& input_shape) const override;
    std::string type_name() const override { return "Dense"; }
    // Any shape ending in the features it was built for: (None, 10, 32) after (None, 64, 32).
    bool takes_input_shape(const Shape& example) const override { return same_last_axis(example); }

    nlohmann::json config() const override;
    static Dense from_config(const LayerConfig& config);
    std::optional<std::uint64_t> weight_count(const Shape& input_shape) const override;

  private:
    void check_rank(const Shape& input_shape) const;

    std::size_t units_;
    std::string activation_;
    bool use_bias_;
    std::string kernel_initializer_;
    Variable kernel_, bias_;
};

}  // namespace xgrad::nn
