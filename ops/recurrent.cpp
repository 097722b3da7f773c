#include "ops/recurrent.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <xtensor/xadapt.hpp>

#include "framework/autograd.h"
#include "framework/errors.h"
#include "framework/record.h"
#include "ops/activation.h"
#include "ops/gemm.h"
#include "ops/linalg.h"
#include "ops/shape.h"

namespace xgrad {

namespace {

struct LstmSizes {
    std::size_t batch, time, units;
};

template <class T>
LstmSizes check_lstm(const VariableOf<T>& xproj, const VariableOf<T>& h0, const VariableOf<T>& c0,
                     const VariableOf<T>& r) {
    const Shape xs = xproj.shape(), hs = h0.shape(), cs = c0.shape(), rs = r.shape();
    const bool ranks = xs.size() == 3 && hs.size() == 2 && cs.size() == 2 && rs.size() == 2;
    const std::size_t u = ranks ? rs[0] : 0;
    if (!ranks || u == 0 || rs[1] != 4 * u || xs[2] != 4 * u || hs != Shape{xs[0], u} || cs != hs) {
        throw ShapeError("lstm_recurrence",
                         "xproj " + format_shape(xs) + ", h0 " + format_shape(hs) + ", c0 " +
                             format_shape(cs) + " and recurrent_kernel " + format_shape(rs) +
                             " do not fit (expected (batch, time, 4 units), (batch, units) twice "
                             "and (units, 4 units))");
    }
    return {xs[0], xs[1], u};
}

template <class T>
T sigmoid_of(T z) {
    return T(1) / (T(1) + std::exp(-z));
}

// What the forward keeps for the backward, time-major: the activated gates (T, B, 4U) and
// the states h_0..h_T and c_0..c_T ((T + 1), B, U).
template <class T>
struct LstmTape {
    std::vector<T> gates, h, c;
};

// The same steps written with differentiable ops: what gradients of gradients go through.
template <class T>
VariableOf<T> lstm_recurrence_ops(const VariableOf<T>& xproj, const VariableOf<T>& h0,
                                  const VariableOf<T>& c0, const VariableOf<T>& r) {
    const LstmSizes s = check_lstm(xproj, h0, c0, r);
    const long b = static_cast<long>(s.batch), u = static_cast<long>(s.units);
    VariableOf<T> h = h0, c = c0;
    std::vector<VariableOf<T>> rows;
    for (std::size_t t = 0; t < s.time; ++t) {
        const VariableOf<T> z = reshape(slice(xproj, 1, t, t + 1), {b, 4 * u}) + matmul(h, r);
        const auto quarter = [&](std::size_t q) {
            return slice(z, 1, q * s.units, (q + 1) * s.units);
        };
        const VariableOf<T> i = sigmoid(quarter(0)), f = sigmoid(quarter(1)), g = tanh(quarter(2)),
                            o = sigmoid(quarter(3));
        c = f * c + i * g;
        h = o * tanh(c);
        rows.push_back(h);
    }
    rows.push_back(c);
    return stack(rows, 1);
}

}  // namespace

template <class T>
VariableOf<T> lstm_recurrence(const VariableOf<T>& xproj, const VariableOf<T>& h0,
                              const VariableOf<T>& c0, const VariableOf<T>& recurrent_kernel) {
    const LstmSizes s = check_lstm(xproj, h0, c0, recurrent_kernel);
    const std::size_t B = s.batch, N = s.time, U = s.units, G = 4 * U;
    auto tape = std::make_shared<LstmTape<T>>();
    tape->gates.resize(N * B * G);
    tape->h.resize((N + 1) * B * U);
    tape->c.resize((N + 1) * B * U);
    std::copy_n(h0.value().data(), B * U, tape->h.data());
    std::copy_n(c0.value().data(), B * U, tape->c.data());
    const T* xp = xproj.value().data();
    const T* R = recurrent_kernel.value().data();
    for (std::size_t t = 0; t < N; ++t) {
        T* z = tape->gates.data() + t * B * G;
        for (std::size_t b = 0; b < B; ++b) std::copy_n(xp + (b * N + t) * G, G, z + b * G);
        gemm<T>(false, false, B, G, U, tape->h.data() + t * B * U, R, T(1), z);
        const T* c_prev = tape->c.data() + t * B * U;
        T* c = tape->c.data() + (t + 1) * B * U;
        T* h = tape->h.data() + (t + 1) * B * U;
        for (std::size_t b = 0; b < B; ++b) {
            T* zb = z + b * G;
            for (std::size_t j = 0; j < U; ++j) {
                const T i = sigmoid_of(zb[j]), f = sigmoid_of(zb[U + j]);
                const T g = std::tanh(zb[2 * U + j]), o = sigmoid_of(zb[3 * U + j]);
                zb[j] = i, zb[U + j] = f, zb[2 * U + j] = g, zb[3 * U + j] = o;
                const T cn = f * c_prev[b * U + j] + i * g;
                c[b * U + j] = cn;
                h[b * U + j] = o * std::tanh(cn);
            }
        }
    }
    TensorOf<T> y = TensorOf<T>::from_shape({B, N + 1, U});
    for (std::size_t b = 0; b < B; ++b) {
        for (std::size_t t = 0; t < N; ++t) {
            std::copy_n(tape->h.data() + ((t + 1) * B + b) * U, U,
                        y.data() + (b * (N + 1) + t) * U);
        }
        std::copy_n(tape->c.data() + (N * B + b) * U, U, y.data() + (b * (N + 1) + N) * U);
    }

    auto backward = [tape, s](const BackwardContext<T>& c) {
        const std::size_t B = s.batch, N = s.time, U = s.units, G = 4 * U;
        const T* dy = c.grad.data();
        const T* R = c.input(3).data();
        std::vector<T> dz(N * B * G);  // time-major gradient of the pre-activations
        std::vector<T> dh(B * U), dc(B * U);
        for (std::size_t b = 0; b < B; ++b) {  // dc_T from the last row; dh from the next step
            std::copy_n(dy + (b * (N + 1) + N) * U, U, dc.data() + b * U);
        }
        for (std::size_t t = N; t-- > 0;) {
            const T* gates = tape->gates.data() + t * B * G;
            const T* c_prev = tape->c.data() + t * B * U;
            const T* c_now = tape->c.data() + (t + 1) * B * U;
            T* dzt = dz.data() + t * B * G;
            for (std::size_t b = 0; b < B; ++b) {
                const T* gb = gates + b * G;
                const T* dyb = dy + (b * (N + 1) + t) * U;
                T* dzb = dzt + b * G;
                for (std::size_t j = 0; j < U; ++j) {
                    const T i = gb[j], f = gb[U + j], g = gb[2 * U + j], o = gb[3 * U + j];
                    const T tc = std::tanh(c_now[b * U + j]);
                    const T dhj = dyb[j] + dh[b * U + j];
                    const T dcj = dc[b * U + j] + dhj * o * (T(1) - tc * tc);
                    dzb[j] = dcj * g * i * (T(1) - i);
                    dzb[U + j] = dcj * c_prev[b * U + j] * f * (T(1) - f);
                    dzb[2 * U + j] = dcj * i * (T(1) - g * g);
                    dzb[3 * U + j] = dhj * tc * o * (T(1) - o);
                    dc[b * U + j] = dcj * f;
                }
            }
            gemm<T>(false, true, B, U, G, dzt, R, T(0), dh.data());  // dh_{t-1} = dz R^T
        }
        Grads<T> grads(4);
        if (c.needs(0)) {
            TensorOf<T> dx = TensorOf<T>::from_shape({B, N, G});
            for (std::size_t t = 0; t < N; ++t) {
                for (std::size_t b = 0; b < B; ++b) {
                    std::copy_n(dz.data() + (t * B + b) * G, G, dx.data() + (b * N + t) * G);
                }
            }
            grads[0] = std::move(dx);
        }
        if (c.needs(1)) grads[1] = TensorOf<T>(xt::adapt(dh, std::vector<std::size_t>{B, U}));
        if (c.needs(2)) grads[2] = TensorOf<T>(xt::adapt(dc, std::vector<std::size_t>{B, U}));
        if (c.needs(3)) {  // dR = sum_t h_{t-1}^T dz_t: one product over all steps
            TensorOf<T> dr = TensorOf<T>::from_shape({U, G});
            gemm<T>(true, false, U, G, N * B, tape->h.data(), dz.data(), T(0), dr.data());
            grads[3] = std::move(dr);
        }
        return grads;
    };
    auto graph_backward = [](const GraphBackwardContext<T>& c) {
        VariableList<T> inputs, grads(4);
        std::vector<std::size_t> which;
        for (std::size_t i = 0; i < 4; ++i) {
            if (c.needs(i)) inputs.push_back(c.input(i)), which.push_back(i);
        }
        const VariableOf<T> y = lstm_recurrence_ops(c.input(0), c.input(1), c.input(2), c.input(3));
        const VariableList<T> g = grad<T>(
            {y}, inputs, {.grad_outputs = {c.grad}, .create_graph = true, .allow_unused = true});
        for (std::size_t k = 0; k < which.size(); ++k) grads[which[k]] = g[k];
        return grads;
    };
    return record<T>("lstm_recurrence", std::move(y), {xproj, h0, c0, recurrent_kernel}, backward,
                     graph_backward);
}

template <class T>
VariableOf<T> gru_cell(const VariableOf<T>& a, const VariableOf<T>& h,
                       const VariableOf<T>& recurrent_kernel, const VariableOf<T>& recurrent_bias) {
    const std::size_t u = h.shape().back();
    const auto part = [u](const VariableOf<T>& v, std::size_t q) {
        return slice(v, -1, q * u, (q + 1) * u);
    };
    const VariableOf<T> s = linear(h, recurrent_kernel, recurrent_bias);
    const VariableOf<T> z = sigmoid(part(a, 0) + part(s, 0));
    const VariableOf<T> r = sigmoid(part(a, 1) + part(s, 1));
    const VariableOf<T> candidate = tanh(part(a, 2) + r * part(s, 2));
    return z * h + (T(1) - z) * candidate;
}

template <class T>
VariableOf<T> simple_rnn_cell(const VariableOf<T>& a, const VariableOf<T>& h,
                              const VariableOf<T>& recurrent_kernel) {
    return tanh(a + matmul(h, recurrent_kernel));
}

#define XGRAD_INSTANTIATE_RECURRENT(T)                                                  \
    template VariableOf<T> lstm_recurrence(const VariableOf<T>&, const VariableOf<T>&,  \
                                           const VariableOf<T>&, const VariableOf<T>&); \
    template VariableOf<T> gru_cell(const VariableOf<T>&, const VariableOf<T>&,         \
                                    const VariableOf<T>&, const VariableOf<T>&);        \
    template VariableOf<T> simple_rnn_cell(const VariableOf<T>&, const VariableOf<T>&,  \
                                           const VariableOf<T>&);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_RECURRENT)

}  // namespace xgrad
