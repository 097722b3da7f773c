#include "ops/activation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include "framework/errors.h"
#include "framework/names.h"
#include "framework/record.h"
#include "framework/vectorize.h"
#include "ops/axis.h"
#include "ops/elementwise.h"
#include "ops/elementwise_loops.h"
#include "ops/float_math.h"
#include "ops/reduce.h"
#include "ops/relu_loops.h"
#include "ops/shifted_exp.h"

namespace xgrad {

namespace {

// map() and the other element loops are in ops/elementwise_loops.h; relu has its own in
// ops/relu_loops.h, shared with conv2d.
template <class T, class D>
XGRAD_VECTOR_CLONES void chain_loop(std::size_t n, const T* __restrict__ g, const T* __restrict__ x,
                                    const T* __restrict__ y, T* __restrict__ out, D d) {
    for (std::size_t i = 0; i < n; ++i) out[i] = d(g[i], x[i], y[i]);
}

// The input gradient d(g[i], x[i], y[i]): the output gradient times the local derivative.
template <class T, class D>
TensorOf<T> chain(const BackwardContext<T>& c, D d) {
    TensorOf<T> dx = TensorOf<T>::from_shape(c.grad.shape());
    chain_loop<T>(dx.size(), c.grad.data(), c.input(0).data(), c.output.data(), dx.data(), d);
    return dx;
}

// An elementwise activation: forward f(x), backward g * d(x, y) with the fused loop, and
// for gradients of gradients g * dv(x, y), the same derivative written with differentiable
// ops on Variables.
template <class T, class F, class D, class DV>
VariableOf<T> unary(const char* op, const VariableOf<T>& x, F f, D d, DV dv) {
    return record<T>(
        op, map<T>(x.value(), f), {x},
        [d](const BackwardContext<T>& c) {
            return Grads<T>{chain<T>(c, [d](T g, T xv, T yv) { return g * d(xv, yv); })};
        },
        [dv](const GraphBackwardContext<T>& c) {
            return VariableList<T>{c.grad * dv(c.input(0), c.output())};
        });
}

// A constant derived from values (a mask or a step function's slope): no gradient.
template <class T, class E>
VariableOf<T> constant(E&& e) {
    return VariableOf<T>(TensorOf<T>(std::forward<E>(e)));
}

// x where it is <= 0 and 0 elsewhere: a stand-in for the negative branch of elu and selu,
// so that exp() of the unused positive branch cannot overflow into 0 * inf = NaN.
template <class T>
VariableOf<T> negative_part(const VariableOf<T>& x) {
    return where(Mask(x.value() > T(0)), T(0), x);
}

template <class T>
T stable_sigmoid(T x) {
    if (x >= 0) return T(1) / (T(1) + std::exp(-x));
    const T e = std::exp(x);  // exp of a negative number never overflows
    return e / (T(1) + e);
}

// log_softmax (log_output) or softmax along the axis, with the maximum of each slice
// subtracted so that exp never overflows.
template <class T>
TensorOf<T> softmax_forward(const TensorOf<T>& x, const AxisBlocks& v, bool log_output) {
    TensorOf<T> y = TensorOf<T>::from_shape(x.shape());
    const T* in = x.data();
    T* out = y.data();
    for_each_slice(v, [&](std::size_t base) {
        const auto [mx, total] = shifted_exp(in + base, out + base, v.n, v.inner);
        const T log_total = std::log(total);
        for (std::size_t i = 0; i < v.n; ++i) {
            T& r = out[base + i * v.inner];
            r = log_output ? in[base + i * v.inner] - mx - log_total : r / total;
        }
    });
    return y;
}

const double kSeluAlpha = 1.6732632423543772848170429916717;
const double kSeluScale = 1.0507009873554804934193349852946;

}  // namespace

template <class T>
VariableOf<T> relu(const VariableOf<T>& x) {
    const TensorOf<T>& xv = x.value();
    TensorOf<T> y = TensorOf<T>::from_shape(xv.shape());
    relu_loop<T>(xv.size(), xv.data(), y.data());
    return record<T>(
        "relu", std::move(y), {x},
        [](const BackwardContext<T>& c) {
            TensorOf<T> dx = TensorOf<T>::from_shape(c.grad.shape());
            relu_grad_loop<T>(dx.size(), c.grad.data(), c.output.data(), dx.data());
            return Grads<T>{std::move(dx)};
        },
        [](const GraphBackwardContext<T>& c) {
            return VariableList<T>{c.grad * constant<T>(xt::cast<T>(c.output().value() > T(0)))};
        });
}

template <class T>
VariableOf<T> leaky_relu(const VariableOf<T>& x, double negative_slope) {
    const T s = static_cast<T>(negative_slope);
    return unary<T>(
        "leaky_relu", x, [s](T v) { return v > 0 ? v : s * v; },
        [s](T v, T) { return v > 0 ? T(1) : s; },
        [s](const VariableOf<T>& v, const VariableOf<T>&) {
            return constant<T>(xt::where(v.value() > T(0), T(1), s));
        });
}

template <class T>
VariableOf<T> elu(const VariableOf<T>& x, double alpha) {
    const T a = static_cast<T>(alpha);
    return unary<T>(
        "elu", x, [a](T v) { return v > 0 ? v : a * std::expm1(v); },
        [a](T v, T) { return v > 0 ? T(1) : a * std::exp(v); },
        [a](const VariableOf<T>& v, const VariableOf<T>&) {
            return where(Mask(v.value() > T(0)), T(1), a * exp(negative_part(v)));
        });
}

template <class T>
VariableOf<T> selu(const VariableOf<T>& x) {
    const T a = static_cast<T>(kSeluAlpha), s = static_cast<T>(kSeluScale);
    return unary<T>(
        "selu", x, [a, s](T v) { return v > 0 ? s * v : s * a * std::expm1(v); },
        [a, s](T v, T) { return v > 0 ? s : s * a * std::exp(v); },
        [a, s](const VariableOf<T>& v, const VariableOf<T>&) {
            return where(Mask(v.value() > T(0)), s, s * a * exp(negative_part(v)));
        });
}

template <class T>
VariableOf<T> gelu(const VariableOf<T>& x, bool approximate) {
    const T inv_sqrt2 = static_cast<T>(0.70710678118654752440);
    const T inv_sqrt_2pi = static_cast<T>(0.39894228040143267794);
    const T c = static_cast<T>(0.79788456080286535588);  // sqrt(2 / pi)
    const T k = static_cast<T>(0.044715);
    if (approximate) {
        return unary<T>(
            "gelu", x,
            [c, k](T v) { return T(0.5) * v * (T(1) + std::tanh(c * (v + k * v * v * v))); },
            [c, k](T v, T) {
                const T t = std::tanh(c * (v + k * v * v * v));
                return T(0.5) * (T(1) + t) +
                       T(0.5) * v * (T(1) - t * t) * c * (T(1) + T(3) * k * v * v);
            },
            [c, k](const VariableOf<T>& v, const VariableOf<T>&) {
                const VariableOf<T> t = tanh(c * (v + k * v * v * v));
                return T(0.5) * (T(1) + t) +
                       T(0.5) * v * (T(1) - t * t) * c * (T(1) + T(3) * k * v * v);
            });
    }
    // erf_of and exp_of vectorise in float (libm's erff alone was a quarter of
    // examples/char_transformer's training step).
    return unary<T>(
        "gelu", x, [inv_sqrt2](T v) { return T(0.5) * v * (T(1) + erf_of(v * inv_sqrt2)); },
        [inv_sqrt2, inv_sqrt_2pi](T v, T) {
            return T(0.5) * (T(1) + erf_of(v * inv_sqrt2)) +
                   v * inv_sqrt_2pi * exp_of(T(-0.5) * v * v);
        },
        [inv_sqrt2, inv_sqrt_2pi](const VariableOf<T>& v, const VariableOf<T>&) {
            return T(0.5) * (T(1) + erf(v * inv_sqrt2)) + v * inv_sqrt_2pi * exp(T(-0.5) * v * v);
        });
}

template <class T>
VariableOf<T> sigmoid(const VariableOf<T>& x) {
    return keep_input(
        unary<T>(
            "sigmoid", x, [](T v) { return stable_sigmoid(v); },
            [](T, T y) { return y * (T(1) - y); },
            [](const VariableOf<T>&, const VariableOf<T>& y) { return y * (T(1) - y); }),
        "sigmoid", x);
}

// tanh_of (ops/float_math.h): a branchless float tanh, so that map() vectorises it; libm's
// tanhf is a scalar call of ~150 instructions.
template <class T>
VariableOf<T> tanh(const VariableOf<T>& x) {
    return record<T>(
        "tanh", map<T>(x.value(), [](T v) { return tanh_of(v); }), {x},
        [](const BackwardContext<T>& c) {
            return Grads<T>{chain<T>(c, [](T g, T, T y) { return g * (T(1) - y * y); })};
        },
        [](const GraphBackwardContext<T>& c) {
            return VariableList<T>{tanh_backward(c.grad, c.output())};
        });
}

template <class T>
VariableOf<T> tanh_backward(const VariableOf<T>& grad, const VariableOf<T>& y) {
    if (grad.shape() != y.shape()) {
        throw ShapeError("tanh_backward", "the gradient has shape " + format_shape(grad.shape()) +
                                              " but the output has shape " +
                                              format_shape(y.shape()));
    }
    return record<T>(
        "tanh_backward",
        zip<T>(grad.value(), y.value(),
               [](const auto& g, const auto& v) { return g * (T(1) - v * v); }),
        {grad, y},
        [](const BackwardContext<T>& c) {
            const TensorOf<T>& g = c.input(0);
            const TensorOf<T>& y = c.input(1);
            Grads<T> grads(2);
            if (c.needs(0)) {  // d/dgrad: (1 - y^2), chained
                grads[0] = zip<T>(
                    c.grad, y, [](const auto& go, const auto& v) { return go * (T(1) - v * v); });
            }
            if (c.needs(1)) {  // d/dy: -2 grad y, chained
                grads[1] = TensorOf<T>::from_shape(y.shape());
                chain_loop<T>(y.size(), c.grad.data(), g.data(), y.data(), grads[1].data(),
                              [](T go, T gv, T v) { return T(-2) * go * gv * v; });
            }
            return grads;
        },
        [](const GraphBackwardContext<T>& c) {
            const VariableOf<T> g = c.input(0), y = c.input(1);
            return VariableList<T>{c.needs(0) ? tanh_backward(c.grad, y) : VariableOf<T>(),
                                   c.needs(1) ? T(-2) * c.grad * g * y : VariableOf<T>()};
        });
}

template <class T>
VariableOf<T> softplus(const VariableOf<T>& x) {
    // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for large x.
    return unary<T>(
        "softplus", x, [](T v) { return std::max(v, T(0)) + std::log1p(std::exp(-std::abs(v))); },
        [](T v, T) { return stable_sigmoid(v); },
        [](const VariableOf<T>& v, const VariableOf<T>&) { return sigmoid(v); });
}

template <class T>
VariableOf<T> softsign(const VariableOf<T>& x) {
    return unary<T>(
        "softsign", x, [](T v) { return v / (T(1) + std::abs(v)); },
        [](T v, T) {
            const T d = T(1) + std::abs(v);
            return T(1) / (d * d);
        },
        [](const VariableOf<T>& v, const VariableOf<T>&) {
            const VariableOf<T> d = T(1) + abs(v);
            return T(1) / (d * d);
        });
}

template <class T>
VariableOf<T> silu(const VariableOf<T>& x) {
    return unary<T>(
        "silu", x, [](T v) { return v * stable_sigmoid(v); },
        [](T v, T) {
            const T s = stable_sigmoid(v);
            return s * (T(1) + v * (T(1) - s));
        },
        [](const VariableOf<T>& v, const VariableOf<T>&) {
            const VariableOf<T> s = sigmoid(v);
            return s * (T(1) + v * (T(1) - s));
        });
}

template <class T>
VariableOf<T> swish(const VariableOf<T>& x) {
    return silu(x);
}

template <class T>
VariableOf<T> hard_sigmoid(const VariableOf<T>& x) {
    return unary<T>(
        "hard_sigmoid", x, [](T v) { return std::clamp((v + T(3)) / T(6), T(0), T(1)); },
        [](T v, T) { return v > T(-3) && v < T(3) ? T(1) / T(6) : T(0); },
        [](const VariableOf<T>& v, const VariableOf<T>&) {
            const TensorOf<T>& x = v.value();
            return constant<T>(xt::where(x > T(-3) && x < T(3), T(1) / T(6), T(0)));
        });
}

template <class T>
VariableOf<T> softmax(const VariableOf<T>& x, int axis) {
    const Shape shape = x.shape();
    const std::size_t a = normalize_axis("softmax", axis, shape);
    const AxisBlocks v = around_axis(shape, a);
    // "softmax" is along the last axis: the one losses fuse with (nn/training/losses.h).
    const char* op = a + 1 == shape.size() ? "softmax" : "softmax_inner_axis";
    return keep_input(record<T>(
                          op, softmax_forward(x.value(), v, false), {x},
                          [v](const BackwardContext<T>& c) {
                              // dx = y * (g - sum(g * y)) along the axis.
                              TensorOf<T> dx = TensorOf<T>::from_shape(c.grad.shape());
                              const T* g = c.grad.data();
                              const T* y = c.output.data();
                              T* out = dx.data();
                              for_each_slice(v, [&](std::size_t base) {
                                  T dot = 0;
                                  for (std::size_t i = 0; i < v.n; ++i) {
                                      dot += g[base + i * v.inner] * y[base + i * v.inner];
                                  }
                                  for (std::size_t i = 0; i < v.n; ++i) {
                                      const std::size_t p = base + i * v.inner;
                                      out[p] = y[p] * (g[p] - dot);
                                  }
                              });
                              return Grads<T>{std::move(dx)};
                          },
                          [axis](const GraphBackwardContext<T>& c) {
                              const VariableOf<T> y = c.output();
                              return VariableList<T>{y * (c.grad - sum(c.grad * y, {axis}, true))};
                          }),
                      op, x);
}

template <class T>
VariableOf<T> log_softmax(const VariableOf<T>& x, int axis) {
    const Shape shape = x.shape();
    const AxisBlocks v = around_axis(shape, normalize_axis("log_softmax", axis, shape));
    return record<T>(
        "log_softmax", softmax_forward(x.value(), v, true), {x},
        [v](const BackwardContext<T>& c) {
            // dx = g - softmax * sum(g) along the axis, softmax = exp(y).
            TensorOf<T> dx = TensorOf<T>::from_shape(c.grad.shape());
            const T* g = c.grad.data();
            const T* y = c.output.data();
            T* out = dx.data();
            for_each_slice(v, [&](std::size_t base) {
                T total = 0;
                for (std::size_t i = 0; i < v.n; ++i) total += g[base + i * v.inner];
                for (std::size_t i = 0; i < v.n; ++i) {
                    const std::size_t p = base + i * v.inner;
                    out[p] = g[p] - std::exp(y[p]) * total;
                }
            });
            return Grads<T>{std::move(dx)};
        },
        [axis](const GraphBackwardContext<T>& c) {
            return VariableList<T>{c.grad - exp(c.output()) * sum(c.grad, {axis}, true)};
        });
}

const std::vector<std::string>& activation_names() {
    static const std::vector<std::string> names = {
        "linear", "relu",    "leaky_relu",   "elu",      "selu",
        "gelu",   "sigmoid", "tanh",         "softplus", "softsign",
        "silu",   "swish",   "hard_sigmoid", "softmax",  "log_softmax"};
    return names;
}

void check_activation_name(const std::string& name) {
    const auto& names = activation_names();
    if (std::find(names.begin(), names.end(), name) != names.end()) return;
    throw std::invalid_argument("unknown activation '" + name +
                                "'; valid names: " + join_names(names));
}

template <class T>
VariableOf<T> activate(const std::string& name, const VariableOf<T>& x) {
    if (name == "linear") return x;
    if (name == "relu") return relu(x);
    if (name == "leaky_relu") return leaky_relu(x);
    if (name == "elu") return elu(x);
    if (name == "selu") return selu(x);
    if (name == "gelu") return gelu(x);
    if (name == "sigmoid") return sigmoid(x);
    if (name == "tanh") return tanh(x);
    if (name == "softplus") return softplus(x);
    if (name == "softsign") return softsign(x);
    if (name == "silu") return silu(x);
    if (name == "swish") return swish(x);
    if (name == "hard_sigmoid") return hard_sigmoid(x);
    if (name == "softmax") return softmax(x, -1);
    if (name == "log_softmax") return log_softmax(x, -1);
    check_activation_name(name);  // throws: a name in the list above without a branch here
    throw std::logic_error("activate: no implementation for activation '" + name + "'");
}

#define XGRAD_INSTANTIATE_ACTIVATION(T)                                               \
    template VariableOf<T> relu(const VariableOf<T>&);                                \
    template VariableOf<T> leaky_relu(const VariableOf<T>&, double);                  \
    template VariableOf<T> elu(const VariableOf<T>&, double);                         \
    template VariableOf<T> selu(const VariableOf<T>&);                                \
    template VariableOf<T> gelu(const VariableOf<T>&, bool);                          \
    template VariableOf<T> sigmoid(const VariableOf<T>&);                             \
    template VariableOf<T> tanh(const VariableOf<T>&);                                \
    template VariableOf<T> tanh_backward(const VariableOf<T>&, const VariableOf<T>&); \
    template VariableOf<T> softplus(const VariableOf<T>&);                            \
    template VariableOf<T> softsign(const VariableOf<T>&);                            \
    template VariableOf<T> silu(const VariableOf<T>&);                                \
    template VariableOf<T> swish(const VariableOf<T>&);                               \
    template VariableOf<T> hard_sigmoid(const VariableOf<T>&);                        \
    template VariableOf<T> softmax(const VariableOf<T>&, int);                        \
    template VariableOf<T> log_softmax(const VariableOf<T>&, int);                    \
    template VariableOf<T> activate(const std::string&, const VariableOf<T>&);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_ACTIVATION)

}  // namespace xgrad
