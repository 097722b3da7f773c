#include "framework/backward.h"

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "framework/errors.h"
#include "framework/record.h"
#include "ops/elementwise_loops.h"

namespace xgrad {

namespace {

template <class T>
const LeafGradReadyFn<T>*& leaf_grad_ready_hook() {
    thread_local const LeafGradReadyFn<T>* hook = nullptr;
    return hook;
}

// Nodes that require a gradient, inputs before the nodes that use them. Iterative
// depth-first search: a 100,000-op chain must not overflow the stack.
template <class T>
std::vector<std::shared_ptr<Node<T>>> topological_order(
    const std::vector<std::shared_ptr<Node<T>>>& roots) {
    std::vector<std::shared_ptr<Node<T>>> order;
    std::unordered_set<const Node<T>*> visited;
    // Each frame: a node and the index of the next input to visit.
    std::vector<std::pair<std::shared_ptr<Node<T>>, std::size_t>> stack;
    for (const auto& root : roots) {
        if (!visited.insert(root.get()).second) continue;
        stack.emplace_back(root, 0);
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
    }
    return order;
}

// The two kinds of gradient the pass can carry: tensors (first order, the fused kernels) and
// Variables (create_graph: differentiable ops, recorded in the graph).
template <class T>
const TensorOf<T>& value_of(const TensorOf<T>& g) {
    return g;
}
template <class T>
const TensorOf<T>& value_of(const VariableOf<T>& g) {
    return g.value();
}

// sum += g in a vectorised loop (xtensor's += is SSE2 only in a portable build); the engine
// checked that g has the shape of the input it is for.
template <class T>
void add_into(TensorOf<T>& sum, TensorOf<T>&& g) {
    if (sum.shape() == g.shape()) {
        add_into_loop<T>(sum.size(), sum.data(), g.data());
    } else {
        sum += g;
    }
}
template <class T>
void add_into(VariableOf<T>& sum, VariableOf<T>&& g) {
    sum = sum + g;
}

// Backward reads the values the forward pass saw: an input or the output changed in place
// since (mutable_value()) would give a wrong gradient without a word, so it is an error.
// Every input is checked, also those an op's backward does not read (xgrad does not know
// which ones it reads), which is stricter than PyTorch for add and its kind.
template <class T>
void check_unchanged(const Node<T>& node) {
    auto changed = [&](const std::string& what, const Node<T>& saved, std::uint64_t then) {
        return GraphError("backward of '" + std::string(node.op) + "': " + what + " (shape " +
                          format_shape_of(saved.value) +
                          ") was changed in place after the op recorded it (version " +
                          std::to_string(saved.version) + ", recorded at version " +
                          std::to_string(then) +
                          "); run the forward pass again after changing it, e.g. call "
                          "optimizer.step() only after backward()");
    };
    if (node.version != 0) throw changed("its output", node, 0);
    for (std::size_t i = 0; i < node.inputs.size(); ++i) {
        if (node.inputs[i]->version != node.input_versions[i]) {
            throw changed("its input " + std::to_string(i), *node.inputs[i],
                          node.input_versions[i]);
        }
    }
}

template <class T>
using NodeSet = std::unordered_set<const Node<T>*>;

template <class T>
Grads<T> input_grads(const std::shared_ptr<Node<T>>& node, const TensorOf<T>& g,
                     const NodeSet<T>* useful, std::vector<bool>* added_in_place) {
    return node->backward(BackwardContext<T>{g, node->value, *node, useful, added_in_place});
}
template <class T>
std::vector<VariableOf<T>> input_grads(const std::shared_ptr<Node<T>>& node, const VariableOf<T>& g,
                                       const NodeSet<T>* useful, std::vector<bool>*) {
    if (!node->graph_backward) {
        throw GraphError(std::string("backward with create_graph: op '") + node->op +
                         "' can be differentiated once only (it has no graph backward)");
    }
    EnableGradGuard grad_on;  // the gradients are recorded, also inside a NoGradGuard
    return node->graph_backward(GraphBackwardContext<T>{g, node, useful});
}

template <class T>
VariableOf<T> to_variable(TensorOf<T>&& g) {
    return VariableOf<T>(std::move(g));
}
template <class T>
VariableOf<T> to_variable(VariableOf<T>&& g) {
    return std::move(g);
}

// A leaf's gradient from one backward, added to what it already holds.
template <class T>
void accumulate_leaf(Node<T>& leaf, TensorOf<T>&& g) {
    if (!leaf.has_grad) {
        leaf.grad = std::move(g);
        leaf.has_grad = true;
    } else {
        add_into(leaf.grad, std::move(g));
        leaf.grad_node.reset();  // the sum has no history
    }
}
template <class T>
void accumulate_leaf(Node<T>& leaf, VariableOf<T>&& g) {
    if (leaf.has_grad) {
        EnableGradGuard grad_on;
        const VariableOf<T> held =
            leaf.grad_node ? VariableOf<T>(leaf.grad_node) : VariableOf<T>(leaf.grad);
        g = held + g;
    }
    leaf.grad = g.value();
    leaf.grad_node = g.node();
    leaf.has_grad = true;
}

template <class G>
G initial_grad(const auto& seed) {
    if constexpr (std::is_same_v<G, std::remove_cvref_t<decltype(seed)>>) {
        return seed;  // create_graph: the seed itself, so gradients can flow into it
    } else {
        return seed.value();
    }
}

// One pass, carrying gradients of type G (TensorOf<T> or VariableOf<T>). With InNodes (plain
// backward(), the training hot path) a gradient waits in its node's grad field and leaves
// accumulate as it arrives, as before gradients of gradients existed: no per-pass map. The
// other passes keep waiting gradients in a map, so that nothing's .grad() changes.
template <class T, class G, bool InNodes>
std::vector<VariableOf<T>> propagate(const std::vector<std::shared_ptr<Node<T>>>& roots,
                                     const std::vector<VariableOf<T>>& seeds, bool release,
                                     const std::vector<std::shared_ptr<Node<T>>>* capture) {
    std::vector<std::shared_ptr<Node<T>>> order = topological_order(roots);
    for (const auto& node : order) {
        if (node->released) {
            throw GraphError(std::string("backward: the graph through '") + node->op +
                             "' was freed by an earlier backward(); pass retain_graph = true "
                             "to the first backward() to go through it again");
        }
    }

    std::unordered_map<const Node<T>*, G> pending;  // unused with InNodes
    auto deliver = [&](Node<T>& to, G&& g) {
        if constexpr (InNodes) {
            if (to.is_leaf()) {
                accumulate_leaf(to, std::move(g));
            } else if (!to.has_grad) {
                to.grad = std::move(g);
                to.has_grad = true;
            } else {
                add_into(to.grad, std::move(g));
            }
        } else {
            auto [it, fresh] = pending.try_emplace(&to);
            if (fresh) {
                it->second = std::move(g);
            } else {
                add_into(it->second, std::move(g));
            }
        }
    };
    // Moves the gradient waiting at `node` into `out`; false when none is waiting.
    auto take = [&](Node<T>& node, G& out) {
        if constexpr (InNodes) {
            if (node.is_leaf() || !node.has_grad) return false;
            out = std::move(node.grad);
            node.grad = TensorOf<T>();
            node.has_grad = false;
            return true;
        } else {
            auto found = pending.find(&node);
            if (found == pending.end()) return false;
            out = std::move(found->second);
            pending.erase(found);
            return true;
        }
    };
    for (std::size_t i = 0; i < roots.size(); ++i) deliver(*roots[i], initial_grad<G>(seeds[i]));

    std::unordered_map<const Node<T>*, std::size_t> wanted;  // captured node -> its slot
    if (capture) {
        for (std::size_t i = 0; i < capture->size(); ++i) wanted.emplace((*capture)[i].get(), i);
    }
    std::vector<VariableOf<T>> captured(capture ? capture->size() : 0);
    std::vector<bool> added_in_place;

    // With capture, only the nodes on a path to a captured node need a gradient (torch's
    // engine prunes the same way): grad(u, x) skips the weights' gradients.
    NodeSet<T> useful;
    if (capture) {
        for (const auto& node : order) {  // inputs before the nodes that use them
            bool on_path = wanted.count(node.get()) != 0;
            for (const auto& in : node->inputs) on_path = on_path || useful.count(in.get());
            if (on_path) useful.insert(node.get());
        }
    }
    const NodeSet<T>* prune = capture ? &useful : nullptr;
    const LeafGradReadyFn<T>* leaf_ready = InNodes ? leaf_grad_ready_hook<T>() : nullptr;

    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        const std::shared_ptr<Node<T>>& node = *it;
        if (leaf_ready && node->is_leaf()) {
            // Every user of the leaf comes before it in this order: its gradient is final.
            if (node->has_grad) (*leaf_ready)(*node);
            continue;
        }
        G grad;
        if (!take(*node, grad)) continue;
        if (prune && !useful.count(node.get())) continue;  // a root off every path

        if (auto w = capture ? wanted.find(node.get()) : wanted.end(); w != wanted.end()) {
            captured[w->second] =
                node->is_leaf() ? to_variable<T>(std::move(grad)) : to_variable<T>(G(grad));
            if (node->is_leaf()) continue;
        }
        if (node->is_leaf()) {
            if (!capture) accumulate_leaf(*node, std::move(grad));
            continue;
        }

        check_unchanged(*node);
        // With InNodes an op may add a gradient into its input's sum itself (see
        // BackwardContext::gradient_sum); such an entry of `grads` is empty.
        added_in_place.assign(node->inputs.size(), false);
        auto grads = input_grads<T>(node, grad, prune, InNodes ? &added_in_place : nullptr);
        if (grads.size() != node->inputs.size()) {
            throw GraphError(std::string("backward of '") + node->op + "' returned " +
                             std::to_string(grads.size()) + " gradients for " +
                             std::to_string(node->inputs.size()) + " inputs");
        }
        for (std::size_t i = 0; i < grads.size(); ++i) {
            const Node<T>& input = *node->inputs[i];
            if (!input.requires_grad || added_in_place[i] || (prune && !useful.count(&input))) {
                continue;
            }
            if (value_of<T>(grads[i]).shape() != input.value.shape()) {
                throw ShapeError(std::string("backward of '") + node->op + "'",
                                 "gradient " + std::to_string(i) + " has shape " +
                                     format_shape_of(value_of<T>(grads[i])) +
                                     " but its input has shape " + format_shape_of(input.value));
            }
            deliver(*node->inputs[i], std::move(grads[i]));
        }
        if (release) {
            // Free this node's part of the graph now: once its inputs hold no reference to
            // it and `order` drops its own, its value (a forward activation) is freed at once
            // instead of living until the whole pass ends.
            node->backward = nullptr;
            node->graph_backward = nullptr;
            node->inputs.clear();
            node->released = true;
            it->reset();
        }
    }
    return captured;
}

}  // namespace

template <class T>
std::vector<VariableOf<T>> run_backward(const std::vector<std::shared_ptr<Node<T>>>& roots,
                                        const std::vector<VariableOf<T>>& seeds,
                                        const BackwardOptions& options,
                                        const std::vector<std::shared_ptr<Node<T>>>* capture) {
    for (const auto& root : roots) {
        if (!root->requires_grad) {
            throw GraphError(
                "backward: the variable does not require a gradient (no input of its graph has "
                "requires_grad, or it was computed under a NoGradGuard)");
        }
    }
    const bool release = !options.retain_graph && !options.create_graph;
    if (options.create_graph) {
        return propagate<T, VariableOf<T>, false>(roots, seeds, release, capture);
    }
    if (capture) return propagate<T, TensorOf<T>, false>(roots, seeds, release, capture);
    return propagate<T, TensorOf<T>, true>(roots, seeds, release, capture);
}

template <class T>
LeafGradReadyHook<T>::LeafGradReadyHook(LeafGradReadyFn<T> fn)
    : fn_(std::move(fn)), previous_(leaf_grad_ready_hook<T>()) {
    leaf_grad_ready_hook<T>() = fn_ ? &fn_ : nullptr;
}

template <class T>
LeafGradReadyHook<T>::~LeafGradReadyHook() {
    leaf_grad_ready_hook<T>() = previous_;
}

#define XGRAD_INSTANTIATE_BACKWARD(T)                                                    \
    template std::vector<VariableOf<T>> run_backward(                                    \
        const std::vector<std::shared_ptr<Node<T>>>&, const std::vector<VariableOf<T>>&, \
        const BackwardOptions&, const std::vector<std::shared_ptr<Node<T>>>*);           \
    template class LeafGradReadyHook<T>;
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_BACKWARD)

}  // namespace xgrad
