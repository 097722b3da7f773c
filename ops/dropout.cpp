#include "ops/dropout.h"

#include <memory>

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "framework/record.h"
#include "framework/vectorize.h"

namespace xgrad {

namespace {

template <class T>
XGRAD_VECTOR_CLONES void mask_loop(std::size_t n, const std::uint64_t* __restrict__ bits,
                                   std::uint64_t threshold, T scale, T* __restrict__ mask) {
    for (std::size_t i = 0; i < n; ++i) mask[i] = bits[i] < threshold ? T(0) : scale;
}

template <class T>
XGRAD_VECTOR_CLONES void multiply_loop(std::size_t n, const T* __restrict__ x,
                                       const T* __restrict__ mask, T* __restrict__ y) {
    for (std::size_t i = 0; i < n; ++i) y[i] = x[i] * mask[i];
}

void check_rate(const char* op, double rate) {
    if (!(rate >= 0 && rate < 1)) {
        throw std::invalid_argument(fmt::format("{}: rate must be in [0, 1), got {}", op, rate));
    }
}

}  // namespace

template <class T>
TensorOf<T> dropout_mask(const Shape& shape, double rate, Rng& rng) {
    check_rate("dropout_mask", rate);
    // The mask holds 0 for a dropped element and 1 / (1 - rate) for a kept one, so the
    // expected value is unchanged and the backward is the same multiplication. Uniforms
    // come from the top 53 bits of the generator so a seed gives the same mask everywhere.
    const T scale = static_cast<T>(1.0 / (1.0 - rate));
    TensorOf<T> mask = TensorOf<T>::from_shape(shape);
    const std::size_t n = mask.size();
    // The draws go into a buffer first, so the masking loop has no call and no branch and
    // vectorises (a branch on a coin flip mispredicts half the time). u < rate is tested as
    // the exactly equivalent integer test bits < ceil(rate * 2^53).
    thread_local std::vector<std::uint64_t> bits;
    bits.resize(n);
    for (auto& b : bits) b = rng() >> 11;
    const auto threshold = static_cast<std::uint64_t>(std::ceil(rate * 0x1.0p53));
    mask_loop<T>(n, bits.data(), threshold, scale, mask.data());
    return mask;
}

template <class T>
VariableOf<T> dropout(const VariableOf<T>& x, double rate, bool training, Rng& rng) {
    check_rate("dropout", rate);
    if (!training || rate == 0) return x;
    const TensorOf<T>& xv = x.value();
    TensorOf<T> mask = dropout_mask<T>(x.shape(), rate, rng);
    TensorOf<T> y = TensorOf<T>::from_shape(xv.shape());
    multiply_loop<T>(xv.size(), xv.data(), mask.data(), y.data());
    // One mask shared by both backward functions (no copy).
    auto shared = std::make_shared<const TensorOf<T>>(std::move(mask));
    return record<T>(
        "dropout", std::move(y), {x},
        [mask = shared](const BackwardContext<T>& c) { return Grads<T>{c.grad * *mask}; },
        [mask = shared](const GraphBackwardContext<T>& c) {
            return VariableList<T>{c.grad * VariableOf<T>(*mask)};
        });
}

template <class T>
VariableOf<T> dropout(const VariableOf<T>& x, double rate, bool training) {
    return dropout(x, rate, training, global_rng());
}

#define XGRAD_INSTANTIATE_DROPOUT(T)                                          \
    template TensorOf<T> dropout_mask(const Shape&, double, Rng&);            \
    template VariableOf<T> dropout(const VariableOf<T>&, double, bool, Rng&); \
    template VariableOf<T> dropout(const VariableOf<T>&, double, bool);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_DROPOUT)

}  // namespace xgrad
