#include "ops/conv.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <cblas.h>
#include <xtensor/xbuilder.hpp>

#include "framework/errors.h"
#include "framework/grad_mode.h"
#include "framework/record.h"
#include "framework/vectorize.h"
#include "ops/column_sums.h"
#include "ops/gemm.h"
#include "ops/max_pool_kernels.h"
#include "ops/reduce.h"
#include "ops/relu_loops.h"

namespace xgrad {

void check_padding_name(const std::string& op, const std::string& padding) {
    if (padding != "valid" && padding != "same") {
        throw std::invalid_argument(op + ": padding must be 'valid' or 'same', got '" + padding +
                                    "'");
    }
}

WindowAxis window_axis(std::size_t in, std::size_t kernel, std::size_t stride, std::size_t dilation,
                       const std::string& padding) {
    const std::size_t span = (kernel - 1) * dilation + 1;  // the dilated kernel's extent
    WindowAxis a;
    if (padding == "same") {
        a.out = (in + stride - 1) / stride;
        const std::size_t needed = a.out == 0 ? 0 : (a.out - 1) * stride + span;
        a.pad_before = needed > in ? (needed - in) / 2 : 0;
    } else if (in >= span) {
        a.out = (in - span) / stride + 1;
    }
    return a;
}

namespace {

// Everything about one convolution's shapes, worked out once from the input and kernel shapes.
struct ConvGeometry {
    std::size_t n, h, w, c;  // input
    std::size_t kh, kw, oc;  // kernel (kh, kw, c, oc)
    std::size_t oh, ow;      // output spatial size
    std::size_t sh, sw, dh, dw;
    std::size_t pt, pl;  // padding at the top and the left
    // im2col: one row per output pixel (batch * oh * ow), one column per kernel tap and channel.
    std::size_t rows() const { return n * oh * ow; }
    std::size_t patch() const { return kh * kw * c; }
};

template <class S>
std::string describe(const S& x, const S& k) {
    return "x " + format_shape(to_shape(x)) + " and kernel " + format_shape(to_shape(k));
}

template <class S>
ConvGeometry plan_conv(const S& xs, const S& ks, const Conv2dOptions& o) {
    check_padding_name("conv2d", o.padding);
    if (o.strides[0] == 0 || o.strides[1] == 0 || o.dilation[0] == 0 || o.dilation[1] == 0) {
        throw std::invalid_argument(
            "conv2d: strides and dilations must be positive, got strides (" +
            std::to_string(o.strides[0]) + ", " + std::to_string(o.strides[1]) +
            ") and dilation (" + std::to_string(o.dilation[0]) + ", " +
            std::to_string(o.dilation[1]) + ")");
    }
    if (xs.size() != 4 || ks.size() != 4) {
        throw ShapeError("conv2d", describe(xs, ks) +
                                       " do not fit (x must be (batch, height, width, channels) "
                                       "and kernel (height, width, in_channels, out_channels))");
    }
    if (xs[3] != ks[2]) {
        throw ShapeError("conv2d", describe(xs, ks) + " do not fit (x has " +
                                       std::to_string(xs[3]) + " channels but the kernel expects " +
                                       std::to_string(ks[2]) + ")");
    }
    if (ks[0] == 0 || ks[1] == 0) {
        throw ShapeError("conv2d", describe(xs, ks) + " do not fit (the kernel is empty)");
    }
    ConvGeometry g{};
    g.n = xs[0], g.h = xs[1], g.w = xs[2], g.c = xs[3];
    g.kh = ks[0], g.kw = ks[1], g.oc = ks[3];
    g.sh = o.strides[0], g.sw = o.strides[1], g.dh = o.dilation[0], g.dw = o.dilation[1];
    const WindowAxis ah = window_axis(g.h, g.kh, g.sh, g.dh, o.padding);
    const WindowAxis aw = window_axis(g.w, g.kw, g.sw, g.dw, o.padding);
    if (o.padding == "valid" && (ah.out == 0 || aw.out == 0)) {
        throw ShapeError("conv2d", describe(xs, ks) +
                                       " do not fit (the dilated kernel is larger than the "
                                       "input with 'valid' padding)");
    }
    g.oh = ah.out, g.ow = aw.out, g.pt = ah.pad_before, g.pl = aw.pad_before;
    return g;
}

// Walks the im2col matrix: calls f(col, x offset, length) for every run of `length` values of
// a row that come from consecutive input elements (x offset -1: zeros from the padding). With
// no horizontal dilation a kernel row inside the input is one run of kw * c values.
template <class F>
void for_each_run(const ConvGeometry& g, F&& f) {
    const long H = static_cast<long>(g.h), W = static_cast<long>(g.w);
    const long C = static_cast<long>(g.c), KW = static_cast<long>(g.kw);
    std::size_t row = 0;
    for (std::size_t b = 0; b < g.n; ++b) {
        for (std::size_t oy = 0; oy < g.oh; ++oy) {
            for (std::size_t ox = 0; ox < g.ow; ++ox, ++row) {
                std::size_t col = row * g.patch();
                const long x0 = static_cast<long>(ox * g.sw) - static_cast<long>(g.pl);
                for (std::size_t ky = 0; ky < g.kh; ++ky, col += g.kw * g.c) {
                    const long iy =
                        static_cast<long>(oy * g.sh + ky * g.dh) - static_cast<long>(g.pt);
                    const long base = (static_cast<long>(b) * H + iy) * W;
                    if (iy < 0 || iy >= H) {
                        f(col, -1L, g.kw * g.c);
                    } else if (g.dw == 1 && x0 >= 0 && x0 + KW <= W) {
                        f(col, (base + x0) * C, g.kw * g.c);
                    } else {
                        for (std::size_t kx = 0; kx < g.kw; ++kx) {
                            const long ix = x0 + static_cast<long>(kx * g.dw);
                            f(col + kx * g.c, ix < 0 || ix >= W ? -1L : (base + ix) * C, g.c);
                        }
                    }
                }
            }
        }
    }
}

// Copies n values. Short runs (a 3-wide kernel over one channel is 3 values) are copied
// inline: a call to memmove for each of them costs more than the copy itself.
template <class T>
void copy_run(const T* s, std::size_t n, T* d) {
    if (n > 8) {
        std::copy_n(s, n, d);
        return;
    }
    for (std::size_t i = 0; i < 8; ++i) {
        if (i < n) d[i] = s[i];
    }
}

// y += bias on each of the `rows` rows of n values, then relu if asked: one pass over a chunk
// of the output while the GEMM that wrote it has left it in the cache.
template <class T>
XGRAD_VECTOR_CLONES void add_bias_relu(std::size_t rows, std::size_t n, const T* bias, bool relu,
                                       T* y) {
    for (std::size_t r = 0; r < rows; ++r, y += n) {
        for (std::size_t i = 0; i < n; ++i) {
            const T v = y[i] + bias[i];
            y[i] = relu && v <= 0 ? T(0) : v;  // relu_loop's rule: NaN passes through
        }
    }
}

// cols (rows, patch): each row is the receptive field of one output pixel, zeros for padding.
template <class T>
void im2col(const ConvGeometry& g, const T* x, T* cols) {
    for_each_run(g, [&](std::size_t col, long off, std::size_t len) {
        T* d = cols + col;
        if (off < 0) {
            std::fill_n(d, len, T(0));
        } else {
            copy_run(x + off, len, d);
        }
    });
}

// The adjoint of im2col: dx += every row's entries at the input positions they came from.
template <class T>
void col2im(const ConvGeometry& g, const T* cols, T* dx) {
    for_each_run(g, [&](std::size_t col, long off, std::size_t len) {
        if (off < 0) return;
        T* d = dx + off;
        const T* s = cols + col;
        for (std::size_t i = 0; i < len; ++i) d[i] += s[i];
    });
}

// The batch is lowered in chunks of whole images whose im2col matrix and output together
// hold about this many values (512 KB of float) per BLAS thread, so both stay in cache
// between im2col, the GEMM and the bias/relu pass (backward: the masked gradient, the GEMMs
// and col2im), and each GEMM is large enough to be worth splitting over threads. The output
// counts: with one input channel and 32 filters (a first conv layer) it is 3.5x the matrix.
// Backward lowers each chunk again rather than keeping the whole matrix: that costs a cheap
// in-cache copy and saves a matrix 9x the input's size for a 3x3 kernel.
constexpr std::size_t kChunkValues = std::size_t(1) << 17;

// The geometry of images [first, first + g.n) of the batch, and their offsets in x and y.
struct ConvChunk {
    ConvGeometry g;
    std::size_t first, x_offset, y_offset;
};

std::vector<ConvChunk> split_batch(const ConvGeometry& g) {
    const std::size_t image_values = g.oh * g.ow * (g.patch() + g.oc);
    const std::size_t values = kChunkValues * static_cast<std::size_t>(blas_threads());
    const std::size_t per_chunk =
        std::max<std::size_t>(1, values / std::max<std::size_t>(image_values, 1));
    std::vector<ConvChunk> chunks;
    for (std::size_t first = 0; first < g.n; first += per_chunk) {
        ConvChunk c{g, first, first * g.h * g.w * g.c, first * g.oh * g.ow * g.oc};
        c.g.n = std::min(per_chunk, g.n - first);
        chunks.push_back(c);
    }
    return chunks;
}

// Scratch buffers for one chunk, one per thread and purpose, reused across calls: the same
// sizes come back every batch. Purpose 0: the im2col matrix; 1: the output gradient; 2: the
// output before pooling (conv2d_max_pool); 3: the pooled gradient after relu's mask.
template <class T, int Purpose>
T* chunk_buffer(std::size_t n) {
    thread_local std::vector<T> buffer;
    if (buffer.size() < n) buffer.resize(n);
    return buffer.data();
}

// The rows of the largest chunk (the first).
std::size_t chunk_rows(const std::vector<ConvChunk>& chunks) {
    return chunks.empty() ? 0 : chunks.front().g.rows();
}

// The backward kernels of conv2d, a cache-sized chunk of the batch at a time. Each output
// that is not null is computed: dx += the input gradient (needs `kernel`), dk = the kernel
// gradient (needs `x`), db += the bias gradient. chunk_grad(chunk) returns the output
// gradient of a chunk (it may build it in a scratch buffer).
template <class T, class ChunkGrad>
void conv_backward_chunks(const ConvGeometry& g, ChunkGrad&& chunk_grad, const T* x,
                          const T* kernel, T* dx, T* dk, T* db) {
    const std::vector<ConvChunk> chunks = split_batch(g);
    T* cols = chunk_buffer<T, 0>(chunk_rows(chunks) * g.patch());
    bool first = true;
    for (const ConvChunk& ch : chunks) {
        const std::size_t rows = ch.g.rows();
        const T* g_chunk = chunk_grad(ch);
        if (dk) {  // dK = cols^T g, summed over the chunks
            im2col(ch.g, x + ch.x_offset, cols);
            gemm<T>(true, false, g.patch(), g.oc, rows, cols, g_chunk, first ? T(0) : T(1), dk);
        }
        if (dx) {  // dcols = g K^T, then scattered back onto the input
            gemm<T>(false, true, rows, g.patch(), g.oc, g_chunk, kernel, T(0), cols);
            col2im(ch.g, cols, dx + ch.x_offset);
        }
        if (db) add_column_sums(g_chunk, rows, g.oc, db);
        first = false;
    }
    // An empty batch has no chunk: the kernel gradient is zero, not uninitialised.
    if (dk && first) std::fill_n(dk, g.patch() * g.oc, T(0));
}

// conv_backward_chunks for the output gradient `grad`; with `relu_output`, the gradient is
// first zeroed where that fused-relu output was not positive.
template <class T>
void conv_backward(const ConvGeometry& g, const T* grad, const T* relu_output, const T* x,
                   const T* kernel, T* dx, T* dk, T* db) {
    T* masked = relu_output ? chunk_buffer<T, 1>(chunk_rows(split_batch(g)) * g.oc) : nullptr;
    auto chunk_grad = [&](const ConvChunk& ch) {
        const T* g_chunk = grad + ch.y_offset;
        if (!relu_output) return g_chunk;
        relu_grad_loop<T>(ch.g.rows() * g.oc, g_chunk, relu_output + ch.y_offset, masked);
        return static_cast<const T*>(masked);
    };
    conv_backward_chunks<T>(g, chunk_grad, x, kernel, dx, dk, db);
}

// The first-order backward of an op whose inputs are conv2d's (x, kernel and maybe bias): the
// tensors to fill, then `run`(dx, dk, db) with null for those not needed.
template <class T, class Run>
Grads<T> conv_grads(const BackwardContext<T>& c, std::size_t oc, const Run& run) {
    Grads<T> grads(c.node.inputs.size());
    TensorOf<T> dx, dk, db;
    if (c.needs(0)) dx = xt::zeros<T>(c.input(0).shape());
    if (c.needs(1)) dk = TensorOf<T>::from_shape(c.input(1).shape());
    const bool bias_grad = grads.size() == 3 && c.needs(2);
    if (bias_grad) db = xt::zeros<T>({oc});
    run(c.needs(0) ? dx.data() : nullptr, c.needs(1) ? dk.data() : nullptr,
        bias_grad ? db.data() : nullptr);
    if (c.needs(0)) grads[0] = std::move(dx);
    if (c.needs(1)) grads[1] = std::move(dk);
    if (bias_grad) grads[2] = std::move(db);
    return grads;
}

// The first-order backward of the two gradient ops: their graph backward `both` run on
// plain tensors, without recording.
template <class T, class Both>
Grads<T> tensor_grads(const BackwardContext<T>& c, const Both& both) {
    NoGradGuard no_graph;
    VariableList<T> v = both(VariableOf<T>(c.grad), VariableOf<T>(c.input(0)),
                             VariableOf<T>(c.input(1)), c.needs(0), c.needs(1));
    Grads<T> grads(2);
    for (std::size_t i = 0; i < 2; ++i) {
        if (v[i].defined()) grads[i] = std::move(v[i].mutable_value());
    }
    return grads;
}

template <class T>
VariableOf<T> conv2d_input_grad(const VariableOf<T>& grad, const VariableOf<T>& kernel,
                                const Shape& x_shape, const Conv2dOptions& options);
template <class T>
VariableOf<T> conv2d_kernel_grad(const VariableOf<T>& x, const VariableOf<T>& grad,
                                 const Shape& k_shape, const Conv2dOptions& options);

// conv2d's checks of its inputs (the bias: empty or (out_channels,)), and their geometry.
template <class T>
ConvGeometry plan_conv_op(const VariableOf<T>& x, const VariableOf<T>& kernel,
                          const VariableOf<T>& bias, const Conv2dOptions& options) {
    const Shape xs = x.shape(), ks = kernel.shape();
    const ConvGeometry g = plan_conv(xs, ks, options);
    if (bias.defined() && (bias.value().dimension() != 1 || bias.value().shape()[0] != g.oc)) {
        throw ShapeError("conv2d", describe(xs, ks) + " do not fit bias " +
                                       format_shape_of(bias.value()) + " (it must have shape (" +
                                       std::to_string(g.oc) + ",))");
    }
    return g;
}

// One chunk of conv2d's output: y = im2col(x) K, plus the bias (may be null), then relu if
// asked, in one pass while the GEMM has left y in the cache.
template <class T>
void conv_forward_chunk(const ConvChunk& c, const T* x, const T* kernel, const T* bias, bool relu,
                        T* cols, T* y) {
    im2col(c.g, x + c.x_offset, cols);
    gemm<T>(false, false, c.g.rows(), c.g.oc, c.g.patch(), cols, kernel, T(0), y);
    if (bias) {
        add_bias_relu<T>(c.g.rows(), c.g.oc, bias, relu, y);
    } else if (relu) {
        relu_loop<T>(c.g.rows() * c.g.oc, y, y);
    }
}

// relu's derivative for the graph backward of an op with a fused relu: the gradient where the
// op's output is positive, else 0 (a constant mask: relu's second derivative is 0).
template <class T>
VariableOf<T> relu_masked(const GraphBackwardContext<T>& c) {
    return c.grad * VariableOf<T>(TensorOf<T>(xt::cast<T>(c.output().value() > T(0))));
}

// The gradients of conv2d's inputs (x, kernel, maybe bias) as ops, for the gradient `grad` of
// its output (before any relu): the input and kernel gradients are ops of their own, each
// differentiable through conv2d and the other.
template <class T>
VariableList<T> conv_graph_grads(const GraphBackwardContext<T>& c, const VariableOf<T>& grad,
                                 const Conv2dOptions& plain) {
    const VariableOf<T> x = c.input(0), k = c.input(1);
    VariableList<T> grads(c.node->inputs.size());
    if (c.needs(0)) grads[0] = conv2d_input_grad(grad, k, x.shape(), plain);
    if (c.needs(1)) grads[1] = conv2d_kernel_grad(x, grad, k.shape(), plain);
    if (grads.size() == 3 && c.needs(2)) grads[2] = sum(grad, {0, 1, 2});
    return grads;
}

// Records an op of conv2d's inputs; an undefined bias is not one of them.
template <class T>
VariableOf<T> record_conv(const char* op, TensorOf<T> y, const VariableOf<T>& x,
                          const VariableOf<T>& kernel, const VariableOf<T>& bias,
                          BackwardFn<T> backward, GraphBackwardFn<T> graph_backward) {
    if (bias.defined()) {
        return record<T>(op, std::move(y), {x, kernel, bias}, std::move(backward),
                         std::move(graph_backward));
    }
    return record<T>(op, std::move(y), {x, kernel}, std::move(backward), std::move(graph_backward));
}

}  // namespace

template <class T>
VariableOf<T> conv2d(const VariableOf<T>& x, const VariableOf<T>& kernel, const VariableOf<T>& bias,
                     const Conv2dOptions& options) {
    const ConvGeometry g = plan_conv_op(x, kernel, bias, options);
    const std::vector<ConvChunk> chunks = split_batch(g);
    TensorOf<T> y = TensorOf<T>::from_shape({g.n, g.oh, g.ow, g.oc});
    T* cols = chunk_buffer<T, 0>(chunk_rows(chunks) * g.patch());
    const T* b = bias.defined() ? bias.value().data() : nullptr;
    for (const ConvChunk& c : chunks) {
        conv_forward_chunk<T>(c, x.value().data(), kernel.value().data(), b, options.relu, cols,
                              y.data() + c.y_offset);
    }
    auto backward = [g, relu = options.relu](const BackwardContext<T>& c) {
        return conv_grads<T>(c, g.oc, [&](T* dx, T* dk, T* db) {
            conv_backward<T>(g, c.grad.data(), relu ? c.output.data() : nullptr, c.input(0).data(),
                             c.input(1).data(), dx, dk, db);
        });
    };
    Conv2dOptions plain = options;
    plain.relu = false;
    auto graph_backward = [plain, relu = options.relu](const GraphBackwardContext<T>& c) {
        return conv_graph_grads<T>(c, relu ? relu_masked(c) : c.grad, plain);
    };
    return record_conv<T>("conv2d", std::move(y), x, kernel, bias, backward, graph_backward);
}

template <class T>
VariableOf<T> conv2d_max_pool(const VariableOf<T>& x, const VariableOf<T>& kernel,
                              const VariableOf<T>& bias, const Conv2dOptions& options,
                              Size2 pool_size, Size2 pool_strides,
                              const std::string& pool_padding) {
    const ConvGeometry g = plan_conv_op(x, kernel, bias, options);
    const Shape conv_shape{g.n, g.oh, g.ow, g.oc};
    const PoolGeometry p =
        plan_pool("conv2d_max_pool", conv_shape, pool_size, pool_strides, pool_padding);
    if (p.sh < p.ph || p.sw < p.pw) {
        throw std::invalid_argument(
            "conv2d_max_pool: the pool windows must not overlap, got pool size (" +
            std::to_string(p.ph) + ", " + std::to_string(p.pw) + ") and strides (" +
            std::to_string(p.sh) + ", " + std::to_string(p.sw) + ")");
    }
    if (g.n * g.oh * g.ow * g.oc > std::numeric_limits<std::uint32_t>::max()) {
        throw ShapeError("conv2d_max_pool", "the convolution's output " + format_shape(conv_shape) +
                                                " has more than the 2^32 - 1 elements it indexes");
    }
    const std::vector<ConvChunk> chunks = split_batch(g);
    T* cols = chunk_buffer<T, 0>(chunk_rows(chunks) * g.patch());
    T* conv = chunk_buffer<T, 2>(chunk_rows(chunks) * g.oc);
    TensorOf<T> y = TensorOf<T>::from_shape({g.n, p.oh, p.ow, g.oc});
    // For each pooled element, the flat index in the (never stored) conv output of the winner.
    auto arg = std::make_shared<std::vector<std::uint32_t>>(y.size());
    const std::size_t pooled_image = p.oh * p.ow * g.oc;
    const T* b = bias.defined() ? bias.value().data() : nullptr;
    for (const ConvChunk& c : chunks) {
        conv_forward_chunk<T>(c, x.value().data(), kernel.value().data(), b, options.relu, cols,
                              conv);
        PoolGeometry pc = p;
        pc.n = c.g.n;
        const std::size_t at = c.first * pooled_image;
        max_pool_forward<T>(pc, conv, y.data() + at, arg->data() + at, c.y_offset);
    }

    // Each chunk's conv output gradient is built in the cache from the pooled gradient: the
    // window winners take it (where relu let them through), every other element 0.
    auto backward = [g, p, arg, relu = options.relu](const BackwardContext<T>& c) {
        return conv_grads<T>(c, g.oc, [&](T* dx, T* dk, T* db) {
            const std::vector<ConvChunk> parts = split_batch(g);
            const std::size_t images = parts.empty() ? 0 : parts.front().g.n;
            const std::size_t pooled = p.oh * p.ow * g.oc;
            T* dconv = chunk_buffer<T, 1>(chunk_rows(parts) * g.oc);
            T* masked = chunk_buffer<T, 3>(relu ? images * pooled : 0);
            auto chunk_grad = [&](const ConvChunk& ch) {
                PoolGeometry pc = p;
                pc.n = ch.g.n;
                const std::size_t at = ch.first * pooled;
                const T* gp = c.grad.data() + at;
                if (relu) {  // the pooled output is the winner's relu output
                    relu_grad_loop<T>(ch.g.n * pooled, gp, c.output.data() + at, masked);
                    gp = masked;
                }
                max_pool_backward_disjoint<T>(pc, arg->data() + at, gp, dconv, ch.y_offset);
                return static_cast<const T*>(dconv);
            };
            conv_backward_chunks<T>(g, chunk_grad, c.input(0).data(), c.input(1).data(), dx, dk,
                                    db);
        });
    };
    Conv2dOptions plain = options;
    plain.relu = false;
    auto graph_backward = [plain, conv_shape, arg = Winners(arg),
                           relu = options.relu](const GraphBackwardContext<T>& c) {
        const VariableOf<T> pooled_grad = relu ? relu_masked(c) : c.grad;
        return conv_graph_grads<T>(c, scatter_winners(pooled_grad, arg, conv_shape), plain);
    };
    return record_conv<T>("conv2d_max_pool", std::move(y), x, kernel, bias, backward,
                          graph_backward);
}

namespace {

// The input gradient of conv2d (x of shape x_shape) for output gradient `grad`, as an op: it
// is linear in grad and in the kernel, with conv2d and the kernel gradient as its adjoints.
template <class T>
VariableOf<T> conv2d_input_grad(const VariableOf<T>& grad, const VariableOf<T>& kernel,
                                const Shape& x_shape, const Conv2dOptions& options) {
    const Shape k_shape = kernel.shape();
    const ConvGeometry g = plan_conv(x_shape, k_shape, options);
    TensorOf<T> dx = xt::zeros<T>(x_shape);
    conv_backward<T>(g, grad.value().data(), nullptr, nullptr, kernel.value().data(), dx.data(),
                     nullptr, nullptr);
    auto both = [options, x_shape, k_shape](const VariableOf<T>& upstream, const VariableOf<T>& g,
                                            const VariableOf<T>& k, bool need_g, bool need_k) {
        VariableList<T> grads(2);
        if (need_g) grads[0] = conv2d(upstream, k, VariableOf<T>(), options);
        if (need_k) grads[1] = conv2d_kernel_grad(upstream, g, k_shape, options);
        return grads;
    };
    return record<T>(
        "conv2d_input_grad", std::move(dx), {grad, kernel},
        [both](const BackwardContext<T>& c) { return tensor_grads<T>(c, both); },
        [both](const GraphBackwardContext<T>& c) {
            return both(c.grad, c.input(0), c.input(1), c.needs(0), c.needs(1));
        });
}

// The kernel gradient of conv2d (kernel of shape k_shape) for input x and output gradient
// `grad`, as an op: linear in x and in grad, with the input gradient and conv2d as adjoints.
template <class T>
VariableOf<T> conv2d_kernel_grad(const VariableOf<T>& x, const VariableOf<T>& grad,
                                 const Shape& k_shape, const Conv2dOptions& options) {
    const Shape x_shape = x.shape();
    const ConvGeometry g = plan_conv(x_shape, k_shape, options);
    TensorOf<T> dk = xt::zeros<T>(k_shape);
    conv_backward<T>(g, grad.value().data(), nullptr, x.value().data(), nullptr, nullptr, dk.data(),
                     nullptr);
    auto both = [options, x_shape](const VariableOf<T>& upstream, const VariableOf<T>& xv,
                                   const VariableOf<T>& g, bool need_x, bool need_g) {
        VariableList<T> grads(2);
        if (need_x) grads[0] = conv2d_input_grad(g, upstream, x_shape, options);
        if (need_g) grads[1] = conv2d(xv, upstream, VariableOf<T>(), options);
        return grads;
    };
    return record<T>(
        "conv2d_kernel_grad", std::move(dk), {x, grad},
        [both](const BackwardContext<T>& c) { return tensor_grads<T>(c, both); },
        [both](const GraphBackwardContext<T>& c) {
            return both(c.grad, c.input(0), c.input(1), c.needs(0), c.needs(1));
        });
}

}  // namespace

#define XGRAD_INSTANTIATE_CONV(T)                                                             \
    template VariableOf<T> conv2d(const VariableOf<T>&, const VariableOf<T>&,                 \
                                  const VariableOf<T>&, const Conv2dOptions&);                \
    template VariableOf<T> conv2d_max_pool(const VariableOf<T>&, const VariableOf<T>&,        \
                                           const VariableOf<T>&, const Conv2dOptions&, Size2, \
                                           Size2, const std::string&);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_CONV)

}  // namespace xgrad
