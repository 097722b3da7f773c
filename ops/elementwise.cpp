#include "ops/elementwise.h"

#include <stdexcept>

#include <fmt/format.h>
#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>

#include "framework/broadcast.h"
#include "framework/errors.h"
#include "framework/record.h"
#include "ops/broadcast.h"
#include "ops/elementwise_loops.h"

namespace xgrad {

// Gradient conventions where the derivative is not defined (one choice, applied everywhere):
//   abs at 0                 -> 0 (the subgradient with the smallest norm)
//   clamp at lo or hi        -> passes the gradient (the boundary counts as inside)
//   minimum/maximum on ties  -> split 0.5 / 0.5 between the two inputs
//   pow(x, y) w.r.t. y       -> 0 where x == 0 (the limit of x^y log x); NaN where x < 0
//   pow(x, 0) w.r.t. x       -> 0, also at x == 0
//   sqrt at 0, log at 0      -> inf, as the formula gives (no silent clipping)

namespace {

// The gradient for input i, reduced to its shape, or nothing when it needs none.
template <class T, class E>
TensorOf<T> input_grad(const BackwardContext<T>& c, std::size_t i, E&& grad) {
    if (!c.needs(i)) return TensorOf<T>();
    return sum_to<T>(TensorOf<T>(std::forward<E>(grad)), to_shape(c.input(i).shape()));
}

// Evaluates f(a, b) into a tensor, passing a 0-d operand as a plain number. xtensor assigns
// "array op number" as one flat SIMD loop, but "array op 0-d array" through its generic
// broadcasting stepper, about 14x slower on a (32, 784) batch; `x * 2` and `1 - x` are common.
template <class T, class F>
TensorOf<T> apply(const TensorOf<T>& a, const TensorOf<T>& b, F f) {
    if (b.dimension() == 0 && a.dimension() != 0) return f(a, b());
    if (a.dimension() == 0 && b.dimension() != 0) return f(a(), b);
    return f(a, b);
}

// The graph form of input_grad: the gradient for input i reduced to its shape (differentiable).
template <class T>
VariableOf<T> input_grad(const GraphBackwardContext<T>& c, std::size_t i,
                         const VariableOf<T>& grad) {
    if (!c.needs(i)) return VariableOf<T>();
    return sum_to(grad, c.input(i).shape());
}

// A constant tensor (a mask or weights derived from values, whose derivative is zero).
template <class T>
VariableOf<T> constant(TensorOf<T> t) {
    return VariableOf<T>(std::move(t));
}

}  // namespace

// The arithmetic ops evaluate through zip() with a generic lambda: plain vectorised loops for
// operands of one shape or a 0-d operand (a plain number converted to a Variable), forward
// and backward. The masks of minimum and maximum go through apply().
#define XGRAD_APPLY(a, b, expr) \
    apply<T>((a), (b), [](const auto& p, const auto& q) -> TensorOf<T> { return expr; })
#define XGRAD_ZIP(a, b, expr) zip<T>((a), (b), [](const auto& p, const auto& q) { return expr; })

// -x, in a vectorised loop.
template <class T>
TensorOf<T> negated(const TensorOf<T>& x) {
    return map<T>(x, [](T v) { return -v; });
}

template <class T>
VariableOf<T> add(const VariableOf<T>& a, const VariableOf<T>& b) {
    broadcast_shapes("add", a.shape(), b.shape());
    return record<T>(
        "add", XGRAD_ZIP(a.value(), b.value(), p + q), {a, b},
        [](const BackwardContext<T>& c) {
            return Grads<T>{input_grad(c, 0, c.grad), input_grad(c, 1, c.grad)};
        },
        [](const GraphBackwardContext<T>& c) {
            return VariableList<T>{input_grad(c, 0, c.grad), input_grad(c, 1, c.grad)};
        });
}

template <class T>
VariableOf<T> sub(const VariableOf<T>& a, const VariableOf<T>& b) {
    broadcast_shapes("sub", a.shape(), b.shape());
    return record<T>(
        "sub", XGRAD_ZIP(a.value(), b.value(), p - q), {a, b},
        [](const BackwardContext<T>& c) {
            return Grads<T>{input_grad(c, 0, c.grad),
                            c.needs(1) ? input_grad(c, 1, negated<T>(c.grad)) : TensorOf<T>()};
        },
        [](const GraphBackwardContext<T>& c) {
            return VariableList<T>{input_grad(c, 0, c.grad), input_grad(c, 1, -c.grad)};
        });
}

template <class T>
VariableOf<T> mul(const VariableOf<T>& a, const VariableOf<T>& b) {
    broadcast_shapes("mul", a.shape(), b.shape());
    return record<T>(
        "mul", XGRAD_ZIP(a.value(), b.value(), p * q), {a, b},
        [](const BackwardContext<T>& c) {
            TensorOf<T> ga, gb;
            if (c.needs(0)) ga = XGRAD_ZIP(c.grad, c.input(1), p * q);
            if (c.needs(1)) gb = XGRAD_ZIP(c.grad, c.input(0), p * q);
            return Grads<T>{input_grad(c, 0, std::move(ga)), input_grad(c, 1, std::move(gb))};
        },
        [](const GraphBackwardContext<T>& c) {
            return VariableList<T>{input_grad(c, 0, c.needs(0) ? c.grad * c.input(1) : c.grad),
                                   input_grad(c, 1, c.needs(1) ? c.grad * c.input(0) : c.grad)};
        });
}

template <class T>
VariableOf<T> div(const VariableOf<T>& a, const VariableOf<T>& b) {
    broadcast_shapes("div", a.shape(), b.shape());
    return record<T>(
        "div", XGRAD_ZIP(a.value(), b.value(), p / q), {a, b},
        [](const BackwardContext<T>& c) {
            const auto& y = c.input(1);
            TensorOf<T> ga, gb;
            if (c.needs(0)) ga = XGRAD_ZIP(c.grad, y, p / q);
            if (c.needs(1)) gb = XGRAD_ZIP(XGRAD_ZIP(c.grad, c.output, p * q), y, -p / q);
            return Grads<T>{input_grad(c, 0, std::move(ga)), input_grad(c, 1, std::move(gb))};
        },
        [](const GraphBackwardContext<T>& c) {
            const VariableOf<T> y = c.input(1);
            return VariableList<T>{
                input_grad(c, 0, c.needs(0) ? c.grad / y : c.grad),
                input_grad(c, 1, c.needs(1) ? -c.grad * c.output() / y : c.grad)};
        });
}

template <class T>
VariableOf<T> neg(const VariableOf<T>& a) {
    return record<T>(
        "neg", negated<T>(a.value()), {a},
        [](const BackwardContext<T>& c) { return Grads<T>{negated<T>(c.grad)}; },
        [](const GraphBackwardContext<T>& c) { return VariableList<T>{-c.grad}; });
}

template <class T>
VariableOf<T> pow(const VariableOf<T>& x, double exponent) {
    const T p = static_cast<T>(exponent);
    return record<T>(
        "pow", xt::pow(x.value(), p), {x},
        [p](const BackwardContext<T>& c) {
            // x^0 is constant: a zero gradient, not 0 * x^-1 (NaN at x == 0).
            if (p == T(0)) return Grads<T>{xt::zeros_like(c.grad)};
            return Grads<T>{c.grad * p * xt::pow(c.input(0), p - T(1))};
        },
        [p](const GraphBackwardContext<T>& c) {
            if (p == T(0)) return VariableList<T>{c.grad * T(0)};
            return VariableList<T>{c.grad * p * pow(c.input(0), double(p) - 1.0)};
        });
}

template <class T>
VariableOf<T> pow(const VariableOf<T>& x, const Same<VariableOf<T>>& exponent) {
    broadcast_shapes("pow", x.shape(), exponent.shape());
    return record<T>(
        "pow", xt::pow(x.value(), exponent.value()), {x, exponent},
        [](const BackwardContext<T>& c) {
            const auto& base = c.input(0);
            const auto& y = c.input(1);
            // y == 0: x^0 is constant in x, even at x == 0 (no 0 * inf).
            auto d_base = xt::where(xt::equal(y, T(0)), T(0), c.grad * y * xt::pow(base, y - T(1)));
            auto d_exp = xt::where(xt::equal(base, T(0)), T(0), c.grad * c.output * xt::log(base));
            return Grads<T>{input_grad(c, 0, d_base), input_grad(c, 1, d_exp)};
        },
        [](const GraphBackwardContext<T>& c) {
            const VariableOf<T> base = c.input(0), y = c.input(1);
            // Masked positions use a safe stand-in, so the unselected branch of where() has
            // a finite derivative (0 * inf would be NaN in the next backward).
            const Mask y_zero = xt::equal(y.value(), T(0));
            const Mask base_zero = xt::equal(base.value(), T(0));
            VariableOf<T> d_base, d_exp;
            if (c.needs(0)) {
                const VariableOf<T> safe_y = where(y_zero, T(1), y);
                d_base = where(y_zero, T(0), c.grad * y * pow(base, safe_y - T(1)));
            }
            if (c.needs(1)) {
                const VariableOf<T> safe_base = where(base_zero, T(1), base);
                d_exp = where(base_zero, T(0), c.grad * c.output() * log(safe_base));
            }
            return VariableList<T>{input_grad(c, 0, d_base), input_grad(c, 1, d_exp)};
        });
}

template <class T>
VariableOf<T> exp(const VariableOf<T>& x) {
    return record<T>(
        "exp", xt::exp(x.value()), {x},
        [](const BackwardContext<T>& c) { return Grads<T>{c.grad * c.output}; },
        [](const GraphBackwardContext<T>& c) { return VariableList<T>{c.grad * c.output()}; });
}

template <class T>
VariableOf<T> log(const VariableOf<T>& x) {
    return record<T>(
        "log", xt::log(x.value()), {x},
        [](const BackwardContext<T>& c) { return Grads<T>{c.grad / c.input(0)}; },
        [](const GraphBackwardContext<T>& c) { return VariableList<T>{c.grad / c.input(0)}; });
}

template <class T>
VariableOf<T> sqrt(const VariableOf<T>& x) {
    return record<T>(
        "sqrt", xt::sqrt(x.value()), {x},
        [](const BackwardContext<T>& c) { return Grads<T>{c.grad / (T(2) * c.output)}; },
        [](const GraphBackwardContext<T>& c) {
            return VariableList<T>{c.grad / (T(2) * c.output())};
        });
}

template <class T>
VariableOf<T> sin(const VariableOf<T>& x) {
    return record<T>(
        "sin", xt::sin(x.value()), {x},
        [](const BackwardContext<T>& c) { return Grads<T>{c.grad * xt::cos(c.input(0))}; },
        [](const GraphBackwardContext<T>& c) { return VariableList<T>{c.grad * cos(c.input(0))}; });
}

template <class T>
VariableOf<T> cos(const VariableOf<T>& x) {
    return record<T>(
        "cos", xt::cos(x.value()), {x},
        [](const BackwardContext<T>& c) { return Grads<T>{-c.grad * xt::sin(c.input(0))}; },
        [](const GraphBackwardContext<T>& c) {
            return VariableList<T>{-c.grad * sin(c.input(0))};
        });
}

template <class T>
VariableOf<T> abs(const VariableOf<T>& x) {
    // xt::sign is 0 at 0, which gives the documented zero gradient there.
    return record<T>(
        "abs", xt::abs(x.value()), {x},
        [](const BackwardContext<T>& c) { return Grads<T>{c.grad * xt::sign(c.input(0))}; },
        [](const GraphBackwardContext<T>& c) {
            return VariableList<T>{c.grad * constant<T>(xt::sign(c.input(0).value()))};
        });
}

template <class T>
VariableOf<T> erf(const VariableOf<T>& x) {
    const T two_over_sqrt_pi = static_cast<T>(1.12837916709551257390);
    return record<T>(
        "erf", xt::erf(x.value()), {x},
        [two_over_sqrt_pi](const BackwardContext<T>& c) {
            const auto& v = c.input(0);
            return Grads<T>{c.grad * two_over_sqrt_pi * xt::exp(-v * v)};
        },
        [two_over_sqrt_pi](const GraphBackwardContext<T>& c) {
            const VariableOf<T> v = c.input(0);
            return VariableList<T>{c.grad * two_over_sqrt_pi * exp(-v * v)};
        });
}

template <class T>
VariableOf<T> clamp(const VariableOf<T>& x, double lo, double hi) {
    if (!(lo <= hi)) {
        throw std::invalid_argument(
            fmt::format("clamp: lower bound {} is greater than upper bound {}", lo, hi));
    }
    const T l = static_cast<T>(lo), h = static_cast<T>(hi);
    return record<T>(
        "clamp", xt::clip(x.value(), l, h), {x},
        [l, h](const BackwardContext<T>& c) {
            const auto& v = c.input(0);
            return Grads<T>{xt::where(v >= l && v <= h, c.grad, T(0))};
        },
        [l, h](const GraphBackwardContext<T>& c) {
            const TensorOf<T>& v = c.input(0).value();
            return VariableList<T>{where(Mask(v >= l && v <= h), c.grad, T(0))};
        });
}

namespace {

// Shared by minimum and maximum: a_weight is 1 where a alone is selected, 0.5 on ties and 0
// where b is selected; b gets the rest.
template <class T>
Grads<T> select_grads(const BackwardContext<T>& c, const TensorOf<T>& a_weight) {
    TensorOf<T> ga, gb;
    if (c.needs(0)) ga = c.grad * a_weight;
    if (c.needs(1)) gb = c.grad * (T(1) - a_weight);
    return Grads<T>{input_grad(c, 0, std::move(ga)), input_grad(c, 1, std::move(gb))};
}

// 1 where a alone is the minimum (maximum), 0.5 on ties, 0 where b is.
template <class T>
TensorOf<T> minimum_weight(const TensorOf<T>& a, const TensorOf<T>& b) {
    return XGRAD_APPLY(a, b, xt::where(p < q, T(1), xt::where(xt::equal(p, q), T(0.5), T(0))));
}
template <class T>
TensorOf<T> maximum_weight(const TensorOf<T>& a, const TensorOf<T>& b) {
    return XGRAD_APPLY(a, b, xt::where(p > q, T(1), xt::where(xt::equal(p, q), T(0.5), T(0))));
}

template <class T>
VariableList<T> select_grads(const GraphBackwardContext<T>& c, const TensorOf<T>& a_weight) {
    VariableOf<T> ga = c.grad, gb = c.grad;
    if (c.needs(0)) ga = c.grad * constant<T>(a_weight);
    if (c.needs(1)) gb = c.grad * constant<T>(T(1) - a_weight);
    return VariableList<T>{input_grad(c, 0, ga), input_grad(c, 1, gb)};
}

}  // namespace

template <class T>
VariableOf<T> minimum(const VariableOf<T>& a, const Same<VariableOf<T>>& b) {
    broadcast_shapes("minimum", a.shape(), b.shape());
    return record<T>(
        "minimum", XGRAD_APPLY(a.value(), b.value(), xt::minimum(p, q)), {a, b},
        [](const BackwardContext<T>& c) {
            return select_grads(c, minimum_weight(c.input(0), c.input(1)));
        },
        [](const GraphBackwardContext<T>& c) {
            return select_grads(c, minimum_weight(c.input(0).value(), c.input(1).value()));
        });
}

template <class T>
VariableOf<T> maximum(const VariableOf<T>& a, const Same<VariableOf<T>>& b) {
    broadcast_shapes("maximum", a.shape(), b.shape());
    return record<T>(
        "maximum", XGRAD_APPLY(a.value(), b.value(), xt::maximum(p, q)), {a, b},
        [](const BackwardContext<T>& c) {
            return select_grads(c, maximum_weight(c.input(0), c.input(1)));
        },
        [](const GraphBackwardContext<T>& c) {
            return select_grads(c, maximum_weight(c.input(0).value(), c.input(1).value()));
        });
}

namespace {

// t repeated to `full` (a copy; t itself when it already has that shape).
template <class U>
xt::xarray<U, xt::layout_type::row_major> expanded(
    const xt::xarray<U, xt::layout_type::row_major>& t, const Shape& full) {
    if (to_shape(t.shape()) == full) return t;
    return xt::broadcast(t, full);
}

// mask ? a : b elementwise over operands of one shape. xtensor 0.24's xt::where picks the
// wrong branch at some positions when a branch is broadcast (a (2, 3) mask with a (3,)
// branch swapped whole columns), so every operand is expanded to the result's shape first.
template <class T>
TensorOf<T> select(const Mask& mask, const TensorOf<T>& a, const TensorOf<T>& b) {
    TensorOf<T> out = TensorOf<T>::from_shape(mask.shape());
    for (std::size_t i = 0; i < out.size(); ++i) out.flat(i) = mask.flat(i) ? a.flat(i) : b.flat(i);
    return out;
}

}  // namespace

template <class T>
VariableOf<T> where(const Mask& mask, const VariableOf<T>& a, const Same<VariableOf<T>>& b) {
    const Shape ab = broadcast_shapes("where", a.shape(), b.shape());
    const Shape full = broadcast_shapes("where", to_shape(mask.shape()), ab);
    const Mask m = expanded(mask, full);
    TensorOf<T> y = select<T>(m, expanded(a.value(), full), expanded(b.value(), full));
    return record<T>(
        "where", std::move(y), {a, b},
        [m](const BackwardContext<T>& c) {
            const TensorOf<T> zeros = xt::zeros<T>(m.shape());
            return Grads<T>{
                c.needs(0) ? input_grad(c, 0, select<T>(m, c.grad, zeros)) : TensorOf<T>(),
                c.needs(1) ? input_grad(c, 1, select<T>(m, zeros, c.grad)) : TensorOf<T>()};
        },
        [m](const GraphBackwardContext<T>& c) {
            return VariableList<T>{input_grad(c, 0, where(m, c.grad, T(0))),
                                   input_grad(c, 1, where(m, T(0), c.grad))};
        });
}

template <class T>
VariableOf<T> masked_fill(const VariableOf<T>& x, const Mask& mask, double value) {
    const Shape xs = x.shape(), ms = to_shape(mask.shape());
    bool fits = ms.size() <= xs.size();
    try {
        fits = fits && broadcast_shapes("masked_fill", xs, ms) == xs;
    } catch (const ShapeError&) {
        fits = false;
    }
    if (!fits) {
        throw ShapeError("masked_fill", "mask of shape " + format_shape(ms) +
                                            " does not broadcast to x of shape " +
                                            format_shape(xs));
    }
    return where(mask, VariableOf<T>(static_cast<T>(value)), x);
}

#undef XGRAD_APPLY
#undef XGRAD_ZIP

#define XGRAD_INSTANTIATE_ELEMENTWISE(T)                                           \
    template VariableOf<T> add(const VariableOf<T>&, const VariableOf<T>&);        \
    template VariableOf<T> sub(const VariableOf<T>&, const VariableOf<T>&);        \
    template VariableOf<T> mul(const VariableOf<T>&, const VariableOf<T>&);        \
    template VariableOf<T> div(const VariableOf<T>&, const VariableOf<T>&);        \
    template VariableOf<T> neg(const VariableOf<T>&);                              \
    template VariableOf<T> pow<T>(const VariableOf<T>&, double);                   \
    template VariableOf<T> pow<T>(const VariableOf<T>&, const VariableOf<T>&);     \
    template VariableOf<T> exp(const VariableOf<T>&);                              \
    template VariableOf<T> log(const VariableOf<T>&);                              \
    template VariableOf<T> sqrt(const VariableOf<T>&);                             \
    template VariableOf<T> abs(const VariableOf<T>&);                              \
    template VariableOf<T> erf(const VariableOf<T>&);                              \
    template VariableOf<T> sin(const VariableOf<T>&);                              \
    template VariableOf<T> cos(const VariableOf<T>&);                              \
    template VariableOf<T> masked_fill(const VariableOf<T>&, const Mask&, double); \
    template VariableOf<T> clamp(const VariableOf<T>&, double, double);            \
    template VariableOf<T> minimum<T>(const VariableOf<T>&, const VariableOf<T>&); \
    template VariableOf<T> maximum<T>(const VariableOf<T>&, const VariableOf<T>&); \
    template VariableOf<T> where<T>(const Mask&, const VariableOf<T>&, const VariableOf<T>&);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_ELEMENTWISE)

}  // namespace xgrad
