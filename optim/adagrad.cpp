#include "optim/adagrad.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "framework/vectorize.h"

namespace xgrad::optim {

namespace {

XGRAD_VECTOR_CLONES void adagrad_loop(std::size_t n, float* __restrict__ p,
                                      const float* __restrict__ g, float* __restrict__ acc,
                                      float lr, float eps) {
    for (std::size_t i = 0; i < n; ++i) {
        acc[i] += g[i] * g[i];
        p[i] -= lr * g[i] / std::sqrt(acc[i] + eps);
    }
}

}  // namespace

Adagrad::Adagrad(std::vector<Variable> params, Options options)
    : Optimizer(std::move(params), options.learning_rate), options_(options) {
    if (!(std::isfinite(options.initial_accumulator_value) &&
          options.initial_accumulator_value >= 0)) {
        throw std::invalid_argument(
            "Adagrad: initial_accumulator_value must be finite and >= 0, "
            "got " +
            std::to_string(options.initial_accumulator_value));
    }
    if (!(std::isfinite(options.epsilon) && options.epsilon >= 0)) {
        throw std::invalid_argument("Adagrad: epsilon must be >= 0, got " +
                                    std::to_string(options.epsilon));
    }
}

void Adagrad::update(std::size_t index, Tensor& value, const Tensor& grad) {
    adagrad_loop(value.size(), value.data(), grad.data(), slot(index, 0).data(),
                 static_cast<float>(learning_rate()), static_cast<float>(options_.epsilon));
}

}  // namespace xgrad::optim
