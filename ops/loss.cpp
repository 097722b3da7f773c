#include "ops/loss.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include <fmt/format.h>
#include <xtensor/xbuilder.hpp>

#include "framework/errors.h"
#include "framework/record.h"
#include "ops/activation.h"
#include "ops/broadcast.h"
#include "ops/elementwise.h"
#include "ops/shape.h"
#include "ops/shifted_exp.h"

namespace xgrad {

namespace {

// Keras' epsilon: probabilities are clipped to [kEps, 1 - kEps] before the log.
constexpr double kEps = 1e-7;

// How a loss's per-element values group into examples. Class-wise losses have one value
// per row; elementwise losses (mse, bce, ...) average the last axis of a rank >= 2 input
// into one value per example, as Keras does, and treat each element of a rank 0 or 1
// input as an example.
struct Examples {
    std::size_t count = 1;  // number of examples
    std::size_t width = 1;  // elements per example
    Shape shape;            // shape of the unreduced (Reduction::none) result
};

template <class S>
Examples elementwise_examples(const S& shape) {
    Examples e;
    e.shape = to_shape(shape);
    if (e.shape.size() >= 2) {
        e.width = e.shape.back();
        e.shape.pop_back();
    }
    e.count = shape_size(e.shape);
    return e;
}

// The reduced loss from one value per example.
template <class T>
TensorOf<T> reduce_examples(TensorOf<T> per_example, Reduction reduction, const Shape& shape) {
    if (reduction == Reduction::none) {
        per_example.reshape(shape);
        return per_example;
    }
    T total = 0;
    for (T v : per_example) total += v;
    if (reduction == Reduction::mean) total /= static_cast<T>(per_example.size());
    return TensorOf<T>(total);
}

// d(reduced loss) / d(loss of example i), times the incoming gradient.
template <class T>
T example_grad(const TensorOf<T>& g, std::size_t i, Reduction reduction, std::size_t count) {
    if (reduction == Reduction::none) return g.data()[i];
    if (reduction == Reduction::sum) return g.data()[0];
    return g.data()[0] / static_cast<T>(count);
}

// example_grad for a whole input at once, as a differentiable op: each element's weight
// d(reduced loss) / d(loss of its example), shaped like the input (graph backward functions).
template <class T>
VariableOf<T> example_weights(const VariableOf<T>& g, Reduction reduction, const Examples& ex,
                              const Shape& input_shape) {
    VariableOf<T> w = g;
    if (reduction == Reduction::mean) w = w / static_cast<T>(ex.count);
    if (reduction == Reduction::none && input_shape.size() != ex.shape.size()) {
        Shape with_width = ex.shape;  // one value per example, then along its width
        with_width.push_back(1);
        w = reshape(w, std::vector<long>(with_width.begin(), with_width.end()));
    }
    return broadcast_to(w, input_shape);
}

// A constant tensor (labels as one-hot rows, clip masks): no gradient of its own.
template <class T>
VariableOf<T> constant(TensorOf<T> t) {
    return VariableOf<T>(std::move(t));
}

// Labels (batch,) as one-hot rows of `shape` (batch, classes).
template <class T>
TensorOf<T> one_hot_rows(const IndexTensor& labels, const Shape& shape) {
    TensorOf<T> m = xt::zeros<T>(shape);
    for (std::size_t i = 0; i < labels.size(); ++i) m(i, labels(i)) = T(1);
    return m;
}

// Checks logits/probabilities (batch, classes) against labels (batch,) and returns the
// labels' values; `what` names the first input in messages ("logits", "probs").
template <class T>
void check_class_inputs(const char* op, const char* what, const TensorOf<T>& x,
                        const IndexTensor& labels) {
    if (x.dimension() != 2) {
        throw ShapeError(
            op, std::string(what) + " must have shape (batch, classes), got " + format_shape_of(x));
    }
    const std::size_t batch = x.shape()[0], classes = x.shape()[1];
    if (labels.dimension() != 1 || labels.size() != batch) {
        throw ShapeError(op, "labels of shape " + format_shape_of(labels) + " do not match " +
                                 what + " of shape " + format_shape_of(x) + " (expected " +
                                 std::to_string(batch) + " labels, one per example)");
    }
    for (std::size_t i = 0; i < batch; ++i) {
        const std::int64_t y = labels(i);
        if (y < 0 || static_cast<std::size_t>(y) >= classes) {
            throw std::invalid_argument(std::string(op) + ": label " + std::to_string(y) +
                                        " at position " + std::to_string(i) +
                                        " is out of range for " + std::to_string(classes) +
                                        " classes (valid labels are 0.." +
                                        std::to_string(static_cast<long>(classes) - 1) + ")");
        }
    }
}

// Two inputs of an elementwise loss must have the same shape.
template <class T>
void check_same_shape(const char* op, const char* first, const VariableOf<T>& a, const char* second,
                      const VariableOf<T>& b) {
    if (a.value().shape() != b.value().shape()) {
        throw ShapeError(op, std::string(first) + " " + format_shape_of(a.value()) + " and " +
                                 second + " " + format_shape_of(b.value()) +
                                 " must have the same shape");
    }
}

// An elementwise loss l(a, b) averaged (or, for `sum_per_example`, summed) over the last axis
// into one value per example, with its partial derivatives da(a, b) and db(a, b). Either
// input may need a gradient.
template <class T, class L, class DA, class DB>
VariableOf<T> elementwise_loss(const char* op, const VariableOf<T>& a, const VariableOf<T>& b,
                               Reduction reduction, L loss, DA da, DB db,
                               bool sum_per_example = false) {
    const Examples ex = elementwise_examples(a.value().shape());
    const T divisor = sum_per_example ? T(1) : static_cast<T>(ex.width);
    TensorOf<T> per = TensorOf<T>::from_shape({ex.count});
    const T* pa = a.value().data();
    const T* pb = b.value().data();
    for (std::size_t e = 0; e < ex.count; ++e) {
        T total = 0;
        for (std::size_t j = e * ex.width; j < (e + 1) * ex.width; ++j) total += loss(pa[j], pb[j]);
        per(e) = total / divisor;
    }
    return record<T>(op, reduce_examples(std::move(per), reduction, ex.shape), {a, b},
                     [ex, divisor, reduction, da, db](const BackwardContext<T>& c) {
                         const T* x = c.input(0).data();
                         const T* y = c.input(1).data();
                         Grads<T> grads(2);
                         for (std::size_t k = 0; k < 2; ++k) {
                             if (!c.needs(k)) continue;
                             TensorOf<T> d = TensorOf<T>::from_shape(c.input(k).shape());
                             T* out = d.data();
                             for (std::size_t e = 0; e < ex.count; ++e) {
                                 const T w = example_grad(c.grad, e, reduction, ex.count) / divisor;
                                 for (std::size_t j = e * ex.width; j < (e + 1) * ex.width; ++j) {
                                     out[j] = w * (k == 0 ? da(x[j], y[j]) : db(x[j], y[j]));
                                 }
                             }
                             grads[k] = std::move(d);
                         }
                         return grads;
                     });
}

// The same with the partial derivatives also written with differentiable ops, dav(a, b) and
// dbv(a, b) on Variables, so the loss can be differentiated twice.
template <class T, class L, class DA, class DB, class DAV, class DBV>
VariableOf<T> elementwise_loss(const char* op, const VariableOf<T>& a, const VariableOf<T>& b,
                               Reduction reduction, L loss, DA da, DB db, DAV dav, DBV dbv,
                               bool sum_per_example = false) {
    VariableOf<T> y = elementwise_loss<T>(op, a, b, reduction, loss, da, db, sum_per_example);
    if (!y.requires_grad()) return y;
    const Examples ex = elementwise_examples(a.value().shape());
    const T divisor = sum_per_example ? T(1) : static_cast<T>(ex.width);
    y.node()->graph_backward = [ex, divisor, reduction, dav,
                                dbv](const GraphBackwardContext<T>& c) {
        const VariableOf<T> x = c.input(0), t = c.input(1);
        const VariableOf<T> w = example_weights(c.grad, reduction, ex, x.shape()) / divisor;
        VariableList<T> grads(2);
        if (c.needs(0)) grads[0] = w * dav(x, t);
        if (c.needs(1)) grads[1] = w * dbv(x, t);
        return grads;
    };
    return y;
}

template <class T>
T clip_prob(T p) {
    return std::clamp(p, static_cast<T>(kEps), static_cast<T>(1 - kEps));
}

// d clip(p) / dp: 1 inside the clipping range, 0 where the clip holds p at a bound.
template <class T>
T clip_slope(T p) {
    return p > static_cast<T>(kEps) && p < static_cast<T>(1 - kEps) ? T(1) : T(0);
}

// clip_prob and clip_slope as Variables.
template <class T>
VariableOf<T> clip_prob(const VariableOf<T>& p) {
    return clamp(p, kEps, 1 - kEps);
}
template <class T>
VariableOf<T> clip_slope(const VariableOf<T>& p) {
    const TensorOf<T>& v = p.value();
    return constant<T>(xt::where(v > T(kEps) && v < T(1 - kEps), T(1), T(0)));
}

}  // namespace

template <class T>
VariableOf<T> cross_entropy(const VariableOf<T>& logits, const IndexTensor& labels,
                            Reduction reduction) {
    const TensorOf<T>& x = logits.value();
    check_class_inputs("cross_entropy", "logits", x, labels);
    const std::size_t batch = x.shape()[0], classes = x.shape()[1];
    // loss_i = logsumexp(x_i) - x_i[y_i], with the row maximum subtracted inside the exp and
    // the difference max - x_i[y_i] taken first, so it loses no precision at +-1e4.
    TensorOf<T> per = TensorOf<T>::from_shape({batch});
    for (std::size_t i = 0; i < batch; ++i) {
        const T* row = x.data() + i * classes;
        const auto [mx, total] = shifted_exp<T>(row, nullptr, classes);
        per(i) = (mx - row[labels(i)]) + std::log(total);
    }
    return record<T>(
        "cross_entropy", reduce_examples(std::move(per), reduction, {batch}), {logits},
        [labels, reduction](const BackwardContext<T>& c) {
            // (softmax - onehot) times each example's share of the incoming gradient.
            const TensorOf<T>& x = c.input(0);
            const std::size_t batch = x.shape()[0], classes = x.shape()[1];
            TensorOf<T> dx = TensorOf<T>::from_shape(x.shape());
            for (std::size_t i = 0; i < batch; ++i) {
                const T* row = x.data() + i * classes;
                T* out = dx.data() + i * classes;
                const T total = shifted_exp(row, out, classes).sum;
                const T w = example_grad(c.grad, i, reduction, batch);
                for (std::size_t j = 0; j < classes; ++j) out[j] = out[j] / total * w;
                out[labels(i)] -= w;
            }
            return Grads<T>{std::move(dx)};
        },
        [labels, reduction](const GraphBackwardContext<T>& c) {
            const VariableOf<T> x = c.input(0);
            const Examples rows{x.shape()[0], x.shape()[1], {x.shape()[0]}};
            const VariableOf<T> w = example_weights(c.grad, reduction, rows, x.shape());
            const VariableOf<T> onehot = constant(one_hot_rows<T>(labels, x.shape()));
            return VariableList<T>{w * (softmax(x, -1) - onehot)};
        });
}

template <class T>
VariableOf<T> sparse_categorical_crossentropy(const VariableOf<T>& probs, const IndexTensor& labels,
                                              Reduction reduction) {
    const TensorOf<T>& p = probs.value();
    check_class_inputs("sparse_categorical_crossentropy", "probs", p, labels);
    const std::size_t batch = p.shape()[0];
    TensorOf<T> per = TensorOf<T>::from_shape({batch});
    for (std::size_t i = 0; i < batch; ++i) per(i) = -std::log(clip_prob(p(i, labels(i))));
    return record<T>(
        "sparse_categorical_crossentropy", reduce_examples(std::move(per), reduction, {batch}),
        {probs},
        [labels, reduction](const BackwardContext<T>& c) {
            const TensorOf<T>& p = c.input(0);
            const std::size_t batch = p.shape()[0], classes = p.shape()[1];
            TensorOf<T> dp = xt::zeros<T>(p.shape());
            for (std::size_t i = 0; i < batch; ++i) {
                const std::size_t j = i * classes + static_cast<std::size_t>(labels(i));
                const T v = p.data()[j];
                dp.data()[j] =
                    -example_grad(c.grad, i, reduction, batch) * clip_slope(v) / clip_prob(v);
            }
            return Grads<T>{std::move(dp)};
        },
        [labels, reduction](const GraphBackwardContext<T>& c) {
            const VariableOf<T> p = c.input(0);
            const Examples rows{p.shape()[0], p.shape()[1], {p.shape()[0]}};
            const VariableOf<T> w = example_weights(c.grad, reduction, rows, p.shape());
            const VariableOf<T> picked =
                constant(one_hot_rows<T>(labels, p.shape())) * clip_slope(p);
            return VariableList<T>{-w * picked / clip_prob(p)};
        });
}

template <class T>
VariableOf<T> categorical_crossentropy(const VariableOf<T>& probs, const VariableOf<T>& targets,
                                       Reduction reduction) {
    check_same_shape("categorical_crossentropy", "probs", probs, "targets", targets);
    if (probs.value().dimension() != 2) {
        throw ShapeError(
            "categorical_crossentropy",
            "probs must have shape (batch, classes), got " + format_shape_of(probs.value()));
    }
    // -sum over classes of t log(clip(p)), one value per row.
    return elementwise_loss<T>(
        "categorical_crossentropy", probs, targets, reduction,
        [](T p, T t) { return -t * std::log(clip_prob(p)); },
        [](T p, T t) { return -t * clip_slope(p) / clip_prob(p); },
        [](T p, T) { return -std::log(clip_prob(p)); },
        [](const VariableOf<T>& p, const VariableOf<T>& t) {
            return -t * clip_slope(p) / clip_prob(p);
        },
        [](const VariableOf<T>& p, const VariableOf<T>&) { return -log(clip_prob(p)); }, true);
}

template <class T>
VariableOf<T> nll_loss(const VariableOf<T>& log_probs, const IndexTensor& labels,
                       Reduction reduction) {
    const TensorOf<T>& lp = log_probs.value();
    check_class_inputs("nll_loss", "log_probs", lp, labels);
    const std::size_t batch = lp.shape()[0];
    TensorOf<T> per = TensorOf<T>::from_shape({batch});
    for (std::size_t i = 0; i < batch; ++i) per(i) = -lp(i, labels(i));
    return record<T>(
        "nll_loss", reduce_examples(std::move(per), reduction, {batch}), {log_probs},
        [labels, reduction](const BackwardContext<T>& c) {
            const std::size_t batch = c.input(0).shape()[0];
            TensorOf<T> d = xt::zeros<T>(c.input(0).shape());
            for (std::size_t i = 0; i < batch; ++i) {
                d(i, labels(i)) = -example_grad(c.grad, i, reduction, batch);
            }
            return Grads<T>{std::move(d)};
        },
        [labels, reduction](const GraphBackwardContext<T>& c) {
            const Shape shape = c.input(0).shape();
            const Examples rows{shape[0], shape[1], {shape[0]}};
            const VariableOf<T> w = example_weights(c.grad, reduction, rows, shape);
            return VariableList<T>{-w * constant(one_hot_rows<T>(labels, shape))};
        });
}

template <class T>
VariableOf<T> binary_cross_entropy(const VariableOf<T>& probs, const VariableOf<T>& targets,
                                   Reduction reduction) {
    check_same_shape("binary_cross_entropy", "probs", probs, "targets", targets);
    return elementwise_loss<T>(
        "binary_cross_entropy", probs, targets, reduction,
        [](T p, T t) {
            const T q = clip_prob(p);
            return -(t * std::log(q) + (T(1) - t) * std::log(T(1) - q));
        },
        [](T p, T t) {
            const T q = clip_prob(p);
            return clip_slope(p) * ((T(1) - t) / (T(1) - q) - t / q);
        },
        [](T p, T) {
            const T q = clip_prob(p);
            return std::log(T(1) - q) - std::log(q);
        },
        [](const VariableOf<T>& p, const VariableOf<T>& t) {
            const VariableOf<T> q = clip_prob(p);
            return clip_slope(p) * ((T(1) - t) / (T(1) - q) - t / q);
        },
        [](const VariableOf<T>& p, const VariableOf<T>&) {
            const VariableOf<T> q = clip_prob(p);
            return log(T(1) - q) - log(q);
        });
}

template <class T>
VariableOf<T> binary_cross_entropy_with_logits(const VariableOf<T>& logits,
                                               const VariableOf<T>& targets, Reduction reduction) {
    check_same_shape("binary_cross_entropy_with_logits", "logits", logits, "targets", targets);
    // max(x, 0) - x t + log(1 + e^-|x|): never exponentiates a positive number.
    return elementwise_loss<T>(
        "binary_cross_entropy_with_logits", logits, targets, reduction,
        [](T x, T t) { return std::max(x, T(0)) - x * t + std::log1p(std::exp(-std::abs(x))); },
        [](T x, T t) {
            const T s = x >= 0 ? T(1) / (T(1) + std::exp(-x)) : std::exp(x) / (T(1) + std::exp(x));
            return s - t;
        },
        [](T x, T) { return -x; },
        [](const VariableOf<T>& x, const VariableOf<T>& t) { return sigmoid(x) - t; },
        [](const VariableOf<T>& x, const VariableOf<T>&) { return -x; });
}

template <class T>
VariableOf<T> mse_loss(const VariableOf<T>& pred, const VariableOf<T>& target,
                       Reduction reduction) {
    check_same_shape("mse_loss", "pred", pred, "target", target);
    return elementwise_loss<T>(
        "mse_loss", pred, target, reduction, [](T p, T t) { return (p - t) * (p - t); },
        [](T p, T t) { return T(2) * (p - t); }, [](T p, T t) { return T(2) * (t - p); },
        [](const VariableOf<T>& p, const VariableOf<T>& t) { return T(2) * (p - t); },
        [](const VariableOf<T>& p, const VariableOf<T>& t) { return T(2) * (t - p); });
}

template <class T>
VariableOf<T> mae_loss(const VariableOf<T>& pred, const VariableOf<T>& target,
                       Reduction reduction) {
    check_same_shape("mae_loss", "pred", pred, "target", target);
    auto sign = [](T v) { return v > 0 ? T(1) : (v < 0 ? T(-1) : T(0)); };
    return elementwise_loss<T>(
        "mae_loss", pred, target, reduction, [](T p, T t) { return std::abs(p - t); },
        [sign](T p, T t) { return sign(p - t); }, [sign](T p, T t) { return sign(t - p); },
        [](const VariableOf<T>& p, const VariableOf<T>& t) {
            return constant<T>(xt::sign(p.value() - t.value()));
        },
        [](const VariableOf<T>& p, const VariableOf<T>& t) {
            return constant<T>(xt::sign(t.value() - p.value()));
        });
}

template <class T>
VariableOf<T> huber_loss(const VariableOf<T>& pred, const VariableOf<T>& target, double delta,
                         Reduction reduction) {
    check_same_shape("huber_loss", "pred", pred, "target", target);
    if (!(delta > 0)) {
        throw std::invalid_argument(
            fmt::format("huber_loss: delta must be positive, got {}", delta));
    }
    const T d = static_cast<T>(delta);
    // Quadratic within delta of the target, linear beyond; the slope is the clipped error.
    return elementwise_loss<T>(
        "huber_loss", pred, target, reduction,
        [d](T p, T t) {
            const T e = std::abs(p - t);
            return e <= d ? T(0.5) * e * e : d * (e - T(0.5) * d);
        },
        [d](T p, T t) { return std::clamp(p - t, -d, d); },
        [d](T p, T t) { return std::clamp(t - p, -d, d); },
        [delta](const VariableOf<T>& p, const VariableOf<T>& t) {
            return clamp(p - t, -delta, delta);
        },
        [delta](const VariableOf<T>& p, const VariableOf<T>& t) {
            return clamp(t - p, -delta, delta);
        });
}

#define XGRAD_INSTANTIATE_LOSS(T)                                                               \
    template VariableOf<T> cross_entropy(const VariableOf<T>&, const IndexTensor&, Reduction);  \
    template VariableOf<T> sparse_categorical_crossentropy(const VariableOf<T>&,                \
                                                           const IndexTensor&, Reduction);      \
    template VariableOf<T> categorical_crossentropy(const VariableOf<T>&, const VariableOf<T>&, \
                                                    Reduction);                                 \
    template VariableOf<T> nll_loss(const VariableOf<T>&, const IndexTensor&, Reduction);       \
    template VariableOf<T> binary_cross_entropy(const VariableOf<T>&, const VariableOf<T>&,     \
                                                Reduction);                                     \
    template VariableOf<T> binary_cross_entropy_with_logits(const VariableOf<T>&,               \
                                                            const VariableOf<T>&, Reduction);   \
    template VariableOf<T> mse_loss(const VariableOf<T>&, const VariableOf<T>&, Reduction);     \
    template VariableOf<T> mae_loss(const VariableOf<T>&, const VariableOf<T>&, Reduction);     \
    template VariableOf<T> huber_loss(const VariableOf<T>&, const VariableOf<T>&, double,       \
                                      Reduction);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_LOSS)

}  // namespace xgrad
