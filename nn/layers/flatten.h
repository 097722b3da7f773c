// Flatten: (batch, d1, d2, ...) -> (batch, d1 * d2 * ...), Keras' Flatten layer.
#pragma once

#include "nn/module.h"

namespace xgrad::nn {

class Flatten : public Module {
  public:
    Flatten() = default;
    // Keras' Flatten(input_shape=(28, 28)): declares the model's input shape.
    explicit Flatten(Shape input_shape) { set_input_shape(std::move(input_shape)); }

    Variable forward(const Variable& x) override;
    Shape output_shape(const Shape& input_shape) const override;
    std::string type_name() const override { return "Flatten"; }
    std::optional<std::uint64_t> weight_count(const Shape&) const override { return 0; }
};

}  // namespace xgrad::nn
