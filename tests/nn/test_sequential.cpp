#include <doctest/doctest.h>

#include <xtensor/xbuilder.hpp>

#include "framework/errors.h"
#include "framework/testing.h"
#include "xgrad.h"

using namespace xgrad;

namespace {

nn::Sequential seed_model() {
    nn::Sequential model;
    model.add(nn::Flatten({28, 28}));
    model.add(nn::Dense(100, "relu"));
    model.add(nn::Dense(10, "softmax"));
    return model;
}

std::vector<std::string> layer_names(const nn::Sequential& model) {
    std::vector<std::string> names;
    for (const auto& l : model.layers()) names.push_back(l->name());
    return names;
}

// A user-defined layer: a trainable per-feature gain plus a constant (non-trainable) offset,
// y = x * gain + offset, keeping the shape.
class Affine : public nn::Module {
  public:
    std::string type_name() const override { return "Affine"; }
    void build(const Shape& input_shape) override {
        if (!needs_build(input_shape)) return;
        Tensor g = Tensor::from_shape(input_shape);
        g.fill(0.5f);
        gain = register_parameter("gain", g);
        Tensor o = Tensor::from_shape(input_shape);
        o.fill(1.f);
        offset = register_parameter("offset", o, false);
        Module::build(input_shape);
    }
    Variable forward(const Variable& x) override { return x * gain + offset; }
    Variable gain, offset;
};

// A user-defined layer that changes the shape: (n,) -> (n / 2, 2), found by tracing.
class Pairs : public nn::Module {
  public:
    std::string type_name() const override { return "Pairs"; }
    Variable forward(const Variable& x) override {
        return reshape(x, {static_cast<long>(x.shape()[0]), -1, 2});
    }
};

}  // namespace

TEST_CASE("layers are named the Keras way, per model") {
    nn::Sequential model;
    model.add(nn::Flatten({4}));
    model.add(nn::Dense(3));
    model.add(nn::Activation("relu"));
    model.add(nn::Dense(3));
    model.add(nn::Activation("tanh"));
    model.add(nn::Dropout(0.5));
    model.add(nn::Dense(2));
    CHECK(layer_names(model) == std::vector<std::string>{"flatten", "dense", "activation",
                                                         "dense_1", "activation_1", "dropout",
                                                         "dense_2"});
    // A second model counts from zero again.
    nn::Sequential other;
    other.add(nn::Dense(1));
    CHECK(other.layers()[0]->name() == "dense");
}

TEST_CASE("a user-set name is kept and skipped by the numbering") {
    nn::Sequential model("classifier");
    CHECK(model.name() == "classifier");
    nn::Dense hidden(8);
    hidden.set_name("dense");
    model.add(hidden);
    model.add(nn::Dense(4));
    nn::Dense out(2, "softmax");
    out.set_name("output");
    model.add(out);
    CHECK(layer_names(model) == std::vector<std::string>{"dense", "dense_1", "output"});

    nn::Dense dup(2);
    dup.set_name("output");
    CHECK_THROWS_WITH_AS(model.add(dup),
                         "classifier: a layer named 'output' already exists; layer names must "
                         "be unique",
                         std::invalid_argument);
    CHECK(model.layers().size() == 3);
    auto shared = std::make_shared<nn::Dense>(2);
    model.add(shared);
    CHECK_THROWS_WITH_AS(model.add(shared),
                         "classifier: layer 'dense_2' is already in this model; add a new layer "
                         "instead",
                         std::invalid_argument);
    CHECK_THROWS_AS(model.add(std::shared_ptr<nn::Module>()), std::invalid_argument);
}

TEST_CASE("the seed model: shapes inferred, 79,510 parameters, named parameters") {
    nn::Sequential model = seed_model();
    CHECK(model.built());
    CHECK(*model.input_shape() == Shape{28, 28});
    CHECK(model.layer_output_shapes() == std::vector<Shape>{{784}, {100}, {10}});
    CHECK(model.output_shape({28, 28}) == Shape{10});
    CHECK(model.count_params() == 79510);
    CHECK(model.count_trainable_params() == 79510);
    CHECK(model.trainable_parameters().size() == 4);
    std::vector<std::string> names;
    std::vector<Shape> shapes;
    for (const auto& [n, v] : model.named_parameters()) {
        names.push_back(n);
        shapes.push_back(v.shape());
    }
    CHECK(names ==
          std::vector<std::string>{"dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias"});
    CHECK(shapes == std::vector<Shape>{{784, 100}, {100}, {100, 10}, {10}});
}

TEST_CASE("forward: the model's output is the layers applied in turn") {
    manual_seed(1);
    nn::Sequential model = seed_model();
    Tensor x = xt::linspace<float>(-1.f, 1.f, 2 * 28 * 28);
    x.reshape({2, 28, 28});
    const Variable y = model(Variable(x));
    CHECK(y.shape() == Shape{2, 10});
    const auto& layers = model.layers();
    const Variable expected = (*layers[2])((*layers[1])((*layers[0])(Variable(x))));
    CHECK(y.value() == expected.value());
    // Softmax rows sum to one.
    XGRAD_CHECK_TENSOR_CLOSE(sum(y, {1}).value(), Tensor({1.f, 1.f}));
}

TEST_CASE("input of the wrong shape names the model and both shapes") {
    nn::Sequential model = seed_model();
    CHECK_THROWS_WITH_AS(model(Variable(Tensor::from_shape({32, 784}))),
                         "sequential: expected input shape (None, 28, 28), got (32, 784)",
                         ShapeError);
    CHECK_THROWS_WITH_AS(model.build({14, 14}),
                         "sequential: expected input shape (None, 28, 28), got (None, 14, 14)",
                         ShapeError);
    // A layer called alone checks too.
    CHECK_THROWS_WITH_AS((*model.layers()[1])(Variable(Tensor::from_shape({32, 100}))),
                         "dense: expected input shape (None, 784), got (32, 100)", ShapeError);
}

TEST_CASE("without an input shape the model is built on its first call") {
    nn::Sequential model;
    model.add(nn::Dense(4, "relu"));
    model.add(nn::Dense(2));
    CHECK_FALSE(model.built());
    CHECK_FALSE(model.input_shape());
    CHECK(model.parameters().empty());
    const Variable y = model(Variable(Tensor::from_shape({5, 3})));
    CHECK(y.shape() == Shape{5, 2});
    CHECK(model.built());
    CHECK(*model.input_shape() == Shape{3});
    CHECK(model.count_params() == (3 * 4 + 4) + (4 * 2 + 2));
}

TEST_CASE("build(input_shape) builds explicitly; layers added later are built on add") {
    nn::Sequential model;
    model.add(nn::Flatten());
    model.build({2, 3});
    CHECK(model.layer_output_shapes() == std::vector<Shape>{{6}});
    model.add(nn::Dense(5));
    CHECK(model.layers()[1]->built());
    CHECK(model.count_params() == 35);
    CHECK(model.layer_output_shapes() == std::vector<Shape>{{6}, {5}});
    model.build({2, 3});  // idempotent
    CHECK(model.count_params() == 35);
}

TEST_CASE("a layer that cannot take the previous output is not added") {
    nn::Sequential model;
    model.add(nn::Dense(8, "linear", true));
    model.build({4});
    model.add(Pairs());
    CHECK(model.layer_output_shapes().back() == Shape{4, 2});
    CHECK_THROWS_AS(model.add(nn::Conv2D(2, {1, 1})), ShapeError);  // needs (rows, cols, channels)
    CHECK(model.layers().size() == 2);
    model.add(nn::Flatten());
    model.add(nn::Dense(3));
    CHECK(model.layer_output_shapes().back() == Shape{3});
}

TEST_CASE("a custom module works inside a Sequential") {
    manual_seed(3);
    nn::Sequential model;
    model.add(nn::Flatten({2, 2}));
    model.add(Affine());
    model.add(nn::Dense(3));
    // (None, 3) cannot be paired up: the layer is not added.
    CHECK_THROWS_AS(model.add(Pairs()), std::invalid_argument);
    CHECK(layer_names(model) == std::vector<std::string>{"flatten", "affine", "dense"});
    CHECK(model.count_params() == 4 + 4 + (4 * 3 + 3));
    CHECK(model.count_trainable_params() == 4 + (4 * 3 + 3));
    std::vector<std::string> names;
    for (const auto& [n, v] : model.named_parameters()) names.push_back(n);
    CHECK(names ==
          std::vector<std::string>{"affine/gain", "affine/offset", "dense/kernel", "dense/bias"});
    CHECK(model.summary().find(" affine (Affine)             (None, 4)                 8\n") !=
          std::string::npos);

    // Forward equals the hand-written composition, and gradients reach the custom layer.
    Tensor x{1.f, 2.f, 3.f, 4.f, -1.f, -2.f, -3.f, -4.f};
    x.reshape({2, 2, 2});
    const Variable y = model(Variable(x));
    auto affine = std::static_pointer_cast<Affine>(model.layers()[1]);
    auto dense = std::static_pointer_cast<nn::Dense>(model.layers()[2]);
    Tensor flat = x;
    flat.reshape({2, 4});
    const Variable expected = linear(Variable(flat) * affine->gain.detach() + 1.f,
                                     dense->kernel().detach(), dense->bias().detach());
    XGRAD_CHECK_TENSOR_CLOSE(y.value(), expected.value());
    sum(y).backward();
    CHECK(affine->gain.has_grad());
    CHECK(affine->gain.grad().shape() == affine->gain.value().shape());
}

TEST_CASE("a custom layer that changes the shape gets its output shape by tracing") {
    nn::Sequential model;
    model.add(nn::Flatten({6}));
    model.add(Pairs());
    model.add(nn::Flatten());
    model.add(nn::Dense(2));
    CHECK(model.layer_output_shapes() == std::vector<Shape>{{6}, {3, 2}, {6}, {2}});
    CHECK(model(Variable(Tensor::from_shape({4, 6}))).shape() == Shape{4, 2});
}

TEST_CASE("nested Sequential models prefix their parameters with their name") {
    nn::Sequential block("block");
    block.add(nn::Dense(4, "relu"));
    nn::Sequential model;
    model.add(nn::Flatten({3}));
    model.add(block);
    model.add(nn::Dense(2));
    std::vector<std::string> names;
    for (const auto& [n, v] : model.named_parameters()) names.push_back(n);
    CHECK(names == std::vector<std::string>{"block/dense/kernel", "block/dense/bias",
                                            "dense/kernel", "dense/bias"});
    CHECK(model.count_params() == 16 + 10);
    CHECK(model(Variable(Tensor::from_shape({1, 3}))).shape() == Shape{1, 2});
}

TEST_CASE("train/eval reach every layer; layers added later follow the model's mode") {
    nn::Sequential model = seed_model();
    model.eval();
    for (const auto& l : model.layers()) CHECK_FALSE(l->is_training());
    model.add(nn::Dropout(0.5));
    CHECK_FALSE(model.layers().back()->is_training());
    model.train();
    for (const auto& l : model.layers()) CHECK(l->is_training());
}

TEST_CASE("zero_grad and load_state_dict over the whole model") {
    nn::Sequential model = seed_model();
    const Variable y = model(Variable(Tensor::from_shape({3, 28, 28})));
    sum(y * y).backward();
    for (const auto& p : model.parameters()) CHECK(p.has_grad());
    model.zero_grad();
    for (const auto& p : model.parameters()) CHECK_FALSE(p.has_grad());

    nn::Sequential other = seed_model();
    other.load_state_dict(model.state_dict());
    for (const auto& [name, t] : model.state_dict()) CHECK(other.state_dict().at(name) == t);
}
