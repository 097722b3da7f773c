#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>

#include "framework/errors.h"
#include "framework/testing.h"
#include "nn_test_util.h"
#include "xgrad.h"

#include <xtensor/xbuilder.hpp>
#include <xtensor/xview.hpp>

using namespace xgrad;

namespace {

Tensor ramp(const Shape& shape) {
    Tensor t = xt::sin(xt::arange<float>(static_cast<float>(shape_size(shape))));
    t.reshape(shape);
    return t;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("recurrent layers: Keras parameter counts, names, shapes and summary rows") {
    manual_seed(3);
    nn::Sequential model;
    model.add(nn::SimpleRNN(8, true));
    model.add(nn::GRU(6, true));
    model.add(nn::LSTM(4));
    model.build({5, 3});
    CHECK(model.layers()[0]->count_params() == 8 * (3 + 8 + 1));
    CHECK(model.layers()[1]->count_params() == 3 * 6 * (8 + 6 + 2));
    CHECK(model.layers()[2]->count_params() == 4 * 4 * (6 + 4 + 1));
    const std::string s = model.summary();
    INFO(s);
    CHECK(contains(s, " simple_rnn (SimpleRNN)      (None, 5, 8)              96\n"));
    CHECK(contains(s, " gru (GRU)                   (None, 5, 6)              288\n"));
    CHECK(contains(s, " lstm (LSTM)                 (None, 4)                 176\n"));
    std::vector<std::string> names;
    for (const auto& [name, v] : model.named_parameters()) names.push_back(name);
    CHECK(names == std::vector<std::string>{"simple_rnn/kernel", "simple_rnn/recurrent_kernel",
                                            "simple_rnn/bias", "gru/kernel", "gru/recurrent_kernel",
                                            "gru/bias", "lstm/kernel", "lstm/recurrent_kernel",
                                            "lstm/bias"});
    CHECK(model.named_parameters()[5].second.shape() == Shape{2, 18});
    CHECK(model(Variable(ramp({2, 5, 3}))).shape() == Shape{2, 4});
}

TEST_CASE("recurrent layers: Keras 2 initial weights") {
    manual_seed(4);
    nn::LSTM lstm(5);
    lstm.build({7, 3});
    const auto params = lstm.named_parameters();
    const Tensor& r = params[1].second.value();
    REQUIRE(r.shape() == Tensor::shape_type{5, 20});
    // orthogonal: the 5 rows of (5, 20) are orthonormal.
    const Tensor rrt = matmul(Variable(r), transpose(Variable(r))).value();
    XGRAD_CHECK_TENSOR_CLOSE(rrt, Tensor(xt::eye<float>(5)), 1e-5, 1e-5);
    // unit_forget_bias: ones for the forget gate, zeros elsewhere.
    Tensor bias = xt::zeros<float>({20});
    xt::view(bias, xt::range(5, 10)) = 1.f;
    CHECK(params[2].second.value() == bias);
    // glorot_uniform kernel (3, 20): limit sqrt(6 / 23).
    CHECK(xt::amax(xt::abs(params[0].second.value()))() <= std::sqrt(6.f / 23.f));
    nn::GRU gru(4);
    gru.build({2, 3});
    CHECK(gru.named_parameters()[2].second.value() == Tensor(xt::zeros<float>({2, 12})));
}

TEST_CASE("recurrent layers: return_sequences, return_state, initial state, any length") {
    manual_seed(5);
    const Variable x(ramp({2, 4, 3}));
    nn::LSTM seq(3, true, true);
    const std::vector<Variable> out = seq(std::vector<Variable>{x});
    REQUIRE(out.size() == 3);
    CHECK(out[0].shape() == Shape{2, 4, 3});
    // The state h is the last step of the sequence.
    XGRAD_CHECK_TENSOR_CLOSE(out[1].value(), Tensor(xt::view(out[0].value(), xt::all(), 3)));
    CHECK(out[2].shape() == Shape{2, 3});
    CHECK(seq.output_shapes({{4, 3}}) == std::vector<Shape>{{4, 3}, {3}, {3}});
    CHECK_THROWS_AS(seq(x), std::logic_error);
    // Running the first 3 steps, then the last one from their states, is the same as running 4.
    const auto first = seq.run(Variable(Tensor(xt::view(x.value(), xt::all(), xt::range(0, 3)))));
    const auto last = seq.run(Variable(Tensor(xt::view(x.value(), xt::all(), xt::range(3, 4)))),
                              {first[1], first[2]});
    XGRAD_CHECK_TENSOR_CLOSE(last[1].value(), out[1].value());
    XGRAD_CHECK_TENSOR_CLOSE(last[2].value(), out[2].value());
    nn::GRU gru(3, false, true);
    const auto g = gru(std::vector<Variable>{x});
    REQUIRE(g.size() == 2);
    XGRAD_CHECK_TENSOR_CLOSE(g[0].value(), g[1].value());
    nn::SimpleRNN rnn(3, true);
    const auto a = rnn.run(Variable(Tensor(xt::view(x.value(), xt::all(), xt::range(0, 2)))));
    const auto b =
        rnn.run(Variable(Tensor(xt::view(x.value(), xt::all(), xt::range(2, 4)))), {a[1]});
    XGRAD_CHECK_TENSOR_CLOSE(b[1].value(), Tensor(xt::view(rnn(x).value(), xt::all(), 3)));
}

TEST_CASE("recurrent layers: gradients reach every weight; bad shapes name the layer") {
    manual_seed(6);
    nn::LSTM lstm(3, true);
    sum(lstm(Variable(ramp({2, 4, 3})))).backward();
    for (const auto& entry : lstm.named_parameters()) {  // clang cannot INFO a structured binding
        const std::string& name = entry.first;
        INFO(name);
        CHECK(xt::amax(xt::abs(entry.second.grad()))() > 0.f);
    }
    CHECK_THROWS_WITH_AS(lstm(Variable(ramp({2, 4, 5}))),
                         "lstm: built for 3 features per step, got input of shape (None, 4, 5)",
                         ShapeError);
    CHECK_THROWS_WITH_AS(
        nn::GRU(2)(Variable(ramp({2, 3}))),
        "gru: expected input of shape (None, time, features) with at least one step "
        "and one feature, got (None, 3)",
        ShapeError);
    CHECK_THROWS_WITH_AS(lstm.run(Variable(ramp({2, 4, 3})), {Variable(ramp({2, 3}))}),
                         "lstm: expected 2 initial state tensors, got 1", std::invalid_argument);
    CHECK_THROWS_WITH_AS(nn::SimpleRNN(0), "SimpleRNN: units must be positive, got 0",
                         std::invalid_argument);
}

TEST_CASE("model files: Embedding and the recurrent layers round-trip, with extra metadata") {
    manual_seed(7);
    nn::Sequential model("text_model");
    model.add(nn::Embedding(11, 4));
    model.add(nn::SimpleRNN(5, true));
    model.add(nn::GRU(3, true));
    model.add(nn::LSTM(6));
    model.add(nn::Dense(2));
    model.build({9});
    for (const auto& layer : model.layers()) {
        CAPTURE(layer->name());
        CHECK(layer->weight_count(*layer->built_input_shape()) == layer->count_params());
    }
    const std::string path = nn_test::tmp_path("text_model.safetensors");
    nn::save_model(model, path, {{"vocabulary", "97,98"}});
    nn::Metadata metadata;
    nn::Sequential loaded = nn::load_model(path, &metadata);
    CHECK(metadata.at("vocabulary") == "97,98");
    CHECK(loaded.summary() == model.summary());
    Tensor ids = {{1.f, 5.f, 10.f, 0.f, 3.f, 3.f, 7.f, 2.f, 9.f}};
    XGRAD_CHECK_TENSOR_CLOSE(loaded(Variable(ids)).value(), model(Variable(ids)).value());
    const auto& lstm = dynamic_cast<const nn::LSTM&>(*loaded.layers()[3]);
    CHECK(lstm.units() == 6);
    CHECK_FALSE(lstm.return_sequences());
    CHECK_THROWS_WITH_AS(nn::save_model(model, path, {{"architecture", "x"}}),
                         "save_model: the metadata key 'architecture' is the file format's own",
                         std::invalid_argument);
}
