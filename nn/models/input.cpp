#include "nn/models/input.h"

#include <stdexcept>

#include "framework/errors.h"
#include "nn/io/layer_registry.h"
#include "nn/io/weight_budget.h"

namespace xgrad::nn {

namespace {

// The handle the graph keeps: the layer's own shared_ptr, or (a temporary) the layer moved
// into a new one.
std::shared_ptr<Module> handle_of(Module& layer, bool temporary) {
    if (auto self = layer.weak_from_this().lock()) return self;
    if (temporary) {
        if (auto adopted = adopt_registered(std::move(layer))) return adopted;
    }
    throw std::invalid_argument(
        layer.name() + " (" + layer.type_name() +
        "): a layer called on symbolic tensors must be held by a std::shared_ptr "
        "(std::make_shared), or be a temporary of a registered type, e.g. nn::Dense(10)(x)");
}

SymbolicTensor one_output(const SymbolicTensors& outputs, const Module& layer) {
    if (outputs.size() != 1) {
        throw std::invalid_argument(layer.name() + " has " + std::to_string(outputs.size()) +
                                    " outputs; call it with a list: layer(std::vector{x})");
    }
    return outputs[0];
}

}  // namespace

SymbolicTensors::operator SymbolicTensor() const {
    if (size() != 1) {
        throw std::invalid_argument("a call with " + std::to_string(size()) +
                                    " outputs used as one tensor; pick one: outputs[i]");
    }
    return front();
}

SymbolicTensor::SymbolicTensor(std::shared_ptr<const SymbolicNode> node, std::size_t index)
    : node_(std::move(node)), index_(index) {}

const Shape& SymbolicTensor::shape() const {
    return node_->output_shapes.at(index_);
}

const std::shared_ptr<Module>& SymbolicTensor::layer() const {
    return node_->layer;
}

SymbolicTensor Input(Shape shape, std::string name) {
    auto layer = std::make_shared<InputLayer>(shape);
    if (!name.empty()) layer->set_name(std::move(name));
    layer->build(shape);
    auto node = std::make_shared<SymbolicNode>();
    node->layer = std::move(layer);
    node->output_shapes = {std::move(shape)};
    return SymbolicTensor(std::move(node), 0);
}

SymbolicTensors call_symbolic(const std::shared_ptr<Module>& layer,
                              const std::vector<SymbolicTensor>& inputs, bool list_call) {
    if (inputs.empty()) {
        throw std::invalid_argument(layer->name() + ": called on an empty list of tensors");
    }
    std::vector<Shape> shapes;
    for (const auto& x : inputs) shapes.push_back(x.shape());
    auto node = std::make_shared<SymbolicNode>();
    node->layer = layer;
    node->inputs = inputs;
    node->list_call = list_call;
    // Builds on the first call; later calls check the shapes (a ShapeError naming the layer).
    if (shapes.size() == 1) {
        WeightBudget::charge(*layer, shapes[0]);  // when a model file is being read
        layer->build(shapes[0]);
        node->output_shapes = list_call ? layer->output_shapes(shapes)
                                        : std::vector<Shape>{layer->output_shape(shapes[0])};
    } else {
        layer->build(shapes);
        node->output_shapes = layer->output_shapes(shapes);
    }
    std::vector<SymbolicTensor> outputs;
    for (std::size_t i = 0; i < node->output_shapes.size(); ++i) outputs.emplace_back(node, i);
    return outputs;
}

SymbolicTensor Module::operator()(const SymbolicTensor& x) & {
    const auto layer = handle_of(*this, false);
    return one_output(call_symbolic(layer, {x}, false), *layer);
}

SymbolicTensor Module::operator()(const SymbolicTensor& x) && {
    const auto layer = handle_of(*this, true);  // *this is moved from after this
    return one_output(call_symbolic(layer, {x}, false), *layer);
}

SymbolicTensors Module::operator()(const std::vector<SymbolicTensor>& inputs) & {
    return call_symbolic(handle_of(*this, false), inputs, true);
}

SymbolicTensors Module::operator()(const std::vector<SymbolicTensor>& inputs) && {
    return call_symbolic(handle_of(*this, true), inputs, true);
}

}  // namespace xgrad::nn
