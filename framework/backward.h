// The backward engine: walks the graph once in reverse topological order.
#pragma once

#include <memory>

#include "framework/node.h"

namespace xgrad {

// Propagates `seed` (the gradient of the root) to every node that requires a gradient.
// Leaves accumulate their gradients across calls; the graph is freed unless keep_graph.
template <class T>
void run_backward(const std::shared_ptr<Node<T>>& root, TensorOf<T> seed, bool keep_graph);

}  // namespace xgrad
