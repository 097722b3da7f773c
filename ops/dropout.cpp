#include "ops/dropout.h"

#include <fmt/format.h>

#include <stdexcept>

#include "framework/record.h"

namespace xgrad {

template <class T>
VariableOf<T> dropout(const VariableOf<T>& x, double rate, bool training, Rng& rng) {
    if (!(rate >= 0 && rate < 1)) {
        throw std::invalid_argument(fmt::format("dropout: rate must be in [0, 1), got {}", rate));
    }
    if (!training || rate == 0) return x;
    // The mask holds 0 for a dropped element and 1 / (1 - rate) for a kept one, so the
    // expected value is unchanged and the backward is the same multiplication. Uniforms
    // come from the top 53 bits of the generator so a seed gives the same mask everywhere.
    const T scale = static_cast<T>(1.0 / (1.0 - rate));
    const TensorOf<T>& xv = x.value();
    TensorOf<T> mask = TensorOf<T>::from_shape(xv.shape());
    TensorOf<T> y = TensorOf<T>::from_shape(xv.shape());
    const T* in = xv.data();
    T* m = mask.data();
    T* out = y.data();
    for (std::size_t i = 0, n = xv.size(); i < n; ++i) {
        const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
        m[i] = u < rate ? T(0) : scale;
        out[i] = in[i] * m[i];
    }
    return record<T>(
        "dropout", std::move(y), {x},
        [mask = std::move(mask)](const BackwardContext<T>& c) { return Grads<T>{c.grad * mask}; });
}

template <class T>
VariableOf<T> dropout(const VariableOf<T>& x, double rate, bool training) {
    return dropout(x, rate, training, global_rng());
}

#define XGRAD_INSTANTIATE_DROPOUT(T)                                          \
    template VariableOf<T> dropout(const VariableOf<T>&, double, bool, Rng&); \
    template VariableOf<T> dropout(const VariableOf<T>&, double, bool);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_DROPOUT)

}  // namespace xgrad
