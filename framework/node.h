// A node of the autograd graph: one value, its gradient, and how to push a gradient back
// to the node's inputs. Variables are handles to nodes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include <xtensor/xstorage.hpp>

#include "framework/tensor.h"

namespace xgrad {

template <class T>
struct Node;
template <class T>
class VariableOf;
template <class T>
struct GraphBackwardContext;

// One gradient per input of an op, in the order of the inputs. An entry for an input that
// does not require a gradient is ignored and may be left empty. Grads<T>{a, b} moves its
// arguments in: a std::vector built from a braced list copies every tensor, since the
// elements of an initializer_list are const, and for conv activations that is megabytes.
template <class T>
struct Grads : std::vector<TensorOf<T>> {
    Grads() = default;
    explicit Grads(std::size_t n) : std::vector<TensorOf<T>>(n) {}
    template <class... G>
    requires(sizeof...(G) > 0 && ((!std::is_arithmetic_v<std::remove_cvref_t<G>> &&
                                   std::is_constructible_v<TensorOf<T>, G&&>)&&...))
        Grads(G&&... grads) {  // NOLINT: implicit, so a backward function can return {dx, dy}
        this->reserve(sizeof...(G));
        (this->emplace_back(std::forward<G>(grads)), ...);
    }
};

// What a backward function sees: the gradient of the loss with respect to the op's output,
// the output itself and the op's inputs. Backward functions read inputs from here instead
// of capturing them, so the graph holds each tensor once.
template <class T>
struct BackwardContext {
    const TensorOf<T>& grad;
    const TensorOf<T>& output;
    const Node<T>& node;

    const TensorOf<T>& input(std::size_t i) const { return node.inputs[i]->value; }
    bool needs(std::size_t i) const { return node.inputs[i]->requires_grad; }
};

template <class T>
using BackwardFn = std::function<Grads<T>(const BackwardContext<T>&)>;

// The same gradients written with differentiable ops on Variables (see framework/record.h),
// which backward runs instead of BackwardFn when asked to create a graph of the gradients.
template <class T>
using GraphBackwardFn = std::function<std::vector<VariableOf<T>>(const GraphBackwardContext<T>&)>;

template <class T>
struct Node {
    TensorOf<T> value;
    TensorOf<T> grad;
    bool has_grad = false;
    bool requires_grad = false;
    const char* op = nullptr;  // the op that made this node; nullptr for a leaf
    std::vector<std::shared_ptr<Node>> inputs;
    BackwardFn<T> backward;
    // Empty for an op that can be differentiated once only.
    GraphBackwardFn<T> graph_backward;
    // After a backward with create_graph: the leaf's gradient with its own history (`grad`
    // holds the same values).
    std::shared_ptr<Node> grad_node;
    bool released = false;  // backward ran and freed this node's part of the graph
    // How many times `value` was changed in place (VariableOf::mutable_value()). An op saves
    // its inputs' versions when it is recorded; backward compares them, so that a value
    // changed between the forward pass and backward is an error, not a wrong gradient.
    std::uint64_t version = 0;
    // inputs[i]->version when recorded; inline for up to 4 inputs, so no allocation per op.
    xt::svector<std::uint64_t, 4> input_versions;

    Node() = default;
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    bool is_leaf() const { return op == nullptr; }

    // Frees the inputs iteratively: a chain of 100,000 ops must not recurse 100,000 deep.
    ~Node() {
        std::vector<std::shared_ptr<Node>> pending = std::move(inputs);
        while (!pending.empty()) {
            std::shared_ptr<Node> n = std::move(pending.back());
            pending.pop_back();
            if (n.use_count() == 1) {
                for (auto& in : n->inputs) pending.push_back(std::move(in));
                n->inputs.clear();
            }
        }
    }
};

}  // namespace xgrad
