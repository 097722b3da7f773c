#include "ops/batch_norm.h"

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <xtensor/xbuilder.hpp>

#include "framework/errors.h"
#include "framework/record.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"

namespace xgrad {

namespace {

// Checks the shapes; returns the number of channels (the last dimension of x).
std::size_t check_shapes(const char* op, const Shape& x, const Shape& gamma, const Shape& beta,
                         const Shape* mean = nullptr, const Shape* variance = nullptr) {
    if (x.size() < 2) {
        throw ShapeError(
            op, "expected x of rank 2 or more (batch, ..., channels), got " + format_shape(x));
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
    check("beta", beta);
    if (mean) check("mean", *mean);
    if (variance) check("variance", *variance);
    return x.back();
}

// y = x * scale + shift per channel.
template <class T>
void scale_shift(const T* x, std::size_t rows, std::size_t c, const T* scale, const T* shift,
                 T* y) {
    for (std::size_t r = 0; r < rows; ++r, x += c, y += c) {
        for (std::size_t k = 0; k < c; ++k) y[k] = x[k] * scale[k] + shift[k];
    }
}

// Every axis but the channels (the last): what batch normalisation averages over.
Axes all_but_last(std::size_t rank) {
    Axes axes;
    for (std::size_t a = 0; a + 1 < rank; ++a) axes.push_back(static_cast<int>(a));
    return axes;
}

// A per-channel constant (c,) as a Variable.
template <class T>
VariableOf<T> channel_constant(const std::vector<T>& v) {
    TensorOf<T> t = TensorOf<T>::from_shape({v.size()});
    std::copy(v.begin(), v.end(), t.data());
    return VariableOf<T>(std::move(t));
}

}  // namespace

template <class T>
VariableOf<T> batch_norm(const VariableOf<T>& x, const VariableOf<T>& gamma,
                         const VariableOf<T>& beta, double epsilon, TensorOf<T>* batch_mean,
                         TensorOf<T>* batch_variance) {
    const TensorOf<T>& xv = x.value();
    const std::size_t c = check_shapes("batch_norm", x.shape(), gamma.shape(), beta.shape());
    const std::size_t rows = xv.size() / (c == 0 ? 1 : c);
    if (rows == 0)
        throw ShapeError("batch_norm", "cannot normalise an empty batch " + format_shape_of(xv));
    // Two passes with double accumulators: a (32, 26, 26, 32) batch sums 21,632 values per
    // channel, too many for a float running sum.
    std::vector<double> mean(c, 0.0), var(c, 0.0);
    const T* xp = xv.data();
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t k = 0; k < c; ++k) mean[k] += xp[r * c + k];
    }
    for (auto& m : mean) m /= double(rows);
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t k = 0; k < c; ++k) {
            const double d = xp[r * c + k] - mean[k];
            var[k] += d * d;
        }
    }
    for (auto& v : var) v /= double(rows);
    // Per channel: inv_std, and the scale and shift that make y = x * scale + shift.
    auto mean_t = std::make_shared<std::vector<T>>(c),
         inv_std = std::make_shared<std::vector<T>>(c);
    std::vector<T> scale(c), shift(c);
    const T* gp = gamma.value().data();
    const T* bp = beta.value().data();
    for (std::size_t k = 0; k < c; ++k) {
        (*mean_t)[k] = T(mean[k]);
        (*inv_std)[k] = T(1.0 / std::sqrt(var[k] + epsilon));
        scale[k] = gp[k] * (*inv_std)[k];
        shift[k] = bp[k] - T(mean[k]) * scale[k];
    }
    if (batch_mean) {
        *batch_mean = TensorOf<T>::from_shape({c});
        for (std::size_t k = 0; k < c; ++k) (*batch_mean)(k) = T(mean[k]);
    }
    if (batch_variance) {
        *batch_variance = TensorOf<T>::from_shape({c});
        for (std::size_t k = 0; k < c; ++k) (*batch_variance)(k) = T(var[k]);
    }
    TensorOf<T> y = TensorOf<T>::from_shape(xv.shape());
    scale_shift(xp, rows, c, scale.data(), shift.data(), y.data());

    return record<T>(
        "batch_norm", std::move(y), {x, gamma, beta},
        [mean_t, inv_std, rows, c](const BackwardContext<T>& ctx) {
            const T* xp = ctx.input(0).data();
            const T* g = ctx.grad.data();
            const T* gam = ctx.input(1).data();
            const T* mu = mean_t->data();
            const T* is = inv_std->data();
            // sum(g) and sum(g * xhat) per channel give all three gradients.
            std::vector<double> sg(c, 0.0), sgx(c, 0.0);
            for (std::size_t r = 0; r < rows; ++r) {
                for (std::size_t k = 0; k < c; ++k) {
                    const std::size_t i = r * c + k;
                    sg[k] += g[i];
                    sgx[k] += double(g[i]) * double((xp[i] - mu[k]) * is[k]);
                }
            }
            Grads<T> grads(3);
            if (ctx.needs(0)) {
                // dx = gamma * inv_std * (g - mean(g) - xhat * mean(g * xhat))
                TensorOf<T> dx = TensorOf<T>::from_shape(ctx.input(0).shape());
                T* d = dx.data();
                std::vector<T> a(c), mg(c), mgx(c);
                for (std::size_t k = 0; k < c; ++k) {
                    a[k] = gam[k] * is[k];
                    mg[k] = T(sg[k] / double(rows));
                    mgx[k] = T(sgx[k] / double(rows));
                }
                for (std::size_t r = 0; r < rows; ++r) {
                    for (std::size_t k = 0; k < c; ++k) {
                        const std::size_t i = r * c + k;
                        const T xhat = (xp[i] - mu[k]) * is[k];
                        d[i] = a[k] * (g[i] - mg[k] - xhat * mgx[k]);
                    }
                }
                grads[0] = std::move(dx);
            }
            if (ctx.needs(1)) {
                TensorOf<T> dg = TensorOf<T>::from_shape({c});
                for (std::size_t k = 0; k < c; ++k) dg(k) = T(sgx[k]);
                grads[1] = std::move(dg);
            }
            if (ctx.needs(2)) {
                TensorOf<T> db = TensorOf<T>::from_shape({c});
                for (std::size_t k = 0; k < c; ++k) db(k) = T(sg[k]);
                grads[2] = std::move(db);
            }
            return grads;
        },
        [epsilon](const GraphBackwardContext<T>& ctx) {
            // The same formulas with the batch statistics recomputed as ops of x,
            // so that their dependence on x is differentiated too.
            const VariableOf<T> x = ctx.input(0), gamma = ctx.input(1);
            const VariableOf<T>& g = ctx.grad;
            const Axes axes = all_but_last(x.ndim());
            const VariableOf<T> inv_std =
                T(1) / sqrt(xgrad::var(x, axes, true) + static_cast<T>(epsilon));
            const VariableOf<T> xhat = (x - xgrad::mean(x, axes, true)) * inv_std;
            VariableList<T> grads(3);
            if (ctx.needs(0)) {
                grads[0] =
                    gamma * inv_std *
                    (g - xgrad::mean(g, axes, true) - xhat * xgrad::mean(g * xhat, axes, true));
            }
            if (ctx.needs(1)) grads[1] = sum(g * xhat, axes);
            if (ctx.needs(2)) grads[2] = sum(g, axes);
            return grads;
        });
}

template <class T>
VariableOf<T> batch_norm_inference(const VariableOf<T>& x, const VariableOf<T>& gamma,
                                   const VariableOf<T>& beta, const TensorOf<T>& mean,
                                   const TensorOf<T>& variance, double epsilon) {
    const TensorOf<T>& xv = x.value();
    const Shape ms = to_shape(mean.shape()), vs = to_shape(variance.shape());
    const std::size_t c =
        check_shapes("batch_norm_inference", x.shape(), gamma.shape(), beta.shape(), &ms, &vs);
    const std::size_t rows = c == 0 ? 0 : xv.size() / c;
    auto inv_std = std::make_shared<std::vector<T>>(c);
    std::vector<T> scale(c), shift(c);
    for (std::size_t k = 0; k < c; ++k) {
        (*inv_std)[k] = T(1.0 / std::sqrt(double(variance(k)) + epsilon));
        scale[k] = gamma.value()(k) * (*inv_std)[k];
        shift[k] = beta.value()(k) - mean(k) * scale[k];
    }
    TensorOf<T> y = TensorOf<T>::from_shape(xv.shape());
    scale_shift(xv.data(), rows, c, scale.data(), shift.data(), y.data());
    auto mu = std::make_shared<std::vector<T>>(mean.begin(), mean.end());
    return record<T>(
        "batch_norm_inference", std::move(y), {x, gamma, beta},
        [inv_std, mu, rows, c](const BackwardContext<T>& ctx) {
            const T* xp = ctx.input(0).data();
            const T* g = ctx.grad.data();
            const T* gam = ctx.input(1).data();
            const T* is = inv_std->data();
            Grads<T> grads(3);
            if (ctx.needs(0)) {
                TensorOf<T> dx = TensorOf<T>::from_shape(ctx.input(0).shape());
                T* d = dx.data();
                for (std::size_t r = 0; r < rows; ++r) {
                    for (std::size_t k = 0; k < c; ++k)
                        d[r * c + k] = g[r * c + k] * gam[k] * is[k];
                }
                grads[0] = std::move(dx);
            }
            TensorOf<T> dg = xt::zeros<T>({c}), db = xt::zeros<T>({c});
            for (std::size_t r = 0; r < rows; ++r) {
                for (std::size_t k = 0; k < c; ++k) {
                    const std::size_t i = r * c + k;
                    dg(k) += g[i] * (xp[i] - (*mu)[k]) * is[k];
                    db(k) += g[i];
                }
            }
            grads[1] = std::move(dg);
            grads[2] = std::move(db);
            return grads;
        },
        [inv_std, mu](const GraphBackwardContext<T>& ctx) {
            const VariableOf<T> x = ctx.input(0), gamma = ctx.input(1);
            const VariableOf<T>& g = ctx.grad;
            const Axes axes = all_but_last(x.ndim());
            const VariableOf<T> is = channel_constant(*inv_std);
            VariableList<T> grads(3);
            if (ctx.needs(0)) grads[0] = g * gamma * is;
            if (ctx.needs(1)) grads[1] = sum(g * (x - channel_constant(*mu)) * is, axes);
            if (ctx.needs(2)) grads[2] = sum(g, axes);
            return grads;
        });
}

#define XGRAD_INSTANTIATE_BATCH_NORM(T)                                                          \
    template VariableOf<T> batch_norm(const VariableOf<T>&, const VariableOf<T>&,                \
                                      const VariableOf<T>&, double, TensorOf<T>*, TensorOf<T>*); \
    template VariableOf<T> batch_norm_inference(const VariableOf<T>&, const VariableOf<T>&,      \
                                                const VariableOf<T>&, const TensorOf<T>&,        \
                                                const TensorOf<T>&, double);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_BATCH_NORM)

}  // namespace xgrad
