#include "ops/layer_norm.h"

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <xtensor/xbuilder.hpp>

#include "framework/errors.h"
#include "framework/record.h"
#include "framework/vectorize.h"
#include "ops/broadcast.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"

namespace xgrad {

namespace {

// Checks x (..., n) against the per-feature parameters; returns n.
std::size_t check_shapes(const char* op, const Shape& x, const Shape& gamma, const Shape* beta,
                         double epsilon) {
    if (x.empty() || x.back() == 0) {
        throw ShapeError(op, "expected x of shape (..., features) with at least one feature, got " +
                                 format_shape(x));
    }
    const Shape want{x.back()};
    auto check = [&](const char* what, const Shape& s) {
        if (s != want) {
            throw ShapeError(op, std::string("x ") + format_shape(x) + " needs " + what +
                                     " of shape " + format_shape(want) + ", got " +
                                     format_shape(s));
        }
    };
    check("gamma", gamma);
    if (beta) check("beta", *beta);
    if (!(epsilon > 0)) {
        throw std::invalid_argument(
            fmt::format("{}: epsilon must be positive, got {}", op, epsilon));
    }
    return x.back();
}

// The sum of f(i) for i < n in kLanes partial sums, so that the loop vectorises (one
// accumulator is a dependency chain the compiler may not reorder); they are added at the end.
// Always inlined, so that it is compiled for the caller's vector clone.
constexpr std::size_t kLanes = 16;

template <class A, class F>
[[gnu::always_inline]] inline A lane_sum(std::size_t n, F f) {
    A part[kLanes] = {};
    std::size_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
        for (std::size_t l = 0; l < kLanes; ++l) part[l] += f(i + l);
    }
    A total = 0;
    for (; i < n; ++i) total += f(i);
    for (std::size_t l = 0; l < kLanes; ++l) total += part[l];
    return total;
}

// One row of n: its mean (0 with `rms`) and 1 / sqrt(variance + epsilon) (of mean(x^2) with
// `rms`), two passes with double accumulators, into stats[0..1]; then
// y = (x - mean) * rstd * gamma (+ beta).
template <class T>
XGRAD_VECTOR_CLONES void forward_row(std::size_t n, const T* __restrict__ x,
                                     const T* __restrict__ gamma, const T* __restrict__ beta,
                                     double epsilon, bool rms, T* __restrict__ y,
                                     T* __restrict__ stats) {
    const double mu = rms ? 0.0 : lane_sum<double>(n, [x](std::size_t i) { return x[i]; }) / n;
    const double ss = lane_sum<double>(n, [x, mu](std::size_t i) {
        const double d = double(x[i]) - mu;
        return d * d;
    });
    const T m = T(mu), rstd = T(1.0 / std::sqrt(ss / double(n) + epsilon));
    for (std::size_t i = 0; i < n; ++i)
        y[i] = (x[i] - m) * rstd * gamma[i] + (beta ? beta[i] : T(0));
    stats[0] = m;
    stats[1] = rstd;
}

// One row's backward from its stats (mean, rstd). With xhat = (x - mean) * rstd and
// d = g * gamma: dx = rstd * (d - mean(d) - xhat * mean(d * xhat)) (no mean(d) for rms);
// adds g * xhat to dgamma and g to dbeta.
template <class T>
XGRAD_VECTOR_CLONES void backward_row(std::size_t n, const T* __restrict__ x,
                                      const T* __restrict__ g, const T* __restrict__ gamma,
                                      const T* __restrict__ stats, bool rms, T* __restrict__ dx,
                                      T* __restrict__ dgamma, T* __restrict__ dbeta) {
    const T mu = stats[0], rstd = stats[1];
    const T mean_d =
        rms ? T(0) : lane_sum<T>(n, [g, gamma](std::size_t i) { return g[i] * gamma[i]; }) / T(n);
    const T mean_dx =
        lane_sum<T>(n, [=](std::size_t i) { return g[i] * gamma[i] * ((x[i] - mu) * rstd); }) /
        T(n);
    for (std::size_t i = 0; i < n; ++i) {
        const T xhat = (x[i] - mu) * rstd;
        dgamma[i] += g[i] * xhat;
        dbeta[i] += g[i];
        dx[i] = rstd * (g[i] * gamma[i] - mean_d - xhat * mean_dx);
    }
}

// Both ops in one: y = (x - mean) * rstd * gamma (+ beta), mean = 0 for rms_norm; each row's
// mean and rstd go into `stats` (rows, 2) for the backward.
template <class T>
TensorOf<T> norm_forward(const TensorOf<T>& x, const T* gamma, const T* beta, double epsilon,
                         bool rms, std::vector<T>& stats) {
    TensorOf<T> y = TensorOf<T>::from_shape(x.shape());
    const std::size_t n = x.shape()[x.dimension() - 1], rows = x.size() / n;
    stats.resize(2 * rows);
    for (std::size_t r = 0; r < rows; ++r) {
        forward_row<T>(n, x.data() + r * n, gamma, beta, epsilon, rms, y.data() + r * n,
                       stats.data() + 2 * r);
    }
    return y;
}

// dx per row as above; dgamma = sum over rows of g * xhat, dbeta = sum over rows of g.
template <class T>
Grads<T> norm_backward(const BackwardContext<T>& c, const std::vector<T>& stats, bool rms) {
    const TensorOf<T>& x = c.input(0);
    const std::size_t n = x.shape()[x.dimension() - 1], rows = x.size() / n;
    Grads<T> grads(c.node.inputs.size());
    TensorOf<T> dx = TensorOf<T>::from_shape(x.shape());
    TensorOf<T> dgamma = xt::zeros<T>({n});
    TensorOf<T> dbeta = xt::zeros<T>({n});
    for (std::size_t r = 0; r < rows; ++r) {
        backward_row<T>(n, x.data() + r * n, c.grad.data() + r * n, c.input(1).data(),
                        stats.data() + 2 * r, rms, dx.data() + r * n, dgamma.data(), dbeta.data());
    }
    grads[0] = std::move(dx);
    grads[1] = std::move(dgamma);
    if (grads.size() == 3) grads[2] = std::move(dbeta);
    return grads;
}

// The same gradients with differentiable ops, for gradients of gradients.
template <class T>
VariableList<T> norm_graph_backward(const GraphBackwardContext<T>& c, double epsilon, bool rms) {
    const VariableOf<T> x = c.input(0), gamma = c.input(1);
    const VariableOf<T> xc = rms ? x : x - mean(x, {-1}, true);
    const VariableOf<T> rstd = pow(mean(xc * xc, {-1}, true) + T(epsilon), -0.5);
    const VariableOf<T> xhat = xc * rstd;
    const VariableOf<T> d = c.grad * gamma;
    VariableOf<T> centred = d - xhat * mean(d * xhat, {-1}, true);
    if (!rms) centred = centred - mean(d, {-1}, true);
    VariableList<T> grads(c.node->inputs.size());
    grads[0] = rstd * centred;
    grads[1] = sum_to(c.grad * xhat, gamma.shape());
    if (grads.size() == 3) grads[2] = sum_to(c.grad, c.input(2).shape());
    return grads;
}

// Both ops: the forward, with each row's statistics kept for the fused backward.
template <class T>
VariableOf<T> norm(const char* op, const VariableOf<T>& x, const VariableOf<T>& gamma,
                   const VariableOf<T>* beta, double epsilon) {
    const bool rms = beta == nullptr;
    auto stats = std::make_shared<std::vector<T>>();
    TensorOf<T> y = norm_forward(x.value(), gamma.value().data(),
                                 rms ? nullptr : beta->value().data(), epsilon, rms, *stats);
    VariableList<T> inputs{x, gamma};
    if (!rms) inputs.push_back(*beta);
    return record<T>(
        op, std::move(y), inputs,
        [stats, rms](const BackwardContext<T>& c) { return norm_backward(c, *stats, rms); },
        [epsilon, rms](const GraphBackwardContext<T>& c) {
            return norm_graph_backward(c, epsilon, rms);
        });
}

}  // namespace

template <class T>
VariableOf<T> layer_norm(const VariableOf<T>& x, const VariableOf<T>& gamma,
                         const VariableOf<T>& beta, double epsilon) {
    const Shape beta_shape = beta.shape();
    check_shapes("layer_norm", x.shape(), gamma.shape(), &beta_shape, epsilon);
    return norm("layer_norm", x, gamma, &beta, epsilon);
}

template <class T>
VariableOf<T> rms_norm(const VariableOf<T>& x, const VariableOf<T>& gamma, double epsilon) {
    check_shapes("rms_norm", x.shape(), gamma.shape(), nullptr, epsilon);
    return norm<T>("rms_norm", x, gamma, nullptr, epsilon);
}

#define XGRAD_INSTANTIATE_LAYER_NORM(T)                                           \
    template VariableOf<T> layer_norm(const VariableOf<T>&, const VariableOf<T>&, \
                                      const VariableOf<T>&, double);              \
    template VariableOf<T> rms_norm(const VariableOf<T>&, const VariableOf<T>&, double);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_LAYER_NORM)

}  // namespace xgrad
