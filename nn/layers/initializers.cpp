#include "nn/layers/initializers.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

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

// Keras' Orthogonal (gain 1): the Q of the QR decomposition of a normal (max, min) matrix,
// with R's diagonal made positive (which Gram-Schmidt's R has by construction), transposed
// when the weight has fewer rows than columns: rows or columns orthonormal.
Tensor orthogonal(const Shape& shape, Rng& rng) {
    if (shape.size() < 2) {
        throw std::invalid_argument(
            "the orthogonal initializer needs a shape of rank 2 or "
            "more, got rank " +
            std::to_string(shape.size()));
    }
    const std::size_t cols = shape.back(),
                      rows = shape_size(shape) / std::max<std::size_t>(cols, 1);
    const std::size_t m = std::max(rows, cols), n = std::min(rows, cols);
    std::normal_distribution<double> dist(0.0, 1.0);
    std::vector<double> a(m * n);  // column j is a[j * m .. (j + 1) * m)
    for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t j = 0; j < n; ++j) a[j * m + i] = dist(rng);  // row-major draw order
    }
    for (std::size_t j = 0; j < n; ++j) {  // modified Gram-Schmidt
        double* qj = a.data() + j * m;
        for (std::size_t k = 0; k < j; ++k) {
            const double* qk = a.data() + k * m;
            double dot = 0;
            for (std::size_t i = 0; i < m; ++i) dot += qk[i] * qj[i];
            for (std::size_t i = 0; i < m; ++i) qj[i] -= dot * qk[i];
        }
        double norm = 0;
        for (std::size_t i = 0; i < m; ++i) norm += qj[i] * qj[i];
        norm = std::sqrt(norm);
        for (std::size_t i = 0; i < m; ++i) qj[i] /= norm;
    }
    Tensor t = Tensor::from_shape(shape);
    for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t j = 0; j < n; ++j) {
            // q is (m, n); the weight is q itself (rows >= cols) or its transpose.
            const std::size_t at = rows >= cols ? i * n + j : j * m + i;
            t.data()[at] = static_cast<float>(a[j * m + i]);
        }
    }
    return t;
}

}  // namespace

const std::vector<std::string>& initializer_names() {
    static const std::vector<std::string> names = {
        "glorot_uniform", "glorot_normal", "he_uniform",     "he_normal",
        "lecun_uniform",  "lecun_normal",  "random_uniform", "random_normal",
        "zeros",          "ones",          "orthogonal"};
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
    if (name == "orthogonal") return orthogonal(shape, rng);

    double scale = 1.0, n = static_cast<double>(fan_in);
    if (name.starts_with("glorot")) n = (static_cast<double>(fan_in) + fan_out) / 2.0;
    if (name.starts_with("he")) scale = 2.0;
    n = std::max(n, 1.0);
    if (name.ends_with("uniform")) return uniform(shape, std::sqrt(3.0 * scale / n), rng);
    return truncated_normal(shape, std::sqrt(scale / n) / truncation_stddev, rng);
}

}  // namespace xgrad::nn
