// Model: Keras' functional model. It runs the graph recorded by calling layers on symbolic
// tensors (nn/models/input.h), from its inputs to its outputs, any number of each.
//
//   auto image = nn::Input({28, 28}, "image");
//   auto h = nn::Dense(64, "relu")(nn::Flatten()(image));
//   auto cls = nn::Dense(10, "softmax");  cls.set_name("class");
//   auto kind = nn::Dense(4, "softmax");  kind.set_name("kind");
//   nn::Model model({image}, {std::move(cls)(h), std::move(kind)(h)}, "two_heads");
//   std::vector<Variable> y = model({x});                  // one output per model output
//
// A layer called several times is one layer (its weights listed and counted once, its
// gradients summed over the calls). A Model is a layer too: call it on symbolic tensors inside
// another Model, or add it to a Sequential. The constructor rejects bad graphs: an output that
// depends on a tensor from outside the inputs, an input that feeds no output, two layers of one
// name.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

#include "nn/models/input.h"
#include "nn/module.h"

namespace xgrad::nn {

class Model : public Module {
  public:
    Model(const std::vector<SymbolicTensor>& inputs, const std::vector<SymbolicTensor>& outputs,
          std::string name = "model");

    // One input and one output: the plain form, like a Sequential's.
    Variable forward(const Variable& x) override;
    std::vector<Variable> forward(const std::vector<Variable>& inputs) override;

    // The model is built by its constructor; these check that the shapes are its inputs'.
    void build(const Shape& input_shape) override;
    void build(const std::vector<Shape>& input_shapes) override;
    using Module::build;
    Shape output_shape(const Shape& input_shape) const override;
    std::vector<Shape> output_shapes(const std::vector<Shape>& input_shapes) const override;
    std::string type_name() const override { return "Functional"; }

    const std::vector<SymbolicTensor>& inputs() const { return inputs_; }
    const std::vector<SymbolicTensor>& outputs() const { return outputs_; }
    // The names of the layers that make the inputs / the outputs (Keras' input_names and
    // output_names: the Trainer's keys for per-output losses and metrics).
    std::vector<std::string> input_names() const;
    std::vector<std::string> output_names() const;

    // Keras 2's summary table: the Sequential layout for a chain of layers (with the
    // InputLayer row), else 98 columns with "Connected to" ("dense[0][0]": the layer, its call
    // and the output index).
    std::string summary() const;
    void summary(std::ostream& out) const;

    // The layer records and the wiring (Keras' "inbound_nodes", "input_layers",
    // "output_layers"); from_config rebuilds the graph (building the layers).
    nlohmann::json config() const override;
    static Model from_config(const LayerConfig& config);
    std::optional<std::uint64_t> weight_count(const Shape&) const override;

  private:
    // One recorded call in run order: the layer, where its inputs are in the value list, where
    // its outputs go.
    struct Step {
        Module* layer;
        std::vector<std::size_t> inputs;
        std::size_t first_output;
        std::size_t outputs;
        bool list_call;
    };

    // The node's call number among the calls of its layer in this model (Keras' node index).
    std::size_t call_index(const SymbolicNode* node) const;

    std::vector<SymbolicTensor> inputs_, outputs_;
    std::vector<std::shared_ptr<const SymbolicNode>> nodes_;  // run order, inputs first
    std::vector<Step> steps_;
    std::vector<std::size_t> input_slots_, output_slots_;
    std::size_t value_count_ = 0;
};

}  // namespace xgrad::nn
