// Gradients as values, as torch.autograd does it: grad() returns the gradients of outputs
// with respect to chosen inputs instead of accumulating them into .grad(), and with
// create_graph they can be differentiated again. hvp, jacobian and hessian build on it.
//
//   Variable64 x = parameter(Tensor64{1.0, 2.0});
//   Variable64 y = sum(x * x * x);
//   Variable64 dx = grad({y}, {x}, {.create_graph = true})[0];   // 3 x^2, with history
//   Variable64 d2 = grad({sum(dx)}, {x})[0];                     // 6 x
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "framework/backward.h"
#include "framework/variable.h"

namespace xgrad {

template <class T>
struct GradOptions {
    // One seed per output (its shape); empty: every output must have one element, seeded 1.
    std::vector<VariableOf<T>> grad_outputs = {};
    // The gradients get history of their own, to be differentiated again.
    bool create_graph = false;
    // Keep the graph for another pass (default: as create_graph).
    std::optional<bool> retain_graph = std::nullopt;
    // An input the outputs do not depend on gets a zero gradient instead of an error.
    bool allow_unused = false;
};

// d(sum_i <outputs[i], grad_outputs[i]>) / d(inputs[j]) for each j. The inputs must require a
// gradient (they may be intermediate results); nothing's .grad() changes.
template <class T>
std::vector<VariableOf<T>> grad(const std::vector<VariableOf<T>>& outputs,
                                const std::vector<VariableOf<T>>& inputs,
                                const GradOptions<T>& options = {});

template <class T>
using ScalarFunction = std::function<VariableOf<T>(const VariableOf<T>&)>;
template <class T>
using TensorFunction = std::function<VariableOf<T>(const VariableOf<T>&)>;

// The Hessian of the scalar f at x times v, by differentiating <grad f(x), v> once more;
// v has x's shape. The result has no history.
template <class T>
TensorOf<T> hvp(const ScalarFunction<T>& f, const TensorOf<T>& x, const TensorOf<T>& v);

// d f(x) / d x as a tensor of shape f(x).shape + x.shape, one backward per output element
// (for small problems).
template <class T>
TensorOf<T> jacobian(const TensorFunction<T>& f, const TensorOf<T>& x);

// The Hessian of the scalar f at x, shape x.shape + x.shape (for small problems).
template <class T>
TensorOf<T> hessian(const ScalarFunction<T>& f, const TensorOf<T>& x);

}  // namespace xgrad
