#include <doctest/doctest.h>

#include "framework/testing.h"
#include "xgrad.h"

using namespace xgrad;

namespace {

// A deliberately wrong op: forward x^2, backward claims 3x.
Variable64 wrong_square(const Variable64& x) {
    return record<double>(
        "wrong_square", x.value() * x.value(), {x},
        [](const BackwardContext<double>& c) { return Grads<double>{c.grad * 3.0 * c.input(0)}; });
}

}  // namespace

TEST_CASE("gradcheck passes a correct composite") {
    auto f = [](const std::vector<Variable64>& in) { return in[0] * in[1] + in[0] / in[1]; };
    XGRAD_CHECK_GRADCHECK(f, {Tensor64{{1.0, 2.0}, {3.0, 4.0}}, Tensor64{0.5, -1.5}});
}

TEST_CASE("gradcheck catches a wrong backward and names the worst element") {
    auto f = [](const std::vector<Variable64>& in) { return wrong_square(in[0]); };
    const auto r = gradcheck(f, {Tensor64{{1.0, -2.0}, {0.5, 4.0}}});
    CHECK_FALSE(r.ok);
    CHECK(r.input == 0);
    CHECK(r.index == Shape{1, 1});  // |3x - 2x| is largest at x = 4
    CHECK(r.analytic / r.numeric == doctest::Approx(1.5).epsilon(1e-6));  // 3x vs 2x
    CHECK(r.message.find("input 0 at index (1, 1)") != std::string::npos);
}

TEST_CASE("compare_tensors reports shape mismatches and the worst element") {
    auto same = testing::compare_tensors(Tensor{1.f, 2.f}, Tensor{1.f, 2.f});
    CHECK(same.ok);
    auto shape = testing::compare_tensors(Tensor{1.f, 2.f}, Tensor{1.f, 2.f, 3.f});
    CHECK_FALSE(shape.ok);
    CHECK(shape.message == "tensors differ in shape: (2,) vs expected (3,)");
    auto value = testing::compare_tensors(Tensor{1.f, 2.f, 9.f}, Tensor{1.f, 2.5f, 3.f});
    CHECK_FALSE(value.ok);
    CHECK(value.message.find("worst at index (2,)") != std::string::npos);
    Tensor nan = {std::nanf("")};
    CHECK_FALSE(testing::compare_tensors(nan, nan).ok);
}

TEST_CASE("gradcheck records its graph even inside a NoGradGuard") {
    NoGradGuard no_grad;
    auto f = [](const std::vector<Variable64>& in) { return in[0] * in[0]; };
    const auto r = gradcheck(f, {Tensor64{1.0, -3.0}});
    CHECK_MESSAGE(r.ok, r.message);
    CHECK_FALSE(is_grad_enabled());
}

TEST_CASE("compare_tensors: an infinity matches only the same infinity") {
    const double inf = INFINITY;
    CHECK(testing::compare_tensors(Tensor64{inf, -inf}, Tensor64{inf, -inf}).ok);
    CHECK_FALSE(testing::compare_tensors(Tensor64{5.0}, Tensor64{inf}).ok);
    CHECK_FALSE(testing::compare_tensors(Tensor64{inf}, Tensor64{5.0}).ok);
    CHECK_FALSE(testing::compare_tensors(Tensor64{-inf}, Tensor64{inf}).ok);
    CHECK_FALSE(testing::compare_tensors(Tensor64{NAN}, Tensor64{NAN}).ok);
}

TEST_CASE("gradcheck fails when the finite differences are not a number") {
    // sqrt at 0: the backward says inf there but the probe at -eps is NaN; a correct-looking
    // zero gradient must not pass against a NaN numeric derivative either.
    auto zero_grad_sqrt = [](const std::vector<Variable64>& in) {
        return record<double>("zero_grad_sqrt", xt::sqrt(in[0].value()), {in[0]},
                              [](const BackwardContext<double>& c) {
                                  return Grads<double>{xt::zeros_like(c.grad)};
                              });
    };
    const GradcheckResult r = gradcheck(zero_grad_sqrt, {Tensor64{0.0}});
    CHECK_FALSE(r.ok);
}
