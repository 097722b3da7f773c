// Dropout: zeroes a fraction `rate` of the inputs in training mode (scaling the rest by
// 1 / (1 - rate)); the identity in eval mode. Keras' Dropout layer.
#pragma once

#include "nn/module.h"

namespace xgrad::nn {

class Dropout : public Module {
  public:
    // rate in [0, 1); anything else is a std::invalid_argument.
    explicit Dropout(double rate);

    double rate() const { return rate_; }

    Variable forward(const Variable& x) override;
    Shape output_shape(const Shape& input_shape) const override { return input_shape; }
    std::string type_name() const override { return "Dropout"; }
    nlohmann::json config() const override;
    static Dropout from_config(const LayerConfig& config);
    std::optional<std::uint64_t> weight_count(const Shape&) const override { return 0; }

  protected:
    bool fixed_input_shape() const override { return false; }

  private:
    double rate_;
};

}  // namespace xgrad::nn
