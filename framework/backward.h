// The backward engine: walks the graph once in reverse topological order.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "framework/node.h"

namespace xgrad {

struct BackwardOptions {
    // Keep the graph for another backward through it (create_graph implies it).
    bool retain_graph = false;
    // Compute the gradients with differentiable ops, so that they have history of their own
    // and can be differentiated again (every op on the way needs a graph backward).
    bool create_graph = false;
};

// Propagates `seeds[i]` (the gradient of roots[i]) through the graph. Without `capture`,
// leaves that require a gradient accumulate theirs across calls (Variable::backward). With
// `capture`, nothing is accumulated anywhere and the result holds the gradient of each
// captured node, an empty handle for a node the roots do not depend on (autograd grad()).
// The graph is freed as the pass goes, unless retain_graph or create_graph.
template <class T>
std::vector<VariableOf<T>> run_backward(
    const std::vector<std::shared_ptr<Node<T>>>& roots, const std::vector<VariableOf<T>>& seeds,
    const BackwardOptions& options, const std::vector<std::shared_ptr<Node<T>>>* capture = nullptr);

// Told during a plain backward() (first order, no capture) that a leaf's gradient of this pass
// is final: every op that uses the leaf has run. The same graph tells its leaves in the same
// order every time. Gradient averaging across processes starts a bucket's allreduce from here
// while the rest of backward runs (dist/gradient_reducer.h), as PyTorch DDP's hooks do.
template <class T>
using LeafGradReadyFn = std::function<void(Node<T>&)>;

// Installs `fn` on this thread while the guard lives (the previous hook comes back after).
// Without a guard backward pays one null check per leaf.
template <class T>
class LeafGradReadyHook {
  public:
    explicit LeafGradReadyHook(LeafGradReadyFn<T> fn);
    ~LeafGradReadyHook();
    LeafGradReadyHook(const LeafGradReadyHook&) = delete;
    LeafGradReadyHook& operator=(const LeafGradReadyHook&) = delete;

  private:
    LeafGradReadyFn<T> fn_;
    const LeafGradReadyFn<T>* previous_;
};

}  // namespace xgrad
