#include "ops/pool.h"
#include "ops/max_pool_kernels.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <xtensor/xbuilder.hpp>

#include "framework/errors.h"
#include "framework/record.h"
#include "framework/vectorize.h"

namespace xgrad {

PoolGeometry plan_pool(const char* op, const Shape& xs, Size2 pool, Size2 strides,
                       const std::string& padding) {
    check_padding_name(op, padding);
    const std::string args = "pool size (" + std::to_string(pool[0]) + ", " +
                             std::to_string(pool[1]) + ") and strides (" +
                             std::to_string(strides[0]) + ", " + std::to_string(strides[1]) + ")";
    if (pool[0] == 0 || pool[1] == 0 || strides[0] == 0 || strides[1] == 0) {
        throw std::invalid_argument(std::string(op) + ": " + args + " must be positive");
    }
    if (xs.size() != 4) {
        throw ShapeError(
            op, "expected x of shape (batch, height, width, channels), got " + format_shape(xs));
    }
    PoolGeometry g{};
    g.n = xs[0], g.h = xs[1], g.w = xs[2], g.c = xs[3];
    g.ph = pool[0], g.pw = pool[1], g.sh = strides[0], g.sw = strides[1];
    const WindowAxis ah = window_axis(g.h, g.ph, g.sh, 1, padding);
    const WindowAxis aw = window_axis(g.w, g.pw, g.sw, 1, padding);
    if (padding == "valid" && (ah.out == 0 || aw.out == 0)) {
        throw ShapeError(op, "x " + format_shape(xs) + " is smaller than the " + args +
                                 " window with 'valid' padding");
    }
    g.oh = ah.out, g.ow = aw.out, g.pt = ah.pad_before, g.pl = aw.pad_before;
    return g;
}

namespace {

// Calls f(output pixel offset, input pixel offset) for every in-bounds window position, and
// begin(output pixel offset) / end(output pixel offset, count) around each window. Offsets
// are in elements and point at the first of the pixel's c channels.
template <class Begin, class Each, class End>
void for_each_window(const PoolGeometry& g, Begin&& begin, Each&& each, End&& end) {
    const long H = static_cast<long>(g.h), W = static_cast<long>(g.w);
    std::size_t out = 0;
    for (std::size_t b = 0; b < g.n; ++b) {
        for (std::size_t oy = 0; oy < g.oh; ++oy) {
            for (std::size_t ox = 0; ox < g.ow; ++ox, out += g.c) {
                begin(out);
                std::size_t count = 0;
                for (std::size_t ky = 0; ky < g.ph; ++ky) {
                    const long iy = static_cast<long>(oy * g.sh + ky) - static_cast<long>(g.pt);
                    if (iy < 0 || iy >= H) continue;
                    for (std::size_t kx = 0; kx < g.pw; ++kx) {
                        const long ix = static_cast<long>(ox * g.sw + kx) - static_cast<long>(g.pl);
                        if (ix < 0 || ix >= W) continue;
                        each(out,
                             static_cast<std::size_t>((static_cast<long>(b) * H + iy) * W + ix) *
                                 g.c);
                        ++count;
                    }
                }
                end(out, count);
            }
        }
    }
}

}  // namespace

// One window tap of max pooling over a pixel's c channels: each output keeps the larger value
// and where it came from (flat input index). Ties and NaN keep the earlier tap (only a NaN
// first tap wins); padding never wins. No branches in the channel loop, so it vectorises.
template <class T>
inline void max_tap(std::size_t c, const T* __restrict__ x, std::uint32_t at, bool first,
                    T* __restrict__ y, std::uint32_t* __restrict__ arg) {
    if (first) {
        for (std::size_t k = 0; k < c; ++k) {
            y[k] = x[k];
            arg[k] = at + static_cast<std::uint32_t>(k);
        }
        return;
    }
    for (std::size_t k = 0; k < c; ++k) {
        const bool larger = x[k] > y[k];
        y[k] = larger ? x[k] : y[k];
        arg[k] = larger ? at + static_cast<std::uint32_t>(k) : arg[k];
    }
}

// The whole forward loop is one multi-versioned function with everything inlined, so it runs
// at the machine's full vector width with no call per window tap (pooling conv activations is
// a hot loop).
template <class T>
XGRAD_VECTOR_CLONES [[gnu::flatten]] void max_pool_forward(const PoolGeometry& g, const T* x, T* y,
                                                           std::uint32_t* arg, std::size_t base) {
    bool first = true;
    for_each_window(
        g, [&](std::size_t) { first = true; },
        [&](std::size_t o, std::size_t i) {
            max_tap(g.c, x + i, static_cast<std::uint32_t>(base + i), first, y + o, arg + o);
            first = false;
        },
        [](std::size_t, std::size_t) {});
}

// max_pool2d's gradient when no two windows overlap (strides at least the pool size, as in
// the usual 2x2 pooling): each input element takes its window's gradient if it won the window,
// else 0. One pass that writes dx in order, instead of zeroing dx and scattering into it: dx
// is the size of a conv layer's output, too large for the cache at a batch of 128.
template <class T>
XGRAD_VECTOR_CLONES void max_pool_backward_disjoint(const PoolGeometry& g, const std::uint32_t* arg,
                                                    const T* grad, T* dx, std::size_t base) {
    std::size_t at = 0;  // flat index of the pixel's first channel in x
    for (std::size_t b = 0; b < g.n; ++b) {
        for (std::size_t iy = 0; iy < g.h; ++iy) {
            const std::size_t wy = (iy + g.pt) / g.sh;
            const bool row_in = (iy + g.pt) % g.sh < g.ph && wy < g.oh;
            for (std::size_t ix = 0; ix < g.w; ++ix, at += g.c) {
                const std::size_t wx = (ix + g.pl) / g.sw;
                T* d = dx + at;
                if (!row_in || (ix + g.pl) % g.sw >= g.pw || wx >= g.ow) {
                    std::fill_n(d, g.c, T(0));
                    continue;
                }
                const std::size_t o = ((b * g.oh + wy) * g.ow + wx) * g.c;
                const auto first =
                    static_cast<std::uint32_t>(base + at);  // forward checked the size
                for (std::size_t k = 0; k < g.c; ++k) {
                    d[k] = arg[o + k] == first + static_cast<std::uint32_t>(k) ? grad[o + k] : T(0);
                }
            }
        }
    }
}

namespace {

template <class T>
VariableOf<T> gather_winners(const VariableOf<T>& x, const Winners& arg, const Shape& out_shape);

}  // namespace

// scatter_winners' gradient reads the winners back (gather_winners), and the other way round,
// so max pooling differentiates to any order.
template <class T>
VariableOf<T> scatter_winners(const VariableOf<T>& g, const Winners& arg, const Shape& x_shape) {
    TensorOf<T> dx = xt::zeros<T>(x_shape);
    const T* gr = g.value().data();
    const std::uint32_t* a = arg->data();
    for (std::size_t i = 0; i < arg->size(); ++i) dx.data()[a[i]] += gr[i];
    const Shape out_shape = g.shape();
    return record<T>(
        "max_pool2d_backward", std::move(dx), {g},
        [arg](const BackwardContext<T>& c) {
            TensorOf<T> d = TensorOf<T>::from_shape(c.input(0).shape());
            for (std::size_t i = 0; i < arg->size(); ++i) d.data()[i] = c.grad.data()[(*arg)[i]];
            return Grads<T>{std::move(d)};
        },
        [arg, out_shape](const GraphBackwardContext<T>& c) {
            return VariableList<T>{gather_winners(c.grad, arg, out_shape)};
        });
}

namespace {

template <class T>
VariableOf<T> gather_winners(const VariableOf<T>& x, const Winners& arg, const Shape& out_shape) {
    TensorOf<T> y = TensorOf<T>::from_shape(out_shape);
    for (std::size_t i = 0; i < arg->size(); ++i) y.data()[i] = x.value().data()[(*arg)[i]];
    const Shape x_shape = x.shape();
    return record<T>(
        "max_pool2d_gather", std::move(y), {x},
        [arg](const BackwardContext<T>& c) {
            TensorOf<T> d = xt::zeros<T>(c.input(0).shape());
            for (std::size_t i = 0; i < arg->size(); ++i) d.data()[(*arg)[i]] += c.grad.data()[i];
            return Grads<T>{std::move(d)};
        },
        [arg, x_shape](const GraphBackwardContext<T>& c) {
            return VariableList<T>{scatter_winners(c.grad, arg, x_shape)};
        });
}

}  // namespace

template <class T>
VariableOf<T> max_pool2d(const VariableOf<T>& x, Size2 pool_size, Size2 strides,
                         const std::string& padding) {
    const TensorOf<T>& xv = x.value();
    const PoolGeometry g =
        plan_pool("max_pool2d", to_shape(xv.shape()), pool_size, strides, padding);
    if (xv.size() > std::numeric_limits<std::uint32_t>::max()) {
        throw ShapeError("max_pool2d", "x " + format_shape_of(xv) + " has " +
                                           std::to_string(xv.size()) +
                                           " elements, more than the 2^32 - 1 it indexes");
    }
    TensorOf<T> y = TensorOf<T>::from_shape({g.n, g.oh, g.ow, g.c});
    // For each output element, the flat index of the input element that won its window.
    auto arg = std::make_shared<std::vector<std::uint32_t>>(y.size());
    max_pool_forward<T>(g, xv.data(), y.data(), arg->data());
    return record<T>(
        "max_pool2d", std::move(y), {x},
        [arg, g](const BackwardContext<T>& ctx) {
            const T* gr = ctx.grad.data();
            const std::uint32_t* a = arg->data();
            if (g.sh >= g.ph && g.sw >= g.pw) {
                TensorOf<T> dx = TensorOf<T>::from_shape(ctx.input(0).shape());
                max_pool_backward_disjoint<T>(g, a, gr, dx.data());
                return Grads<T>{std::move(dx)};
            }
            TensorOf<T> dx = xt::zeros<T>(ctx.input(0).shape());
            for (std::size_t i = 0; i < arg->size(); ++i) dx.data()[a[i]] += gr[i];
            return Grads<T>{std::move(dx)};
        },
        [arg = Winners(arg)](const GraphBackwardContext<T>& ctx) {
            return VariableList<T>{scatter_winners(ctx.grad, arg, ctx.input(0).shape())};
        });
}

namespace {

// The mean of each window (dst has the output's shape).
template <class T>
void average_windows(const PoolGeometry& g, const T* src, T* dst) {
    const std::size_t c = g.c;
    for_each_window(
        g, [&](std::size_t o) { std::fill_n(dst + o, c, T(0)); },
        [&](std::size_t o, std::size_t i) {
            for (std::size_t k = 0; k < c; ++k) dst[o + k] += src[i + k];
        },
        [&](std::size_t o, std::size_t count) {
            const T inv = T(1) / static_cast<T>(count);
            for (std::size_t k = 0; k < c; ++k) dst[o + k] *= inv;
        });
}

// The adjoint of average_windows: each window's gradient, divided by its element count, goes
// to every element in it (d has the input's shape and starts at zero).
template <class T>
void spread_windows(const PoolGeometry& g, const T* gr, T* d) {
    const std::size_t c = g.c;
    std::vector<std::size_t> taps;
    for_each_window(
        g, [&](std::size_t) { taps.clear(); },
        [&](std::size_t, std::size_t i) { taps.push_back(i); },
        [&](std::size_t o, std::size_t count) {
            const T inv = T(1) / static_cast<T>(count);
            for (std::size_t i : taps) {
                for (std::size_t k = 0; k < c; ++k) d[i + k] += gr[o + k] * inv;
            }
        });
}

// Average pooling (forward) or its adjoint (the gradient, `adjoint`) as an op; each is the
// other's derivative, so average pooling differentiates to any order.
template <class T>
VariableOf<T> window_average(const VariableOf<T>& x, const PoolGeometry& g, bool adjoint) {
    const Shape in{g.n, g.h, g.w, g.c}, out{g.n, g.oh, g.ow, g.c};
    TensorOf<T> y = adjoint ? TensorOf<T>(xt::zeros<T>(in)) : TensorOf<T>::from_shape(out);
    if (adjoint) {
        spread_windows(g, x.value().data(), y.data());
    } else {
        average_windows(g, x.value().data(), y.data());
    }
    return record<T>(
        adjoint ? "avg_pool2d_backward" : "avg_pool2d", std::move(y), {x},
        [g, adjoint, in, out](const BackwardContext<T>& ctx) {
            TensorOf<T> d = adjoint ? TensorOf<T>::from_shape(out) : TensorOf<T>(xt::zeros<T>(in));
            if (adjoint) {
                average_windows(g, ctx.grad.data(), d.data());
            } else {
                spread_windows(g, ctx.grad.data(), d.data());
            }
            return Grads<T>{std::move(d)};
        },
        [g, adjoint](const GraphBackwardContext<T>& ctx) {
            return VariableList<T>{window_average(ctx.grad, g, !adjoint)};
        });
}

}  // namespace

template <class T>
VariableOf<T> avg_pool2d(const VariableOf<T>& x, Size2 pool_size, Size2 strides,
                         const std::string& padding) {
    const PoolGeometry g =
        plan_pool("avg_pool2d", to_shape(x.value().shape()), pool_size, strides, padding);
    return window_average(x, g, false);
}

#define XGRAD_INSTANTIATE_POOL(T)                                                                 \
    template VariableOf<T> max_pool2d(const VariableOf<T>&, Size2, Size2, const std::string&);    \
    template VariableOf<T> avg_pool2d(const VariableOf<T>&, Size2, Size2, const std::string&);    \
    template void max_pool_forward(const PoolGeometry&, const T*, T*, std::uint32_t*,             \
                                   std::size_t);                                                  \
    template void max_pool_backward_disjoint(const PoolGeometry&, const std::uint32_t*, const T*, \
                                             T*, std::size_t);                                    \
    template VariableOf<T> scatter_winners(const VariableOf<T>&, const Winners&, const Shape&);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_POOL)

}  // namespace xgrad
