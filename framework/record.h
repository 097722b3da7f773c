// The one place where an op's result joins the graph. An op computes its forward value and
// hands it here with its inputs and its backward function:
//
//   template <class T>
//   VariableOf<T> tanh(const VariableOf<T>& x) {
//       return record<T>("tanh", xt::tanh(x.value()), {x},
//           [](const BackwardContext<T>& c) {             // tensors: the fast first-order path
//               return Grads<T>{c.grad * (1 - c.output * c.output)};
//           },
//           [](const GraphBackwardContext<T>& c) {        // Variables: differentiable again
//               return VariableList<T>{c.grad * (1 - c.output() * c.output())};
//           });
//   }
//
// backward() runs the tensor function; backward with create_graph runs the graph function
// under grad mode, so the gradients it returns have history of their own (gradients of
// gradients). An op recorded without a graph function can be differentiated once only.
#pragma once

#include <initializer_list>
#include <vector>

#include "framework/grad_mode.h"
#include "framework/variable.h"

namespace xgrad {

template <class T>
using VariableList = std::vector<VariableOf<T>>;

// What a graph backward function sees: the output's gradient as a Variable (with history
// when the gradients are being differentiated), and the op's inputs and output as Variables.
template <class T>
struct GraphBackwardContext {
    const VariableOf<T>& grad;
    const std::shared_ptr<Node<T>>& node;

    VariableOf<T> input(std::size_t i) const { return VariableOf<T>(node->inputs[i]); }
    VariableOf<T> output() const { return VariableOf<T>(node); }
    bool needs(std::size_t i) const { return node->inputs[i]->requires_grad; }
};

// When grad mode is off or no input requires a gradient, the result is a plain leaf and the
// backward functions are dropped: inference builds no graph. `inputs` is any range of Variables.
template <class T, class Inputs>
VariableOf<T> record_inputs(const char* op, TensorOf<T> value, const Inputs& inputs,
                            BackwardFn<T> backward, GraphBackwardFn<T> graph_backward = nullptr) {
    bool needs_graph = false;
    if (is_grad_enabled()) {
        for (const auto& in : inputs) needs_graph = needs_graph || in.requires_grad();
    }
    if (!needs_graph) return VariableOf<T>(std::move(value));

    auto node = std::make_shared<Node<T>>();
    node->value = std::move(value);
    node->requires_grad = true;
    node->op = op;
    node->inputs.reserve(inputs.size());
    node->input_versions.reserve(inputs.size());
    for (const auto& in : inputs) {
        node->inputs.push_back(in.node());
        node->input_versions.push_back(in.node()->version);
    }
    node->backward = std::move(backward);
    node->graph_backward = std::move(graph_backward);
    return VariableOf<T>(std::move(node));
}

template <class T>
VariableOf<T> record(const char* op, TensorOf<T> value, std::initializer_list<VariableOf<T>> inputs,
                     BackwardFn<T> backward, GraphBackwardFn<T> graph_backward = nullptr) {
    return record_inputs<T>(op, std::move(value), inputs, std::move(backward),
                            std::move(graph_backward));
}

// Same, for ops with a runtime number of inputs (concat, stack).
template <class T>
VariableOf<T> record(const char* op, TensorOf<T> value, const std::vector<VariableOf<T>>& inputs,
                     BackwardFn<T> backward, GraphBackwardFn<T> graph_backward = nullptr) {
    return record_inputs<T>(op, std::move(value), inputs, std::move(backward),
                            std::move(graph_backward));
}

// For the ops a loss fuses with (softmax, sigmoid): a result recorded without a graph still
// names its op and holds its input, so a loss can start from the logits in evaluation too, as
// Keras keeps `_keras_logits` on a softmax output. Such a result is no leaf but requires no
// gradient, so backward never visits it; the input lives as long as the result.
template <class T>
VariableOf<T> keep_input(VariableOf<T> y, const char* op, const VariableOf<T>& x) {
    if (y.node()->is_leaf()) {
        y.node()->op = op;
        y.node()->inputs = {x.node()};
        y.node()->input_versions = {x.node()->version};
    }
    return y;
}

}  // namespace xgrad
