#include <doctest/doctest.h>

#include <random>

#include <xtensor/xbroadcast.hpp>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xstrided_view.hpp>

#include "framework/errors.h"
#include "framework/testing.h"
#include "xgrad.h"

using namespace xgrad;

namespace {

using V64 = std::vector<Variable64>;

template <class T = double>
TensorOf<T> random_tensor(const Shape& shape, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> dist(-1.0, 1.0);
    TensorOf<T> t = TensorOf<T>::from_shape(shape);
    for (auto& v : t) v = static_cast<T>(dist(rng));
    return t;
}

// The textbook triple loop, with the batch dimensions broadcast by xtensor.
Tensor64 naive_matmul(const Tensor64& a, const Tensor64& b) {
    const std::size_t ra = a.dimension(), rb = b.dimension(), r = std::max(ra, rb);
    const std::size_t m = a.shape()[ra - 2], k = a.shape()[ra - 1], n = b.shape()[rb - 1];
    Shape batch(r - 2, 1);
    for (std::size_t d = 0; d + 2 < r; ++d) {
        const std::size_t da = d + ra >= r ? a.shape()[d + ra - r] : 1;
        const std::size_t db = d + rb >= r ? b.shape()[d + rb - r] : 1;
        batch[d] = std::max(da, db);
    }
    Shape sa = batch, sb = batch, so = batch;
    sa.insert(sa.end(), {m, k});
    sb.insert(sb.end(), {k, n});
    so.insert(so.end(), {m, n});
    const Tensor64 A = xt::broadcast(a, sa), B = xt::broadcast(b, sb);
    Tensor64 out = xt::zeros<double>(so);
    const std::size_t count = shape_size(batch);
    for (std::size_t t = 0; t < count; ++t) {
        for (std::size_t i = 0; i < m; ++i) {
            for (std::size_t j = 0; j < n; ++j) {
                double s = 0;
                for (std::size_t p = 0; p < k; ++p) {
                    s += A.flat(t * m * k + i * k + p) * B.flat(t * k * n + p * n + j);
                }
                out.flat(t * m * n + i * n + j) = s;
            }
        }
    }
    return out;
}

const std::vector<std::pair<Shape, Shape>> kMatmulShapes = {
    {{2, 3}, {3, 4}},       {{1, 1}, {1, 1}},
    {{3, 1}, {1, 2}},       {{1, 4}, {4, 1}},
    {{2, 3, 4}, {2, 4, 2}}, {{2, 3, 4}, {4, 2}},
    {{3, 4}, {2, 4, 2}},    {{2, 1, 3, 4}, {5, 4, 2}},
    {{1, 2, 3}, {3, 3, 2}}, {{3, 1, 2, 2}, {1, 4, 2, 3}},
};

}  // namespace

TEST_CASE("matmul: forward against hand-computed values") {
    Variable a(Tensor{{1.f, 2.f}, {3.f, 4.f}}), b(Tensor{{5.f, 6.f}, {7.f, 8.f}});
    XGRAD_CHECK_TENSOR_CLOSE(matmul(a, b).value(), Tensor({{19.f, 22.f}, {43.f, 50.f}}));

    Variable c(Tensor{{1.f, 0.f, -1.f}, {2.f, 1.f, 0.5f}});
    Variable d(xt::reshape_view(Tensor{2.f, 3.f, 4.f}, {3, 1}));
    Tensor expected = xt::reshape_view(Tensor{-2.f, 9.f}, {2, 1});
    XGRAD_CHECK_TENSOR_CLOSE(matmul(c, d).value(), expected);

    // Batched: (2, 1, 2) x (2, 1): each batch row times the same column.
    Variable e(xt::reshape_view(Tensor{1.f, 2.f, 3.f, 4.f}, {2, 1, 2}));
    Variable f(xt::reshape_view(Tensor{10.f, 1.f}, {2, 1}));
    Tensor batched = xt::reshape_view(Tensor{12.f, 34.f}, {2, 1, 1});
    XGRAD_CHECK_TENSOR_CLOSE(matmul(e, f).value(), batched);
}

TEST_CASE("matmul: agrees with a naive loop, batched with broadcast batch dimensions") {
    unsigned seed = 1;
    for (const auto& item : kMatmulShapes) {
        const auto& sa = item.first;
        const auto& sb = item.second;
        CAPTURE(format_shape(sa));
        CAPTURE(format_shape(sb));
        const Tensor64 a = random_tensor(sa, seed++), b = random_tensor(sb, seed++);
        const Tensor64 expected = naive_matmul(a, b);
        XGRAD_CHECK_TENSOR_CLOSE(matmul(Variable64(a), Variable64(b)).value(), expected, 1e-12,
                                 1e-12);
        const Tensor af = xt::cast<float>(a), bf = xt::cast<float>(b);
        const Tensor ef = xt::cast<float>(expected);
        XGRAD_CHECK_TENSOR_CLOSE(matmul(Variable(af), Variable(bf)).value(), ef, 1e-5, 1e-5);
    }
    // A larger product than the tiny shapes above, the size of the seed model's first layer.
    const Tensor64 a = random_tensor({8, 784}, 99), b = random_tensor({784, 100}, 100);
    XGRAD_CHECK_TENSOR_CLOSE(matmul(Variable64(a), Variable64(b)).value(), naive_matmul(a, b),
                             1e-10, 1e-10);
}

TEST_CASE("matmul: gradient checks, including size-1 and broadcast batch dimensions") {
    unsigned seed = 100;
    for (const auto& item : kMatmulShapes) {
        const auto& sa = item.first;
        const auto& sb = item.second;
        CAPTURE(format_shape(sa));
        CAPTURE(format_shape(sb));
        XGRAD_CHECK_GRADCHECK([](const V64& in) { return matmul(in[0], in[1]); },
                              {random_tensor(sa, seed++), random_tensor(sb, seed++)});
    }
}

TEST_CASE("matmul: only the inputs that need a gradient get one") {
    const Tensor64 a = random_tensor({2, 3, 4}, 7), b = random_tensor({4, 5}, 8);
    Variable64 x(a), w(b, true);
    Variable64 y = matmul(x, w);
    y.backward(xt::ones<double>(y.shape()));
    CHECK_FALSE(x.has_grad());
    // dW = sum over rows of x^T 1: each row k of dW is the column sum of x's column k.
    Tensor64 col_sums = xt::sum(xt::reshape_view(a, {6, 4}), {0});
    Tensor64 expected = xt::broadcast(xt::reshape_view(col_sums, {4, 1}), {4, 5});
    XGRAD_CHECK_TENSOR_CLOSE(w.grad(), expected, 1e-12, 1e-12);
}

TEST_CASE("matmul: under NoGradGuard no graph is recorded") {
    Variable a(Tensor{{1.f, 2.f}}, true);
    Variable b(Tensor(xt::reshape_view(Tensor{3.f, 4.f}, {2, 1})), true);
    NoGradGuard guard;
    Variable y = matmul(a, b);
    CHECK(y.is_leaf());
    CHECK_FALSE(y.requires_grad());
    CHECK(y.item() == 11.f);
}

TEST_CASE("matmul: shape errors name both shapes") {
    Variable a(Tensor::from_shape({32, 784})), b(Tensor::from_shape({256, 10}));
    CHECK_THROWS_WITH_AS(matmul(a, b),
                         "matmul: shapes (32, 784) and (256, 10) cannot be multiplied (784 != 256)",
                         ShapeError);
    Variable v(Tensor::from_shape({3}));
    CHECK_THROWS_WITH_AS(matmul(v, b),
                         "matmul: shapes (3,) and (256, 10) cannot be multiplied (both need rank 2 "
                         "or more)",
                         ShapeError);
    Variable c(Tensor::from_shape({2, 3, 4})), d(Tensor::from_shape({5, 4, 2}));
    CHECK_THROWS_WITH_AS(matmul(c, d),
                         "matmul: shapes (2, 3, 4) and (5, 4, 2) have batch dimensions that cannot "
                         "be broadcast (2 != 5)",
                         ShapeError);
}

TEST_CASE("transpose: swaps the last two dimensions") {
    Variable a(Tensor{{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}});
    XGRAD_CHECK_TENSOR_CLOSE(transpose(a).value(), Tensor({{1.f, 4.f}, {2.f, 5.f}, {3.f, 6.f}}));
    Variable b(xt::reshape_view(Tensor{1.f, 2.f, 3.f, 4.f, 5.f, 6.f, 7.f, 8.f}, {2, 2, 2}));
    Tensor expected = xt::reshape_view(Tensor{1.f, 3.f, 2.f, 4.f, 5.f, 7.f, 6.f, 8.f}, {2, 2, 2});
    XGRAD_CHECK_TENSOR_CLOSE(transpose(b).value(), expected);
    for (const Shape& s :
         {Shape{2, 3}, Shape{1, 4}, Shape{3, 1}, Shape{2, 3, 4}, Shape{1, 2, 1, 3}}) {
        CAPTURE(format_shape(s));
        XGRAD_CHECK_GRADCHECK([](const V64& in) { return transpose(in[0]); },
                              {random_tensor(s, 5)});
    }
    CHECK_THROWS_WITH_AS(transpose(Variable(Tensor{1.f, 2.f})),
                         "transpose: needs rank 2 or more, got shape (2,)", ShapeError);
}

TEST_CASE("linear: forward against hand-computed values, with and without a bias") {
    Variable x(Tensor{{1.f, 2.f}, {-1.f, 0.5f}, {0.f, 3.f}});
    Variable w(Tensor{{1.f, 0.f, 2.f}, {-1.f, 1.f, 0.5f}});
    Variable b(Tensor{0.5f, -1.f, 2.f});
    const Tensor xw = {{-1.f, 2.f, 3.f}, {-1.5f, 0.5f, -1.75f}, {-3.f, 3.f, 1.5f}};
    XGRAD_CHECK_TENSOR_CLOSE(linear(x, w).value(), xw);
    XGRAD_CHECK_TENSOR_CLOSE(linear(x, w, b).value(),
                             Tensor({{-0.5f, 1.f, 5.f}, {-1.f, -0.5f, 0.25f}, {-2.5f, 2.f, 3.5f}}));
    // Leading dimensions of x are rows: (1, 3, 2) -> (1, 3, 3).
    Variable x3(xt::reshape_view(x.value(), {1, 3, 2}));
    Tensor expected3 = xt::reshape_view(xw, {1, 3, 3});
    XGRAD_CHECK_TENSOR_CLOSE(linear(x3, w).value(), expected3);
}

TEST_CASE("linear: gradient checks and agreement with matmul + bias") {
    unsigned seed = 200;
    for (const auto& shapes :
         {std::tuple{Shape{4, 3}, 3ul, 2ul}, std::tuple{Shape{1, 1}, 1ul, 1ul},
          std::tuple{Shape{5, 1}, 1ul, 3ul}, std::tuple{Shape{2, 3, 4}, 4ul, 2ul},
          std::tuple{Shape{3}, 3ul, 2ul}}) {
        const Shape& sx = std::get<0>(shapes);
        const std::size_t in = std::get<1>(shapes), out = std::get<2>(shapes);
        CAPTURE(format_shape(sx));
        const Tensor64 x = random_tensor(sx, seed++), w = random_tensor({in, out}, seed++);
        const Tensor64 b = random_tensor({out}, seed++);
        XGRAD_CHECK_GRADCHECK([](const V64& v) { return linear(v[0], v[1], v[2]); }, {x, w, b});
        XGRAD_CHECK_GRADCHECK([](const V64& v) { return linear(v[0], v[1]); }, {x, w});
        if (sx.size() >= 2) {
            Tensor64 expected = naive_matmul(x, w) + b;
            XGRAD_CHECK_TENSOR_CLOSE(linear(Variable64(x), Variable64(w), Variable64(b)).value(),
                                     expected, 1e-12, 1e-12);
        }
    }
}

TEST_CASE("linear: the data input gets no gradient, the parameters get theirs") {
    Variable64 x(Tensor64{{1.0, 2.0}, {3.0, -1.0}});
    Variable64 w(Tensor64{{0.5, -1.0, 2.0}, {1.0, 0.0, -0.5}}, true);
    Variable64 b(Tensor64{0.1, 0.2, 0.3}, true);
    Variable64 y = linear(x, w, b);
    CHECK(std::string(y.op()) == "linear");
    y.backward(Tensor64{{1.0, 2.0, 3.0}, {-1.0, 0.0, 1.0}});
    CHECK_FALSE(x.has_grad());
    // dW = x^T g, db = column sums of g.
    XGRAD_CHECK_TENSOR_CLOSE(w.grad(), Tensor64({{-2.0, 2.0, 6.0}, {3.0, 4.0, 5.0}}));
    XGRAD_CHECK_TENSOR_CLOSE(b.grad(), Tensor64({0.0, 2.0, 4.0}));
}

TEST_CASE("linear: shape errors name x, weight and bias") {
    Variable x(Tensor::from_shape({32, 784})), w(Tensor::from_shape({256, 10}));
    Variable w_ok(Tensor::from_shape({784, 100})), b(Tensor::from_shape({10}));
    CHECK_THROWS_WITH_AS(linear(x, w),
                         "linear: x (32, 784) and weight (256, 10) do not fit (x has 784 features "
                         "but weight expects 256)",
                         ShapeError);
    CHECK_THROWS_WITH_AS(linear(x, w, b),
                         "linear: x (32, 784), weight (256, 10) and bias (10,) do not fit (x has "
                         "784 features but weight expects 256)",
                         ShapeError);
    CHECK_THROWS_WITH_AS(linear(x, w_ok, b),
                         "linear: x (32, 784), weight (784, 100) and bias (10,) do not fit (bias "
                         "must have shape (100,))",
                         ShapeError);
    CHECK_THROWS_WITH_AS(linear(x, Variable(Tensor::from_shape({784}))),
                         "linear: x (32, 784) and weight (784,) do not fit (x needs rank 1 or "
                         "more, weight rank 2)",
                         ShapeError);
}

TEST_CASE("matmul, transpose, linear: second derivatives (gradgradcheck)") {
    for (std::size_t i = 0; i < kMatmulShapes.size(); ++i) {
        const auto& [sa, sb] = kMatmulShapes[i];
        const Tensor64 a = random_tensor(sa, 40 + static_cast<unsigned>(i));
        const Tensor64 b = random_tensor(sb, 60 + static_cast<unsigned>(i));
        XGRAD_CHECK_GRADGRADCHECK([](const V64& in) { return matmul(in[0] * in[0], in[1]); },
                                  {a, b});
    }
    const Tensor64 x = random_tensor({2, 3, 4}, 1), w = random_tensor({4, 5}, 2),
                   bias = random_tensor({5}, 3);
    XGRAD_CHECK_GRADGRADCHECK(
        [](const V64& in) { return linear(in[0] * in[0], in[1] * in[1], in[2]); }, {x, w, bias});
    XGRAD_CHECK_GRADGRADCHECK([](const V64& in) { return linear(in[0], in[1] * in[1]); },
                              {random_tensor({4}, 4), w});
    XGRAD_CHECK_GRADGRADCHECK([](const V64& in) { return transpose(in[0] * in[0]); }, {x});
}
