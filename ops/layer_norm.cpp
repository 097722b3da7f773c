#include "ops/layer_norm.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <xtensor/xbuilder.hpp>

#include "framework/errors.h"
#include "framework/record.h"
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

// Mean and 1 / sqrt(variance + epsilon) of one row (two passes, double accumulators), or
// with `rms`, 0 and 1 / sqrt(mean(x^2) + epsilon).
template <class T>
std::pair<T, T> row_stats(const T* x, std::size_t n, double epsilon, bool rms) {
    double mu = 0;
    if (!rms) {
        for (std::size_t i = 0; i < n; ++i) mu += x[i];
        mu /= double(n);
    }
    double ss = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double d = double(x[i]) - mu;
        ss += d * d;
    }
    return {T(mu), T(1.0 / std::sqrt(ss / double(n) + epsilon))};
}

// Both ops in one: y = (x - mean) * rstd * gamma (+ beta), mean = 0 for rms_norm.
template <class T>
TensorOf<T> norm_forward(const TensorOf<T>& x, const T* gamma, const T* beta, double epsilon,
                         bool rms) {
    TensorOf<T> y = TensorOf<T>::from_shape(x.shape());
    const std::size_t n = x.shape()[x.dimension() - 1], rows = x.size() / n;
    for (std::size_t r = 0; r < rows; ++r) {
        const T* xr = x.data() + r * n;
        T* yr = y.data() + r * n;
        const auto [mu, rstd] = row_stats(xr, n, epsilon, rms);
        for (std::size_t i = 0; i < n; ++i) {
            yr[i] = (xr[i] - mu) * rstd * gamma[i] + (beta ? beta[i] : T(0));
        }
    }
    return y;
}

// With xhat = (x - mean) * rstd and dxhat = g * gamma, per row:
//   dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))   (no mean(dxhat) for rms)
//   dgamma = sum over rows of g * xhat, dbeta = sum over rows of g.
template <class T>
Grads<T> norm_backward(const BackwardContext<T>& c, double epsilon, bool rms) {
    const TensorOf<T>& x = c.input(0);
    const T* gamma = c.input(1).data();
    const std::size_t n = x.shape()[x.dimension() - 1], rows = x.size() / n;
    const bool with_beta = c.node.inputs.size() == 3;
    Grads<T> grads(c.node.inputs.size());
    TensorOf<T> dx = TensorOf<T>::from_shape(x.shape());
    TensorOf<T> dgamma = xt::zeros<T>({n});
    TensorOf<T> dbeta = xt::zeros<T>({n});
    std::vector<T> xhat(n);
    for (std::size_t r = 0; r < rows; ++r) {
        const T* xr = x.data() + r * n;
        const T* gr = c.grad.data() + r * n;
        const auto [mu, rstd] = row_stats(xr, n, epsilon, rms);
        T mean_d = 0, mean_dx = 0;
        for (std::size_t i = 0; i < n; ++i) {
            xhat[i] = (xr[i] - mu) * rstd;
            const T d = gr[i] * gamma[i];
            mean_d += d;
            mean_dx += d * xhat[i];
            dgamma.data()[i] += gr[i] * xhat[i];
            dbeta.data()[i] += gr[i];
        }
        mean_d = rms ? T(0) : mean_d / T(n);
        mean_dx /= T(n);
        T* dxr = dx.data() + r * n;
        for (std::size_t i = 0; i < n; ++i) {
            dxr[i] = rstd * (gr[i] * gamma[i] - mean_d - xhat[i] * mean_dx);
        }
    }
    grads[0] = std::move(dx);
    grads[1] = std::move(dgamma);
    if (with_beta) grads[2] = std::move(dbeta);
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

}  // namespace

template <class T>
VariableOf<T> layer_norm(const VariableOf<T>& x, const VariableOf<T>& gamma,
                         const VariableOf<T>& beta, double epsilon) {
    const Shape beta_shape = beta.shape();
    check_shapes("layer_norm", x.shape(), gamma.shape(), &beta_shape, epsilon);
    return record<T>(
        "layer_norm",
        norm_forward(x.value(), gamma.value().data(), beta.value().data(), epsilon, false),
        {x, gamma, beta},
        [epsilon](const BackwardContext<T>& c) { return norm_backward(c, epsilon, false); },
        [epsilon](const GraphBackwardContext<T>& c) {
            return norm_graph_backward(c, epsilon, false);
        });
}

template <class T>
VariableOf<T> rms_norm(const VariableOf<T>& x, const VariableOf<T>& gamma, double epsilon) {
    check_shapes("rms_norm", x.shape(), gamma.shape(), nullptr, epsilon);
    return record<T>(
        "rms_norm", norm_forward<T>(x.value(), gamma.value().data(), nullptr, epsilon, true),
        {x, gamma},
        [epsilon](const BackwardContext<T>& c) { return norm_backward(c, epsilon, true); },
        [epsilon](const GraphBackwardContext<T>& c) {
            return norm_graph_backward(c, epsilon, true);
        });
}

#define XGRAD_INSTANTIATE_LAYER_NORM(T)                                           \
    template VariableOf<T> layer_norm(const VariableOf<T>&, const VariableOf<T>&, \
                                      const VariableOf<T>&, double);              \
    template VariableOf<T> rms_norm(const VariableOf<T>&, const VariableOf<T>&, double);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_LAYER_NORM)

}  // namespace xgrad
