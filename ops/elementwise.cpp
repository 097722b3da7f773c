#include "ops/elementwise.h"

#include "framework/broadcast.h"
#include "framework/record.h"

namespace xgrad {

namespace {

// The gradient for input i, reduced to its shape, or nothing when it needs none.
template <class T, class E>
TensorOf<T> input_grad(const BackwardContext<T>& c, std::size_t i, E&& grad) {
    if (!c.needs(i)) return TensorOf<T>();
    return sum_to<T>(TensorOf<T>(std::forward<E>(grad)), to_shape(c.input(i).shape()));
}

}  // namespace

template <class T>
VariableOf<T> add(const VariableOf<T>& a, const VariableOf<T>& b) {
    broadcast_shapes("add", a.shape(), b.shape());
    return record<T>("add", a.value() + b.value(), {a, b}, [](const BackwardContext<T>& c) {
        return Grads<T>{input_grad(c, 0, c.grad), input_grad(c, 1, c.grad)};
    });
}

template <class T>
VariableOf<T> sub(const VariableOf<T>& a, const VariableOf<T>& b) {
    broadcast_shapes("sub", a.shape(), b.shape());
    return record<T>("sub", a.value() - b.value(), {a, b}, [](const BackwardContext<T>& c) {
        return Grads<T>{input_grad(c, 0, c.grad), input_grad(c, 1, -c.grad)};
    });
}

template <class T>
VariableOf<T> mul(const VariableOf<T>& a, const VariableOf<T>& b) {
    broadcast_shapes("mul", a.shape(), b.shape());
    return record<T>("mul", a.value() * b.value(), {a, b}, [](const BackwardContext<T>& c) {
        return Grads<T>{input_grad(c, 0, c.grad * c.input(1)),
                        input_grad(c, 1, c.grad * c.input(0))};
    });
}

template <class T>
VariableOf<T> div(const VariableOf<T>& a, const VariableOf<T>& b) {
    broadcast_shapes("div", a.shape(), b.shape());
    return record<T>("div", a.value() / b.value(), {a, b}, [](const BackwardContext<T>& c) {
        const auto& y = c.input(1);
        return Grads<T>{input_grad(c, 0, c.grad / y), input_grad(c, 1, -c.grad * c.output / y)};
    });
}

template <class T>
VariableOf<T> neg(const VariableOf<T>& a) {
    return record<T>("neg", -a.value(), {a},
                     [](const BackwardContext<T>& c) { return Grads<T>{-c.grad}; });
}

#define XGRAD_INSTANTIATE_ELEMENTWISE(T)                                    \
    template VariableOf<T> add(const VariableOf<T>&, const VariableOf<T>&); \
    template VariableOf<T> sub(const VariableOf<T>&, const VariableOf<T>&); \
    template VariableOf<T> mul(const VariableOf<T>&, const VariableOf<T>&); \
    template VariableOf<T> div(const VariableOf<T>&, const VariableOf<T>&); \
    template VariableOf<T> neg(const VariableOf<T>&);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_ELEMENTWISE)

}  // namespace xgrad
