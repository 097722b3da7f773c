#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "problems.h"
#include "reference/lbfgs_reference.h"

using namespace optim_test;
using xgrad::optim::LBFGS;
using xgrad::optim::LineValue;

namespace {

// f(x, y) = (1 - x)^2 + 100 (y - x^2)^2 over two one-element parameters.
struct Rosenbrock {
    Variable x = parameter(Tensor{-1.2f});
    Variable y = parameter(Tensor{1.0f});
    std::vector<Variable> list() const { return {x, y}; }
    Variable loss() const {
        Variable a = 1.0f - x, b = y - x * x;
        return sum(a * a + 100.0f * b * b);
    }
};

// mean((X W + b - Y)^2) + 0.01 sum(W^4), as tests/optim/reference/lbfgs_reference.py has it.
struct LeastSquares {
    Variable w = parameter(Tensor::from_shape({3, 2}));
    Variable b = parameter(Tensor{0.0f, 0.0f});
    Tensor xs = Tensor::from_shape({8, 3});
    Tensor ys = Tensor::from_shape({8, 2});
    LeastSquares() {
        for (std::size_t r = 0; r < 3; ++r)
            for (std::size_t c = 0; c < 2; ++c)
                w.mutable_value()(r, c) = static_cast<float>(0.1 * (2.0 * r + c - 2.5));
        for (std::size_t r = 0; r < 8; ++r) {
            for (std::size_t c = 0; c < 3; ++c)
                xs(r, c) = static_cast<float>(std::sin(r + 2.0 * c));
            for (std::size_t k = 0; k < 2; ++k)
                ys(r, k) = static_cast<float>(std::cos(1.0 * r - k));
        }
    }
    std::vector<Variable> list() const { return {w, b}; }
    Variable loss() const {
        Variable e = matmul(Variable(xs), w) + b - Variable(ys);
        Variable w2 = w * w;
        return mean(e * e) + 0.01f * sum(w2 * w2);
    }
};

// sum(k_i (w_i - c_i)^2) in 20 dimensions with curvatures 0.01 .. 100 (condition number 1e4).
struct IllConditioned {
    static constexpr std::size_t n = 20;
    Tensor k = Tensor::from_shape({n});
    Tensor c = Tensor::from_shape({n});
    Variable w = parameter(Tensor(xt::zeros<float>({n})));
    IllConditioned() {
        for (std::size_t i = 0; i < n; ++i) {
            k(i) = static_cast<float>(std::pow(10.0, -2.0 + 4.0 * i / (n - 1)));
            c(i) = static_cast<float>(std::cos(1.0 + i));
        }
    }
    Variable loss() const {
        Variable d = w - Variable(c);
        return sum(Variable(k) * d * d);
    }
    double distance() const { return xt::amax(xt::abs(w.value() - c))(); }
};

template <class Problem>
xgrad::optim::LossClosure closure_of(Optimizer& opt, const Problem& p) {
    return [&opt, &p] {
        opt.zero_grad();
        Variable loss = p.loss();
        loss.backward();
        return loss;
    };
}

std::vector<double> flat(const std::vector<Variable>& params) {
    std::vector<double> out;
    for (const auto& v : params)
        for (float x : v.value()) out.push_back(x);
    return out;
}

// Runs one step(closure) per reference row and compares the parameters after each (float32
// arithmetic in a different order: 1e-4 + 1e-3 |x|) and the number of closure calls (exact:
// the line search tried the same steps).
template <class Problem>
void check_trajectory(const std::vector<std::vector<double>>& reference,
                      xgrad::optim::LBFGSOptions options) {
    Problem p;
    options.max_iter = 1;
    LBFGS opt(p.list(), options);
    for (std::size_t s = 0; s < reference.size(); ++s) {
        CAPTURE(s);
        opt.step(closure_of(opt, p));
        const std::vector<double> got = flat(p.list());
        REQUIRE(got.size() + 1 == reference[s].size());
        for (std::size_t i = 0; i < got.size(); ++i) {
            CAPTURE(i);
            CHECK(got[i] == doctest::Approx(reference[s][i]).epsilon(1e-3).scale(0.1));
        }
        CHECK(opt.evaluations() == static_cast<std::int64_t>(reference[s].back()));
    }
}

}  // namespace

TEST_CASE("LBFGS follows torch.optim.LBFGS step by step") {
    SUBCASE("Rosenbrock, strong Wolfe") {
        check_trajectory<Rosenbrock>(lbfgs_reference::rosenbrock_wolfe,
                                     {.line_search_fn = "strong_wolfe"});
    }
    SUBCASE("Rosenbrock, fixed step") {
        check_trajectory<Rosenbrock>(lbfgs_reference::rosenbrock_fixed, {.learning_rate = 0.1});
    }
    SUBCASE("least squares in two tensors, strong Wolfe, history 5") {
        check_trajectory<LeastSquares>(lbfgs_reference::least_squares_wolfe,
                                       {.history_size = 5, .line_search_fn = "strong_wolfe"});
    }
    SUBCASE("least squares, fixed step, history 5") {
        check_trajectory<LeastSquares>(lbfgs_reference::least_squares_fixed,
                                       {.learning_rate = 0.5, .history_size = 5});
    }
}

TEST_CASE("LBFGS with strong Wolfe converges on Rosenbrock and an ill-conditioned quadratic") {
    SUBCASE("Rosenbrock") {
        Rosenbrock p;
        LBFGS opt(p.list(), {.max_iter = 200, .line_search_fn = "strong_wolfe"});
        const double first = opt.step(closure_of(opt, p));
        CHECK(first == doctest::Approx(24.2));  // f(-1.2, 1)
        CHECK(p.x.item() == doctest::Approx(1.0).epsilon(1e-3));
        CHECK(p.y.item() == doctest::Approx(1.0).epsilon(1e-3));
        CHECK(opt.iterations() < 100);
    }
    SUBCASE("condition number 1e4") {
        IllConditioned q;
        LBFGS opt({q.w}, {.max_iter = 200, .line_search_fn = "strong_wolfe"});
        opt.step(closure_of(opt, q));
        CHECK(q.distance() < 1e-3);
        // Gradient descent with the largest stable step would need ~1e4 iterations.
        CHECK(opt.iterations() < 100);
    }
    SUBCASE("fixed steps on the quadratic, over several calls") {
        IllConditioned q;
        LBFGS opt({q.w}, {.learning_rate = 0.5, .max_iter = 20});
        for (int i = 0; i < 20; ++i) opt.step(closure_of(opt, q));
        CHECK(q.distance() < 1e-3);
    }
}

TEST_CASE("strong_wolfe returns a step that satisfies both Wolfe conditions") {
    // Along d from x on Rosenbrock-like 1-D slices and a steep quadratic, from several
    // initial trial steps (too short, about right, far too long).
    struct Case {
        std::function<double(double)> f, df;
        double t0;
    };
    const std::vector<Case> cases = {
        {[](double t) { return (t - 3) * (t - 3); }, [](double t) { return 2 * (t - 3); }, 0.01},
        {[](double t) { return (t - 3) * (t - 3); }, [](double t) { return 2 * (t - 3); }, 100},
        {[](double t) { return std::pow(t - 0.7, 4) + 0.1 * std::sin(5 * t) - 0.5 * t; },
         [](double t) { return 4 * std::pow(t - 0.7, 3) + 0.5 * std::cos(5 * t) - 0.5; }, 1},
        {[](double t) { return 1 - std::exp(-t * t) * std::cos(t) - 0.01 * t; },
         [](double t) { return std::exp(-t * t) * (2 * t * std::cos(t) + std::sin(t)) - 0.01; },
         20},
    };
    for (std::size_t i = 0; i < cases.size(); ++i) {
        CAPTURE(i);
        const Case& c = cases[i];
        // A one-dimensional "parameter" x = t, direction d = 1.
        const std::vector<float> d = {1.0f};
        int calls = 0;
        auto phi = [&](double t) {
            ++calls;
            return LineValue{c.f(t), {static_cast<float>(c.df(t))}};
        };
        const double f0 = c.f(0), g0 = c.df(0);
        REQUIRE(g0 < 0);
        const auto r = xgrad::optim::strong_wolfe(phi, d, c.t0, f0, {static_cast<float>(g0)}, g0);
        CAPTURE(r.step);
        CHECK(r.evaluations == calls);
        CHECK(r.loss == doctest::Approx(c.f(r.step)));
        CHECK(r.loss <= f0 + 1e-4 * r.step * g0);                    // sufficient decrease
        CHECK(std::abs(c.df(r.step)) <= 0.9 * std::abs(g0) + 1e-6);  // strong curvature
    }
}

TEST_CASE("every step LBFGS accepts on Rosenbrock satisfies the strong Wolfe conditions") {
    // One iteration per step(closure): the step taken is s = x1 - x0, and the conditions are
    // invariant to how the line search scaled its direction.
    Rosenbrock p;
    LBFGS opt(p.list(), {.max_iter = 1, .line_search_fn = "strong_wolfe"});
    auto value_and_grad = [&p] {
        p.x.zero_grad();
        p.y.zero_grad();
        Variable loss = p.loss();
        loss.backward();
        return std::pair{static_cast<double>(loss.item()),
                         std::array<double, 2>{p.x.grad()(0), p.y.grad()(0)}};
    };
    int checked = 0;
    for (int k = 0; k < 40; ++k) {
        const auto [f0, g0] = value_and_grad();
        const double x0 = p.x.item(), y0 = p.y.item();
        opt.step(closure_of(opt, p));
        const double sx = p.x.item() - x0, sy = p.y.item() - y0;
        if (std::hypot(sx, sy) < 1e-4) break;  // converged: float32 noise from here on
        const auto [f1, g1] = value_and_grad();
        const double gtd0 = g0[0] * sx + g0[1] * sy, gtd1 = g1[0] * sx + g1[1] * sy;
        CAPTURE(k);
        CHECK(gtd0 < 0);
        CHECK(f1 <= f0 + 1e-4 * gtd0 + 1e-6 * std::abs(f0));
        CHECK(std::abs(gtd1) <= 0.9 * std::abs(gtd0) + 1e-6);
        ++checked;
    }
    CHECK(checked >= 20);
}

TEST_CASE("LBFGS resumes from its state_dict bit for bit") {
    auto run = [](LBFGS& opt, const LeastSquares& p, int steps) {
        for (int i = 0; i < steps; ++i) opt.step(closure_of(opt, p));
    };
    const LBFGS::Options options = {
        .max_iter = 3, .history_size = 4, .line_search_fn = "strong_wolfe"};
    LeastSquares straight;
    LBFGS opt(straight.list(), options);
    run(opt, straight, 7);

    LeastSquares first;
    LBFGS opt1(first.list(), options);
    run(opt1, first, 4);
    const auto saved = opt1.state_dict();
    CHECK(saved.count("old_dirs.3") == 1);  // the history is full (4 pairs) by now
    CHECK(saved.count("old_dirs.4") == 0);

    LeastSquares resumed;
    resumed.w.mutable_value() = first.w.value();
    resumed.b.mutable_value() = first.b.value();
    LBFGS opt2(resumed.list(), options);
    opt2.load_state_dict(saved);
    CHECK(opt2.iterations() == opt1.iterations());
    CHECK(opt2.evaluations() == opt1.evaluations());
    run(opt2, resumed, 3);

    CHECK(xt::all(xt::equal(resumed.w.value(), straight.w.value())));
    CHECK(xt::all(xt::equal(resumed.b.value(), straight.b.value())));
    CHECK(opt2.iterations() == opt.iterations());
    const auto a = opt.state_dict(), b = opt2.state_dict();
    REQUIRE(a.size() == b.size());
    for (const auto& entry : a) {  // no structured binding: clang cannot CHECK_MESSAGE one
        const std::string& key = entry.first;
        REQUIRE(b.count(key) == 1);
        CHECK_MESSAGE(xt::all(xt::equal(entry.second, b.at(key))), key);
    }
}

TEST_CASE("LBFGS: bad options, a missing closure and a bad state are clear errors") {
    Rosenbrock p;
    CHECK_THROWS_WITH_AS(LBFGS(p.list(), {.max_iter = 0}),
                         "LBFGS: max_iter must be >= 1, got 0.000000", std::invalid_argument);
    CHECK_THROWS_WITH_AS(LBFGS(p.list(), {.history_size = 0}),
                         doctest::Contains("history_size must be >= 1"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(LBFGS(p.list(), {.line_search_fn = "backtracking"}),
                         doctest::Contains("unknown line_search_fn 'backtracking'"),
                         std::invalid_argument);
    LBFGS opt(p.list());
    Optimizer& base = opt;
    CHECK_THROWS_WITH_AS(base.step(), doctest::Contains("call step(closure)"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(opt.step([&] {
        opt.zero_grad();
        Variable v = p.x * Variable(Tensor{1.0f, 2.0f});
        v.backward(Tensor{1.0f, 1.0f});
        return v;
    }),
                         doctest::Contains("one element, got (2,)"), std::invalid_argument);
    CHECK(p.x.item() == -1.2f);  // nothing moved

    auto state = opt.state_dict();
    state["old_dirs.0"] = Tensor{1.0f};
    CHECK_THROWS_WITH_AS(opt.load_state_dict(state), doctest::Contains("lbfgs"),
                         std::invalid_argument);
    auto adam_state = optim::Adam(p.list()).state_dict();
    adam_state["param.0.m"] = Tensor{0.0f};
    CHECK_THROWS_WITH_AS(opt.load_state_dict(adam_state), doctest::Contains("'evaluations'"),
                         std::invalid_argument);
}
