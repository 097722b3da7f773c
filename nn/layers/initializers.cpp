#include "nn/layers/initializers.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include <xtensor/xbuilder.hpp>

#include "framework/names.h"

namespace xgrad::nn {

namespace {

// Keras' correction: the stddev of a unit normal truncated to (-2, 2).
constexpr double truncation_stddev = 0.87962566103423978;

Tensor uniform(const Shape& shape, double limit, Rng& rng) {
    Tensor t = Tensor::from_shape(shape);
    std::uniform_real_distribution<double> dist(-limit, limit);
    for (auto& v : t) v = static_cast<float>(dist(rng));
    return t;
}

Tensor truncated_normal(const Shape& shape, double stddev, Rng& rng) {
    Tensor t = Tensor::from_shape(shape);
    std::normal_distribution<double> dist(0.0, 1.0);
    for (auto& v : t) {
        double z = dist(rng);
        while (std::abs(z) > 2.0) z = dist(rng);  // redraw outside two standard deviations
        v = static_cast<float>(z * stddev);
    }
    return t;
}

Tensor normal(const Shape& shape, double stddev, Rng& rng) {
    Tensor t = Tensor::from_shape(shape);
    std::normal_distribution<double> dist(0.0, stddev);
    for (auto& v : t) v = static_cast<float>(dist(rng));
    return t;
}

}  // namespace

const std::vector<std::string>& initializer_names() {
    static const std::vector<std::string> names = {
        "glorot_uniform", "glorot_normal",  "he_uniform",    "he_normal", "lecun_uniform",
        "lecun_normal",   "random_uniform", "random_normal", "zeros",     "ones"};
    return names;
}

void check_initializer_name(const std::string& name) {
    const auto& names = initializer_names();
    if (std::find(names.begin(), names.end(), name) != names.end()) return;
    throw std::invalid_argument("unknown initializer '" + name +
                                "'; valid names: " + join_names(names));
}

Tensor initialize(const std::string& name, const Shape& shape, std::size_t fan_in,
                  std::size_t fan_out, Rng& rng) {
    check_initializer_name(name);
    if (name == "zeros") return xt::zeros<float>(shape);
    if (name == "ones") return xt::ones<float>(shape);
    if (name == "random_uniform") return uniform(shape, 0.05, rng);
    if (name == "random_normal") return normal(shape, 0.05, rng);

    double scale = 1.0, n = static_cast<double>(fan_in);
    if (name.starts_with("glorot")) n = (static_cast<double>(fan_in) + fan_out) / 2.0;
    if (name.starts_with("he")) scale = 2.0;
    n = std::max(n, 1.0);
    if (name.ends_with("uniform")) return uniform(shape, std::sqrt(3.0 * scale / n), rng);
    return truncated_normal(shape, std::sqrt(scale / n) / truncation_stddev, rng);
}

}  // namespace xgrad::nn
