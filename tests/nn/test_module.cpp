#include <doctest/doctest.h>

#include <xtensor/xbuilder.hpp>

#include "framework/errors.h"
#include "framework/testing.h"
#include "nn_test_util.h"
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

namespace {

// A subclassed model whose children build on their first call (nothing in build()).
class TwoLayers : public nn::Module {
  public:
    TwoLayers() {
        register_module(hidden);
        register_module(out);
    }
    std::string type_name() const override { return "TwoLayers"; }
    Variable forward(const Variable& x) override { return (*out)((*hidden)(x)); }
    std::shared_ptr<nn::Dense> hidden = std::make_shared<nn::Dense>(4, "relu");
    std::shared_ptr<nn::Dense> out = std::make_shared<nn::Dense>(2);
};

// A block with state that a training-mode pass would change: batch statistics and dropout.
class NormDrop : public nn::Module {
  public:
    NormDrop() {
        register_module(norm);
        register_module(drop);
    }
    std::string type_name() const override { return "NormDrop"; }
    Variable forward(const Variable& x) override { return (*drop)((*norm)(x)); }
    std::shared_ptr<nn::BatchNormalization> norm = std::make_shared<nn::BatchNormalization>(0.5);
    std::shared_ptr<nn::Dropout> drop = std::make_shared<nn::Dropout>(0.5);
};

// Two inputs, two outputs: the list form of forward.
class SumDiff : public nn::Module {
  public:
    std::string type_name() const override { return "SumDiff"; }
    using Module::forward;
    std::vector<Variable> forward(const std::vector<Variable>& in) override {
        return {in.at(0) + in.at(1), in.at(0) - in.at(1)};
    }
};

// Overrides neither form of forward.
class NoForward : public nn::Module {
  public:
    std::string type_name() const override { return "NoForward"; }
};

// forward() throws.
class Throws : public nn::Module {
  public:
    std::string type_name() const override { return "Throws"; }
    Variable forward(const Variable&) override { throw std::runtime_error("broken forward"); }
};

}  // namespace

TEST_CASE("build() builds the whole tree of a subclassed model by tracing one pass") {
    TwoLayers m;
    CHECK(m.trainable_parameters().empty());
    m.build({3});
    CHECK(m.built());
    CHECK(m.hidden->built());
    CHECK(m.out->built());
    CHECK(m.count_params() == 3 * 4 + 4 + 4 * 2 + 2);
    CHECK(m.is_training());  // the trace ran in eval mode and put the mode back
    CHECK(m(Variable(Tensor::from_shape({5, 3}))).shape() == Shape{5, 2});
}

TEST_CASE("output_shape's probe changes nothing: eval mode, no graph, modes restored") {
    nn::Sequential model;
    model.add(nn::Dense(3));
    auto block = std::make_shared<NormDrop>();
    model.add(block);  // probed for its output shape while being added
    model.build({2});
    const Tensor mean_before = block->norm->moving_mean().value();
    const Tensor var_before = block->norm->moving_variance().value();
    const Rng rng_before = global_rng();
    CHECK(block->output_shape({3}) == Shape{3});
    CHECK(model.output_shape({2}) == Shape{3});
    CHECK(block->norm->moving_mean().value() == mean_before);
    CHECK(block->norm->moving_variance().value() == var_before);
    CHECK(global_rng() == rng_before);  // dropout drew no random number
    CHECK(block->is_training());
    CHECK(block->norm->is_training());
    // Adding a fresh block runs the probe too: still no change to the moving statistics.
    nn::Sequential other;
    other.add(nn::Flatten({2}));
    auto fresh = std::make_shared<NormDrop>();
    const Rng rng_add = global_rng();
    other.add(fresh);
    CHECK(fresh->norm->moving_mean().value() == Tensor{0.f, 0.f});
    CHECK(fresh->norm->moving_variance().value() == Tensor{1.f, 1.f});
    CHECK(global_rng() == rng_add);
}

TEST_CASE("output_shape restores every module's mode when forward throws") {
    Throws t;
    t.build({2});
    CHECK_THROWS_WITH_AS(t.output_shape({2}), "broken forward", std::runtime_error);
    CHECK(t.is_training());
    NormDrop frozen;
    frozen.build({2});
    frozen.norm->eval();  // a user's choice inside a training model: kept
    {
        nn::TrainingModeGuard guard(frozen, false);
        CHECK_FALSE(frozen.is_training());
        CHECK_FALSE(frozen.drop->is_training());
    }
    CHECK(frozen.is_training());
    CHECK(frozen.drop->is_training());
    CHECK_FALSE(frozen.norm->is_training());
}

TEST_CASE("the list form of forward: several inputs and outputs") {
    SumDiff m;
    const std::vector<Variable> out =
        m({Variable(Tensor{{1.f, 2.f}}), Variable(Tensor{{3.f, 5.f}})});
    REQUIRE(out.size() == 2);
    CHECK(out[0].value() == Tensor{{4.f, 7.f}});
    CHECK(out[1].value() == Tensor{{-2.f, -3.f}});
    CHECK(m.built());
    CHECK(m.built_input_shapes() == std::vector<Shape>{{2}, {2}});
    CHECK(m.output_shapes({{2}, {2}}) == std::vector<Shape>{{2}, {2}});
    CHECK_THROWS_WITH_AS(m({Variable(nn_test::column({1.f})), Variable(nn_test::column({3.f}))}),
                         "sum_diff: expected input shapes (None, 2), (None, 2), got (None, 1), "
                         "(None, 1)",
                         ShapeError);
    // A one-input layer takes a list of one.
    nn::Dense d(2);
    CHECK(d(std::vector<Variable>{Variable(Tensor::from_shape({4, 3}))}).at(0).shape() ==
          Shape{4, 2});
    CHECK_THROWS_WITH_AS(d.forward(std::vector<Variable>{Variable(Tensor{{1.f, 2.f, 3.f}}),
                                                         Variable(Tensor{{1.f, 2.f, 3.f}})}),
                         "dense (Dense) takes one input, got 2", std::invalid_argument);
    // The one-input form on a module with two outputs.
    CHECK_THROWS(m.forward(Variable(Tensor{{1.f, 2.f}})));
    NoForward none;
    CHECK_THROWS_WITH_AS(none.forward(Variable(nn_test::column({1.f}))),
                         "no_forward (NoForward): override forward(const Variable&) or "
                         "forward(const std::vector<Variable>&)",
                         std::logic_error);
}
