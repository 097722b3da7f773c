// MaxPooling2D and AveragePooling2D: Keras' 2-D pooling layers on channels-last inputs
// (None, height, width, channels). No parameters.
//
//   model.add(nn::MaxPooling2D());             // 2x2 windows, stride 2: (26, 26, 32) -> (13, 13,
//   32) model.add(nn::AveragePooling2D({3, 3}, {1, 1}, "same"));
#pragma once

#include <string>

#include "nn/module.h"
#include "ops/conv.h"

namespace xgrad::nn {

// The shared part: window size, strides (Keras' strides=None is {0, 0}: the pool size) and
// padding ("valid" or "same").
class Pooling2D : public Module {
  public:
    Pooling2D(Size2 pool_size, Size2 strides, std::string padding);

    Size2 pool_size() const { return pool_size_; }
    Size2 strides() const { return strides_; }
    const std::string& padding() const { return padding_; }

    Shape output_shape(const Shape& input_shape) const override;
    nlohmann::json config() const override;
    std::optional<std::uint64_t> weight_count(const Shape&) const override { return 0; }

  protected:
    void check_rank(const Shape& input_shape) const;
    Size2 pool_size_, strides_;
    std::string padding_;
};

class MaxPooling2D : public Pooling2D {
  public:
    explicit MaxPooling2D(Size2 pool_size = {2, 2}, Size2 strides = {0, 0},
                          std::string padding = "valid")
        : Pooling2D(pool_size, strides, std::move(padding)) {}
    Variable forward(const Variable& x) override;
    std::string type_name() const override { return "MaxPooling2D"; }
    static MaxPooling2D from_config(const LayerConfig& config);
};

class AveragePooling2D : public Pooling2D {
  public:
    explicit AveragePooling2D(Size2 pool_size = {2, 2}, Size2 strides = {0, 0},
                              std::string padding = "valid")
        : Pooling2D(pool_size, strides, std::move(padding)) {}
    Variable forward(const Variable& x) override;
    std::string type_name() const override { return "AveragePooling2D"; }
    static AveragePooling2D from_config(const LayerConfig& config);
};

}  // namespace xgrad::nn
