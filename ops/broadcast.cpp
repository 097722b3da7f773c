#include "ops/broadcast.h"

#include <xtensor/xbroadcast.hpp>

#include "framework/broadcast.h"
#include "framework/errors.h"
#include "framework/record.h"

namespace xgrad {

template <class T>
VariableOf<T> broadcast_to(const VariableOf<T>& x, const Shape& shape) {
    const Shape from = x.shape();
    if (from == shape) return x;
    if (broadcast_shapes("broadcast_to", from, shape) != shape) {
        throw ShapeError("broadcast_to", "shape " + format_shape(from) +
                                             " cannot be broadcast to " + format_shape(shape));
    }
    return record<T>(
        "broadcast_to", TensorOf<T>(xt::broadcast(x.value(), shape)), {x},
        [from](const BackwardContext<T>& c) { return Grads<T>{sum_to<T>(c.grad, from)}; },
        [from](const GraphBackwardContext<T>& c) { return VariableList<T>{sum_to(c.grad, from)}; });
}

template <class T>
VariableOf<T> sum_to(const VariableOf<T>& x, const Shape& shape) {
    const Shape from = x.shape();
    if (from == shape) return x;
    return record<T>(
        "sum_to", sum_to<T>(TensorOf<T>(x.value()), shape), {x},
        [from](const BackwardContext<T>& c) {
            return Grads<T>{TensorOf<T>(xt::broadcast(c.grad, from))};
        },
        [from](const GraphBackwardContext<T>& c) {
            return VariableList<T>{broadcast_to(c.grad, from)};
        });
}

#define XGRAD_INSTANTIATE_BROADCAST(T)                                       \
    template VariableOf<T> broadcast_to(const VariableOf<T>&, const Shape&); \
    template VariableOf<T> sum_to(const VariableOf<T>&, const Shape&);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_BROADCAST)

}  // namespace xgrad
