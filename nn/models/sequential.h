// Sequential: a stack of layers, each fed the previous one's output, built the Keras way.
//
//   nn::Sequential model;
//   model.add(nn::Flatten({28, 28}));          // declares the input shape: builds the model
//   model.add(nn::Dense(100, "relu"));         // infers its input size (784)
//   model.add(nn::Dense(10, "softmax"));
//   std::cout << model.summary();              // 79,510 params
#pragma once

#include <concepts>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nn/module.h"

namespace xgrad::nn {

class Sequential : public Module {
  public:
    explicit Sequential(std::string name = "sequential");

    // Any Module subclass by value (Keras style): model.add(Dense(10)). The model holds its
    // own copy; to keep using the layer afterwards, add a shared_ptr instead. A layer that
    // cannot take the previous layer's output is not added (the error says why).
    template <std::derived_from<Module> M>
    Sequential& add(M layer) {
        return add(std::shared_ptr<Module>(std::make_shared<M>(std::move(layer))));
    }
    // A layer shared with the caller, who can keep using the handle.
    Sequential& add(std::shared_ptr<Module> layer);

    const std::vector<std::shared_ptr<Module>>& layers() const { return children(); }

    // Builds every layer in turn from `input_shape` (per example, no batch dimension). A
    // model whose first layer declares its input shape is built as soon as that layer is
    // added; later layers are then built when added.
    void build(const Shape& input_shape) override;
    // Declared by the first layer, or given to build().
    std::optional<Shape> input_shape() const;
    // Each layer's output shape (per example); the model must be built.
    const std::vector<Shape>& layer_output_shapes() const { return output_shapes_; }

    Variable forward(const Variable& x) override;
    Shape output_shape(const Shape& input_shape) const override;
    std::string type_name() const override { return "Sequential"; }

    // {"layers": [each layer's record], "build_input_shape": [...] once built}.
    nlohmann::json config() const override;
    // The layers rebuilt from their records, not built yet: the caller builds (load_model
    // counts the weights first).
    static Sequential from_config(const LayerConfig& config);
    // The layers' weights in turn, as far as each layer knows its count.
    std::optional<std::uint64_t> weight_count(const Shape& input_shape) const override;

    // The Keras summary table (see nn/models/summary.h); the model must be built.
    std::string summary() const;
    void summary(std::ostream& out) const;

  private:
    std::vector<Shape> output_shapes_;
};

}  // namespace xgrad::nn
