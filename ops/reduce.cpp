#include "ops/reduce.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>
#include <xtensor/xreducer.hpp>

#include "framework/errors.h"
#include "framework/record.h"
#include "ops/axis.h"
#include "ops/broadcast.h"
#include "ops/elementwise.h"
#include "ops/shape.h"

namespace xgrad {

std::vector<std::size_t> normalize_axes(const char* op, const Axes& axes, const Shape& shape) {
    std::vector<std::size_t> out;
    if (axes.empty()) {
        for (std::size_t i = 0; i < shape.size(); ++i) out.push_back(i);
        return out;
    }
    for (int a : axes) out.push_back(normalize_axis(op, a, shape));
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

Shape keepdims_shape(const Shape& shape, const std::vector<std::size_t>& axes) {
    Shape kept = shape;
    for (auto a : axes) kept[a] = 1;
    return kept;
}

namespace {

// Everything a reduction needs to know about its axes, computed once in the forward pass.
struct ReducePlan {
    std::vector<std::size_t> axes;  // normalised
    Shape in;                       // the input shape
    Shape kept;                     // the result with reduced axes kept as size 1
    Shape out;                      // the result shape as returned (kept or not)
    std::size_t count = 1;          // elements reduced into each result element
};

// xt::sum over the plan's axes. An empty input gives zeros without calling xtensor, whose
// reducers step a null data pointer on empty arrays (UBSan reports it).
template <class T, class E>
TensorOf<T> sum_axes(E&& e, const ReducePlan& r) {
    if (shape_size(r.in) == 0) {
        Shape reduced;  // the shape xt::sum gives: the reduced axes removed
        for (std::size_t i = 0; i < r.in.size(); ++i) {
            if (std::find(r.axes.begin(), r.axes.end(), i) == r.axes.end()) {
                reduced.push_back(r.in[i]);
            }
        }
        TensorOf<T> zeros = TensorOf<T>::from_shape(reduced);
        zeros.fill(T(0));
        return zeros;
    }
    return xt::sum(std::forward<E>(e), r.axes);
}

ReducePlan plan(const char* op, const Shape& in, const Axes& axes, bool keepdims) {
    ReducePlan r;
    r.axes = normalize_axes(op, axes, in);
    r.in = in;
    r.kept = keepdims_shape(in, r.axes);
    for (auto a : r.axes) r.count *= in[a];
    if (keepdims) {
        r.out = r.kept;
    } else {
        for (std::size_t i = 0; i < in.size(); ++i) {
            if (!std::binary_search(r.axes.begin(), r.axes.end(), i)) r.out.push_back(in[i]);
        }
    }
    return r;
}

// max, min and argmax have no value for an empty reduction: say so instead of returning junk.
void require_nonempty(const char* op, const ReducePlan& r) {
    if (r.count == 0) {
        throw ShapeError(op, "cannot reduce over an axis of size 0 in shape " + format_shape(r.in));
    }
}

// Broadcasts `src` (a result, laid out in `kept` shape) back to the input shape `full`. The
// output is written row by row: each innermost row is either a copy of a source row or one
// source value repeated, so there is no per-element index arithmetic. (xt::broadcast assigns
// through a generic stepper and is several times slower.) Every later step of a backward pass
// then works on equal shapes, which xtensor assigns as flat SIMD loops.
template <class T>
TensorOf<T> expand(const T* src, const Shape& kept, const Shape& full) {
    TensorOf<T> out = TensorOf<T>::from_shape(full);
    if (out.size() == 0) return out;
    const std::size_t rank = full.size();
    if (rank == 0 || shape_size(kept) == 1) {
        out.fill(src[0]);
        return out;
    }
    // Source strides in elements; 0 along a broadcast dimension.
    std::vector<std::size_t> stride(rank, 0);
    std::size_t step = 1;
    for (std::size_t d = rank; d-- > 0;) {
        stride[d] = kept[d] == 1 ? 0 : step;
        step *= kept[d];
    }
    const std::size_t row = full[rank - 1];
    const bool repeat = stride[rank - 1] == 0;
    std::vector<std::size_t> pos(rank, 0);
    std::size_t offset = 0;
    T* dst = out.data();
    for (std::size_t r = 0, rows = out.size() / row; r < rows; ++r, dst += row) {
        if (repeat) {
            std::fill_n(dst, row, src[offset]);
        } else {
            std::copy_n(src + offset, row, dst);
        }
        // Advance the multi-index over the outer dimensions, keeping `offset` in step.
        for (std::size_t d = rank - 1; d-- > 0;) {
            offset += stride[d];
            if (++pos[d] < full[d]) break;
            offset -= pos[d] * stride[d];
            pos[d] = 0;
        }
    }
    return out;
}

template <class T>
TensorOf<T> expand(const TensorOf<T>& t, const Shape& kept, const Shape& full) {
    return expand(t.data(), kept, full);
}

// The same as a differentiable op, for graph backward functions: a result (or its
// gradient) broadcast back over the reduced axes.
template <class T>
VariableOf<T> expand(const VariableOf<T>& t, const ReducePlan& r) {
    return broadcast_to(reshape(t, std::vector<long>(r.kept.begin(), r.kept.end())), r.in);
}

}  // namespace

template <class T>
VariableOf<T> sum(const VariableOf<T>& x, const Axes& axes, bool keepdims) {
    const ReducePlan r = plan("sum", x.shape(), axes, keepdims);
    TensorOf<T> y = sum_axes<T>(x.value(), r);
    y.reshape(r.out);
    return record<T>(
        "sum", std::move(y), {x},
        [r](const BackwardContext<T>& c) { return Grads<T>{expand(c.grad, r.kept, r.in)}; },
        [r](const GraphBackwardContext<T>& c) { return VariableList<T>{expand(c.grad, r)}; });
}

template <class T>
VariableOf<T> mean(const VariableOf<T>& x, const Axes& axes, bool keepdims) {
    const ReducePlan r = plan("mean", x.shape(), axes, keepdims);
    // An empty reduction divides 0 by 0 and gives NaN, as numpy does.
    const T n = static_cast<T>(r.count);
    TensorOf<T> y = sum_axes<T>(x.value(), r);
    y /= n;
    y.reshape(r.out);
    return record<T>(
        "mean", std::move(y), {x},
        [r, n](const BackwardContext<T>& c) {
            TensorOf<T> g = expand(c.grad, r.kept, r.in);
            g /= n;
            return Grads<T>{std::move(g)};
        },
        [r, n](const GraphBackwardContext<T>& c) {
            return VariableList<T>{expand(c.grad, r) / n};
        });
}

namespace {

// max and min: the gradient goes to every element equal to the result, split evenly.
template <class T>
VariableOf<T> extremum(const char* op, const VariableOf<T>& x, const Axes& axes, bool keepdims,
                       bool largest) {
    const ReducePlan r = plan(op, x.shape(), axes, keepdims);
    require_nonempty(op, r);
    TensorOf<T> y;
    if (largest) {
        y = xt::amax(x.value(), r.axes);
    } else {
        y = xt::amin(x.value(), r.axes);
    }
    y.reshape(r.out);
    // Each element's share of its result's gradient: 1 / (the number of elements tying for
    // the result) where it is one of them, 0 elsewhere.
    auto shares = [r](const TensorOf<T>& in, const TensorOf<T>& out) {
        TensorOf<T> hit = xt::cast<T>(xt::equal(in, expand(out, r.kept, r.in)));
        TensorOf<T> ties = sum_axes<T>(hit, r);
        ties.reshape(r.out);
        return TensorOf<T>(hit / expand(ties, r.kept, r.in));
    };
    return record<T>(
        op, std::move(y), {x},
        [r, shares](const BackwardContext<T>& c) {
            return Grads<T>{shares(c.input(0), c.output) * expand(c.grad, r.kept, r.in)};
        },
        [r, shares](const GraphBackwardContext<T>& c) {
            const VariableOf<T> weights(shares(c.input(0).value(), c.output().value()));
            return VariableList<T>{expand(c.grad, r) * weights};
        });
}

}  // namespace

template <class T>
VariableOf<T> max(const VariableOf<T>& x, const Axes& axes, bool keepdims) {
    return extremum("max", x, axes, keepdims, true);
}

template <class T>
VariableOf<T> min(const VariableOf<T>& x, const Axes& axes, bool keepdims) {
    return extremum("min", x, axes, keepdims, false);
}

template <class T>
VariableOf<T> var(const VariableOf<T>& x, const Axes& axes, bool keepdims, int ddof) {
    const ReducePlan r = plan("var", x.shape(), axes, keepdims);
    if (ddof < 0 || static_cast<std::size_t>(ddof) >= r.count) {
        throw std::invalid_argument(
            "var: ddof " + std::to_string(ddof) + " must be at least 0 and less than the " +
            std::to_string(r.count) + " elements per reduction of shape " + format_shape(r.in));
    }
    const T dof = static_cast<T>(r.count - static_cast<std::size_t>(ddof));
    TensorOf<T> m = sum_axes<T>(x.value(), r);
    m /= static_cast<T>(r.count);
    TensorOf<T> d = x.value() - expand(m, r.kept, r.in);
    TensorOf<T> y = sum_axes<T>(d * d, r);
    y /= dof;
    y.reshape(r.out);
    // The mean is kept (it is the size of the result); the deviations are recomputed.
    return record<T>(
        "var", std::move(y), {x},
        [r, m, dof](const BackwardContext<T>& c) {
            TensorOf<T> g = c.input(0) - expand(m, r.kept, r.in);
            g *= expand(c.grad, r.kept, r.in);
            g *= T(2) / dof;
            return Grads<T>{std::move(g)};
        },
        [r, dof](const GraphBackwardContext<T>& c) {
            const VariableOf<T> x = c.input(0);
            const VariableOf<T> centred =
                x - broadcast_to(mean(x, Axes(r.axes.begin(), r.axes.end()), true), r.in);
            return VariableList<T>{expand(c.grad, r) * centred * (T(2) / dof)};
        });
}

template <class T>
VariableOf<T> logsumexp(const VariableOf<T>& x, const Axes& axes, bool keepdims) {
    const ReducePlan r = plan("logsumexp", x.shape(), axes, keepdims);
    if (r.count == 0) {
        // The log of an empty sum; nothing to differentiate.
        TensorOf<T> y = TensorOf<T>::from_shape(r.out);
        y.fill(-std::numeric_limits<T>::infinity());
        return record<T>(
            "logsumexp", std::move(y), {x},
            [](const BackwardContext<T>& c) { return Grads<T>{xt::zeros_like(c.input(0))}; },
            [](const GraphBackwardContext<T>& c) { return VariableList<T>{c.input(0) * T(0)}; });
    }
    TensorOf<T> m = xt::amax(x.value(), r.axes);
    // A row of all -inf (or an inf) would give inf - inf: shift by 0 there instead.
    m = xt::where(xt::isfinite(m), m, T(0));
    TensorOf<T> s = sum_axes<T>(xt::exp(x.value() - expand(m, r.kept, r.in)), r);
    TensorOf<T> y = m + xt::log(s);
    y.reshape(r.out);
    // The gradient is softmax(x) = exp(x - m) / s. It is recomputed from the shift m rather
    // than taken as exp(x - y): y = 1e4 + log 2 rounds in float32, and the rounding would show
    // in every gradient. Only m (the size of the result) is kept.
    return record<T>(
        "logsumexp", std::move(y), {x},
        [r, m](const BackwardContext<T>& c) {
            TensorOf<T> e = xt::exp(c.input(0) - expand(m, r.kept, r.in));
            TensorOf<T> s = sum_axes<T>(e, r);
            s.reshape(r.out);
            // A slice of all -inf has s == 0 and no softmax: its gradient is 0, not 0 / 0.
            TensorOf<T> scale = xt::where(s > T(0), c.grad / s, T(0));
            e *= expand(scale, r.kept, r.in);
            return Grads<T>{std::move(e)};
        },
        [r](const GraphBackwardContext<T>& c) {
            // softmax(x) = exp(x - y) over the reduced axes, differentiable; slices of all -inf
            // are not supported here (their first-order gradient above is 0).
            const VariableOf<T> x = c.input(0);
            return VariableList<T>{expand(c.grad, r) * exp(x - expand(c.output(), r))};
        });
}

namespace {

// The first index of the largest (or smallest) element along one axis: the tensor is viewed
// as (outer, n, inner) and scanned once, without any per-element index arithmetic.
template <class T>
IndexTensor arg_extremum(const char* op, const VariableOf<T>& x, int axis, bool largest) {
    const Shape shape = x.shape();
    const std::size_t a = normalize_axis(op, axis, shape);
    const auto [outer, n, inner] = around_axis(shape, a);
    if (n == 0) {
        throw ShapeError(op, "cannot reduce over axis " + std::to_string(axis) +
                                 " of size 0 in shape " + format_shape(shape));
    }
    Shape out_shape = shape;
    out_shape.erase(out_shape.begin() + static_cast<long>(a));

    IndexTensor out = IndexTensor::from_shape(out_shape);
    const T* src = x.value().data();
    for (std::size_t o = 0; o < outer; ++o) {
        for (std::size_t i = 0; i < inner; ++i) {
            const T* p = src + o * n * inner + i;
            std::size_t best = 0;
            for (std::size_t k = 1; k < n; ++k) {
                const T v = p[k * inner], b = p[best * inner];
                if (largest ? v > b : v < b) best = k;
            }
            out.data()[o * inner + i] = static_cast<std::int64_t>(best);
        }
    }
    return out;
}

}  // namespace

template <class T>
IndexTensor argmax(const VariableOf<T>& x, int axis) {
    return arg_extremum("argmax", x, axis, true);
}

template <class T>
IndexTensor argmin(const VariableOf<T>& x, int axis) {
    return arg_extremum("argmin", x, axis, false);
}

#define XGRAD_INSTANTIATE_REDUCE(T)                                            \
    template VariableOf<T> sum(const VariableOf<T>&, const Axes&, bool);       \
    template VariableOf<T> mean(const VariableOf<T>&, const Axes&, bool);      \
    template VariableOf<T> max(const VariableOf<T>&, const Axes&, bool);       \
    template VariableOf<T> min(const VariableOf<T>&, const Axes&, bool);       \
    template VariableOf<T> var(const VariableOf<T>&, const Axes&, bool, int);  \
    template VariableOf<T> logsumexp(const VariableOf<T>&, const Axes&, bool); \
    template IndexTensor argmax(const VariableOf<T>&, int);                    \
    template IndexTensor argmin(const VariableOf<T>&, int);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_REDUCE)

}  // namespace xgrad
