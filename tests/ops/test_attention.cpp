#include <doctest/doctest.h>

#include <cmath>

#include "framework/errors.h"
#include "framework/testing.h"
#include "seq_test_util.h"
#include "xgrad.h"

using namespace xgrad;

namespace {
using V = std::vector<Variable64>;

// The same attention from separate ops, one head at a time, with -inf where masked and each
// probability times keep(b, h, i, j) when a dropout mask is given.
Tensor64 reference(const Tensor64& q, const Tensor64& k, const Tensor64& v, std::size_t heads,
                   const Mask& allowed /* (batch, queries, keys) */,
                   const Tensor64* keep = nullptr /* (batch, heads, queries, keys) */) {
    const std::size_t B = q.shape()[0], Tq = q.shape()[1], Tk = k.shape()[1];
    const std::size_t d = q.shape()[2] / heads, dv = v.shape()[2] / heads;
    Tensor64 out = xt::zeros<double>({B, Tq, heads * dv});
    for (std::size_t b = 0; b < B; ++b) {
        for (std::size_t h = 0; h < heads; ++h) {
            for (std::size_t i = 0; i < Tq; ++i) {
                std::vector<double> s(Tk);
                double mx = -INFINITY, total = 0;
                for (std::size_t j = 0; j < Tk; ++j) {
                    double dot = 0;
                    for (std::size_t e = 0; e < d; ++e)
                        dot += q(b, i, h * d + e) * k(b, j, h * d + e);
                    s[j] = allowed(b, i, j) ? dot / std::sqrt(double(d)) : -INFINITY;
                    mx = std::max(mx, s[j]);
                }
                if (mx == -INFINITY) continue;
                for (double& x : s) total += (x = std::exp(x - mx));
                for (std::size_t j = 0; j < Tk; ++j) {
                    for (std::size_t e = 0; e < dv; ++e) {
                        const double p = s[j] / total * (keep ? (*keep)(b, h, i, j) : 1.0);
                        out(b, i, h * dv + e) += p * v(b, j, h * dv + e);
                    }
                }
            }
        }
    }
    return out;
}
}  // namespace

TEST_CASE("attention: values against a loop over heads, with and without masks") {
    const Tensor64 q = wavy({2, 3, 4}), k = wavy({2, 5, 4}, 1.0), v = wavy({2, 5, 6}, 2.0);
    Mask all = xt::ones<bool>({2, 3, 5});
    AttentionOptions two_heads{.num_heads = 2};
    XGRAD_CHECK_TENSOR_CLOSE(
        attention(Variable64(q), Variable64(k), Variable64(v), two_heads).value(),
        reference(q, k, v, 2, all), 1e-10, 1e-12);
    // A per-example mask, row 1 of example 0 masked entirely (zeros), combined with causal.
    Mask m = xt::ones<bool>({2, 3, 5});
    m(0, 0, 0) = false;
    for (std::size_t j = 0; j < 5; ++j) m(0, 1, j) = false;
    m(1, 2, 1) = false;
    Mask both = m;
    for (std::size_t b = 0; b < 2; ++b)
        for (std::size_t i = 0; i < 3; ++i)
            for (std::size_t j = 0; j < 5; ++j) both(b, i, j) = m(b, i, j) && j <= i;
    AttentionOptions masked{.num_heads = 2, .mask = m, .causal = true};
    const Tensor64 y = attention(Variable64(q), Variable64(k), Variable64(v), masked).value();
    XGRAD_CHECK_TENSOR_CLOSE(y, reference(q, k, v, 2, both), 1e-10, 1e-12);
    CHECK(y(0, 1, 3) == 0.0);          // nothing to attend to: zeros, not NaN
    CHECK(std::isfinite(y(0, 0, 0)));  // row 0 (causal: key 0 only, masked) is zeros too
    CHECK(y(0, 0, 0) == 0.0);
}

TEST_CASE("attention: gradient checks with a mask and causal, second derivatives") {
    Mask m = xt::ones<bool>({3, 4});
    m(2, 0) = false;
    m(1, 1) = false;
    for (bool causal : {false, true}) {
        CAPTURE(causal);
        const auto f = [m, causal](const V& in) {
            return attention(in[0], in[1], in[2], {.num_heads = 2, .mask = m, .causal = causal});
        };
        const std::vector<Tensor64> in = {wavy({2, 3, 4}), wavy({2, 4, 4}, 1.0),
                                          wavy({2, 4, 2}, 2.0)};
        XGRAD_CHECK_GRADCHECK(f, in);
        XGRAD_CHECK_GRADGRADCHECK(f, in);
    }
    // Fully masked row: zero gradient, still finite.
    Mask none = xt::ones<bool>({2, 2});
    none(0, 0) = none(0, 1) = false;
    const auto g = [none](const V& in) { return attention(in[0], in[1], in[2], {.mask = none}); };
    XGRAD_CHECK_GRADCHECK(g, {wavy({1, 2, 3}), wavy({1, 2, 3}, 1.0), wavy({1, 2, 3}, 2.0)});
}

TEST_CASE("attention: dropout on the probabilities, values and gradients") {
    const Tensor64 q = wavy({2, 3, 4}), k = wavy({2, 5, 4}, 1.0), v = wavy({2, 5, 6}, 2.0);
    Mask all = xt::ones<bool>({2, 3, 5});
    // The mask is dropout_mask's from the same generator state: 0 or 1 / (1 - 0.4).
    Rng a(11), b(11);
    const Tensor64 keep = dropout_mask<double>({2, 2, 3, 5}, 0.4, a);
    const Tensor64 y = attention(Variable64(q), Variable64(k), Variable64(v),
                                 {.num_heads = 2, .dropout = 0.4, .rng = &b})
                           .value();
    XGRAD_CHECK_TENSOR_CLOSE(y, reference(q, k, v, 2, all, &keep), 1e-10, 1e-12);
    CHECK(xt::any(xt::equal(keep, 0.0)));
    CHECK(xt::any(xt::not_equal(y, reference(q, k, v, 2, all))));
    // Rate 0 is no dropout; the generator is left alone.
    Rng c(11);
    XGRAD_CHECK_TENSOR_CLOSE(attention(Variable64(q), Variable64(k), Variable64(v),
                                       {.num_heads = 2, .dropout = 0, .rng = &c})
                                 .value(),
                             reference(q, k, v, 2, all), 1e-10, 1e-12);
    CHECK(c() == Rng(11)());
    // The process-wide generator without rng: the same seed, the same output.
    manual_seed(5);
    const Tensor64 g1 =
        attention(Variable64(q), Variable64(k), Variable64(v), {.num_heads = 2, .dropout = 0.4})
            .value();
    manual_seed(5);
    XGRAD_CHECK_TENSOR_CLOSE(
        attention(Variable64(q), Variable64(k), Variable64(v), {.num_heads = 2, .dropout = 0.4})
            .value(),
        g1, 0, 0);

    // Gradients with a fixed mask (a generator made afresh on each call), with a key mask and
    // causal, and second derivatives.
    Mask m = xt::ones<bool>({3, 4});
    m(2, 0) = false;
    const auto f = [m](const V& in) {
        Rng rng(3);
        return attention(in[0], in[1], in[2],
                         {.num_heads = 2, .mask = m, .causal = true, .dropout = 0.5, .rng = &rng});
    };
    const std::vector<Tensor64> in = {wavy({2, 3, 4}), wavy({2, 4, 4}, 1.0), wavy({2, 4, 2}, 2.0)};
    XGRAD_CHECK_GRADCHECK(f, in);
    XGRAD_CHECK_GRADGRADCHECK(f, in);
    CHECK_THROWS_WITH_AS(attention(Variable64(q), Variable64(k), Variable64(v), {.dropout = 1}),
                         "attention: dropout must be in [0, 1), got 1", std::invalid_argument);
}

TEST_CASE("attention: errors name the op and the shapes") {
    const Variable q(Tensor::from_shape({2, 3, 4})), k(Tensor::from_shape({2, 5, 4}));
    const Variable v(Tensor::from_shape({2, 5, 6}));
    CHECK_THROWS_WITH_AS(attention(q, k, Variable(Tensor::from_shape({2, 4, 6}))),
                         "attention: q (2, 3, 4), k (2, 5, 4) and v (2, 4, 6) do not fit (same "
                         "batch, k and v the same time, q and k the same width)",
                         ShapeError);
    CHECK_THROWS_WITH_AS(
        attention(q, k, v, {.num_heads = 3}),
        "attention: q (2, 3, 4), k (2, 5, 4) and v (2, 5, 6) cannot be split into "
        "3 heads (the last axes must be positive multiples of the number of heads)",
        ShapeError);
    CHECK_THROWS_WITH_AS(attention(Variable(Tensor::from_shape({3, 4})), k, v),
                         "attention: q (3, 4), k (2, 5, 4) and v (2, 5, 6) must all have rank 3 "
                         "(batch, time, heads * dim)",
                         ShapeError);
    CHECK_THROWS_WITH_AS(
        attention(q, k, v, {.mask = Mask(xt::ones<bool>({5, 3}))}),
        "attention: mask of shape (5, 3) does not fit q (2, 3, 4), k (2, 5, 4) and "
        "v (2, 5, 6) (expected (3, 5) or (2, 3, 5))",
        ShapeError);
}
