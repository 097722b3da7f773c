// Variable: a cheap handle to a graph node. Copying a Variable copies a shared_ptr; the
// copies see the same value and gradient.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

#include "framework/backward.h"
#include "framework/node.h"

namespace xgrad {

template <class T>
class VariableOf;

// The arithmetic ops live in ops/elementwise; the operators below forward to them.
template <class T>
VariableOf<T> add(const VariableOf<T>& a, const VariableOf<T>& b);
template <class T>
VariableOf<T> sub(const VariableOf<T>& a, const VariableOf<T>& b);
template <class T>
VariableOf<T> mul(const VariableOf<T>& a, const VariableOf<T>& b);
template <class T>
VariableOf<T> div(const VariableOf<T>& a, const VariableOf<T>& b);
template <class T>
VariableOf<T> neg(const VariableOf<T>& a);

template <class T>
class VariableOf {
  public:
    using value_type = T;

    // An empty handle; any use other than assignment is an error.
    VariableOf() = default;

    // A leaf holding `value`. Parameters pass requires_grad = true.
    explicit VariableOf(TensorOf<T> value, bool requires_grad = false)
        : node_(std::make_shared<Node<T>>()) {
        node_->value = std::move(value);
        node_->requires_grad = requires_grad;
    }

    // A constant scalar leaf. Implicit, so that `1.0 - x` and `x * 2` just work.
    VariableOf(T scalar) : VariableOf(TensorOf<T>(scalar)) {}

    // Wraps an existing node (used by the graph recorder).
    explicit VariableOf(std::shared_ptr<Node<T>> node) : node_(std::move(node)) {}

    bool defined() const { return node_ != nullptr; }

    // The value, to read.
    const TensorOf<T>& value() const { return checked().value; }
    // The value, to change in place (optimizers, loading weights, a user's own update). The
    // handle is shallow, so this works through a const handle, like shared_ptr. Each call
    // counts as a change: a graph that recorded the old value refuses to back-propagate
    // through it (backward names the op). Call it for each change, not once to keep.
    TensorOf<T>& mutable_value() const {
        Node<T>& n = checked();
        ++n.version;
        return n.value;
    }
    Shape shape() const { return to_shape(checked().value.shape()); }
    std::size_t ndim() const { return checked().value.dimension(); }
    std::size_t size() const { return checked().value.size(); }
    // The single value of a one-element variable.
    T item() const;

    bool requires_grad() const { return checked().requires_grad; }
    // Only leaves can be switched; an op result's flag follows its inputs.
    VariableOf& set_requires_grad(bool on);

    bool is_leaf() const { return checked().is_leaf(); }
    // The op that made this variable ("mul", "matmul"), or "leaf".
    const char* op() const { return is_leaf() ? "leaf" : checked().op; }

    bool has_grad() const { return checked().has_grad; }
    // The accumulated gradient; an error when backward has not reached this variable.
    const TensorOf<T>& grad() const;
    // The gradient as a Variable: with history after a backward with create_graph, a
    // plain leaf otherwise. Same errors as grad(). A gradient with history usually depends
    // on this very leaf, so the two hold each other (as in PyTorch): zero_grad() releases
    // it; grad() (framework/autograd.h) returns such gradients without storing them.
    VariableOf grad_variable() const;
    // Forgets the gradient (the next backward stores a fresh one).
    void zero_grad() const;

    // Back-propagates from this variable. A one-element variable is seeded with 1; any
    // other needs an explicit seed of its shape. The graph is freed afterwards unless
    // keep_graph (retain_graph) is true. With {.create_graph = true} the gradients stored in
    // the leaves have history of their own (grad_variable()), to be differentiated again.
    void backward(bool keep_graph = false) const;
    void backward(const BackwardOptions& options) const;
    void backward(const VariableOf& seed, const BackwardOptions& options) const;
    // A seed tensor (or xtensor expression). A template, so that a braced
    // `backward({.create_graph = true})` is never taken for a tensor.
    template <class E>
    requires std::is_constructible_v < TensorOf<T>,
    const E& > void backward(const E& seed, bool keep_graph = false) const {
        backward(VariableOf(TensorOf<T>(seed)), BackwardOptions{.retain_graph = keep_graph});
    }
    template <class E>
    requires std::is_constructible_v < TensorOf<T>,
    const E& > void backward(const E& seed, const BackwardOptions& options) const {
        backward(VariableOf(TensorOf<T>(seed)), options);
    }

    // A new leaf with a copy of the value and no history.
    VariableOf detach() const { return VariableOf(checked().value, false); }

    const std::shared_ptr<Node<T>>& node() const { return node_; }

    friend VariableOf operator+(const VariableOf& a, const VariableOf& b) { return add(a, b); }
    friend VariableOf operator-(const VariableOf& a, const VariableOf& b) { return sub(a, b); }
    friend VariableOf operator*(const VariableOf& a, const VariableOf& b) { return mul(a, b); }
    friend VariableOf operator/(const VariableOf& a, const VariableOf& b) { return div(a, b); }
    friend VariableOf operator-(const VariableOf& a) { return neg(a); }
    VariableOf& operator+=(const VariableOf& b) { return *this = add(*this, b); }
    VariableOf& operator-=(const VariableOf& b) { return *this = sub(*this, b); }
    VariableOf& operator*=(const VariableOf& b) { return *this = mul(*this, b); }
    VariableOf& operator/=(const VariableOf& b) { return *this = div(*this, b); }

  private:
    Node<T>& checked() const;

    std::shared_ptr<Node<T>> node_;
};

using Variable = VariableOf<float>;
using Variable64 = VariableOf<double>;

// Makes a leaf that requires a gradient, e.g. `auto w = parameter(xt::zeros<float>({3}))`.
template <class T>
VariableOf<T> parameter(TensorOf<T> value) {
    return VariableOf<T>(std::move(value), true);
}

}  // namespace xgrad
