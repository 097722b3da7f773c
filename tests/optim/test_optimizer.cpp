#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "problems.h"

using namespace optim_test;
using namespace xgrad::optim;

namespace {

// A minimal optimizer that exposes the base's hooks: p -= lr * g, one slot counting updates.
class Probe : public Optimizer {
  public:
    using Optimizer::Optimizer;
    std::string name() const override { return "probe"; }

    std::vector<std::int64_t> prepared;      // t passed to prepare_step, once per step
    std::vector<const float*> slot_address;  // where slot 0 of parameter 0 lives, per step
    bool grad_mode_seen = true;

  protected:
    std::vector<std::string> slot_names() const override { return {"count"}; }
    float slot_initial_value(std::size_t) const override { return 10.0f; }
    void prepare_step(std::int64_t t) override { prepared.push_back(t); }
    void update(std::size_t index, Tensor& value, const Tensor& grad) override {
        grad_mode_seen = grad_mode_seen && is_grad_enabled();
        Tensor& count = slot(index, 0);
        if (index == 0) slot_address.push_back(count.data());
        count += 1.0f;
        value -= static_cast<float>(learning_rate()) * grad;
    }
};

void set_grad(const Variable& p, Tensor g) {
    p.node()->grad = std::move(g);
    p.node()->has_grad = true;
}

}  // namespace

TEST_CASE("Optimizer: an empty, undefined or repeated parameter list is an error") {
    CHECK_THROWS_WITH_AS(Adam({}),
                         "optimizer: the parameter list is empty; a model has no parameters "
                         "until it is built: call model.build(input_shape) before "
                         "model.trainable_parameters()",
                         std::invalid_argument);
    CHECK_THROWS_AS(SGD({}), std::invalid_argument);
    CHECK_THROWS_AS(make_optimizer("rmsprop", {}), std::invalid_argument);
    Variable w = parameter(Tensor{1.0f});
    CHECK_THROWS_WITH_AS(Adam({w, Variable()}),
                         "optimizer: parameter 1 is an empty Variable handle",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(Adam({w, w}), "optimizer: parameter 1 appears twice in the parameter list",
                         std::invalid_argument);
}

TEST_CASE("Optimizer: zero_grad, step, iterations and the per-step hooks") {
    Variable a = parameter(Tensor{1.0f, 2.0f}), b = parameter(Tensor{3.0f});
    Probe opt({a, b}, 0.5);
    CHECK(opt.params().size() == 2);
    CHECK(opt.iterations() == 0);
    set_grad(a, Tensor{2.0f, 4.0f});
    set_grad(b, Tensor{1.0f});
    opt.step();
    CHECK(a.value() == Tensor{0.0f, 0.0f});
    CHECK(b.value() == Tensor{2.5f});
    CHECK(opt.iterations() == 1);
    CHECK_FALSE(opt.grad_mode_seen);  // updates run under NoGradGuard
    CHECK(is_grad_enabled());         // and the guard is gone afterwards

    opt.zero_grad();
    CHECK_FALSE(a.has_grad());
    CHECK_FALSE(b.has_grad());

    // A parameter without a gradient is skipped; the step still counts.
    set_grad(a, Tensor{1.0f, 1.0f});
    opt.step();
    opt.step();
    CHECK(a.value() == Tensor{-1.0f, -1.0f});
    CHECK(b.value() == Tensor{2.5f});
    CHECK(opt.iterations() == 3);
    CHECK(opt.prepared == std::vector<std::int64_t>{1, 2, 3});

    // State is allocated once, with the slot's initial value, and updated in place.
    REQUIRE(opt.slot_address.size() == 3);
    CHECK(opt.slot_address[1] == opt.slot_address[0]);
    CHECK(opt.slot_address[2] == opt.slot_address[0]);
    const auto state = opt.state_dict();
    CHECK(state.at("param.0.count") == Tensor{13.0f, 13.0f});
    CHECK(state.at("param.1.count") == Tensor{11.0f});
}

#if defined(__SSE__) || defined(_M_X64)
TEST_CASE("Optimizer: step computes with subnormals flushed unless the switch is off") {
    // Adam's first moment of a weight whose gradient turns zero decays by beta1 = 0.9 per step:
    // from just above the smallest normal float into the subnormal range.
    const float smallest = std::numeric_limits<float>::min();
    volatile float probe = smallest;
    REQUIRE(probe * 0.5f == smallest / 2);  // the test thread itself does not flush
    for (bool flush : {true, false}) {
        set_flush_denormal(flush);
        Variable w = parameter(Tensor{1.0f});
        Adam opt({w});
        set_grad(w, Tensor{10.5f * smallest});
        opt.step();
        CHECK(std::fpclassify(opt.state_dict().at("param.0.m")(0)) == FP_NORMAL);
        set_grad(w, Tensor{0.0f});
        opt.step();
        const float m = opt.state_dict().at("param.0.m")(0);
        // Flushed, m becomes 0 (0.9 m in one fused multiply-add) or keeps its value (the
        // subnormal increment -0.1 m is flushed first); never subnormal.
        CHECK((std::fpclassify(m) == FP_SUBNORMAL) == !flush);
        CHECK(probe * 0.5f == smallest / 2);  // and step() put the caller's mode back
    }
    set_flush_denormal(true);
}
#endif

TEST_CASE("Optimizer: a parameter never updated has no state") {
    Variable a = parameter(Tensor{1.0f}), b = parameter(Tensor{3.0f});
    Adam opt({a, b});
    set_grad(b, Tensor{1.0f});
    opt.step();
    const auto state = opt.state_dict();
    CHECK(state.count("param.0.m") == 0);
    CHECK(state.count("param.1.m") == 1);
    CHECK(state.size() == 4);
    CHECK(a.value() == Tensor{1.0f});
}

TEST_CASE("Optimizer: a gradient of the wrong shape is an error and changes nothing") {
    Variable a = parameter(Tensor{1.0f, 2.0f}), b = parameter(Tensor{3.0f});
    Adam opt({a, b});
    set_grad(a, Tensor{1.0f, 1.0f});
    set_grad(b, Tensor{1.0f, 1.0f});
    CHECK_THROWS_WITH_AS(opt.step(), "adam: parameter 1 has shape (1,) but its gradient has (2,)",
                         xgrad::ShapeError);
    CHECK(a.value() == Tensor{1.0f, 2.0f});
    CHECK(opt.iterations() == 0);

    // A parameter whose value changed shape after its state was allocated.
    set_grad(b, Tensor{1.0f});
    opt.step();
    b.mutable_value() = Tensor{1.0f, 2.0f, 3.0f};
    set_grad(b, Tensor{1.0f, 1.0f, 1.0f});
    CHECK_THROWS_WITH_AS(opt.step(),
                         "adam: parameter 1 changed shape to (3,) but its state has (1,)",
                         xgrad::ShapeError);
    CHECK(opt.iterations() == 1);
}

TEST_CASE("Optimizer: the learning rate is readable and settable") {
    TwoParams p;
    Adam opt(p.list());
    opt.set_learning_rate(0.25);
    CHECK(opt.learning_rate() == 0.25);
    opt.set_learning_rate(0);
    CHECK(opt.learning_rate() == 0);
    CHECK_THROWS_AS(opt.set_learning_rate(-1), std::invalid_argument);
    CHECK_THROWS_AS(opt.set_learning_rate(std::nan("")), std::invalid_argument);
    CHECK_THROWS_AS(opt.set_learning_rate(INFINITY), std::invalid_argument);
    CHECK(opt.learning_rate() == 0);
    // A zero rate leaves the parameters alone.
    two_param_step(opt, p);
    CHECK(p.x.item() == 1.5f);
}

TEST_CASE("Optimizer: the state dict stores the learning rate and step count exactly") {
    TwoParams p;
    for (double lr : {0.001, 0.1 * 1.2345678901234567, 1.0 / 3.0, 3e-9, 12.5, 0.0}) {
        CAPTURE(lr);
        Adam a(p.list(), {.learning_rate = lr});
        const auto state = a.state_dict();
        CHECK(state.at("learning_rate")(0) == static_cast<float>(lr));  // readable first part
        Adam b(p.list());
        b.load_state_dict(state);
        CHECK(b.learning_rate() == lr);
    }
    // iterations = 5 + 2 * 2^24 + 3 * 2^48, beyond what one float32 holds exactly.
    Adam a(p.list());
    auto state = a.state_dict();
    state["iterations"] = Tensor{5.0f, 2.0f, 3.0f};
    a.load_state_dict(state);
    const std::int64_t expected = 5 + (std::int64_t{2} << 24) + (std::int64_t{3} << 48);
    CHECK(a.iterations() == expected);
    CHECK(a.state_dict().at("iterations") == Tensor{5.0f, 2.0f, 3.0f});
}

TEST_CASE("Optimizer: load_state_dict checks names and shapes and changes nothing on error") {
    TwoParams p;
    Adam opt(p.list());
    two_param_step(opt, p);
    const auto good = opt.state_dict();
    Adam fresh(p.list());

    auto missing = good;
    missing.erase("iterations");
    CHECK_THROWS_WITH_AS(fresh.load_state_dict(missing),
                         "load_state_dict (adam): missing entry 'iterations'",
                         std::invalid_argument);

    auto wrong_shape = good;
    wrong_shape["param.1.v"] = Tensor{1.0f, 2.0f};
    CHECK_THROWS_WITH_AS(fresh.load_state_dict(wrong_shape),
                         "load_state_dict (adam): entry 'param.1.v' has shape (2,) but parameter "
                         "1 has shape (1,)",
                         std::invalid_argument);

    auto unknown = good;
    unknown["param.2.m"] = Tensor{1.0f};
    CHECK_THROWS_WITH_AS(fresh.load_state_dict(unknown),
                         "load_state_dict (adam): unexpected entry 'param.2.m' (from a different "
                         "optimizer, options or parameter list?)",
                         std::invalid_argument);

    auto partial = good;
    partial.erase("param.0.v");
    CHECK_THROWS_WITH_AS(fresh.load_state_dict(partial),
                         "load_state_dict (adam): parameter 0 has 1 of its 2 state slots",
                         std::invalid_argument);

    auto bad_count = good;
    bad_count["iterations"] = Tensor{0.5f, 0.0f, 0.0f};
    CHECK_THROWS_AS(fresh.load_state_dict(bad_count), std::invalid_argument);
    auto bad_rate = good;
    bad_rate["learning_rate"] = Tensor{-1.0f, 0.0f, 0.0f};
    CHECK_THROWS_AS(fresh.load_state_dict(bad_rate), std::invalid_argument);
    auto bad_rate_shape = good;
    bad_rate_shape["learning_rate"] = Tensor{0.1f};
    CHECK_THROWS_AS(fresh.load_state_dict(bad_rate_shape), std::invalid_argument);

    // Another optimizer's state does not fit.
    SGD sgd(p.list(), {.momentum = 0.9});
    CHECK_THROWS_AS(sgd.load_state_dict(good), std::invalid_argument);

    CHECK(fresh.iterations() == 0);
    CHECK(fresh.state_dict().size() == 2);
    fresh.load_state_dict(good);
    CHECK(fresh.iterations() == 1);
    CHECK(fresh.state_dict().size() == good.size());
}

TEST_CASE("make_optimizer: every name, Keras defaults, a learning rate, unknown names") {
    TwoParams p;
    const std::vector<std::pair<std::string, double>> expected = {
        {"sgd", 0.01}, {"adam", 0.001}, {"adamw", 0.001}, {"rmsprop", 0.001}, {"adagrad", 0.001}};
    CHECK(optimizer_names().size() == expected.size());
    for (const auto& item : expected) {
        const auto& name = item.first;
        const auto& lr = item.second;
        CAPTURE(name);
        auto opt = make_optimizer(name, p.list());
        CHECK(opt->name() == name);
        CHECK(opt->learning_rate() == lr);
        CHECK(make_optimizer(name, p.list(), 0.5)->learning_rate() == 0.5);
    }
    CHECK(make_optimizer("Adam", p.list())->name() == "adam");
    CHECK(dynamic_cast<AdamW*>(make_optimizer("adamw", p.list()).get()) != nullptr);
    CHECK_THROWS_WITH_AS(make_optimizer("adamax", p.list()),
                         "make_optimizer: unknown optimizer 'adamax'; valid names are sgd, adam, "
                         "adamw, rmsprop, adagrad",
                         std::invalid_argument);
}
