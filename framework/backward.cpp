#include "framework/backward.h"

#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "framework/errors.h"

namespace xgrad {

namespace {

// Nodes that require a gradient, inputs before the nodes that use them. Iterative
// depth-first search: a 100,000-op chain must not overflow the stack.
template <class T>
std::vector<std::shared_ptr<Node<T>>> topological_order(const std::shared_ptr<Node<T>>& root) {
    std::vector<std::shared_ptr<Node<T>>> order;
    std::unordered_set<const Node<T>*> visited;
    // Each frame: a node and the index of the next input to visit.
    std::vector<std::pair<std::shared_ptr<Node<T>>, std::size_t>> stack;
    stack.emplace_back(root, 0);
    visited.insert(root.get());
    while (!stack.empty()) {
        auto& [node, next] = stack.back();
        if (next < node->inputs.size()) {
            const std::shared_ptr<Node<T>>& in = node->inputs[next++];
            if (in->requires_grad && visited.insert(in.get()).second) stack.emplace_back(in, 0);
        } else {
            order.push_back(std::move(node));
            stack.pop_back();
        }
    }
    return order;
}

template <class T>
void accumulate(Node<T>& node, TensorOf<T>&& grad) {
    if (!node.has_grad) {
        node.grad = std::move(grad);
        node.has_grad = true;
    } else {
        node.grad += grad;
    }
}

}  // namespace

template <class T>
void run_backward(const std::shared_ptr<Node<T>>& root, TensorOf<T> seed, bool keep_graph) {
    if (!root->requires_grad) {
        throw GraphError(
            "backward: the variable does not require a gradient (no input of its graph has "
            "requires_grad, or it was computed under a NoGradGuard)");
    }
    std::vector<std::shared_ptr<Node<T>>> order = topological_order(root);
    for (const auto& node : order) {
        if (node->released) {
            throw GraphError(std::string("backward: the graph through '") + node->op +
                             "' was freed by an earlier backward(); pass keep_graph = true to "
                             "the first backward() to go through it again");
        }
    }

    accumulate(*root, std::move(seed));
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        Node<T>& node = **it;
        if (node.is_leaf() || !node.has_grad) continue;

        Grads<T> grads = node.backward(BackwardContext<T>{node.grad, node.value, node});
        if (grads.size() != node.inputs.size()) {
            throw GraphError(std::string("backward of '") + node.op + "' returned " +
                             std::to_string(grads.size()) + " gradients for " +
                             std::to_string(node.inputs.size()) + " inputs");
        }
        for (std::size_t i = 0; i < grads.size(); ++i) {
            Node<T>& input = *node.inputs[i];
            if (!input.requires_grad) continue;
            if (grads[i].shape() != input.value.shape()) {
                throw ShapeError(std::string("backward of '") + node.op + "'",
                                 "gradient " + std::to_string(i) + " has shape " +
                                     format_shape_of(grads[i]) + " but its input has shape " +
                                     format_shape_of(input.value));
            }
            accumulate(input, std::move(grads[i]));
        }
        // Intermediate gradients are not kept (as in PyTorch); only leaves hold theirs.
        node.grad = TensorOf<T>();
        node.has_grad = false;
        if (!keep_graph) {
            node.backward = nullptr;
            node.inputs.clear();
            node.released = true;
        }
    }
}

template void run_backward(const std::shared_ptr<Node<float>>&, TensorOf<float>, bool);
template void run_backward(const std::shared_ptr<Node<double>>&, TensorOf<double>, bool);

}  // namespace xgrad
