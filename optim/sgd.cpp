#include "optim/sgd.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace xgrad::optim {

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
    const std::size_t n = value.size();
    float* p = value.data();
    const float* g = grad.data();
    const auto lr = static_cast<float>(learning_rate());
    const auto wd = static_cast<float>(options_.weight_decay);
    if (options_.momentum == 0) {
        for (std::size_t i = 0; i < n; ++i) p[i] -= lr * (g[i] + wd * p[i]);
        return;
    }
    float* m = slot(index, 0).data();
    const auto mu = static_cast<float>(options_.momentum);
    if (options_.nesterov) {
        for (std::size_t i = 0; i < n; ++i) {
            const float step = -lr * (g[i] + wd * p[i]);
            m[i] = mu * m[i] + step;
            p[i] += mu * m[i] + step;
        }
    } else {
        for (std::size_t i = 0; i < n; ++i) {
            m[i] = mu * m[i] - lr * (g[i] + wd * p[i]);
            p[i] += m[i];
        }
    }
}

}  // namespace xgrad::optim
