#include "ops/reduce.h"

#include <algorithm>

#include <xtensor/xbroadcast.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xreducer.hpp>

#include "framework/errors.h"
#include "framework/record.h"

namespace xgrad {

std::vector<std::size_t> normalize_axes(const char* op, const Axes& axes, std::size_t rank) {
    std::vector<std::size_t> out;
    if (axes.empty()) {
        for (std::size_t i = 0; i < rank; ++i) out.push_back(i);
        return out;
    }
    for (int a : axes) {
        const long r = static_cast<long>(rank);
        const long n = a < 0 ? a + r : a;
        if (n < 0 || n >= r) {
            throw ShapeError(op, "axis " + std::to_string(a) +
                                     " is out of range for a tensor of "
                                     "rank " +
                                     std::to_string(rank));
        }
        out.push_back(static_cast<std::size_t>(n));
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

Shape keepdims_shape(const Shape& shape, const std::vector<std::size_t>& axes) {
    Shape kept = shape;
    for (auto a : axes) kept[a] = 1;
    return kept;
}

template <class T>
VariableOf<T> sum(const VariableOf<T>& x, const Axes& axes, bool keepdims) {
    const Shape in_shape = x.shape();
    const auto ax = normalize_axes("sum", axes, in_shape.size());
    TensorOf<T> y = xt::sum(x.value(), ax);
    const Shape kept = keepdims_shape(in_shape, ax);
    if (keepdims) y.reshape(kept);
    return record<T>("sum", std::move(y), {x}, [kept](const BackwardContext<T>& c) {
        TensorOf<T> g = c.grad;
        g.reshape(kept);
        return Grads<T>{TensorOf<T>(xt::broadcast(g, c.input(0).shape()))};
    });
}

#define XGRAD_INSTANTIATE_REDUCE(T) \
    template VariableOf<T> sum(const VariableOf<T>&, const Axes&, bool);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_REDUCE)

}  // namespace xgrad
