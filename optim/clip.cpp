#include "optim/clip.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "framework/vectorize.h"

namespace xgrad::optim {

namespace {

// In double (80,000 float squares would lose digits in float), with eight fixed partial sums
// so the loop vectorises yet the result does not depend on the machine.
XGRAD_VECTOR_CLONES double sum_of_squares(const float* __restrict__ d, std::size_t n) {
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (std::size_t k = 0; k < 8; ++k) acc[k] += static_cast<double>(d[i + k]) * d[i + k];
    }
    for (; i < n; ++i) acc[0] += static_cast<double>(d[i]) * d[i];
    double sum = 0;
    for (double a : acc) sum += a;
    return sum;
}

}  // namespace

double clip_grad_norm(const std::vector<Variable>& params, double max_norm) {
    if (!(max_norm > 0 && std::isfinite(max_norm))) {
        throw std::invalid_argument("clip_grad_norm: max_norm must be finite and > 0, got " +
                                    std::to_string(max_norm));
    }
    double sum = 0;
    for (const auto& p : params) {
        if (p.has_grad()) sum += sum_of_squares(p.grad().data(), p.grad().size());
    }
    const double norm = std::sqrt(sum);
    if (!std::isfinite(norm) || norm <= max_norm) return norm;
    const auto scale = static_cast<float>(max_norm / norm);
    for (const auto& p : params) {
        if (!p.has_grad()) continue;
        // grad() is read-only for users; clipping edits the stored gradient in place.
        Tensor& g = p.node()->grad;
        float* d = g.data();
        for (std::size_t i = 0; i < g.size(); ++i) d[i] *= scale;
    }
    return norm;
}

void clip_grad_value(const std::vector<Variable>& params, double clip) {
    if (!(clip > 0)) {
        throw std::invalid_argument("clip_grad_value: clip must be > 0, got " +
                                    std::to_string(clip));
    }
    const auto c = static_cast<float>(clip);
    for (const auto& p : params) {
        if (!p.has_grad()) continue;
        Tensor& g = p.node()->grad;
        float* d = g.data();
        for (std::size_t i = 0; i < g.size(); ++i) d[i] = std::clamp(d[i], -c, c);
    }
}

}  // namespace xgrad::optim
