#include <doctest/doctest.h>

#include <memory>

#include "framework/errors.h"
#include "framework/testing.h"
#include "xgrad.h"

using namespace xgrad;

namespace {

// y = x^3 with a correct first derivative and no graph backward (differentiable once only).
Variable64 cube_once(const Variable64& x) {
    return record<double>("cube_once", x.value() * x.value() * x.value(), {x},
                          [](const BackwardContext<double>& c) {
                              return Grads<double>{3.0 * c.grad * c.input(0) * c.input(0)};
                          });
}

// y = x^3 whose graph backward is wrong on purpose (2x^2 instead of 3x^2 in the second pass).
Variable64 cube_wrong_twice(const Variable64& x) {
    return record<double>(
        "cube_wrong_twice", x.value() * x.value() * x.value(), {x},
        [](const BackwardContext<double>& c) {
            return Grads<double>{3.0 * c.grad * c.input(0) * c.input(0)};
        },
        [](const GraphBackwardContext<double>& c) {
            return VariableList<double>{2.0 * c.grad * c.input(0) * c.input(0)};
        });
}

}  // namespace

TEST_CASE("grad: first and second derivatives of x^3, without touching .grad()") {
    Variable64 x(Tensor64{1.0, -2.0, 0.5}, true);
    Variable64 y = sum(x * x * x);
    Variable64 dx = grad<double>({y}, {x}, {.create_graph = true})[0];
    XGRAD_CHECK_TENSOR_CLOSE(dx.value(), Tensor64({3.0, 12.0, 0.75}));
    CHECK(dx.requires_grad());
    Variable64 d2 = grad<double>({sum(dx)}, {x})[0];
    XGRAD_CHECK_TENSOR_CLOSE(d2.value(), Tensor64({6.0, -12.0, 3.0}));
    CHECK_FALSE(d2.requires_grad());  // no create_graph: a plain value
    CHECK_FALSE(x.has_grad());
}

TEST_CASE("grad: third derivative, intermediate inputs and grad_outputs") {
    Variable64 x(Tensor64{2.0}, true);
    Variable64 y = x * x * x * x;  // x^4
    Variable64 d1 = grad<double>({y}, {x}, {.create_graph = true})[0];
    Variable64 d2 = grad<double>({d1}, {x}, {.create_graph = true})[0];
    Variable64 d3 = grad<double>({d2}, {x})[0];
    XGRAD_CHECK_TENSOR_CLOSE(d1.value(), Tensor64({32.0}));  // 4x^3
    XGRAD_CHECK_TENSOR_CLOSE(d2.value(), Tensor64({48.0}));  // 12x^2
    XGRAD_CHECK_TENSOR_CLOSE(d3.value(), Tensor64({48.0}));  // 24x

    Variable64 a(Tensor64{1.0, 2.0}, true);
    Variable64 h = a * 3.0;  // an intermediate result
    Variable64 out = h * h;
    std::vector<Variable64> g =
        grad<double>({out}, {h, a}, {.grad_outputs = {Variable64(Tensor64{1.0, 10.0})}});
    XGRAD_CHECK_TENSOR_CLOSE(g[0].value(), Tensor64({6.0, 120.0}));   // 2h * seed
    XGRAD_CHECK_TENSOR_CLOSE(g[1].value(), Tensor64({18.0, 360.0}));  // 18a * seed
}

TEST_CASE("grad: unused inputs, bad arguments") {
    Variable64 x(Tensor64{1.0}, true), unused(Tensor64{5.0, 6.0}, true);
    Variable64 y = x * 2.0;
    CHECK_THROWS_WITH_AS(grad<double>({y}, {x, unused}, {.retain_graph = true}),
                         "grad: the outputs do not depend on input 1 (shape (2,)); pass "
                         "allow_unused to get a zero gradient",
                         GraphError);
    std::vector<Variable64> g =
        grad<double>({y}, {x, unused}, {.retain_graph = true, .allow_unused = true});
    XGRAD_CHECK_TENSOR_CLOSE(g[1].value(), Tensor64({0.0, 0.0}));
    Variable64 plain(Tensor64{1.0});
    CHECK_THROWS_AS(grad<double>({y}, {plain}, {.retain_graph = true}), GraphError);
    CHECK_THROWS_AS(grad<double>({x * Variable64(Tensor64{1.0, 2.0})}, {x}), GraphError);
    CHECK_THROWS_AS(grad<double>({y}, {x}, {.grad_outputs = {Variable64(Tensor64{1.0, 2.0})}}),
                    ShapeError);
}

TEST_CASE("backward with create_graph stores gradients with history") {
    Variable64 x(Tensor64{3.0}, true);
    Variable64 y = x * x * x;
    y.backward({.create_graph = true});
    XGRAD_CHECK_TENSOR_CLOSE(x.grad(), Tensor64({27.0}));
    Variable64 g = x.grad_variable();
    CHECK(g.requires_grad());
    x.zero_grad();
    g.backward();
    XGRAD_CHECK_TENSOR_CLOSE(x.grad(), Tensor64({18.0}));  // d/dx 3x^2
    // A second create_graph backward adds to the gradient with history.
    x.zero_grad();
    Variable64 z = x * x;
    z.backward({.create_graph = true});
    z.backward({.create_graph = true});
    XGRAD_CHECK_TENSOR_CLOSE(x.grad(), Tensor64({12.0}));
    CHECK(x.grad_variable().requires_grad());
    // Releases the gradient's history, which holds x (LeakSanitizer checks it is freed).
    x.zero_grad();
    CHECK_FALSE(x.has_grad());
}

TEST_CASE("create_graph through an op without a graph backward names the op") {
    Variable64 x(Tensor64{1.0}, true);
    CHECK_THROWS_WITH_AS(cube_once(x).backward({.create_graph = true}),
                         "backward with create_graph: op 'cube_once' can be differentiated "
                         "once only (it has no graph backward)",
                         GraphError);
    // The first-order path still works.
    cube_once(x).backward();
    XGRAD_CHECK_TENSOR_CLOSE(x.grad(), Tensor64({3.0}));
}

TEST_CASE("hvp, jacobian and hessian against hand-worked values") {
    // f(x) = x0^2 x1 + x1^3: H = [[2 x1, 2 x0], [2 x0, 6 x1]].
    auto f = [](const Variable64& x) {
        Variable64 x0 = slice(x, 0, 0, 1), x1 = slice(x, 0, 1, 2);
        return sum(x0 * x0 * x1 + x1 * x1 * x1);
    };
    const Tensor64 x{1.5, -2.0};
    XGRAD_CHECK_TENSOR_CLOSE(hessian<double>(f, x), Tensor64({{-4.0, 3.0}, {3.0, -12.0}}));
    XGRAD_CHECK_TENSOR_CLOSE(hvp<double>(f, x, Tensor64{1.0, 2.0}), Tensor64({2.0, -21.0}));
    // Jacobian of x -> (x0 x1, x0 + x1).
    auto g = [](const Variable64& v) {
        Variable64 v0 = slice(v, 0, 0, 1), v1 = slice(v, 0, 1, 2);
        return concat({v0 * v1, v0 + v1}, 0);
    };
    XGRAD_CHECK_TENSOR_CLOSE(jacobian<double>(g, x), Tensor64({{-2.0, 1.5}, {1.0, 1.0}}));
    CHECK_THROWS_AS(hvp<double>(f, x, Tensor64{1.0}), ShapeError);
}

TEST_CASE("gradgradcheck passes a correct second derivative and fails a wrong one") {
    XGRAD_CHECK_GRADGRADCHECK(
        [](const std::vector<Variable64>& in) { return in[0] * in[0] * in[0]; },
        {Tensor64{0.5, -1.5}});
    const GradcheckResult bad =
        gradgradcheck([](const std::vector<Variable64>& in) { return cube_wrong_twice(in[0]); },
                      {Tensor64{0.5, -1.5}});
    CHECK_FALSE(bad.ok);
    CHECK(bad.message.rfind("gradgradcheck: the first derivative from the graph backward", 0) == 0);
}

TEST_CASE("backward frees each node's value once its own backward has run") {
    // z = probe(x); b = z * 3; loss = sum(b). When probe's backward runs, b has been
    // handled and nothing may hold it any more.
    Variable64 x(Tensor64{1.0, 2.0}, true);
    std::weak_ptr<Node<double>> watched;
    bool freed_in_time = false;
    Variable64 z = record<double>("probe", x.value(), {x}, [&](const BackwardContext<double>& c) {
        freed_in_time = watched.expired();
        return Grads<double>{c.grad};
    });
    Variable64 loss;
    {
        Variable64 b = z * 3.0;
        watched = b.node();
        loss = sum(b);
    }
    z = Variable64();  // only the graph holds the probe node now
    loss.backward();
    CHECK(freed_in_time);
    XGRAD_CHECK_TENSOR_CLOSE(x.grad(), Tensor64({3.0, 3.0}));
}

TEST_CASE("grad() runs the backward of only the inputs on a path to the ones asked for") {
    // y = probe(x, w): records which of its inputs each backward was asked for, as an op
    // that skips unneeded products (linear's weight gradient) sees it.
    auto asked = std::make_shared<std::vector<bool>>();
    auto probe = [asked](const Variable64& x, const Variable64& w) {
        return record<double>(
            "probe", x.value() * w.value(), {x, w},
            [asked](const BackwardContext<double>& c) {
                *asked = {c.needs(0), c.needs(1)};
                return Grads<double>{c.grad * c.input(1), c.grad * c.input(0)};
            },
            [asked](const GraphBackwardContext<double>& c) {
                *asked = {c.needs(0), c.needs(1)};
                return VariableList<double>{c.grad * c.input(1), c.grad * c.input(0)};
            });
    };
    Variable64 x(Tensor64{2.0}, true), w(Tensor64{3.0}, true);
    Variable64 y = sum(probe(x, w) * probe(x, w));
    CHECK(grad<double>({y}, {x}, {.retain_graph = true})[0].value()(0) == doctest::Approx(36.0));
    CHECK(*asked == std::vector<bool>{true, false});
    CHECK(grad<double>({y}, {w}, {.create_graph = true})[0].value()(0) == doctest::Approx(24.0));
    CHECK(*asked == std::vector<bool>{false, true});
    sum(probe(x, w)).backward();  // backward() fills every leaf's .grad()
    CHECK(*asked == std::vector<bool>{true, true});
    CHECK(x.grad()(0) == 3.0);
    CHECK(w.grad()(0) == 2.0);
}
