// GlobalAveragePooling1D: (None, steps, features) -> (None, features), the mean over the steps.
// GlobalAveragePooling2D: (None, height, width, channels) -> (None, channels), the mean over
// height and width, Keras' layer of that name.
#pragma once

#include "nn/module.h"

namespace xgrad::nn {

class GlobalAveragePooling1D : public Module {
  public:
    GlobalAveragePooling1D() = default;
    Variable forward(const Variable& x) override;
    Shape output_shape(const Shape& input_shape) const override;
    std::string type_name() const override { return "GlobalAveragePooling1D"; }
    std::optional<std::uint64_t> weight_count(const Shape&) const override { return 0; }
};

class GlobalAveragePooling2D : public Module {
  public:
    GlobalAveragePooling2D() = default;

    Variable forward(const Variable& x) override;
    Shape output_shape(const Shape& input_shape) const override;
    std::string type_name() const override { return "GlobalAveragePooling2D"; }
    std::optional<std::uint64_t> weight_count(const Shape&) const override { return 0; }
};

}  // namespace xgrad::nn
