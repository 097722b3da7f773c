#include <doctest/doctest.h>

#include "framework/errors.h"
#include "framework/testing.h"
#include "xgrad.h"

using namespace xgrad;

TEST_CASE("shared subexpression x*x + x") {
    Variable x(Tensor{3.f, -2.f}, true);
    sum(x * x + x).backward();
    XGRAD_CHECK_TENSOR_CLOSE(x.grad(), Tensor({7.f, -3.f}));  // 2x + 1
}

TEST_CASE("diamond: two paths from one node meet again") {
    Variable x(Tensor{2.f}, true);
    Variable a = x * 3;
    Variable b = a * a;  // 9x^2
    Variable c = a + 1;  // 3x + 1
    (b * c).backward();  // d/dx 9x^2 (3x + 1) = 81x^2 + 18x
    XGRAD_CHECK_TENSOR_CLOSE(x.grad(), Tensor({81.f * 4 + 36.f}));
}

TEST_CASE("a reused leaf accumulates every use") {
    Variable w(Tensor{1.5f}, true);
    Variable y = w * w * w + w * 2;  // w^3 + 2w
    y.backward();
    XGRAD_CHECK_TENSOR_CLOSE(w.grad(), Tensor({3 * 1.5f * 1.5f + 2}));
}

TEST_CASE("gradients accumulate over two backward calls until zero_grad") {
    Variable x(Tensor{1.f, 2.f}, true);
    sum(x * x).backward();
    sum(x * 3).backward();
    XGRAD_CHECK_TENSOR_CLOSE(x.grad(), Tensor({5.f, 7.f}));
    x.zero_grad();
    CHECK_FALSE(x.has_grad());
    sum(x).backward();
    XGRAD_CHECK_TENSOR_CLOSE(x.grad(), Tensor({1.f, 1.f}));
}

TEST_CASE("intermediate results keep no gradient") {
    Variable x(Tensor{1.f}, true);
    Variable h = x * 2;
    (h * h).backward();
    CHECK_FALSE(h.has_grad());
    XGRAD_CHECK_TENSOR_CLOSE(x.grad(), Tensor({8.f}));
}

TEST_CASE("the graph is freed after backward; a second backward is a clear error") {
    Variable x(Tensor{1.f}, true);
    Variable y = x * x;
    y.backward();
    CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("was freed by an earlier backward()"),
                         GraphError);
}

TEST_CASE("keep_graph allows a second backward through the same graph") {
    Variable x(Tensor{3.f}, true);
    Variable y = x * x;
    y.backward(true);
    y.backward();
    XGRAD_CHECK_TENSOR_CLOSE(x.grad(), Tensor({12.f}));
}

TEST_CASE("a non-scalar needs an explicit seed of its shape") {
    Variable x(Tensor{1.f, 2.f}, true);
    Variable y = x * x;
    CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("has shape (2,), not one element"),
                         GraphError);
    CHECK_THROWS_AS(y.backward(Tensor{1.f, 1.f, 1.f}), ShapeError);
    y.backward(Tensor{1.f, 10.f});
    XGRAD_CHECK_TENSOR_CLOSE(x.grad(), Tensor({2.f, 40.f}));
}

TEST_CASE("backward of something that needs no gradient is an error") {
    Variable c(Tensor{1.f});
    CHECK_THROWS_AS((c * c).backward(), GraphError);
}

TEST_CASE("no-grad guard: ops record no graph, and the mode comes back") {
    Variable x(Tensor{1.f, 2.f}, true);
    {
        NoGradGuard guard;
        CHECK_FALSE(is_grad_enabled());
        Variable y = x * x + x;
        CHECK_FALSE(y.requires_grad());
        CHECK(y.is_leaf());
        CHECK(y.node()->inputs.empty());
        { NoGradGuard nested; }
        CHECK_FALSE(is_grad_enabled());
    }
    CHECK(is_grad_enabled());
    CHECK((x * x).requires_grad());
}

TEST_CASE("detach cuts the history") {
    Variable x(Tensor{2.f}, true);
    Variable d = (x * x).detach();
    CHECK(d.is_leaf());
    CHECK_FALSE(d.requires_grad());
    Variable y = d * x;  // only the direct use of x counts
    y.backward();
    XGRAD_CHECK_TENSOR_CLOSE(x.grad(), Tensor({4.f}));
}

TEST_CASE("a chain of 100,000 ops neither overflows the stack in backward nor when freed") {
    Variable x(Tensor{1.f}, true);
    Variable y = x;
    for (int i = 0; i < 100000; ++i) y = y + 1e-5f;
    y.backward();
    XGRAD_CHECK_TENSOR_CLOSE(x.grad(), Tensor({1.f}));

    // The same chain dropped without a backward: destruction must be iterative too.
    Variable z = x;
    for (int i = 0; i < 100000; ++i) z = z * 1.0f;
    z = Variable();
    CHECK_FALSE(z.defined());
}

TEST_CASE("Grads{a, b} moves its tensors in instead of copying them") {
    Tensor a = xt::ones<float>({1000});
    const float* data = a.data();
    Grads<float> grads{std::move(a), Tensor{1.f, 2.f}};
    CHECK(grads.size() == 2);
    CHECK(grads[0].data() == data);
    CHECK(grads[1](1) == 2.f);
    Grads<float> sized(3);  // a count still makes that many empty entries
    CHECK(sized.size() == 3);
}

TEST_CASE("the leaf-ready hook: each leaf once, its gradient final, outputs' leaves first") {
    Variable w1(Tensor{2.f}, true), w2(Tensor{3.f}, true), x(Tensor{5.f});
    Variable h = w1 * x;
    Variable y = (h * w2) * w1;  // w1 is used twice: ready only after both uses
    std::vector<std::pair<const Node<float>*, float>> seen;
    {
        LeafGradReadyHook<float> hook(
            [&](Node<float>& leaf) { seen.emplace_back(&leaf, leaf.grad(0)); });
        y.backward();
    }
    REQUIRE(seen.size() == 2);  // x takes no gradient
    CHECK(seen[0].first == w2.node().get());
    CHECK(seen[1].first == w1.node().get());
    CHECK(seen[0].second == w2.grad()(0));  // 2 * 5 * 2 = 20
    CHECK(seen[1].second == w1.grad()(0));  // 2 * 5 * 3 * 2 = 60: both uses in
    CHECK(w1.grad()(0) == 60.f);
    // Gone with its guard.
    seen.clear();
    Variable z = w1 * w2;
    z.backward();
    CHECK(seen.empty());
}
