// Module: the base of every layer and model. A module owns named parameters and child
// modules; everything that lists parameters (summary, state dict, optimizers) reads the
// one list built by register_parameter() and register_module().
//
// A layer with parameters creates them in build():
//
//   class Scale : public nn::Module {
//     public:
//       std::string type_name() const override { return "Scale"; }
//       void build(const Shape& in) override {
//           if (!needs_build(in)) return;  // already built for `in` (another shape throws)
//           w_ = register_parameter("w", xt::ones<float>(in));
//           Module::build(in);
//       }
//       Variable forward(const Variable& x) override { return x * w_; }
//     private:
//       Variable w_;
//   };
//
// A model is a Module whose children are called in forward(); build() (or the first call)
// builds all of them by tracing one forward pass, so every parameter exists before an
// optimizer takes the list:
//
//   class Autoencoder : public nn::Module {
//     public:
//       Autoencoder() { register_module(encoder_); register_module(decoder_); }
//       std::string type_name() const override { return "Autoencoder"; }
//       Variable forward(const Variable& x) override { return (*decoder_)((*encoder_)(x)); }
//     private:
//       std::shared_ptr<nn::Dense> encoder_ = std::make_shared<nn::Dense>(64, "relu");
//       std::shared_ptr<nn::Dense> decoder_ = std::make_shared<nn::Dense>(784, "sigmoid");
//   };
//   Autoencoder model;
//   model.build({784});
//
// Models with several inputs or outputs override the list form of forward() instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "framework/tensor.h"
#include "framework/variable.h"

namespace xgrad::nn {

class LayerConfig;     // nn/io/layer_registry.h: what from_config() reads
class SymbolicTensor;  // nn/models/input.h: the functional API's tensors
class SymbolicTensors;

// enable_shared_from_this: a layer called on symbolic tensors puts its own handle in the graph.
class Module : public std::enable_shared_from_this<Module> {
  public:
    Module() = default;
    virtual ~Module();
    // Copies share parameters and children (they are handles), like copying a Variable.
    Module(const Module&) = default;
    Module& operator=(const Module&) = default;
    Module(Module&&) = default;
    Module& operator=(Module&&) = default;

    // Every input has a leading batch dimension. Override one of the two forms: the one-input
    // form for a layer, the list form (as flashlight's forward(std::vector<Variable>)) for a
    // module with several inputs or outputs. The default of each calls the other: the list
    // form passes its one input to forward(x); forward(x) calls the list form with {x} and
    // expects one output. A module that overrides neither is a std::logic_error when called.
    virtual Variable forward(const Variable& x);
    virtual std::vector<Variable> forward(const std::vector<Variable>& inputs);
    // Builds from the inputs' shapes on the first call (later calls check them), then forward().
    Variable operator()(const Variable& x);
    std::vector<Variable> operator()(const std::vector<Variable>& inputs);
    // The functional API (nn/models/input.h): records the call in the graph and returns the
    // symbolic outputs. A layer the graph refers to must be held by a std::shared_ptr (to
    // share it) or be a temporary of a registered type: nn::Dense(10)(x).
    SymbolicTensor operator()(const SymbolicTensor& x) &;
    SymbolicTensor operator()(const SymbolicTensor& x) &&;
    SymbolicTensors operator()(const std::vector<SymbolicTensor>& inputs) &;
    SymbolicTensors operator()(const std::vector<SymbolicTensor>& inputs) &&;

    // "Dense", "Flatten", ...: the type column of the summary and the architecture record.
    virtual std::string type_name() const = 0;

    // The name; until set (by the user or by the parent), the snake_case type name.
    const std::string& name() const;
    void set_name(std::string name);
    // Whether the user chose the name (a parent then keeps it instead of numbering it).
    bool has_user_name() const { return user_named_; }

    // Shapes here are per example: WITHOUT the batch dimension. build() creates the
    // parameters for that input shape and is idempotent; overrides create their parameters
    // when needs_build(input_shape) and then call Module::build(input_shape).
    // Module::build records the shape and, when some child is still unbuilt (a model whose
    // children build on their first call), traces one forward pass on a zero example, in
    // eval mode and without a graph, so that the whole tree is built.
    virtual void build(const Shape& input_shape);
    // Several inputs: one shape each. A single shape goes to build(const Shape&); several are
    // recorded and traced through the list form of forward().
    virtual void build(const std::vector<Shape>& input_shapes);
    // model.build({28, 28}): a braced shape is one input's shape.
    void build(std::initializer_list<std::size_t> input_shape) { build(Shape(input_shape)); }
    bool built() const { return built_; }
    // The shape build() was called with (one input).
    const std::optional<Shape>& built_input_shape() const { return built_shape_; }
    // The shapes build() was called with, one per input (empty before build()).
    const std::vector<Shape>& built_input_shapes() const { return built_shapes_; }
    // Keras' input_shape argument: the input shape the layer declares before being built.
    void set_input_shape(Shape input_shape);
    const std::optional<Shape>& declared_input_shape() const { return declared_shape_; }
    // By default, the shape of a forward pass on a batch of one zero example (the module
    // must be built); built-in layers override it with arithmetic. The probe runs in eval
    // mode and without a graph, so it changes nothing (BatchNormalization's moving statistics
    // stay, Dropout draws no random number), and restores every module's mode, also when
    // forward() throws.
    virtual Shape output_shape(const Shape& input_shape) const;
    // Several inputs or outputs: the same probe through the list form of forward().
    virtual std::vector<Shape> output_shapes(const std::vector<Shape>& input_shapes) const;

    const std::vector<std::shared_ptr<Module>>& children() const { return children_; }

    // Self-description for model files (see nn/io/layer_registry.h for how a layer registers).
    // config(): the constructor arguments as JSON, as Keras' get_config(); the default, {},
    // suits a layer without arguments. "name" and "input_shape" are not part of it.
    virtual nlohmann::json config() const;
    // How many weights build(input_shape) creates, computed without creating them (load_model
    // refuses a corrupt file whose layers would need far more weights than it holds). The
    // default, std::nullopt, means unknown.
    virtual std::optional<std::uint64_t> weight_count(const Shape& input_shape) const;

    // Recursive: own parameters by their name, a child's as "<child name>/<name>".
    std::vector<std::pair<std::string, Variable>> named_parameters() const;
    std::vector<Variable> parameters() const;  // trainable and non-trainable
    std::vector<Variable> trainable_parameters() const;
    std::size_t count_params() const;
    std::size_t count_trainable_params() const;

    // Training mode (dropout active) is the default; both switch the whole tree.
    void train(bool on = true);
    void eval() { train(false); }
    bool is_training() const { return training_; }

    void zero_grad();

    // Copies of the parameter values by name (see named_parameters()).
    std::map<std::string, Tensor> state_dict() const;
    // Copies the values into the existing parameters (their handles stay valid). Missing,
    // unexpected or wrongly shaped entries are a std::invalid_argument naming all of them;
    // nothing is changed then.
    void load_state_dict(const std::map<std::string, Tensor>& state);
    // The reason `state` does not fit this module ("missing dense/kernel; ..."), or "" if it
    // fits. `source` names where the state comes from, for the message ("the file").
    std::string state_mismatch(const std::map<std::string, Tensor>& state,
                               const std::string& source) const;

  protected:
    // A new parameter holding `init`; non-trainable parameters do not require a gradient.
    Variable register_parameter(const std::string& name, Tensor init, bool trainable = true);
    // Adds a child. A child without a user name is named like Keras does: the snake_case
    // type name, numbered (dense, dense_1, ...) to be unique among its siblings. A duplicate
    // user name, or the same child twice, is a std::invalid_argument.
    void register_module(std::shared_ptr<Module> child);
    // For build() overrides: checks `input_shape` against the declared shape and, when
    // built, against the built one (ShapeError naming this module), then tells whether the
    // parameters still have to be created.
    bool needs_build(const Shape& input_shape) const;
    // Undoes the last register_module() (when adding it failed half-way).
    void unregister_last_module();

    // Throws ShapeError "<name>: expected input shape (None, 784), got (32, 100)" when the
    // module is built for another input shape. `full_shape` includes the batch dimension.
    void check_input_shape(const Shape& full_shape) const;
    // Layers that work on any input shape (Activation, Dropout) return false: they are
    // built once but accept every shape afterwards.
    virtual bool fixed_input_shape() const { return true; }
    // Whether the built module takes examples of shape `example` (without the batch axis):
    // the shape it was built for, any shape when fixed_input_shape() is false. Layers whose
    // weights see only the last axis (Dense, LayerNormalization) take any shape ending in it,
    // as Keras' do (a window of another length, the None time axis of Keras' shapes).
    virtual bool takes_input_shape(const Shape& example) const;
    // For those layers: the example has at least one axis and ends in the built one.
    bool same_last_axis(const Shape& example) const;

  private:
    struct Param {
        std::string name;
        Variable variable;
        bool trainable;
    };

    void collect(const std::string& prefix, bool trainable_only,
                 std::vector<std::pair<std::string, Variable>>& out) const;
    // The outputs of forward() on one zero example per input shape, in eval mode and
    // without a graph; every module's mode is restored afterwards.
    std::vector<Variable> trace(const std::vector<Shape>& input_shapes) const;
    // Builds from x's shape on the first call, checks it on later ones.
    void prepare_call(const Variable& x);

    mutable std::string name_;  // filled lazily from type_name(), which is virtual
    bool user_named_ = false;
    bool built_ = false;
    bool training_ = true;
    bool in_default_forward_ = false;  // forward(x) -> forward({x}) -> forward(x) guard
    std::optional<Shape> built_shape_;
    std::vector<Shape> built_shapes_;
    std::optional<Shape> declared_shape_;
    std::vector<Param> params_;
    std::vector<std::shared_ptr<Module>> children_;
};

// "Dense" -> "dense", "MyBlock" -> "my_block": Keras' default layer names.
std::string snake_case(const std::string& type_name);

// A per-example shape with the free batch dimension in front: (784,) -> "(None, 784)".
std::string format_batch_shape(const Shape& shape);

}  // namespace xgrad::nn
