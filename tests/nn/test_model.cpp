#include <doctest/doctest.h>

#include <cstring>

#include <xtensor/xbuilder.hpp>

#include "framework/errors.h"
#include "framework/testing.h"
#include "nn_test_util.h"
#include "ops/activation.h"
#include "ops/linalg.h"
#include "ops/reduce.h"
#include "xgrad.h"

using namespace xgrad;
using nn_test::tmp_path;

namespace {

bool bit_equal(const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

Tensor ramp(Shape shape, float from, float to) {
    std::size_t n = 1;
    for (auto d : shape) n *= d;
    Tensor t = xt::linspace<float>(from, to, n);
    t.reshape(shape);
    return t;
}

std::shared_ptr<nn::Dense> dense(std::size_t units, const std::string& activation,
                                 const std::string& name) {
    auto d = std::make_shared<nn::Dense>(units, activation);
    d->set_name(name);
    return d;
}

// Two inputs, a layer shared by both, a merge, two outputs.
struct TwoByTwo {
    std::shared_ptr<nn::Dense> shared = dense(4, "tanh", "shared");
    std::shared_ptr<nn::Dense> head_a = dense(3, "linear", "head_a");
    std::shared_ptr<nn::Dense> head_b = dense(2, "relu", "head_b");
    std::shared_ptr<nn::Model> model;

    TwoByTwo() {
        manual_seed(11);
        auto a = nn::Input({5}, "a");
        auto b = nn::Input({5}, "b");
        auto ha = (*shared)(a);
        auto hb = (*shared)(b);
        auto sum = nn::Add()({ha, hb});
        auto both = nn::Concatenate()({ha, sum});
        model = std::make_shared<nn::Model>(
            std::vector{a, b}, std::vector<nn::SymbolicTensor>{(*head_a)(sum), (*head_b)(both)},
            "two");
    }
};

}  // namespace

TEST_CASE("functional model: several inputs and outputs, a shared layer counted once") {
    TwoByTwo t;
    nn::Model& m = *t.model;
    CHECK(m.input_names() == std::vector<std::string>{"a", "b"});
    CHECK(m.output_names() == std::vector<std::string>{"head_a", "head_b"});
    // shared 5*4+4, head_a 4*3+3, head_b 8*2+2: the shared layer once.
    CHECK(m.count_params() == 24 + 15 + 18);
    CHECK(m.named_parameters().size() == 6);
    std::vector<Variable> y = m({Variable(ramp({2, 5}, -1, 1)), Variable(ramp({2, 5}, 2, 0))});
    REQUIRE(y.size() == 2);
    CHECK(y[0].shape() == Shape{2, 3});
    CHECK(y[1].shape() == Shape{2, 2});
}

TEST_CASE("functional model: gradients equal the same computation written with ops") {
    TwoByTwo t;
    nn::Model& m = *t.model;
    const Variable xa(ramp({3, 5}, -1, 1)), xb(ramp({3, 5}, 1.5f, -0.5f));
    const Tensor ca = ramp({3, 3}, -2, 1), cb = ramp({3, 2}, 0.5f, -1);
    auto loss_of = [&](const Variable& ya, const Variable& yb) {
        return sum(ya * Variable(ca)) + sum(yb * Variable(cb));
    };
    std::vector<Variable> y = m({xa, xb});
    loss_of(y[0], y[1]).backward();
    std::map<std::string, Tensor> functional;
    for (const auto& [name, v] : m.named_parameters()) functional[name] = v.grad();

    // The same with ops, the shared kernel as two separate leaves: its gradient in the model
    // must be the sum of the two uses' gradients.
    auto leaf = [](const Variable& v) { return Variable(v.value(), true); };
    const Variable k1 = leaf(t.shared->kernel()), k2 = leaf(t.shared->kernel());
    const Variable b1 = leaf(t.shared->bias()), b2 = leaf(t.shared->bias());
    const Variable ka = leaf(t.head_a->kernel()), ba = leaf(t.head_a->bias());
    const Variable kb = leaf(t.head_b->kernel()), bb = leaf(t.head_b->bias());
    const Variable ha = tanh(linear(xa, k1, b1)), hb = tanh(linear(xb, k2, b2));
    const Variable s = ha + hb;
    loss_of(linear(s, ka, ba), relu(linear(concat({ha, s}, 1), kb, bb))).backward();
    XGRAD_CHECK_TENSOR_CLOSE(functional.at("shared/kernel"), Tensor(k1.grad() + k2.grad()));
    XGRAD_CHECK_TENSOR_CLOSE(functional.at("shared/bias"), Tensor(b1.grad() + b2.grad()));
    CHECK(bit_equal(functional.at("head_a/kernel"), ka.grad()));
    CHECK(bit_equal(functional.at("head_a/bias"), ba.grad()));
    CHECK(bit_equal(functional.at("head_b/kernel"), kb.grad()));
    CHECK(bit_equal(functional.at("head_b/bias"), bb.grad()));
    // Both uses contribute: neither alone is the gradient.
    CHECK_FALSE(bit_equal(functional.at("shared/kernel"), k1.grad()));
    CHECK_FALSE(bit_equal(functional.at("shared/kernel"), k2.grad()));
}

TEST_CASE("functional model: a Model is a layer inside a Model and inside a Sequential") {
    manual_seed(4);
    auto x = nn::Input({6});
    auto inner_in = nn::Input({6}, "inner_in");
    auto inner = std::make_shared<nn::Model>(std::vector{inner_in},
                                             std::vector{nn::Dense(3, "relu")(inner_in)}, "inner");
    auto outer_out = nn::Dense(2)((*inner)(x));
    nn::Model outer({x}, {outer_out}, "outer");
    CHECK(outer.count_params() == 21 + 8);
    const Tensor batch = ramp({4, 6}, -1, 1);
    const Tensor hidden = (*inner)(Variable(batch)).value();
    CHECK(hidden.shape() == Shape{4, 3});
    CHECK(outer(Variable(batch)).shape() == Shape{4, 2});

    nn::Sequential seq("seq");
    seq.add(inner);
    seq.add(nn::Dense(1));
    REQUIRE(seq.built());
    CHECK(seq.layer_output_shapes().front() == Shape{3});
    CHECK(seq(Variable(batch)).shape() == Shape{4, 1});
    CHECK(seq.count_params() == 21 + 4);
}

TEST_CASE("functional model: bad graphs are errors when the model is made") {
    auto x = nn::Input({4}, "x");
    auto other = nn::Input({4}, "other");
    auto y = nn::Dense(2)(x);
    // An output that depends on a tensor from outside the inputs.
    auto mixed = nn::Add()({y, nn::Dense(2)(other)});
    CHECK_THROWS_WITH_AS(nn::Model({x}, {mixed}, "m"),
                         "model 'm': output 'add' depends on input 'other', which is not among "
                         "the model's inputs (x)",
                         std::invalid_argument);
    // An input that feeds no output.
    CHECK_THROWS_WITH_AS(nn::Model({x, other}, {y}, "m"),
                         "model 'm': input 'other' feeds none of the outputs",
                         std::invalid_argument);
    // Two layers of one name.
    auto d1 = dense(3, "relu", "twin");
    auto d2 = dense(3, "relu", "twin");
    CHECK_THROWS_WITH_AS(nn::Model({x}, {(*d2)((*d1)(x))}, "m"),
                         "m: a layer named 'twin' already exists; layer names must be unique",
                         std::invalid_argument);
    // A layer called on a tensor of the wrong shape (built for (None, 4) by its first call).
    auto d3 = dense(3, "relu", "d3");
    (*d3)(x);
    CHECK_THROWS_WITH_AS((*d3)(nn::Input({5})),
                         "d3: already built for input shape (None, 4), got (None, 5)", ShapeError);
    CHECK_THROWS_AS(nn::Conv2D(2, {3, 3})(x), ShapeError);
    CHECK_THROWS_WITH_AS(nn::Add()({x, nn::Input({5})}),
                         "add: inputs must have one shape, got (None, 4), (None, 5)", ShapeError);
    // A stack layer cannot be kept by the graph.
    nn::Dense on_stack(2);
    CHECK_THROWS_WITH_AS(on_stack(x),
                         "dense (Dense): a layer called on symbolic tensors must be held by a "
                         "std::shared_ptr (std::make_shared), or be a temporary of a registered "
                         "type, e.g. nn::Dense(10)(x)",
                         std::invalid_argument);
    // Calling the model with the wrong inputs.
    nn::Model ok({x}, {y}, "ok");
    CHECK_THROWS_WITH_AS(ok(Variable(ramp({2, 5}, 0, 1))),
                         "ok: expected input shape (None, 4), got (2, 5)", ShapeError);
}

TEST_CASE("functional model: merge layers compute their Keras functions") {
    auto a = nn::Input({2}), b = nn::Input({2});
    const Tensor va = {{1.f, -2.f}}, vb = {{3.f, 5.f}};
    auto run = [&](nn::Module&& merge) {
        auto out = std::move(merge)({a, b});
        nn::Model m({a, b}, out, "m");
        return m({Variable(va), Variable(vb)})[0].value();
    };
    CHECK(run(nn::Add()) == Tensor{{4.f, 3.f}});
    CHECK(run(nn::Subtract()) == Tensor{{-2.f, -7.f}});
    CHECK(run(nn::Multiply()) == Tensor{{3.f, -10.f}});
    CHECK(run(nn::Average()) == Tensor{{2.f, 1.5f}});
    CHECK(run(nn::Maximum()) == Tensor{{3.f, 5.f}});
    CHECK(run(nn::Concatenate()) == Tensor{{1.f, -2.f, 3.f, 5.f}});
    CHECK_THROWS_WITH_AS(nn::Subtract()({a, b, a}),
                         "subtract (Subtract) needs exactly 2 inputs, got 3",
                         std::invalid_argument);
}

TEST_CASE("functional model: saved and loaded bit for bit with its wiring") {
    manual_seed(9);
    TwoByTwo t;
    nn::Model& m = *t.model;
    // A nested model too.
    auto x = nn::Input({5}, "x");
    auto inner = std::make_shared<nn::Model>(std::vector{x}, std::vector{nn::Dense(3)(x)}, "inner");
    auto a = nn::Input({5}, "a2"), b = nn::Input({5}, "b2");
    auto outs = m({a, b});
    nn::Model outer({a, b}, {outs[0], nn::Multiply()({outs[0], (*inner)(b)}), outs[1]}, "outer");

    const std::string path = tmp_path("functional.safetensors");
    nn::save_model(outer, path);
    std::shared_ptr<nn::Module> loaded = nn::load_any_model(path);
    auto rebuilt = std::dynamic_pointer_cast<nn::Model>(loaded);
    REQUIRE(rebuilt);
    CHECK(nn::model_architecture(*rebuilt) == nn::model_architecture(outer));
    CHECK(rebuilt->summary() == outer.summary());
    CHECK(rebuilt->output_names() == outer.output_names());
    const auto state = outer.state_dict();
    CHECK(rebuilt->state_dict().size() == state.size());
    for (const auto& [name, tensor] : state)
        CHECK(bit_equal(rebuilt->state_dict().at(name), tensor));
    const std::vector<Variable> in = {Variable(ramp({3, 5}, -1, 1)), Variable(ramp({3, 5}, 2, -2))};
    const auto y1 = outer(in), y2 = (*rebuilt)(in);
    REQUIRE(y1.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) CHECK(bit_equal(y1[i].value(), y2[i].value()));
}

TEST_CASE("functional model: a file whose layers need far more weights than it holds") {
    // The layers build while the graph is rebuilt, before the weights are compared with the
    // file's tensors: the bound must stop them before they allocate.
    manual_seed(9);
    auto x = nn::Input({4}, "x");
    nn::Model model({x}, {(*dense(3, "linear", "head"))(x)}, "small");
    const std::string good = tmp_path("functional_units.safetensors");
    nn::save_model(model, good);
    auto [tensors, metadata] = nn::read_safetensors(good);
    std::string& architecture = metadata.at("architecture");
    const auto at = architecture.find("\"units\":3");
    REQUIRE(at != std::string::npos);
    architecture.replace(at, 9, "\"units\":2000000");  // 10,000,000 weights: 40 MB
    const std::string bad = tmp_path("functional_huge.safetensors");
    nn::write_safetensors(bad, tensors, metadata);
    CHECK_THROWS_WITH_AS(nn::load_any_model(bad),
                         ("cannot load '" + bad +
                          "': the architecture is invalid: layer 'head' needs 10000000 weights "
                          "for input shape (None, 4), more than the file holds with the layers "
                          "before it (15 in all)")
                             .c_str(),
                         std::runtime_error);
}

TEST_CASE("functional model: the seed MLP trains exactly as the Sequential one") {
    // 256 synthetic 28x28 images in 10 classes; one epoch of Adam at batch 32, same seed.
    Tensor images = ramp({256, 28, 28}, -1, 1);
    images = xt::sin(images * 37.f);
    IndexTensor labels = IndexTensor::from_shape({256});
    for (std::size_t i = 0; i < 256; ++i) labels(i) = (i * 7) % 10;
    auto data = std::make_shared<data::TensorDataset>(images, labels, 10);
    auto train = [&](nn::Module& model) {
        nn::Trainer trainer(model, optim::make_optimizer("adam", model.trainable_parameters()),
                            "sparse_categorical_crossentropy", {"accuracy"});
        nn::FitOptions fit;
        fit.epochs = 1;
        fit.batch_size = 32;
        fit.seed = 5;
        fit.verbose = 0;
        trainer.fit(data, fit);
        return model.state_dict();
    };
    manual_seed(42);
    nn::Sequential seq;
    seq.add(nn::Flatten({28, 28}));
    seq.add(nn::Dense(100, "relu"));
    seq.add(nn::Dense(10, "softmax"));
    const auto seq_weights = train(seq);

    manual_seed(42);
    auto x = nn::Input({28, 28});
    auto y = nn::Dense(10, "softmax")(nn::Dense(100, "relu")(nn::Flatten()(x)));
    nn::Model functional({x}, {y}, "mlp");
    const auto fn_weights = train(functional);
    REQUIRE(fn_weights.size() == seq_weights.size());
    for (const auto& entry : seq_weights) {  // no structured binding: clang cannot CAPTURE one
        const std::string& name = entry.first;
        CAPTURE(name);
        CHECK(bit_equal(fn_weights.at(name), entry.second));
    }
}

TEST_CASE("functional model: summary in Keras 2's layouts") {
    auto x = nn::Input({28, 28});
    auto y = nn::Dense(10, "softmax")(nn::Dense(100, "relu")(nn::Flatten()(x)));
    nn::Model chain({x}, {y}, "mlp");
    CHECK(chain.summary() ==
          "Model: \"mlp\"\n"
          "_________________________________________________________________\n"
          " Layer (type)                Output Shape              Param #\n"
          "=================================================================\n"
          " input_1 (InputLayer)        [(None, 28, 28)]          0\n"
          "\n"
          " flatten (Flatten)           (None, 784)               0\n"
          "\n"
          " dense (Dense)               (None, 100)               78500\n"
          "\n"
          " dense_1 (Dense)             (None, 10)                1010\n"
          "\n"
          "=================================================================\n"
          "Total params: 79,510\n"
          "Trainable params: 79,510\n"
          "Non-trainable params: 0\n"
          "_________________________________________________________________\n");
    auto a = nn::Input({4}, "a");
    auto b = nn::Input({4}, "b");
    auto both = nn::Concatenate()({a, b});
    nn::Model graph({a, b}, {nn::Dense(2)(both)}, "graph");
    const std::string line(98, '_'), thick(98, '=');
    CHECK(graph.summary() ==
          "Model: \"graph\"\n" + line + "\n" +
              " Layer (type)                   Output Shape         Param #     Connected to\n" +
              thick + "\n" +
              " a (InputLayer)                 [(None, 4)]          0           []\n\n"
              " b (InputLayer)                 [(None, 4)]          0           []\n\n"
              " concatenate (Concatenate)      (None, 8)            0           ['a[0][0]',\n"
              "                                                                  'b[0][0]']\n\n"
              " dense (Dense)                  (None, 2)            18          "
              "['concatenate[0][0]']\n\n" +
              thick + "\nTotal params: 18\nTrainable params: 18\nNon-trainable params: 0\n" + line +
              "\n");
}
