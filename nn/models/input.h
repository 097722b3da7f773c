// The functional API's symbolic tensors (Keras' KerasTensor): nn::Input(shape, name) makes one;
// calling a layer on symbolic tensors records the call (a node: the layer and its inputs) and
// returns the layer's symbolic outputs; nn::Model(inputs, outputs) then runs the recorded graph.
//
//   auto x = nn::Input({28, 28}, "image");
//   auto h = nn::Dense(100, "relu")(nn::Flatten()(x));   // a temporary layer: the graph keeps it
//   auto shared = std::make_shared<nn::Dense>(8);        // a layer called twice shares weights
//   auto a = (*shared)(h), b = (*shared)(h2);
//
// A call checks the shapes and builds the layer (as Keras does): a layer called on a tensor of
// the wrong shape is a ShapeError there and then.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "nn/module.h"

namespace xgrad::nn {

struct SymbolicNode;

// One output of one recorded call, with its per-example shape. A cheap handle.
class SymbolicTensor {
  public:
    SymbolicTensor(std::shared_ptr<const SymbolicNode> node, std::size_t index);

    // Per example (no batch dimension).
    const Shape& shape() const;
    const std::shared_ptr<const SymbolicNode>& node() const { return node_; }
    std::size_t index() const { return index_; }
    // The layer that produced it (an InputLayer for an Input).
    const std::shared_ptr<Module>& layer() const;

  private:
    std::shared_ptr<const SymbolicNode> node_;
    std::size_t index_;
};

// The outputs of a call in the list form. One output converts to a SymbolicTensor, so that a
// merge reads as in Keras: auto sum = nn::Add()({a, b}); nn::Dense(4)(sum).
class SymbolicTensors : public std::vector<SymbolicTensor> {
  public:
    SymbolicTensors(std::vector<SymbolicTensor> tensors)
        : std::vector<SymbolicTensor>(std::move(tensors)) {}
    // The only output; several are a std::invalid_argument naming the count.
    operator SymbolicTensor() const;
};

// A recorded call: `layer` applied to `inputs` (none for an Input) gave `output_shapes`.
struct SymbolicNode {
    std::shared_ptr<Module> layer;
    std::vector<SymbolicTensor> inputs;
    std::vector<Shape> output_shapes;
    bool list_call = false;  // called with the list form (the layer gets a list at run time)
};

// The layer behind an Input: passes its input on. Its summary row and model-file record say
// where a model's inputs are.
class InputLayer : public Module {
  public:
    InputLayer() = default;
    explicit InputLayer(Shape shape) { set_input_shape(std::move(shape)); }
    std::string type_name() const override { return "InputLayer"; }
    Variable forward(const Variable& x) override { return x; }
    using Module::forward;
    Shape output_shape(const Shape& input_shape) const override { return input_shape; }
    std::optional<std::uint64_t> weight_count(const Shape&) const override { return 0; }
};

// A symbolic model input of per-example `shape`. Without a name, the model names it input_1,
// input_2, ... in its input order.
SymbolicTensor Input(Shape shape, std::string name = "");

// Records `layer` called on `inputs` (Module::operator() on symbolic tensors lands here).
SymbolicTensors call_symbolic(const std::shared_ptr<Module>& layer,
                              const std::vector<SymbolicTensor>& inputs, bool list_call);

}  // namespace xgrad::nn
