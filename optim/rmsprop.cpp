#include "optim/rmsprop.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "framework/vectorize.h"

namespace xgrad::optim {

namespace {

struct Coefficients {
    float rho, one_minus_rho, lr, eps, mu;
};

// One fused pass per parameter; the variants are compiled separately so that each stays a
// plain loop without branches.
template <bool kMomentum, bool kCentered>
XGRAD_VECTOR_CLONES void rmsprop_loop(std::size_t n, float* __restrict__ p,
                                      const float* __restrict__ g, float* __restrict__ rms,
                                      float* __restrict__ mom, float* __restrict__ mg,
                                      const Coefficients c) {
    for (std::size_t i = 0; i < n; ++i) {
        rms[i] = c.rho * rms[i] + c.one_minus_rho * g[i] * g[i];
        float denom = rms[i] + c.eps;
        if constexpr (kCentered) {
            mg[i] = c.rho * mg[i] + c.one_minus_rho * g[i];
            denom = rms[i] - mg[i] * mg[i] + c.eps;
        }
        const float inc = c.lr * g[i] / std::sqrt(denom);
        if constexpr (kMomentum) {
            mom[i] = c.mu * mom[i] + inc;
            p[i] -= mom[i];
        } else {
            p[i] -= inc;
        }
    }
}

}  // namespace

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
    Coefficients c;
    c.rho = static_cast<float>(options_.rho);
    c.one_minus_rho = static_cast<float>(1 - options_.rho);
    c.lr = static_cast<float>(learning_rate());
    c.eps = static_cast<float>(options_.epsilon);
    c.mu = static_cast<float>(options_.momentum);
    float* rms = slot(index, 0).data();
    float* mom = options_.momentum > 0 ? slot(index, 1).data() : nullptr;
    float* mg = options_.centered ? slot(index, mom ? 2 : 1).data() : nullptr;
    const std::size_t n = value.size();
    float* p = value.data();
    const float* g = grad.data();
    if (mom && mg) {
        rmsprop_loop<true, true>(n, p, g, rms, mom, mg, c);
    } else if (mom) {
        rmsprop_loop<true, false>(n, p, g, rms, mom, mg, c);
    } else if (mg) {
        rmsprop_loop<false, true>(n, p, g, rms, mom, mg, c);
    } else {
        rmsprop_loop<false, false>(n, p, g, rms, mom, mg, c);
    }
}

}  // namespace xgrad::optim
