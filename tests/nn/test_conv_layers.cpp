#include <doctest/doctest.h>

#include <cstring>

#include <xtensor/xbuilder.hpp>
#include <xtensor/xmath.hpp>

#include "framework/errors.h"
#include "framework/testing.h"
#include "nn_test_util.h"
#include "xgrad.h"

using namespace xgrad;

namespace {

// The Keras CNN of issue 9 (34,826 parameters in Keras).
nn::Sequential keras_cnn(bool batch_norm = false) {
    nn::Sequential model;
    model.add(nn::Reshape({28, 28, 1}, {28, 28}));
    model.add(nn::Conv2D(32, {3, 3}, "relu"));
    if (batch_norm) model.add(nn::BatchNormalization());
    model.add(nn::MaxPooling2D());
    model.add(nn::Conv2D(64, {3, 3}, "relu"));
    model.add(nn::MaxPooling2D());
    model.add(nn::Flatten());
    model.add(nn::Dropout(0.5));
    model.add(nn::Dense(10, "softmax"));
    return model;
}

Tensor images(std::size_t n) {
    Tensor x = xt::linspace<float>(-1.f, 2.f, n * 28 * 28);
    x.reshape({n, 28, 28});
    return x;
}

bool bit_equal(const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

}  // namespace

TEST_CASE("the Keras CNN: output shapes and parameter counts per layer match Keras") {
    nn::Sequential model = keras_cnn();
    const std::vector<Shape> shapes = {{28, 28, 1}, {26, 26, 32}, {13, 13, 32}, {11, 11, 64},
                                       {5, 5, 64},  {1600},       {1600},       {10}};
    const std::vector<std::size_t> params = {0, 320, 0, 18496, 0, 0, 0, 16010};
    REQUIRE(model.layers().size() == shapes.size());
    for (std::size_t i = 0; i < shapes.size(); ++i) {
        CAPTURE(i);
        CHECK(model.layer_output_shapes()[i] == shapes[i]);
        CHECK(model.layers()[i]->count_params() == params[i]);
    }
    CHECK(model.count_params() == 34826);
    CHECK(model.count_trainable_params() == 34826);
    CHECK(model(Variable(images(2))).shape() == Shape{2, 10});
}

TEST_CASE("summary rows use Keras' layer names (conv2d, max_pooling2d), shapes and counts") {
    nn::Sequential model = keras_cnn(true);
    model.add(nn::Reshape({5, 2}));
    const std::string s = model.summary();
    // Keras' columns: the name from column 1 (28 wide), the shape (26 wide), the count.
    auto row = [](std::string name, std::string shape, const std::string& params) {
        name.resize(28, ' ');
        shape.resize(26, ' ');
        return " " + name + shape + params + "\n";
    };
    CHECK(s.find(row("reshape (Reshape)", "(None, 28, 28, 1)", "0")) != std::string::npos);
    CHECK(s.find(row("conv2d (Conv2D)", "(None, 26, 26, 32)", "320")) != std::string::npos);
    CHECK(s.find(row("conv2d_1 (Conv2D)", "(None, 11, 11, 64)", "18496")) != std::string::npos);
    CHECK(s.find(row("reshape_1 (Reshape)", "(None, 5, 2)", "0")) != std::string::npos);
    // Names longer than the column wrap, as in Keras.
    CHECK(s.find(" batch_normalization (Batch  (None, 26, 26, 32)        128\n Normalization)\n") !=
          std::string::npos);
    CHECK(s.find(" max_pooling2d (MaxPooling2  (None, 13, 13, 32)        0\n D)\n") !=
          std::string::npos);
    CHECK(s.find(" max_pooling2d_1 (MaxPoolin  (None, 5, 5, 64)          0\n g2D)\n") !=
          std::string::npos);
    // BatchNormalization: 4 * 32 = 128 parameters, of which the moving mean and variance
    // (64) are non-trainable.
    CHECK(s.find("Total params: 34,954") != std::string::npos);
    CHECK(s.find("Trainable params: 34,890") != std::string::npos);
    CHECK(s.find("Non-trainable params: 64") != std::string::npos);
}

TEST_CASE("Conv2D: strides, 'same' padding and dilation set the output shape") {
    nn::Conv2D same(8, {3, 3}, {2, 2}, "same");
    same.build({28, 28, 3});
    CHECK(same.output_shape({28, 28, 3}) == Shape{14, 14, 8});
    CHECK(same.kernel().shape() == Shape{3, 3, 3, 8});
    CHECK(same.count_params() == 3 * 3 * 3 * 8 + 8);
    nn::Conv2D dilated(4, {3, 3}, {1, 1}, "valid", "linear", false, "glorot_uniform", {2, 2});
    CHECK(dilated.output_shape({10, 10, 1}) == Shape{6, 6, 4});
    CHECK(dilated(Variable(Tensor(xt::ones<float>({2, 10, 10, 1})))).shape() == Shape{2, 6, 6, 4});
    CHECK(dilated.count_params() == 36);  // no bias
}

TEST_CASE("Conv2D and the pooling layers reject wrong input with errors naming the layer") {
    nn::Sequential model;
    model.add(nn::Flatten({28, 28}));
    CHECK_THROWS_WITH_AS(model.add(nn::Conv2D(32, {3, 3}, "relu")),
                         doctest::Contains("conv2d: expected input of shape (None, height, width, "
                                           "channels), got (None, 784)"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(model.add(nn::MaxPooling2D()), doctest::Contains("(None, 784)"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(
        nn::Reshape({27, 27, 1}).output_shape({28, 28}),
        doctest::Contains("cannot reshape input (None, 28, 28) to (None, 27, 27, 1)"), ShapeError);
    CHECK_THROWS_AS(nn::Conv2D(0, {3, 3}), std::invalid_argument);
    CHECK_THROWS_AS(nn::Conv2D(4, {3, 3}, {1, 1}, "full"), std::invalid_argument);
    CHECK_THROWS_AS(nn::Conv2D(4, {3, 3}, "relux"), std::invalid_argument);
    CHECK_THROWS_AS(nn::MaxPooling2D({0, 2}), std::invalid_argument);
    CHECK_THROWS_AS(nn::BatchNormalization(1.5), std::invalid_argument);
    CHECK_THROWS_AS(nn::BatchNormalization(0.99, 0.0), std::invalid_argument);
}

TEST_CASE("pooling layers: default strides are the pool size; values come from the ops") {
    nn::MaxPooling2D max_pool;
    CHECK(max_pool.strides() == Size2{2, 2});
    CHECK(nn::AveragePooling2D({3, 3}, {1, 1}, "same").output_shape({5, 5, 2}) == Shape{5, 5, 2});
    Tensor x = xt::reshape_view(Tensor{1, 2, 3, 4}, {1, 2, 2, 1});
    XGRAD_CHECK_TENSOR_CLOSE(max_pool(Variable(x)).value(),
                             Tensor(xt::reshape_view(Tensor{4}, {1, 1, 1, 1})));
    nn::AveragePooling2D avg;
    XGRAD_CHECK_TENSOR_CLOSE(avg(Variable(x)).value(),
                             Tensor(xt::reshape_view(Tensor{2.5f}, {1, 1, 1, 1})));
    nn::GlobalAveragePooling2D gap;
    Tensor y = xt::reshape_view(Tensor{1, 10, 3, 30}, {1, 1, 2, 2});
    XGRAD_CHECK_TENSOR_CLOSE(gap(Variable(y)).value(), Tensor({{2.f, 20.f}}));
    CHECK(gap.output_shape({4, 4, 7}) == Shape{7});
    CHECK(gap.count_params() == 0);
}

TEST_CASE("Sequential runs Conv2D + MaxPooling2D as one op: the layers' values and gradients") {
    for (const char* activation : {"relu", "linear", "tanh"}) {
        CAPTURE(activation);
        nn::Sequential model;
        model.add(nn::Reshape({28, 28, 1}, {28, 28}));
        model.add(nn::Conv2D(8, {3, 3}, activation));
        model.add(nn::MaxPooling2D());
        const Variable x(images(3));
        const Variable fused = model(x);
        const bool fusable = std::strcmp(activation, "tanh") != 0;
        CHECK(std::strcmp(fused.node()->op, fusable ? "conv2d_max_pool" : "max_pool2d") == 0);
        const auto& layers = model.layers();
        const Variable apart = (*layers[2])((*layers[1])((*layers[0])(x)));
        CHECK(std::strcmp(apart.node()->op, "max_pool2d") == 0);
        CHECK(bit_equal(fused.value(), apart.value()));
        std::vector<Tensor> grads;
        for (const Variable& y : {fused, apart}) {
            model.zero_grad();
            sum(y * y).backward();
            grads.push_back(model.parameters()[0].grad());
        }
        XGRAD_CHECK_TENSOR_CLOSE(grads[0], grads[1], 1e-6, 1e-7);
    }
}

TEST_CASE("BatchNormalization: batch statistics in training, running averages in eval") {
    nn::BatchNormalization bn;  // momentum 0.99, epsilon 1e-3
    Tensor x = {{1.f, 10.f}, {3.f, 10.f}};
    Variable y = bn(Variable(x));
    CHECK(bn.count_params() == 8);
    CHECK(bn.count_trainable_params() == 4);
    CHECK(bn.moving_mean().requires_grad() == false);
    // Training: normalised with the batch's mean (2, 10) and variance (1, 0).
    XGRAD_CHECK_TENSOR_CLOSE(
        y.value(), Tensor({{-1.f / std::sqrt(1.001f), 0.f}, {1.f / std::sqrt(1.001f), 0.f}}));
    // moving = 0.99 * moving + 0.01 * batch, from mean 0 and variance 1.
    XGRAD_CHECK_TENSOR_CLOSE(bn.moving_mean().value(), Tensor({0.02f, 0.1f}));
    XGRAD_CHECK_TENSOR_CLOSE(bn.moving_variance().value(), Tensor({1.f, 0.99f}));
    // Eval: the running averages, and they stay as they are.
    bn.eval();
    Variable z = bn(Variable(x));
    XGRAD_CHECK_TENSOR_CLOSE(
        z.value(),
        Tensor({{(1.f - 0.02f) / std::sqrt(1.001f), (10.f - 0.1f) / std::sqrt(0.991f)},
                {(3.f - 0.02f) / std::sqrt(1.001f), (10.f - 0.1f) / std::sqrt(0.991f)}}));
    XGRAD_CHECK_TENSOR_CLOSE(bn.moving_mean().value(), Tensor({0.02f, 0.1f}));
}

TEST_CASE("a CNN with BatchNormalization trains: gradients reach every trainable parameter") {
    nn::Sequential model = keras_cnn(true);
    const Variable out = model(Variable(images(3)));
    // A different weight per output: the sum of softmax rows alone is the constant 3, whose
    // gradient is zero everywhere (that version of this test could not fail).
    Tensor weights = Tensor::from_shape(out.value().shape());
    for (std::size_t k = 0; k < weights.size(); ++k) weights.flat(k) = 0.1f * float(k % 7) - 0.3f;
    Variable loss = sum(out * Variable(weights));
    loss.backward();
    for (const auto& named : model.named_parameters()) {
        const Variable& p = named.second;
        if (!p.requires_grad()) continue;
        INFO(named.first);
        REQUIRE(p.has_grad());
        CHECK(xt::amax(xt::abs(p.grad()))() > 0.f);
    }
}

TEST_CASE("save_model / load_model round-trip a CNN with BatchNormalization bit for bit") {
    manual_seed(3);
    nn::Sequential model = keras_cnn(true);
    model.add(nn::Reshape({5, 2}));
    model.add(nn::Flatten());
    model(Variable(images(4)));  // training step: moves the running averages off their start
    model.eval();
    const Tensor before = model(Variable(images(4))).value();
    const std::string path = nn_test::tmp_path("cnn_round_trip.safetensors");
    nn::save_model(model, path);
    nn::Sequential loaded = nn::load_model(path);
    loaded.eval();
    CHECK(loaded.summary() == model.summary());
    CHECK(nn::model_architecture(loaded) == nn::model_architecture(model));
    const auto a = model.state_dict(), b = loaded.state_dict();
    REQUIRE(a.size() == b.size());
    for (const auto& item : a) {
        const auto& name = item.first;
        const auto& t = item.second;
        CAPTURE(name);
        CHECK(bit_equal(t, b.at(name)));
    }
    CHECK(bit_equal(loaded(Variable(images(4))).value(), before));
    // Non-default settings survive too.
    nn::Sequential other;
    other.add(nn::Conv2D(3, {2, 3}, {2, 1}, "same", "tanh", false, "he_normal", {1, 2}));
    other.add(nn::AveragePooling2D({3, 3}, {1, 1}, "same"));
    other.add(nn::BatchNormalization(0.9, 1e-5));
    other.add(nn::GlobalAveragePooling2D());
    other.build({9, 8, 2});
    nn::save_model(other, path);
    nn::Sequential back = nn::load_model(path);
    CHECK(nn::model_architecture(back) == nn::model_architecture(other));
    const auto* conv = dynamic_cast<const nn::Conv2D*>(back.layers()[0].get());
    REQUIRE(conv);
    CHECK(conv->strides() == Size2{2, 1});
    CHECK(conv->dilation_rate() == Size2{1, 2});
    CHECK(conv->padding() == "same");
    CHECK(!conv->use_bias());
}

TEST_CASE("load_model rejects a Conv2D record with a malformed kernel_size") {
    nn::Sequential model;
    model.add(nn::Conv2D(2, {3, 3}));
    model.build({5, 5, 1});
    std::string arch = nn::model_architecture(model);
    const std::string key = "\"kernel_size\":[3,3]";
    REQUIRE(arch.find(key) != std::string::npos);
    arch.replace(arch.find(key), key.size(), "\"kernel_size\":[3]");
    CHECK_THROWS_WITH_AS(nn::model_from_architecture(arch),
                         doctest::Contains("'kernel_size' is not a list of two integers"),
                         std::invalid_argument);
}

TEST_CASE("load_model refuses a CNN record that needs far more weights than the file holds") {
    nn::Sequential model;
    model.add(nn::Reshape({4, 4, 1}, {16}));
    model.add(nn::Conv2D(2, {3, 3}));
    model.add(nn::BatchNormalization());
    model.add(nn::MaxPooling2D());
    model.add(nn::GlobalAveragePooling2D());
    const std::string path = nn_test::tmp_path("cnn_huge.safetensors");
    nn::save_model(model, path);
    CHECK(nn::load_model(path).count_params() == model.count_params());
    // The same file with a kernel claiming 2^40 filters: rejected before anything is allocated.
    std::string arch = nn::model_architecture(model);
    const std::string key = "\"filters\":2";
    REQUIRE(arch.find(key) != std::string::npos);
    arch.replace(arch.find(key), key.size(), "\"filters\":1099511627776");
    nn::write_safetensors(
        path, model.state_dict(),
        {{"format", "xgrad"}, {"version", nn::model_file_version}, {"architecture", arch}});
    CHECK_THROWS_WITH_AS(nn::load_model(path), doctest::Contains("the layers need"),
                         std::runtime_error);
}
