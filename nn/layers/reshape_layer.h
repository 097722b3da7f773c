// Reshape: (None, ...) -> (None, target_shape...), Keras' Reshape layer. The batch dimension
// is kept; the per-example size must stay the same.
//
//   model.add(nn::Reshape({28, 28, 1}, {28, 28}));   // Keras Reshape((28, 28, 1), input_shape=(28,
//   28))
#pragma once

#include "nn/module.h"

namespace xgrad::nn {

class Reshape : public Module {
  public:
    explicit Reshape(Shape target_shape) : target_(std::move(target_shape)) {}
    // Also declares the model's input shape (Keras' input_shape argument).
    Reshape(Shape target_shape, Shape input_shape) : target_(std::move(target_shape)) {
        set_input_shape(std::move(input_shape));
    }

    const Shape& target_shape() const { return target_; }

    Variable forward(const Variable& x) override;
    // A ShapeError when the sizes differ: (None, 28, 28) cannot become (None, 27, 27, 1).
    Shape output_shape(const Shape& input_shape) const override;
    std::string type_name() const override { return "Reshape"; }
    nlohmann::json config() const override;
    static Reshape from_config(const LayerConfig& config);
    std::optional<std::uint64_t> weight_count(const Shape&) const override { return 0; }

  private:
    Shape target_;
};

}  // namespace xgrad::nn
