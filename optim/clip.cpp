#include "optim/clip.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace xgrad::optim {

double clip_grad_norm(const std::vector<Variable>& params, double max_norm) {
    if (!(max_norm > 0 && std::isfinite(max_norm))) {
        throw std::invalid_argument("clip_grad_norm: max_norm must be finite and > 0, got " +
                                    std::to_string(max_norm));
    }
    // Summed in double: 80,000 float squares would lose digits in float.
    double sum = 0;
    for (const auto& p : params) {
        if (!p.has_grad()) continue;
        const Tensor& g = p.grad();
        const float* d = g.data();
        for (std::size_t i = 0; i < g.size(); ++i) sum += static_cast<double>(d[i]) * d[i];
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
