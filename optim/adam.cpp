#include "optim/adam.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "framework/vectorize.h"

namespace xgrad::optim {

namespace {

void check_options(const char* who, const AdamOptions& o) {
    auto fail = [who](const std::string& what, double value) {
        throw std::invalid_argument(std::string(who) + ": " + what + ", got " +
                                    std::to_string(value));
    };
    if (!(o.beta1 >= 0 && o.beta1 < 1)) fail("beta1 must be in [0, 1)", o.beta1);
    if (!(o.beta2 >= 0 && o.beta2 < 1)) fail("beta2 must be in [0, 1)", o.beta2);
    if (!(std::isfinite(o.epsilon) && o.epsilon >= 0)) fail("epsilon must be >= 0", o.epsilon);
    if (!(std::isfinite(o.weight_decay) && o.weight_decay >= 0)) {
        fail("weight_decay must be finite and >= 0", o.weight_decay);
    }
}

struct Coefficients {
    float one_minus_b1, one_minus_b2, step, eps;
    float l2;      // coupled weight decay (Adam), added to the gradient
    float shrink;  // decoupled weight decay (AdamW): lr * weight_decay
};

// One fused pass over a parameter: a plain contiguous loop the compiler vectorises.
template <bool kAmsgrad>
XGRAD_VECTOR_CLONES void adam_loop(std::size_t n, float* __restrict__ p,
                                   const float* __restrict__ g, float* __restrict__ m,
                                   float* __restrict__ v, float* __restrict__ v_hat,
                                   const Coefficients c) {
    for (std::size_t i = 0; i < n; ++i) {
        float pi = p[i];
        const float gi = g[i] + c.l2 * pi;
        m[i] += (gi - m[i]) * c.one_minus_b1;
        v[i] += (gi * gi - v[i]) * c.one_minus_b2;
        float denom = v[i];
        if constexpr (kAmsgrad) {
            // AMSGrad divides by the running maximum of v instead of v itself.
            v_hat[i] = std::max(v_hat[i], v[i]);
            denom = v_hat[i];
        }
        pi -= pi * c.shrink;  // Keras 3 applies decoupled decay before the update
        p[i] = pi - c.step * m[i] / (std::sqrt(denom) + c.eps);
    }
}

AdamOptions as_adam(const AdamWOptions& o) {
    return {o.learning_rate, o.beta1, o.beta2, o.epsilon, o.amsgrad, o.weight_decay};
}

}  // namespace

Adam::Adam(std::vector<Variable> params, Options options)
    : Adam(std::move(params), options, false) {}

Adam::Adam(std::vector<Variable> params, Options options, bool decoupled)
    : Optimizer(std::move(params), options.learning_rate),
      options_(options),
      decoupled_(decoupled) {
    check_options(decoupled ? "AdamW" : "Adam", options);
}

std::vector<std::string> Adam::slot_names() const {
    if (options_.amsgrad) return {"m", "v", "v_hat"};
    return {"m", "v"};
}

void Adam::prepare_step(std::int64_t t) {
    // The only powers of the step: once per step, in double, outside the element loops.
    const double b1t = std::pow(options_.beta1, static_cast<double>(t));
    const double b2t = std::pow(options_.beta2, static_cast<double>(t));
    step_size_ = learning_rate() * std::sqrt(1 - b2t) / (1 - b1t);
}

void Adam::update(std::size_t index, Tensor& value, const Tensor& grad) {
    const auto wd = static_cast<float>(options_.weight_decay);
    Coefficients c;
    c.one_minus_b1 = static_cast<float>(1 - options_.beta1);
    c.one_minus_b2 = static_cast<float>(1 - options_.beta2);
    c.step = static_cast<float>(step_size_);
    c.eps = static_cast<float>(options_.epsilon);
    c.l2 = decoupled_ ? 0.0f : wd;
    c.shrink = decoupled_ ? static_cast<float>(learning_rate() * options_.weight_decay) : 0.0f;
    float* m = slot(index, 0).data();
    float* v = slot(index, 1).data();
    if (options_.amsgrad) {
        adam_loop<true>(value.size(), value.data(), grad.data(), m, v, slot(index, 2).data(), c);
    } else {
        adam_loop<false>(value.size(), value.data(), grad.data(), m, v, nullptr, c);
    }
}

AdamW::AdamW(std::vector<Variable> params, Options options)
    : Adam(std::move(params), as_adam(options), true) {}

}  // namespace xgrad::optim
