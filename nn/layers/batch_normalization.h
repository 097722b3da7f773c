// BatchNormalization: Keras' layer, normalising each channel (the last axis). In training
// mode it uses the batch's statistics and updates the running averages
//   moving = moving * momentum + batch * (1 - momentum);
// in eval mode it uses the running averages. gamma and beta are trainable; moving_mean and
// moving_variance are non-trainable parameters (saved with the model, not optimised).
#pragma once

#include "nn/module.h"

namespace xgrad::nn {

class BatchNormalization : public Module {
  public:
    // Keras' defaults. momentum in [0, 1] and epsilon > 0, else std::invalid_argument.
    explicit BatchNormalization(double momentum = 0.99, double epsilon = 1e-3);

    double momentum() const { return momentum_; }
    double epsilon() const { return epsilon_; }

    Variable gamma() const { return gamma_; }
    Variable beta() const { return beta_; }
    Variable moving_mean() const { return moving_mean_; }
    Variable moving_variance() const { return moving_variance_; }

    Variable forward(const Variable& x) override;
    void build(const Shape& input_shape) override;
    Shape output_shape(const Shape& input_shape) const override { return input_shape; }
    std::string type_name() const override { return "BatchNormalization"; }

    nlohmann::json config() const override;
    static BatchNormalization from_config(const LayerConfig& config);
    // gamma, beta, moving mean and moving variance: 4 per channel.
    std::optional<std::uint64_t> weight_count(const Shape& input_shape) const override;

  private:
    double momentum_, epsilon_;
    Variable gamma_, beta_, moving_mean_, moving_variance_;
};

}  // namespace xgrad::nn
