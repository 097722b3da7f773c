// Version counters: a value the graph recorded and that was then changed in place makes
// backward fail with the op's name instead of computing a wrong gradient.
#include <doctest/doctest.h>

#include <string>

#include "framework/errors.h"
#include "framework/testing.h"
#include "xgrad.h"

using namespace xgrad;

namespace {

// The message of the GraphError that `f` throws; fails the test when it throws none.
template <class F>
std::string graph_error_of(F&& f) {
    try {
        f();
    } catch (const GraphError& e) {
        return e.what();
    }
    FAIL("no GraphError was thrown");
    return {};
}

}  // namespace

TEST_CASE("mutable_value counts each change; value() does not") {
    Variable w(Tensor{1.f, 2.f}, true);
    CHECK(w.node()->version == 0);
    (void)w.value();
    CHECK(w.node()->version == 0);
    w.mutable_value()(0) = 3.f;
    w.mutable_value() *= 2.f;
    CHECK(w.node()->version == 2);
    XGRAD_CHECK_TENSOR_CLOSE(w.value(), Tensor({6.f, 4.f}));
}

TEST_CASE("a weight changed between forward and backward is an error naming the op and input") {
    Variable x(Tensor(xt::xarray<float>{{1.f, 2.f}}), false);
    Variable w(Tensor(xt::ones<float>({2, 1})), true);
    Variable loss = sum(matmul(x, w));
    w.mutable_value() += 1.f;
    const std::string message = graph_error_of([&] { loss.backward(); });
    CHECK(message.find("backward of 'matmul'") != std::string::npos);
    CHECK(message.find("input 1 (shape (2, 1))") != std::string::npos);
    CHECK(message.find("version 1, recorded at version 0") != std::string::npos);
    CHECK_FALSE(w.has_grad());

    // The forward pass run again records the new version, and backward works.
    Variable again = sum(matmul(x, w));
    again.backward();
    Tensor expected{1.f, 2.f};
    expected.reshape({2, 1});
    XGRAD_CHECK_TENSOR_CLOSE(w.grad(), expected);
}

TEST_CASE("an optimizer step between two backward passes through a retained graph is an error") {
    Variable w(Tensor{0.5f, -1.f}, true);
    Variable loss = sum(w * w);
    loss.backward(/*keep_graph=*/true);
    optim::SGD opt({w}, {.learning_rate = 0.1});
    opt.step();
    const std::string message = graph_error_of([&] { loss.backward(); });
    CHECK(message.find("backward of 'mul'") != std::string::npos);
    CHECK(message.find("optimizer.step() only after backward()") != std::string::npos);
}

TEST_CASE("load_state_dict between forward and backward is an error") {
    nn::Dense layer(3, "relu");
    layer.build({2});
    const auto state = layer.state_dict();
    Variable x(Tensor(xt::xarray<float>{{1.f, 2.f}}), false);
    Variable loss = sum(layer.forward(x));
    layer.load_state_dict(state);
    const std::string message = graph_error_of([&] { loss.backward(); });
    CHECK(message.find("was changed in place after the op recorded it") != std::string::npos);
}

TEST_CASE("an op's output changed in place is an error: tanh's backward reads its output") {
    Variable x(Tensor{0.3f, -0.7f}, true);
    Variable y = tanh(x);
    y.mutable_value()(0) = 0.f;
    const std::string message = graph_error_of([&] { sum(y).backward(); });
    CHECK(message.find("backward of 'tanh': its output (shape (2,))") != std::string::npos);
}

TEST_CASE("grad() with create_graph checks versions as well") {
    Variable64 x(Tensor64{0.5, 1.5}, true);
    Variable64 y = sum(x * x * x);
    x.mutable_value()(1) = 2.0;
    const std::string message =
        graph_error_of([&] { (void)grad<double>({y}, {x}, {.create_graph = true}); });
    CHECK(message.find("backward of 'mul'") != std::string::npos);
}

TEST_CASE("values that stay the same between forward and backward are no error") {
    Variable w(Tensor{2.f}, true);
    Variable loss = sum(w * w);
    (void)w.value();  // reading is no change
    loss.backward();
    XGRAD_CHECK_TENSOR_CLOSE(w.grad(), Tensor({4.f}));
}
