// Activation functions, and lookup by the names Keras uses ("relu", "softmax", ...).
#pragma once

#include <string>
#include <vector>

#include "framework/variable.h"

namespace xgrad {

template <class T>
VariableOf<T> relu(const VariableOf<T>& x);
template <class T>
VariableOf<T> leaky_relu(const VariableOf<T>& x, double negative_slope = 0.2);
template <class T>
VariableOf<T> elu(const VariableOf<T>& x, double alpha = 1.0);
template <class T>
VariableOf<T> selu(const VariableOf<T>& x);
// Exact (erf) form; approximate = true uses the tanh approximation.
template <class T>
VariableOf<T> gelu(const VariableOf<T>& x, bool approximate = false);
template <class T>
VariableOf<T> sigmoid(const VariableOf<T>& x);
template <class T>
VariableOf<T> tanh(const VariableOf<T>& x);
// grad * (1 - y^2), tanh's derivative at the output y = tanh(x) times the output gradient,
// as one op (torch's tanh_backward): tanh's gradient with create_graph is this op, so the
// input gradients of a tanh network (a physics-informed loss) hold one node per tanh layer
// instead of three. grad and y have one shape.
template <class T>
VariableOf<T> tanh_backward(const VariableOf<T>& grad, const VariableOf<T>& y);
template <class T>
VariableOf<T> softplus(const VariableOf<T>& x);
template <class T>
VariableOf<T> softsign(const VariableOf<T>& x);
template <class T>
VariableOf<T> silu(const VariableOf<T>& x);
template <class T>
VariableOf<T> swish(const VariableOf<T>& x);  // same as silu
// Keras 3: relu6(x + 3) / 6.
template <class T>
VariableOf<T> hard_sigmoid(const VariableOf<T>& x);
// Along one axis, with the maximum subtracted: finite for logits of +-1e4.
template <class T>
VariableOf<T> softmax(const VariableOf<T>& x, int axis = -1);
template <class T>
VariableOf<T> log_softmax(const VariableOf<T>& x, int axis = -1);

// The names accepted by activate(): "linear" (identity), "relu", "leaky_relu", "elu",
// "selu", "gelu", "sigmoid", "tanh", "softplus", "softsign", "silu", "swish",
// "hard_sigmoid", "softmax", "log_softmax".
const std::vector<std::string>& activation_names();

// Applies the activation called `name` (softmax and log_softmax along the last axis).
// An unknown name is a std::invalid_argument listing the valid names.
template <class T>
VariableOf<T> activate(const std::string& name, const VariableOf<T>& x);

// Throws the same error as activate() for an unknown name; used to validate early.
void check_activation_name(const std::string& name);

}  // namespace xgrad
