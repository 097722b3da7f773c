#include "optim/rmsprop.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace xgrad::optim {

RMSprop::RMSprop(std::vector<Variable> params, Options options)
    : Optimizer(std::move(params), options.learning_rate), options_(options) {
    auto fail = [](const std::string& what, double value) {
        throw std::invalid_argument("RMSprop: " + what + ", got " + std::to_string(value));
    };
    if (!(options.rho >= 0 && options.rho < 1)) fail("rho must be in [0, 1)", options.rho);
    if (!(options.momentum >= 0 && options.momentum < 1)) {
        fail("momentum must be in [0, 1)", options.momentum);
    }
    if (!(std::isfinite(options.epsilon) && options.epsilon >= 0)) {
        fail("epsilon must be >= 0", options.epsilon);
    }
}

std::vector<std::string> RMSprop::slot_names() const {
    std::vector<std::string> names = {"rms"};
    if (options_.momentum > 0) names.push_back("momentum");
    if (options_.centered) names.push_back("mg");
    return names;
}

void RMSprop::update(std::size_t index, Tensor& value, const Tensor& grad) {
    const std::size_t n = value.size();
    float* p = value.data();
    const float* g = grad.data();
    float* rms = slot(index, 0).data();
    const auto rho = static_cast<float>(options_.rho);
    const auto one_minus_rho = static_cast<float>(1 - options_.rho);
    const auto lr = static_cast<float>(learning_rate());
    const auto eps = static_cast<float>(options_.epsilon);

    // The increment lr * g / sqrt(denom) goes into p (or the momentum buffer) in one pass.
    // The three variants are separate loops so each stays a plain vectorisable loop.
    float* mom = options_.momentum > 0 ? slot(index, 1).data() : nullptr;
    float* mg = options_.centered ? slot(index, mom ? 2 : 1).data() : nullptr;
    const auto mu = static_cast<float>(options_.momentum);
    for (std::size_t i = 0; i < n; ++i) rms[i] = rho * rms[i] + one_minus_rho * g[i] * g[i];
    if (mg) {
        for (std::size_t i = 0; i < n; ++i) mg[i] = rho * mg[i] + one_minus_rho * g[i];
    }
    if (mom && mg) {
        for (std::size_t i = 0; i < n; ++i) {
            mom[i] = mu * mom[i] + lr * g[i] / std::sqrt(rms[i] - mg[i] * mg[i] + eps);
            p[i] -= mom[i];
        }
    } else if (mom) {
        for (std::size_t i = 0; i < n; ++i) {
            mom[i] = mu * mom[i] + lr * g[i] / std::sqrt(rms[i] + eps);
            p[i] -= mom[i];
        }
    } else if (mg) {
        for (std::size_t i = 0; i < n; ++i) {
            p[i] -= lr * g[i] / std::sqrt(rms[i] - mg[i] * mg[i] + eps);
        }
    } else {
        for (std::size_t i = 0; i < n; ++i) p[i] -= lr * g[i] / std::sqrt(rms[i] + eps);
    }
}

}  // namespace xgrad::optim
