#include "ops/linalg.h"

#include <algorithm>
#include <string>
#include <type_traits>
#include <utility>

#include <cblas.h>
#include <xtensor/xbuilder.hpp>

#include "framework/errors.h"
#include "framework/record.h"
#include "ops/broadcast.h"
#include "ops/column_sums.h"
#include "ops/gemm.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace xgrad {

namespace {

// How the batch dimensions of a (..., m, k) and b (..., k, n) map onto the output's: batch
// shapes padded with leading 1s to the output's batch rank, a size-1 dimension broadcast.
struct MatmulPlan {
    std::size_t m = 0, k = 0, n = 0;
    Shape out_shape;
    Shape out_batch, a_batch, b_batch;
    std::size_t count = 1, a_count = 1, b_count = 1;  // matrices in the output, a and b

    // The matrix of a and of b that output matrix t is computed from.
    std::pair<std::size_t, std::size_t> sources(std::size_t t) const {
        std::size_t ai = 0, bi = 0, a_stride = 1, b_stride = 1;
        for (std::size_t d = out_batch.size(); d-- > 0;) {
            const std::size_t idx = t % out_batch[d];
            t /= out_batch[d];
            if (a_batch[d] != 1) ai += idx * a_stride;
            if (b_batch[d] != 1) bi += idx * b_stride;
            a_stride *= a_batch[d];
            b_stride *= b_batch[d];
        }
        return {ai, bi};
    }
    // b is one matrix used for every output matrix and a is not broadcast: the whole product
    // is a single (count * m, k) x (k, n) gemm.
    bool flat() const { return b_count == 1 && a_count == count; }
};

template <class S>
MatmulPlan plan_matmul(const S& as, const S& bs) {
    if (as.size() < 2 || bs.size() < 2) {
        throw ShapeError("matmul", "shapes " + format_shape(to_shape(as)) + " and " +
                                       format_shape(to_shape(bs)) +
                                       " cannot be multiplied (both need rank 2 or more)");
    }
    MatmulPlan p;
    p.m = as[as.size() - 2];
    p.k = as[as.size() - 1];
    p.n = bs[bs.size() - 1];
    const std::size_t kb = bs[bs.size() - 2];
    if (p.k != kb) {
        throw ShapeError("matmul", "shapes " + format_shape(to_shape(as)) + " and " +
                                       format_shape(to_shape(bs)) + " cannot be multiplied (" +
                                       std::to_string(p.k) + " != " + std::to_string(kb) + ")");
    }
    const std::size_t ra = as.size() - 2, rb = bs.size() - 2, r = std::max(ra, rb);
    p.out_batch.assign(r, 1);
    p.a_batch.assign(r, 1);
    p.b_batch.assign(r, 1);
    for (std::size_t d = 0; d < r; ++d) {
        if (d >= r - ra) p.a_batch[d] = as[d - (r - ra)];
        if (d >= r - rb) p.b_batch[d] = bs[d - (r - rb)];
        const std::size_t da = p.a_batch[d], db = p.b_batch[d];
        if (da != db && da != 1 && db != 1) {
            throw ShapeError("matmul", "shapes " + format_shape(to_shape(as)) + " and " +
                                           format_shape(to_shape(bs)) +
                                           " have batch dimensions that cannot be broadcast (" +
                                           std::to_string(da) + " != " + std::to_string(db) + ")");
        }
        p.out_batch[d] = da == 1 ? db : da;
        p.count *= p.out_batch[d];
        p.a_count *= da;
        p.b_count *= db;
    }
    p.out_shape = p.out_batch;
    p.out_shape.push_back(p.m);
    p.out_shape.push_back(p.n);
    return p;
}

// Swaps the last two dimensions of a contiguous tensor.
template <class T>
TensorOf<T> swap_last_two(const TensorOf<T>& x) {
    Shape shape = to_shape(x.shape());
    const std::size_t r = shape.size(), rows = shape[r - 2], cols = shape[r - 1];
    std::swap(shape[r - 2], shape[r - 1]);
    TensorOf<T> y = TensorOf<T>::from_shape(shape);
    const std::size_t mat = rows * cols, batches = mat == 0 ? 0 : x.size() / mat;
    const T* src = x.data();
    T* dst = y.data();
    for (std::size_t t = 0; t < batches; ++t, src += mat, dst += mat) {
        for (std::size_t i = 0; i < rows; ++i) {
            for (std::size_t j = 0; j < cols; ++j) dst[j * rows + i] = src[i * cols + j];
        }
    }
    return y;
}

// The product of all dimensions but the last: the rows of a (..., features) tensor.
template <class S>
std::size_t leading_size(const S& shape) {
    std::size_t n = 1;
    for (std::size_t d = 0; d + 1 < shape.size(); ++d) n *= shape[d];
    return n;
}

// "x (32, 784), weight (784, 100) and bias (100,)", or without the bias when there is none.
template <class T>
std::string describe_linear(const VariableOf<T>& x, const VariableOf<T>& w,
                            const VariableOf<T>& bias) {
    std::string s = "x " + format_shape_of(x.value()) + (bias.defined() ? ", " : " and ") +
                    "weight " + format_shape_of(w.value());
    if (bias.defined()) s += " and bias " + format_shape_of(bias.value());
    return s;
}

}  // namespace

template <class T>
VariableOf<T> matmul(const VariableOf<T>& a, const VariableOf<T>& b) {
    const TensorOf<T>& av = a.value();
    const TensorOf<T>& bv = b.value();
    const MatmulPlan p = plan_matmul(av.shape(), bv.shape());
    TensorOf<T> y = TensorOf<T>::from_shape(p.out_shape);
    const std::size_t mk = p.m * p.k, kn = p.k * p.n, mn = p.m * p.n;
    if (p.flat()) {
        gemm<T>(false, false, p.count * p.m, p.n, p.k, av.data(), bv.data(), T(0), y.data());
    } else {
        for (std::size_t t = 0; t < p.count; ++t) {
            const auto [ai, bi] = p.sources(t);
            gemm<T>(false, false, p.m, p.n, p.k, av.data() + ai * mk, bv.data() + bi * kn, T(0),
                    y.data() + t * mn);
        }
    }
    return record<T>(
        "matmul", std::move(y), {a, b},
        [](const BackwardContext<T>& c) {
            const TensorOf<T>& A = c.input(0);
            const TensorOf<T>& B = c.input(1);
            const MatmulPlan p = plan_matmul(A.shape(), B.shape());
            const std::size_t mk = p.m * p.k, kn = p.k * p.n, mn = p.m * p.n;
            const T* g = c.grad.data();
            Grads<T> grads(2);
            if (c.needs(0)) {  // dA = g B^T, summed over the batches where A was broadcast
                const bool once = p.a_count == p.count;
                TensorOf<T> da = once ? TensorOf<T>::from_shape(A.shape())
                                      : TensorOf<T>(xt::zeros<T>(A.shape()));
                if (p.flat()) {
                    gemm<T>(false, true, p.count * p.m, p.k, p.n, g, B.data(), T(0), da.data());
                } else {
                    for (std::size_t t = 0; t < p.count; ++t) {
                        const auto [ai, bi] = p.sources(t);
                        gemm<T>(false, true, p.m, p.k, p.n, g + t * mn, B.data() + bi * kn,
                                once ? T(0) : T(1), da.data() + ai * mk);
                    }
                }
                grads[0] = std::move(da);
            }
            if (c.needs(1)) {  // dB = A^T g, summed over the batches where B was broadcast
                const bool once = p.b_count == p.count;
                TensorOf<T> db = once || p.flat() ? TensorOf<T>::from_shape(B.shape())
                                                  : TensorOf<T>(xt::zeros<T>(B.shape()));
                if (p.flat()) {
                    gemm<T>(true, false, p.k, p.n, p.count * p.m, A.data(), g, T(0), db.data());
                } else {
                    for (std::size_t t = 0; t < p.count; ++t) {
                        const auto [ai, bi] = p.sources(t);
                        gemm<T>(true, false, p.k, p.n, p.m, A.data() + ai * mk, g + t * mn,
                                once ? T(0) : T(1), db.data() + bi * kn);
                    }
                }
                grads[1] = std::move(db);
            }
            return grads;
        },
        [](const GraphBackwardContext<T>& c) {
            const VariableOf<T> A = c.input(0), B = c.input(1);
            VariableList<T> grads(2);
            if (c.needs(0)) grads[0] = sum_to(matmul(c.grad, transpose(B)), A.shape());
            if (c.needs(1)) grads[1] = sum_to(matmul(transpose(A), c.grad), B.shape());
            return grads;
        });
}

template <class T>
VariableOf<T> transpose(const VariableOf<T>& x) {
    if (x.value().dimension() < 2) {
        throw ShapeError("transpose",
                         "needs rank 2 or more, got shape " + format_shape_of(x.value()));
    }
    return record<T>(
        "transpose", swap_last_two(x.value()), {x},
        [](const BackwardContext<T>& c) { return Grads<T>{swap_last_two(c.grad)}; },
        [](const GraphBackwardContext<T>& c) { return VariableList<T>{transpose(c.grad)}; });
}

template <class T>
VariableOf<T> linear(const VariableOf<T>& x, const VariableOf<T>& weight,
                     const VariableOf<T>& bias) {
    const TensorOf<T>& xv = x.value();
    const TensorOf<T>& wv = weight.value();
    if (xv.dimension() < 1 || wv.dimension() != 2) {
        throw ShapeError("linear", describe_linear(x, weight, bias) +
                                       " do not fit (x needs rank 1 or more, weight rank 2)");
    }
    const std::size_t in = wv.shape()[0], out = wv.shape()[1];
    const std::size_t x_in = xv.shape()[xv.dimension() - 1];
    if (x_in != in) {
        throw ShapeError("linear", describe_linear(x, weight, bias) + " do not fit (x has " +
                                       std::to_string(x_in) + " features but weight expects " +
                                       std::to_string(in) + ")");
    }
    if (bias.defined() && (bias.value().dimension() != 1 || bias.value().shape()[0] != out)) {
        throw ShapeError("linear", describe_linear(x, weight, bias) +
                                       " do not fit (bias must have shape (" + std::to_string(out) +
                                       ",))");
    }
    // Leading dimensions of x are rows: (..., in) -> (..., out).
    const std::size_t rows = leading_size(xv.shape());
    Shape out_shape = to_shape(xv.shape());
    out_shape.back() = out;
    TensorOf<T> y = TensorOf<T>::from_shape(out_shape);
    if (bias.defined()) {  // each row starts as the bias, then gemm adds x W in the same pass
        const T* b = bias.value().data();
        for (std::size_t r = 0; r < rows; ++r) std::copy(b, b + out, y.data() + r * out);
    }
    gemm<T>(false, false, rows, out, in, xv.data(), wv.data(), bias.defined() ? T(1) : T(0),
            y.data());

    auto backward = [](const BackwardContext<T>& c) {
        const TensorOf<T>& X = c.input(0);
        const TensorOf<T>& W = c.input(1);
        const std::size_t in = W.shape()[0], out = W.shape()[1];
        const std::size_t rows = leading_size(X.shape());
        const T* g = c.grad.data();
        Grads<T> grads(c.node.inputs.size());
        if (c.needs(0)) {  // dX = g W^T; skipped for the data input, the costliest one
            TensorOf<T> dx = TensorOf<T>::from_shape(X.shape());
            gemm<T>(false, true, rows, in, out, g, W.data(), T(0), dx.data());
            grads[0] = std::move(dx);
        }
        if (c.needs(1)) {  // dW = X^T g
            TensorOf<T> dw = TensorOf<T>::from_shape(W.shape());
            gemm<T>(true, false, in, out, rows, X.data(), g, T(0), dw.data());
            grads[1] = std::move(dw);
        }
        if (grads.size() == 3 && c.needs(2)) {  // db = column sums of g
            TensorOf<T> db = xt::zeros<T>({out});
            add_column_sums(g, rows, out, db.data());
            grads[2] = std::move(db);
        }
        return grads;
    };
    auto graph_backward = [](const GraphBackwardContext<T>& c) {
        const VariableOf<T> X = c.input(0), W = c.input(1);
        const long in = static_cast<long>(W.shape()[0]), out = static_cast<long>(W.shape()[1]);
        VariableList<T> grads(c.node->inputs.size());
        if (c.needs(0)) grads[0] = linear(c.grad, transpose(W));
        const VariableOf<T> g_rows = reshape(c.grad, {-1, out});
        if (c.needs(1)) grads[1] = matmul(transpose(reshape(X, {-1, in})), g_rows);
        if (grads.size() == 3 && c.needs(2)) grads[2] = sum(g_rows, {0});
        return grads;
    };
    if (bias.defined()) {
        return record<T>("linear", std::move(y), {x, weight, bias}, backward, graph_backward);
    }
    return record<T>("linear", std::move(y), {x, weight}, backward, graph_backward);
}

#define XGRAD_INSTANTIATE_LINALG(T)                                            \
    template VariableOf<T> matmul(const VariableOf<T>&, const VariableOf<T>&); \
    template VariableOf<T> transpose(const VariableOf<T>&);                    \
    template VariableOf<T> linear(const VariableOf<T>&, const VariableOf<T>&, const VariableOf<T>&);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_LINALG)

}  // namespace xgrad
