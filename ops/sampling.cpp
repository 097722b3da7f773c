#include "ops/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace xgrad {

namespace {

// (rows, classes) of a (classes,) or (rows, classes) tensor.
std::pair<std::size_t, std::size_t> rows_and_classes(const char* op, const Tensor& t) {
    if (t.dimension() == 1) return {1, t.shape()[0]};
    if (t.dimension() == 2) return {t.shape()[0], t.shape()[1]};
    throw std::invalid_argument(std::string(op) + ": expected shape (classes,) or (rows, " +
                                "classes), got " + format_shape_of(t));
}

// An index drawn with probability w[i] / total from w[0..n); total > 0.
std::int64_t draw(const double* w, std::size_t n, double total, Rng& rng) {
    const double u = std::uniform_real_distribution<double>(0.0, total)(rng);
    double acc = 0;
    std::size_t last = 0;  // the last class with weight, for rounding at the top end
    for (std::size_t i = 0; i < n; ++i) {
        if (w[i] <= 0) continue;
        acc += w[i];
        last = i;
        if (u < acc) return static_cast<std::int64_t>(i);
    }
    return static_cast<std::int64_t>(last);
}

}  // namespace

IndexTensor multinomial(const Tensor& weights, std::size_t num_samples, Rng& rng) {
    const auto [rows, classes] = rows_and_classes("multinomial", weights);
    IndexTensor out = IndexTensor::from_shape({rows, num_samples});
    std::vector<double> w(classes);
    for (std::size_t r = 0; r < rows; ++r) {
        double total = 0;
        for (std::size_t i = 0; i < classes; ++i) {
            const float v = weights.data()[r * classes + i];
            if (!(v >= 0) || !std::isfinite(v)) {
                throw std::invalid_argument(
                    "multinomial: weight " + std::to_string(v) + " of class " + std::to_string(i) +
                    " in row " + std::to_string(r) + " is not a finite non-negative number");
            }
            w[i] = v;
            total += v;
        }
        if (!(total > 0)) {
            throw std::invalid_argument("multinomial: the weights of row " + std::to_string(r) +
                                        " sum to 0, so no class can be drawn");
        }
        for (std::size_t s = 0; s < num_samples; ++s) {
            out(r, s) = draw(w.data(), classes, total, rng);
        }
    }
    if (weights.dimension() == 1) out.reshape({num_samples});
    return out;
}

IndexTensor sample_categorical(const Tensor& logits, const SamplingOptions& options, Rng& rng) {
    const auto [rows, classes] = rows_and_classes("sample_categorical", logits);
    if (!(options.temperature >= 0) || !std::isfinite(options.temperature)) {
        throw std::invalid_argument(
            "sample_categorical: temperature must be finite and >= 0, "
            "got " +
            std::to_string(options.temperature));
    }
    if (classes == 0) {
        throw std::invalid_argument("sample_categorical: no classes to draw from (shape " +
                                    format_shape_of(logits) + ")");
    }
    IndexTensor out = IndexTensor::from_shape({rows});
    std::vector<double> w(classes), sorted(classes);
    for (std::size_t r = 0; r < rows; ++r) {
        const float* z = logits.data() + r * classes;
        for (std::size_t i = 0; i < classes; ++i) {
            if (std::isnan(z[i])) {
                throw std::invalid_argument("sample_categorical: logit " + std::to_string(i) +
                                            " of row " + std::to_string(r) + " is NaN");
            }
        }
        const double top = *std::max_element(z, z + classes);
        if (top == -std::numeric_limits<double>::infinity()) {
            throw std::invalid_argument("sample_categorical: every logit of row " +
                                        std::to_string(r) + " is -inf, so no class can be drawn");
        }
        if (options.temperature == 0) {  // greedy: the first most likely class
            out(r) = static_cast<std::int64_t>(std::find(z, z + classes, top) - z);
            continue;
        }
        // Logits below the k-th largest get no weight.
        double floor = -std::numeric_limits<double>::infinity();
        if (options.top_k > 0 && options.top_k < classes) {
            sorted.assign(z, z + classes);
            std::nth_element(sorted.begin(), sorted.begin() + (options.top_k - 1), sorted.end(),
                             std::greater<>());
            floor = sorted[options.top_k - 1];
        }
        double total = 0;
        for (std::size_t i = 0; i < classes; ++i) {
            // An infinite top logit takes all the weight (among the classes that share it).
            const double scaled = std::isinf(top) ? (z[i] == top ? 0.0 : -INFINITY)
                                                  : (z[i] - top) / options.temperature;
            w[i] = z[i] < floor ? 0.0 : std::exp(scaled);
            total += w[i];
        }
        out(r) = draw(w.data(), classes, total, rng);
    }
    if (logits.dimension() == 1) out.reshape(std::vector<std::size_t>{});
    return out;
}

}  // namespace xgrad
