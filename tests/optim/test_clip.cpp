#include <doctest/doctest.h>

#include "problems.h"

using namespace optim_test;
using namespace xgrad::optim;

namespace {

// Gives a and b the gradients {3, 4} and {12} through backward: global norm 13.
std::vector<Variable> with_grads() {
    Variable a = parameter(Tensor{1.0f, 1.0f}), b = parameter(Tensor{2.0f});
    (sum(a * Variable(Tensor{3.0f, 4.0f})) + sum(b * 12.0f)).backward();
    return {a, b, parameter(Tensor{5.0f})};  // the third has no gradient
}

}  // namespace

TEST_CASE("clip_grad_norm scales all gradients together to the norm") {
    auto ps = with_grads();
    CHECK(clip_grad_norm(ps, 6.5) == doctest::Approx(13.0));
    XGRAD_CHECK_TENSOR_CLOSE(ps[0].grad(), Tensor({1.5f, 2.0f}));
    XGRAD_CHECK_TENSOR_CLOSE(ps[1].grad(), Tensor({6.0f}));
    CHECK_FALSE(ps[2].has_grad());
    // Now within the limit: reported, left alone.
    CHECK(clip_grad_norm(ps, 6.5) == doctest::Approx(6.5));
    XGRAD_CHECK_TENSOR_CLOSE(ps[1].grad(), Tensor({6.0f}));
    CHECK(clip_grad_norm(ps, 100) == doctest::Approx(6.5));
    XGRAD_CHECK_TENSOR_CLOSE(ps[0].grad(), Tensor({1.5f, 2.0f}));
}

TEST_CASE("clip_grad_norm: bad limits, and a non-finite norm is reported, not applied") {
    auto ps = with_grads();
    CHECK_THROWS_AS(clip_grad_norm(ps, 0), std::invalid_argument);
    CHECK_THROWS_AS(clip_grad_norm(ps, -1), std::invalid_argument);
    ps[1].node()->grad = Tensor{INFINITY};
    CHECK(std::isinf(clip_grad_norm(ps, 1.0)));
    CHECK(ps[0].grad() == Tensor{3.0f, 4.0f});
}

TEST_CASE("clip_grad_value limits every element") {
    auto ps = with_grads();
    clip_grad_value(ps, 3.5);
    CHECK(ps[0].grad() == Tensor{3.0f, 3.5f});
    CHECK(ps[1].grad() == Tensor{3.5f});
    ps[1].node()->grad = Tensor{-7.0f};
    clip_grad_value(ps, 1);
    CHECK(ps[0].grad() == Tensor{1.0f, 1.0f});
    CHECK(ps[1].grad() == Tensor{-1.0f});
    CHECK_FALSE(ps[2].has_grad());
    CHECK_THROWS_AS(clip_grad_value(ps, 0), std::invalid_argument);
}
