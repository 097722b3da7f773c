// Activation: applies one activation function by name, Keras' Activation layer.
#pragma once

#include <string>

#include "nn/module.h"

namespace xgrad::nn {

class Activation : public Module {
  public:
    // Any name of ops/activation.h; an unknown one is a std::invalid_argument listing them.
    explicit Activation(std::string name);

    const std::string& activation() const { return activation_; }

    Variable forward(const Variable& x) override;
    Shape output_shape(const Shape& input_shape) const override { return input_shape; }
    std::string type_name() const override { return "Activation"; }
    nlohmann::json config() const override;
    static Activation from_config(const LayerConfig& config);
    std::optional<std::uint64_t> weight_count(const Shape&) const override { return 0; }

  protected:
    bool fixed_input_shape() const override { return false; }

  private:
    std::string activation_;
};

}  // namespace xgrad::nn
