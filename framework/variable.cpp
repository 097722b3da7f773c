#include "framework/variable.h"

#include "framework/errors.h"

namespace xgrad {

template <class T>
Node<T>& VariableOf<T>::checked() const {
    if (!node_) throw GraphError("Variable: this handle is empty (default-constructed)");
    return *node_;
}

template <class T>
T VariableOf<T>::item() const {
    const auto& v = checked().value;
    if (v.size() != 1) {
        throw ShapeError("item", "needs a one-element variable, got shape " + format_shape_of(v));
    }
    return *v.begin();
}

template <class T>
VariableOf<T>& VariableOf<T>::set_requires_grad(bool on) {
    if (!is_leaf()) {
        throw GraphError(std::string("set_requires_grad: only leaves can be switched, this is "
                                     "the result of '") +
                         op() + "'");
    }
    node_->requires_grad = on;
    return *this;
}

template <class T>
const TensorOf<T>& VariableOf<T>::grad() const {
    const Node<T>& n = checked();
    if (!n.has_grad) {
        throw GraphError(std::string("grad: this variable (") + op() + ", shape " +
                         format_shape_of(n.value) +
                         ") has no gradient; it needs requires_grad and a backward() through it");
    }
    return n.grad;
}

template <class T>
VariableOf<T> VariableOf<T>::grad_variable() const {
    const TensorOf<T>& g = grad();
    if (node_->grad_node) return VariableOf<T>(node_->grad_node);
    return VariableOf<T>(g);
}

template <class T>
void VariableOf<T>::zero_grad() const {
    Node<T>& n = checked();
    n.has_grad = false;
    n.grad = TensorOf<T>();
    n.grad_node.reset();
}

template <class T>
void VariableOf<T>::backward(bool keep_graph) const {
    backward(BackwardOptions{.retain_graph = keep_graph});
}

template <class T>
void VariableOf<T>::backward(const BackwardOptions& options) const {
    const Node<T>& n = checked();
    if (n.value.size() != 1) {
        throw GraphError("backward: the variable has shape " + format_shape_of(n.value) +
                         ", not one element; pass a seed gradient of that shape");
    }
    TensorOf<T> seed = TensorOf<T>::from_shape(n.value.shape());
    seed.fill(T(1));
    backward(VariableOf<T>(std::move(seed)), options);
}

template <class T>
void VariableOf<T>::backward(const VariableOf<T>& seed, const BackwardOptions& options) const {
    const Node<T>& n = checked();
    if (seed.shape() != to_shape(n.value.shape())) {
        throw ShapeError("backward", "the seed has shape " + format_shape(seed.shape()) +
                                         " but the variable has shape " + format_shape_of(n.value));
    }
    run_backward<T>({node_}, {seed}, options);
}

template class VariableOf<float>;
template class VariableOf<double>;

}  // namespace xgrad
