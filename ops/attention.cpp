#include "ops/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "framework/errors.h"
#include "framework/record.h"
#include "ops/activation.h"
#include "ops/dropout.h"
#include "ops/elementwise.h"
#include "ops/gemm.h"
#include "ops/linalg.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "ops/triangular.h"

namespace xgrad {

namespace {

struct Dims {
    std::size_t batch = 0, queries = 0, keys = 0, heads = 0, dim = 0, value_dim = 0;
    std::size_t mask_batch = 0;  // 0: no mask; 1: one mask for every example; batch
    double scale = 1;
};

Dims check_shapes(const Shape& q, const Shape& k, const Shape& v, const AttentionOptions& o,
                  bool causal_or_mask) {
    const std::string shapes =
        "q " + format_shape(q) + ", k " + format_shape(k) + " and v " + format_shape(v);
    if (q.size() != 3 || k.size() != 3 || v.size() != 3) {
        throw ShapeError("attention", shapes + " must all have rank 3 (batch, time, heads * dim)");
    }
    if (q[0] != k[0] || k[0] != v[0] || k[1] != v[1] || q[2] != k[2]) {
        throw ShapeError("attention", shapes +
                                          " do not fit (same batch, k and v the same time, "
                                          "q and k the same width)");
    }
    const std::size_t h = o.num_heads;
    if (h == 0 || q[2] % h != 0 || v[2] % h != 0 || q[2] == 0) {
        throw ShapeError("attention", shapes + " cannot be split into " + std::to_string(h) +
                                          " heads (the last axes must be positive multiples "
                                          "of the number of heads)");
    }
    Dims d{q[0], q[1], k[1], h, q[2] / h, v[2] / h, 0, 1.0 / std::sqrt(double(q[2] / h))};
    if (o.mask.dimension() != 0) {
        const Shape m = to_shape(o.mask.shape());
        const bool two = m == Shape{d.queries, d.keys};
        const bool three = m == Shape{d.batch, d.queries, d.keys};
        if (!two && !three) {
            throw ShapeError("attention", "mask of shape " + format_shape(m) + " does not fit " +
                                              shapes + " (expected (" + std::to_string(d.queries) +
                                              ", " + std::to_string(d.keys) + ") or (" +
                                              std::to_string(d.batch) + ", " +
                                              std::to_string(d.queries) + ", " +
                                              std::to_string(d.keys) + "))");
        }
        d.mask_batch = two ? 1 : d.batch;
    } else if (causal_or_mask) {
        d.mask_batch = 1;
    }
    return d;
}

// The mask and the causal triangle as one (mask_batch, queries, keys) mask; none without either.
std::optional<Mask> allowed_keys(const AttentionOptions& o, const Dims& d) {
    if (d.mask_batch == 0) return std::nullopt;
    Mask m = Mask::from_shape({d.mask_batch, d.queries, d.keys});
    if (o.mask.dimension() != 0) {
        std::copy(o.mask.data(), o.mask.data() + m.size(), m.data());
    } else {
        std::fill(m.data(), m.data() + m.size(), true);
    }
    if (o.causal) {
        const Mask tri = causal_mask(d.queries, d.keys);
        for (std::size_t b = 0; b < d.mask_batch; ++b) {
            bool* mb = m.data() + b * tri.size();
            for (std::size_t i = 0; i < tri.size(); ++i) mb[i] = mb[i] && tri.data()[i];
        }
    }
    return m;
}

// Softmax of each row of the (rows, n) scores in place, over the allowed entries only (the
// others become 0; a row with none allowed becomes all 0).
template <class T>
void masked_softmax_rows(T* s, std::size_t rows, std::size_t n, const bool* allowed) {
    for (std::size_t r = 0; r < rows; ++r, s += n) {
        const bool* a = allowed ? allowed + r * n : nullptr;
        T mx = -std::numeric_limits<T>::infinity();
        for (std::size_t j = 0; j < n; ++j) {
            if (!a || a[j]) mx = std::max(mx, s[j]);
        }
        if (mx == -std::numeric_limits<T>::infinity()) {
            std::fill(s, s + n, T(0));
            continue;
        }
        T total = 0;
        for (std::size_t j = 0; j < n; ++j) {
            s[j] = (!a || a[j]) ? std::exp(s[j] - mx) : T(0);
            total += s[j];
        }
        const T inv = T(1) / total;
        for (std::size_t j = 0; j < n; ++j) s[j] *= inv;
    }
}

// p times the dropout mask m, both (queries, keys), into `out` (p may be out itself).
template <class T>
const T* drop(const T* p, const T* m, std::vector<T>& out) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = p[i] * m[i];
    return out.data();
}

// The same attention with differentiable ops (heads as a separate axis), for gradients of
// gradients: the probabilities (batch, heads, queries, keys) from q and k.
template <class T>
VariableOf<T> heads_of(const VariableOf<T>& x, std::size_t heads) {
    const Shape s = x.shape();
    return permute(reshape(x, {long(s[0]), long(s[1]), long(heads), long(s[2] / heads)}),
                   {0, 2, 1, 3});
}

template <class T>
VariableOf<T> merge_heads(const VariableOf<T>& x) {
    const Shape s = x.shape();  // (batch, heads, time, dim)
    return reshape(permute(x, {0, 2, 1, 3}), {long(s[0]), long(s[2]), long(s[1] * s[3])});
}

template <class T>
VariableOf<T> graph_probs(const VariableOf<T>& qh, const VariableOf<T>& kh, const Dims& d,
                          const std::optional<Mask>& allowed) {
    VariableOf<T> s = matmul(qh, transpose(kh)) * T(d.scale);
    if (!allowed) return softmax(s, -1);
    Mask m = *allowed;
    m.reshape({d.mask_batch, 1, d.queries, d.keys});
    // A large finite fill (not -inf) keeps a fully masked row finite; where() then zeroes it.
    return where(m, softmax(where(m, s, T(-1e9)), -1), T(0));
}

}  // namespace

template <class T>
VariableOf<T> attention(const VariableOf<T>& q, const VariableOf<T>& k, const VariableOf<T>& v,
                        const AttentionOptions& options) {
    const Dims d = check_shapes(q.shape(), k.shape(), v.shape(), options, options.causal);
    const std::optional<Mask> allowed = allowed_keys(options, d);
    const std::size_t qw = d.heads * d.dim, vw = d.heads * d.value_dim, qk = d.queries * d.keys;
    const T scale = static_cast<T>(d.scale);
    if (!(options.dropout >= 0 && options.dropout < 1)) {
        throw std::invalid_argument(
            fmt::format("attention: dropout must be in [0, 1), got {}", options.dropout));
    }

    const Shape probs_shape{d.batch, d.heads, d.queries, d.keys};
    auto probs = std::make_shared<TensorOf<T>>(TensorOf<T>::from_shape(probs_shape));
    // The dropout mask (0 or 1 / (1 - rate)) over the probabilities; none without dropout.
    std::shared_ptr<const TensorOf<T>> keep;
    if (options.dropout > 0) {
        keep = std::make_shared<const TensorOf<T>>(dropout_mask<T>(
            probs_shape, options.dropout, options.rng ? *options.rng : global_rng()));
    }
    TensorOf<T> y = TensorOf<T>::from_shape({d.batch, d.queries, vw});
    const T *Q = q.value().data(), *K = k.value().data(), *V = v.value().data();
    std::vector<T> dropped(keep ? qk : 0);
    for (std::size_t b = 0; b < d.batch; ++b) {
        const bool* mask = allowed ? allowed->data() + (d.mask_batch == 1 ? 0 : b) * qk : nullptr;
        for (std::size_t h = 0; h < d.heads; ++h) {
            T* P = probs->data() + (b * d.heads + h) * qk;
            gemm_strided<T>(false, true, d.queries, d.keys, d.dim, scale,
                            Q + b * d.queries * qw + h * d.dim, qw, K + b * d.keys * qw + h * d.dim,
                            qw, T(0), P, d.keys);
            masked_softmax_rows(P, d.queries, d.keys, mask);
            const T* used = keep ? drop(P, keep->data() + (b * d.heads + h) * qk, dropped) : P;
            gemm_strided<T>(false, false, d.queries, d.value_dim, d.keys, T(1), used, d.keys,
                            V + b * d.keys * vw + h * d.value_dim, vw, T(0),
                            y.data() + b * d.queries * vw + h * d.value_dim, vw);
        }
    }

    auto backward = [d, probs, keep, scale](const BackwardContext<T>& c) {
        const std::size_t qw = d.heads * d.dim, vw = d.heads * d.value_dim;
        const std::size_t qk = d.queries * d.keys;
        const T *Q = c.input(0).data(), *K = c.input(1).data(), *V = c.input(2).data();
        const T* G = c.grad.data();
        Grads<T> grads(3);
        for (std::size_t i = 0; i < 3; ++i) {
            if (c.needs(i)) grads[i] = TensorOf<T>::from_shape(c.input(i).shape());
        }
        std::vector<T> dp(qk), dropped(keep ? qk : 0);
        for (std::size_t b = 0; b < d.batch; ++b) {
            for (std::size_t h = 0; h < d.heads; ++h) {
                const T* P = probs->data() + (b * d.heads + h) * qk;
                const T* M = keep ? keep->data() + (b * d.heads + h) * qk : nullptr;
                const T* dO = G + b * d.queries * vw + h * d.value_dim;
                const T* Vb = V + b * d.keys * vw + h * d.value_dim;
                if (c.needs(2)) {  // dV = P^T dO, P after dropout
                    gemm_strided<T>(true, false, d.keys, d.value_dim, d.queries, T(1),
                                    M ? drop(P, M, dropped) : P, d.keys, dO, vw, T(0),
                                    grads[2].data() + b * d.keys * vw + h * d.value_dim, vw);
                }
                if (!c.needs(0) && !c.needs(1)) continue;
                // dP = dO V^T (times the dropout mask); dS = P * (dP - rowsum(dP * P)), in place.
                gemm_strided<T>(false, true, d.queries, d.keys, d.value_dim, T(1), dO, vw, Vb, vw,
                                T(0), dp.data(), d.keys);
                if (M) drop(dp.data(), M, dp);
                for (std::size_t i = 0; i < d.queries; ++i) {
                    T* row = dp.data() + i * d.keys;
                    const T* p = P + i * d.keys;
                    T dot = 0;
                    for (std::size_t j = 0; j < d.keys; ++j) dot += row[j] * p[j];
                    for (std::size_t j = 0; j < d.keys; ++j) row[j] = p[j] * (row[j] - dot);
                }
                const std::size_t qo = b * d.queries * qw + h * d.dim,
                                  ko = b * d.keys * qw + h * d.dim;
                if (c.needs(0)) {  // dQ = scale dS K
                    gemm_strided<T>(false, false, d.queries, d.dim, d.keys, scale, dp.data(),
                                    d.keys, K + ko, qw, T(0), grads[0].data() + qo, qw);
                }
                if (c.needs(1)) {  // dK = scale dS^T Q
                    gemm_strided<T>(true, false, d.keys, d.dim, d.queries, scale, dp.data(), d.keys,
                                    Q + qo, qw, T(0), grads[1].data() + ko, qw);
                }
            }
        }
        return grads;
    };
    auto graph_backward = [d, allowed, keep](const GraphBackwardContext<T>& c) {
        const VariableOf<T> qh = heads_of(c.input(0), d.heads), kh = heads_of(c.input(1), d.heads);
        const VariableOf<T> vh = heads_of(c.input(2), d.heads), gh = heads_of(c.grad, d.heads);
        const VariableOf<T> p = graph_probs(qh, kh, d, allowed);
        const VariableOf<T> m = keep ? VariableOf<T>(*keep) : VariableOf<T>();
        VariableList<T> grads(3);
        if (c.needs(2)) grads[2] = merge_heads(matmul(transpose(keep ? p * m : p), gh));
        if (c.needs(0) || c.needs(1)) {
            VariableOf<T> dp = matmul(gh, transpose(vh));
            if (keep) dp = dp * m;
            const VariableOf<T> ds = p * (dp - sum(dp * p, {-1}, true)) * T(d.scale);
            if (c.needs(0)) grads[0] = merge_heads(matmul(ds, kh));
            if (c.needs(1)) grads[1] = merge_heads(matmul(transpose(ds), qh));
        }
        return grads;
    };
    return record<T>("attention", std::move(y), {q, k, v}, backward, graph_backward);
}

#define XGRAD_INSTANTIATE_ATTENTION(T)                                           \
    template VariableOf<T> attention(const VariableOf<T>&, const VariableOf<T>&, \
                                     const VariableOf<T>&, const AttentionOptions&);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_ATTENTION)

}  // namespace xgrad
