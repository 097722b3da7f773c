// LayerNormalization: Keras' layer of that name over the last axis, each example (and each
// time step) normalised on its own, then scaled by gamma and shifted by beta (ops/layer_norm.h):
//
//   y = (x - mean) / sqrt(variance + epsilon) * gamma + beta     (features,) parameters
//
// 2 * features parameters (features with only one of center/scale).
#pragma once

#include "nn/module.h"

namespace xgrad::nn {

class LayerNormalization : public Module {
  public:
    // Keras' defaults: epsilon 1e-3, center (beta) and scale (gamma) on. Normalisation is over
    // the last axis only (Keras' axis=-1); epsilon <= 0 is a std::invalid_argument.
    explicit LayerNormalization(double epsilon = 1e-3, bool center = true, bool scale = true);
    double epsilon() const { return epsilon_; }
    bool center() const { return center_; }
    bool scale() const { return scale_; }
    // gamma and beta (features,); empty before build() or when switched off.
    Variable gamma() const { return gamma_; }
    Variable beta() const { return beta_; }
    void build(const Shape& input_shape) override;
    Variable forward(const Variable& x) override;
    using Module::forward;
    Shape output_shape(const Shape& input_shape) const override { return input_shape; }
    std::string type_name() const override { return "LayerNormalization"; }
    // Any shape ending in the features it was built for: (None, 10, 32) after (None, 64, 32).
    bool takes_input_shape(const Shape& example) const override { return same_last_axis(example); }
    nlohmann::json config() const override;
    static LayerNormalization from_config(const LayerConfig& config);
    std::optional<std::uint64_t> weight_count(const Shape& input_shape) const override;

  private:
    double epsilon_;
    bool center_, scale_;
    Variable gamma_, beta_;
    Variable ones_, zeros_;  // stand-ins for a switched-off gamma or beta
};

}  // namespace xgrad::nn
