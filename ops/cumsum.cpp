#include "ops/cumsum.h"

#include "framework/record.h"
#include "ops/axis.h"

namespace xgrad {

namespace {

// Running sums over the middle index of the (outer, n, inner) view around `axis`.
template <class T>
TensorOf<T> running_sum(const TensorOf<T>& x, std::size_t axis, bool reverse) {
    TensorOf<T> y = TensorOf<T>::from_shape(x.shape());
    const auto [outer, n, inner] = around_axis(to_shape(x.shape()), axis);
    for (std::size_t o = 0; o < outer; ++o) {
        const T* in = x.data() + o * n * inner;
        T* out = y.data() + o * n * inner;
        for (std::size_t s = 0; s < n; ++s) {
            const std::size_t i = reverse ? n - 1 - s : s;
            const T* prev = s == 0 ? nullptr : out + (reverse ? i + 1 : i - 1) * inner;
            for (std::size_t j = 0; j < inner; ++j) {
                out[i * inner + j] = in[i * inner + j] + (prev ? prev[j] : T(0));
            }
        }
    }
    return y;
}

}  // namespace

template <class T>
VariableOf<T> cumsum(const VariableOf<T>& x, int axis, bool reverse) {
    const std::size_t a = normalize_axis("cumsum", axis, x.shape());
    return record<T>(
        "cumsum", running_sum(x.value(), a, reverse), {x},
        [a, reverse](const BackwardContext<T>& c) {
            return Grads<T>{running_sum(c.grad, a, !reverse)};
        },
        [a, reverse](const GraphBackwardContext<T>& c) {
            return VariableList<T>{cumsum(c.grad, static_cast<int>(a), !reverse)};
        });
}

#define XGRAD_INSTANTIATE_CUMSUM(T) template VariableOf<T> cumsum(const VariableOf<T>&, int, bool);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_CUMSUM)

}  // namespace xgrad
