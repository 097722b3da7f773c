#include <doctest/doctest.h>

#include <xtensor/xbuilder.hpp>

#include "framework/errors.h"
#include "framework/testing.h"
#include "xgrad.h"

using namespace xgrad;

namespace {

// A user-defined module: an elementwise scale (trainable) and a step counter (not trainable).
class Scale : public nn::Module {
  public:
    std::string type_name() const override { return "Scale"; }
    void build(const Shape& input_shape) override {
        if (needs_build(input_shape)) {
            Tensor init = Tensor::from_shape(input_shape);
            init.fill(2.f);
            w = register_parameter("w", init);
            steps = register_parameter("steps", xt::zeros<float>({1}), false);
        }
        Module::build(input_shape);
    }
    Variable forward(const Variable& x) override { return x * w; }
    Variable w, steps;
};

// Reduces each example to one number; its output shape is found by tracing forward().
class RowSum : public nn::Module {
  public:
    std::string type_name() const override { return "RowSum"; }
    Variable forward(const Variable& x) override { return sum(x, {1}, true); }
};

// Holds two Scale children.
class Pair : public nn::Module {
  public:
    Pair() {
        register_module(std::make_shared<Scale>());
        register_module(std::make_shared<Scale>());
    }
    std::string type_name() const override { return "Pair"; }
    void build(const Shape& input_shape) override {
        for (const auto& c : children()) c->build(input_shape);
        Module::build(input_shape);
    }
    Variable forward(const Variable& x) override { return (*children()[1])((*children()[0])(x)); }
};

}  // namespace

TEST_CASE("snake_case gives Keras' default names") {
    CHECK(nn::snake_case("Dense") == "dense");
    CHECK(nn::snake_case("MyBlock") == "my_block");
    CHECK(nn::snake_case("Conv2DTranspose") == "conv2d_transpose");
    CHECK(nn::snake_case("Conv2D") == "conv2d");
    CHECK(nn::snake_case("MaxPooling2D") == "max_pooling2d");
    CHECK(nn::snake_case("already_snake") == "already_snake");
}

TEST_CASE("format_batch_shape puts None in front") {
    CHECK(nn::format_batch_shape({784}) == "(None, 784)");
    CHECK(nn::format_batch_shape({28, 28}) == "(None, 28, 28)");
    CHECK(nn::format_batch_shape({}) == "(None,)");
}

TEST_CASE("a module is named after its type until named") {
    Scale s;
    CHECK(s.name() == "scale");
    CHECK_FALSE(s.has_user_name());
    s.set_name("gain");
    CHECK(s.name() == "gain");
    CHECK(s.has_user_name());
    CHECK_THROWS_WITH_AS(s.set_name(""),
                         "set_name: a module name must be non-empty and contain no '/', got ''",
                         std::invalid_argument);
    CHECK_THROWS_AS(s.set_name("a/b"), std::invalid_argument);
}

TEST_CASE("the first call builds the module from the input shape") {
    Scale s;
    CHECK_FALSE(s.built());
    CHECK(s.parameters().empty());
    Variable y = s(Variable(Tensor{{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}}));
    CHECK(s.built());
    CHECK(*s.built_input_shape() == Shape{3});
    XGRAD_CHECK_TENSOR_CLOSE(y.value(), Tensor({{2.f, 4.f, 6.f}, {8.f, 10.f, 12.f}}));
    // Another batch size is fine; another example shape is not.
    CHECK(s(Variable(Tensor{{1.f, 1.f, 1.f}})).shape() == Shape{1, 3});
    CHECK_THROWS_WITH_AS(s(Variable(Tensor::from_shape({2, 4}))),
                         "scale: expected input shape (None, 3), got (2, 4)", ShapeError);
    CHECK_THROWS_WITH_AS(s(Variable(2.f)),
                         "scale: expected input with a leading batch dimension, got a scalar",
                         ShapeError);
    CHECK_THROWS_WITH_AS(
        s.build({4}), "scale: already built for input shape (None, 3), got (None, 4)", ShapeError);
    s.build({3});  // idempotent
    CHECK(s.parameters().size() == 2);
}

TEST_CASE("a declared input shape is enforced at build") {
    Scale s;
    s.set_input_shape({2, 2});
    CHECK(*s.declared_input_shape() == Shape{2, 2});
    CHECK_THROWS_WITH_AS(s.build({4}), "scale: expected input shape (None, 2, 2), got (None, 4)",
                         ShapeError);
    CHECK_FALSE(s.built());
    s.build({2, 2});
    CHECK(s.built());
}

TEST_CASE("parameters: names, trainable flags and counts") {
    Scale s;
    s.build({2, 3});
    auto named = s.named_parameters();
    REQUIRE(named.size() == 2);
    CHECK(named[0].first == "w");
    CHECK(named[1].first == "steps");
    CHECK(s.count_params() == 7);
    CHECK(s.count_trainable_params() == 6);
    REQUIRE(s.trainable_parameters().size() == 1);
    CHECK(s.trainable_parameters()[0].node() == s.w.node());
    CHECK(s.w.requires_grad());
    CHECK_FALSE(s.steps.requires_grad());
}

TEST_CASE("children: names are unique and prefix their parameters") {
    Pair p;
    p.build({2});
    CHECK(p.children()[0]->name() == "scale");
    CHECK(p.children()[1]->name() == "scale_1");
    std::vector<std::string> names;
    for (const auto& [n, v] : p.named_parameters()) names.push_back(n);
    CHECK(names ==
          std::vector<std::string>{"scale/w", "scale/steps", "scale_1/w", "scale_1/steps"});
    CHECK(p.count_params() == 6);
    CHECK(p.count_trainable_params() == 4);
    XGRAD_CHECK_TENSOR_CLOSE(p(Variable(Tensor{{1.f, -1.f}})).value(), Tensor({{4.f, -4.f}}));
}

TEST_CASE("registering a parameter twice is an error") {
    class Twice : public nn::Module {
      public:
        std::string type_name() const override { return "Twice"; }
        Variable forward(const Variable& x) override { return x; }
        void build(const Shape& in) override {
            register_parameter("w", xt::zeros<float>({1}));
            register_parameter("w", xt::zeros<float>({1}));
            Module::build(in);
        }
    };
    Twice t;
    CHECK_THROWS_WITH_AS(t.build({1}), "twice: parameter 'w' is registered twice",
                         std::invalid_argument);
}

TEST_CASE("output_shape traces forward for a custom module") {
    RowSum r;
    CHECK_THROWS_AS(r.output_shape({5}), std::logic_error);
    r.build({5});
    CHECK(r.output_shape({5}) == Shape{1});
    Scale s;
    s.build({2, 3});
    CHECK(s.output_shape({2, 3}) == Shape{2, 3});
}

TEST_CASE("train and eval switch the whole tree") {
    Pair p;
    CHECK(p.is_training());
    p.eval();
    CHECK_FALSE(p.is_training());
    for (const auto& c : p.children()) CHECK_FALSE(c->is_training());
    p.train();
    for (const auto& c : p.children()) CHECK(c->is_training());
}

TEST_CASE("zero_grad forgets every parameter's gradient") {
    Pair p;
    Variable y = p(Variable(Tensor{{1.f, 2.f}}));
    sum(y).backward();
    auto scale0 = std::static_pointer_cast<Scale>(p.children()[0]);
    CHECK(scale0->w.has_grad());
    // d/dw0 of sum(x * w0 * w1) = x * w1 = (2, 4).
    XGRAD_CHECK_TENSOR_CLOSE(scale0->w.grad(), Tensor({2.f, 4.f}));
    p.zero_grad();
    for (const auto& v : p.parameters()) CHECK_FALSE(v.has_grad());
}

TEST_CASE("state_dict copies values; load_state_dict assigns in place") {
    Scale s;
    s.build({2});
    auto state = s.state_dict();
    REQUIRE(state.size() == 2);
    XGRAD_CHECK_TENSOR_CLOSE(state.at("w"), Tensor({2.f, 2.f}));
    state.at("w")(0) = 9.f;
    CHECK(s.w.value()(0) == 2.f);  // a copy

    Variable handle = s.parameters()[0];
    s.load_state_dict(state);
    CHECK(handle.value()(0) == 9.f);  // same handle, new value
    CHECK(s.w.node() == handle.node());
}

TEST_CASE("load_state_dict names every missing, unexpected and misshapen entry") {
    Pair p;
    p.build({2});
    auto state = p.state_dict();
    state.erase("scale/w");
    state.erase("scale_1/steps");
    state["extra"] = Tensor{1.f};
    state["scale_1/w"] = Tensor{1.f, 2.f, 3.f};
    const Tensor before = p.state_dict().at("scale/steps");
    state["scale/steps"] = Tensor{5.f};
    CHECK_THROWS_WITH_AS(p.load_state_dict(state),
                         "pair: cannot load the state dict: missing scale/w, scale_1/steps; "
                         "unexpected extra (not in the model); scale_1/w has shape (3,) in the "
                         "state dict but (2,) in the model",
                         std::invalid_argument);
    // Nothing was changed.
    CHECK(p.state_dict().at("scale/steps") == before);

    Scale unbuilt;
    CHECK_THROWS_WITH_AS(unbuilt.load_state_dict({{"w", Tensor{1.f}}}),
                         "scale: cannot load the state dict: unexpected w (not in the model)",
                         std::invalid_argument);
    Pair unbuilt_pair;
    CHECK(unbuilt_pair.state_mismatch({}, "x").empty());
}
