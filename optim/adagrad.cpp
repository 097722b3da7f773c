#include "optim/adagrad.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace xgrad::optim {

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
    const std::size_t n = value.size();
    float* p = value.data();
    const float* g = grad.data();
    float* acc = slot(index, 0).data();
    const auto lr = static_cast<float>(learning_rate());
    const auto eps = static_cast<float>(options_.epsilon);
    for (std::size_t i = 0; i < n; ++i) {
        acc[i] += g[i] * g[i];
        p[i] -= lr * g[i] / std::sqrt(acc[i] + eps);
    }
}

}  // namespace xgrad::optim
