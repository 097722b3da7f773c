#include <doctest/doctest.h>

#include "framework/testing.h"
#include "xgrad.h"

using namespace xgrad;

namespace {

// 3 -> 4 -> 2: parameters of 12, 4, 8 and 2 floats.
nn::Sequential small_model() {
    manual_seed(3);
    nn::Sequential model;
    model.add(nn::Dense(4, "tanh"));
    model.add(nn::Dense(2));
    model.build({3});
    return model;
}

Variable loss_of(nn::Sequential& model) {
    Variable x(Tensor{{1.f, -2.f, 0.5f}, {0.f, 1.f, 2.f}});
    return mean(model(x) * model(x));
}

}  // namespace

TEST_CASE("buckets: last parameters first, closed at the size threshold") {
    nn::Sequential model = small_model();
    CHECK(dist::GradientReducer(model.trainable_parameters()).num_buckets() == 1);
    // 8 bytes: every parameter but the last closes its bucket.
    CHECK(dist::GradientReducer(model.trainable_parameters(), {.bucket_bytes = 8}).num_buckets() ==
          4);
    // 40 bytes: {bias 2, kernel 8} = 40 bytes, then {bias 4, kernel 12}.
    CHECK(dist::GradientReducer(model.trainable_parameters(), {.bucket_bytes = 40}).num_buckets() ==
          2);
}

TEST_CASE("in a world of one, the reduced gradients are weight times the plain ones") {
    nn::Sequential model = small_model();
    loss_of(model).backward();
    std::vector<Tensor> plain;
    for (const auto& p : model.trainable_parameters()) plain.push_back(p.grad());
    model.zero_grad();
    dist::GradientReducer reducer(model.trainable_parameters(), {.bucket_bytes = 8});
    reducer.backward(loss_of(model), 0.5);
    const auto params = model.trainable_parameters();
    for (std::size_t i = 0; i < params.size(); ++i) {
        XGRAD_CHECK_TENSOR_CLOSE(params[i].grad(), Tensor(plain[i] * 0.5f));
    }
    CHECK(reducer.stats().steps == 1);
    // No loss (no examples here): zeros.
    reducer.backward(Variable(), 0.0);
    for (const auto& p : params) CHECK(xt::all(xt::equal(p.grad(), 0.f)));
}

TEST_CASE("GradientReducer rejects an empty list, a constant and a parameter twice") {
    nn::Sequential model = small_model();
    auto p = model.trainable_parameters();
    CHECK_THROWS_WITH_AS(dist::GradientReducer({}), "GradientReducer: the parameter list is empty",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(dist::GradientReducer({Variable(Tensor{1.f})}),
                         "GradientReducer: parameter 0 does not require a gradient",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(dist::GradientReducer({p[0], p[1], p[0]}),
                         "GradientReducer: parameter 2 is listed twice", std::invalid_argument);
}
