#include "optim/sgd.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "framework/vectorize.h"

namespace xgrad::optim {

namespace {

XGRAD_VECTOR_CLONES void sgd_loop(std::size_t n, float* __restrict__ p, const float* __restrict__ g,
                                  float lr, float wd) {
    for (std::size_t i = 0; i < n; ++i) p[i] -= lr * (g[i] + wd * p[i]);
}

XGRAD_VECTOR_CLONES void momentum_loop(std::size_t n, float* __restrict__ p,
                                       const float* __restrict__ g, float* __restrict__ m, float lr,
                                       float wd, float mu) {
    for (std::size_t i = 0; i < n; ++i) {
        m[i] = mu * m[i] - lr * (g[i] + wd * p[i]);
        p[i] += m[i];
    }
}

XGRAD_VECTOR_CLONES void nesterov_loop(std::size_t n, float* __restrict__ p,
                                       const float* __restrict__ g, float* __restrict__ m, float lr,
                                       float wd, float mu) {
    for (std::size_t i = 0; i < n; ++i) {
        const float step = -lr * (g[i] + wd * p[i]);
        m[i] = mu * m[i] + step;
        p[i] += mu * m[i] + step;
    }
}

}  // namespace

SGD::SGD(std::vector<Variable> params, Options options)
    : Optimizer(std::move(params), options.learning_rate), options_(options) {
    if (!(options.momentum >= 0 && options.momentum <= 1)) {
        throw std::invalid_argument("SGD: momentum must be in [0, 1], got " +
                                    std::to_string(options.momentum));
    }
    if (!(std::isfinite(options.weight_decay) && options.weight_decay >= 0)) {
        throw std::invalid_argument("SGD: weight_decay must be finite and >= 0, got " +
                                    std::to_string(options.weight_decay));
    }
}

std::vector<std::string> SGD::slot_names() const {
    if (options_.momentum == 0) return {};
    return {"momentum"};
}

void SGD::update(std::size_t index, Tensor& value, const Tensor& grad) {
    const auto lr = static_cast<float>(learning_rate());
    const auto wd = static_cast<float>(options_.weight_decay);
    const auto mu = static_cast<float>(options_.momentum);
    if (options_.momentum == 0) {
        sgd_loop(value.size(), value.data(), grad.data(), lr, wd);
    } else if (options_.nesterov) {
        nesterov_loop(value.size(), value.data(), grad.data(), slot(index, 0).data(), lr, wd, mu);
    } else {
        momentum_loop(value.size(), value.data(), grad.data(), slot(index, 0).data(), lr, wd, mu);
    }
}

}  // namespace xgrad::optim
