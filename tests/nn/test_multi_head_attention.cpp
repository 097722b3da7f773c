#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include <xtensor/xbuilder.hpp>

#include "framework/errors.h"
#include "framework/testing.h"
#include "xgrad.h"

using namespace xgrad;

namespace {

Tensor64 wavy(const Shape& shape, double phase) {
    Tensor64 t = Tensor64::from_shape(shape);
    for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = std::sin(1.3 * double(i) + phase);
    return t;
}

}  // namespace

TEST_CASE("MultiHeadAttention: Keras' parameter layout, names and count") {
    // Keras: MultiHeadAttention(num_heads=2, key_dim=2) on query (8, 16), value (4, 16).
    nn::MultiHeadAttention mha(2, 2);
    const Variable y = mha.attend(Variable(Tensor(xt::ones<float>({3, 8, 16}))),
                                  Variable(Tensor(xt::ones<float>({3, 4, 16}))));
    CHECK(y.shape() == Shape{3, 8, 16});
    CHECK(mha.count_params() == 284);
    const auto named = mha.named_parameters();
    REQUIRE(named.size() == 8);
    const std::vector<std::pair<std::string, Shape>> expected = {
        {"query/kernel", {16, 2, 2}},
        {"query/bias", {2, 2}},
        {"key/kernel", {16, 2, 2}},
        {"key/bias", {2, 2}},
        {"value/kernel", {16, 2, 2}},
        {"value/bias", {2, 2}},
        {"attention_output/kernel", {2, 2, 16}},
        {"attention_output/bias", {16}}};
    for (std::size_t i = 0; i < expected.size(); ++i) {
        CHECK(named[i].first == expected[i].first);
        CHECK(named[i].second.shape() == expected[i].second);
    }
    // value_dim, output_dim, no bias: 3 * 16 * 2 * 4 (q, k) ... counted by hand.
    nn::MultiHeadAttention other(2, 4, 3, false, 5);
    other.build({6, 16});
    CHECK(other.count_params() == 16 * 2 * 4 * 2 + 16 * 2 * 3 + 2 * 3 * 5);
    CHECK(other.output_shape({6, 16}) == Shape{6, 5});
    CHECK_THROWS_WITH_AS(nn::MultiHeadAttention(0, 4),
                         "MultiHeadAttention: num_heads and key_dim must be positive, got 0 and 4",
                         std::invalid_argument);
}

TEST_CASE("MultiHeadAttention: causal self-attention ignores later steps; masks; errors") {
    manual_seed(3);
    nn::MultiHeadAttention mha(2, 4, 0, true, 0, /*use_causal_mask=*/true);
    Tensor x = Tensor(xt::cast<float>(wavy({1, 5, 8}, 0.5)));
    const Variable y = mha(Variable(x));
    Tensor changed = x;
    for (std::size_t f = 0; f < 8; ++f) changed(0, 4, f) += 1.f;  // only the last step
    const Variable z = mha(Variable(changed));
    for (std::size_t t = 0; t < 4; ++t) {
        for (std::size_t f = 0; f < 8; ++f) CHECK(z.value()(0, t, f) == y.value()(0, t, f));
    }
    CHECK(z.value()(0, 4, 0) != y.value()(0, 4, 0));
    // The same through an explicit lower-triangular mask, and not causal: step 0 then sees 4.
    const Variable m = mha.attend(Variable(x), Variable(x), {}, causal_mask(5, 5));
    XGRAD_CHECK_TENSOR_CLOSE(m.value(), y.value());
    const Variable full = mha.attend(Variable(changed), Variable(changed));
    CHECK(full.value()(0, 0, 0) != z.value()(0, 0, 0));
    CHECK_THROWS_AS(mha.attend(Variable(x), Variable(x), {}, Mask(xt::ones<bool>({4, 5}))),
                    ShapeError);
    CHECK_THROWS_AS(mha(Variable(Tensor::from_shape({1, 5, 7}))), ShapeError);
}

TEST_CASE("MultiHeadAttention: dropout on the probabilities in training only") {
    const Tensor x = Tensor(xt::cast<float>(wavy({2, 5, 8}, 0.3)));
    nn::MultiHeadAttention plain(2, 4, 0, true, 0, true);
    nn::MultiHeadAttention dropping(2, 4, 0, true, 0, true, /*dropout=*/0.5);
    manual_seed(4);
    plain.build({5, 8});
    manual_seed(4);
    dropping.build({5, 8});  // the same weights
    CHECK(dropping.dropout() == 0.5);
    const Tensor without = plain(Variable(x)).value();
    // Training (a module's default): probabilities dropped, reproducible from the seed.
    manual_seed(8);
    const Tensor trained = dropping(Variable(x)).value();
    CHECK(xt::any(xt::not_equal(trained, without)));
    manual_seed(8);
    CHECK(dropping(Variable(x)).value() == trained);
    // Evaluation: the same weights give the output without dropout.
    dropping.eval();
    CHECK(dropping(Variable(x)).value() == without);
    // A config written before dropout existed has none.
    nlohmann::json old = dropping.config();
    old.erase("dropout");
    CHECK(nn::MultiHeadAttention::from_config(nn::LayerConfig(old, "layer 'mha'")).dropout() == 0);
    CHECK_THROWS_WITH_AS(nn::MultiHeadAttention(2, 4, 0, true, 0, false, 1.0),
                         "MultiHeadAttention: dropout must be in [0, 1), got 1",
                         std::invalid_argument);
}

TEST_CASE("multi_head_attention: float64 gradient checks with a mask, all weights") {
    Mask mask = xt::ones<bool>({2, 3, 4});
    mask(0, 1, 2) = false;
    mask(1, 2, 0) = false;
    for (bool causal : {false, true}) {
        CAPTURE(causal);
        const auto f = [mask, causal](const std::vector<Variable64>& in) {
            nn::AttentionWeights<double> w{in[3], in[4], in[5], in[6], in[7], in[8], in[9], in[10]};
            // With dropout in the causal case (one fixed mask: a generator made afresh).
            Rng rng(2);
            return nn::multi_head_attention(
                in[0], in[1], in[2], w,
                {.mask = mask, .causal = causal, .dropout = causal ? 0.3 : 0.0, .rng = &rng});
        };
        // query (2, 3, 5), value (2, 4, 3), key (2, 4, 4); 2 heads, key_dim 2, value_dim 3.
        const std::vector<Tensor64> in = {
            wavy({2, 3, 5}, 0), wavy({2, 4, 3}, 1), wavy({2, 4, 4}, 2), wavy({5, 2, 2}, 3),
            wavy({2, 2}, 4),    wavy({4, 2, 2}, 5), wavy({2, 2}, 6),    wavy({3, 2, 3}, 7),
            wavy({2, 3}, 8),    wavy({2, 3, 5}, 9), wavy({5}, 10)};
        XGRAD_CHECK_GRADCHECK(f, in);
        if (causal) XGRAD_CHECK_GRADGRADCHECK(f, in);
    }
}

TEST_CASE("sequence layers in a model file: saved and loaded with their config and weights") {
    nn::Sequential model;
    nn::LayerNormalization norm(1e-5, true, false);
    norm.set_input_shape({6, 8});
    model.add(norm);
    model.add(nn::MultiHeadAttention(2, 3, 5, true, 4, true, 0.25));
    model.add(nn::GlobalAveragePooling1D());
    model.add(nn::Dense(2));
    model.build({6, 8});
    const std::string dir = std::getenv("XGRAD_TEST_TMP") ? std::getenv("XGRAD_TEST_TMP") : "/tmp";
    std::filesystem::create_directories(dir);
    const std::string path = dir + "/sequence_layers.safetensors";
    nn::save_model(model, path);
    nn::Sequential loaded = nn::load_model(path);
    CHECK(loaded.summary() == model.summary());
    CHECK(loaded.count_params() == model.count_params());
    const auto* mha = dynamic_cast<const nn::MultiHeadAttention*>(loaded.layers()[1].get());
    REQUIRE(mha != nullptr);
    CHECK(mha->value_dim() == 5);
    CHECK(mha->output_dim() == 4);
    CHECK(mha->use_causal_mask());
    CHECK(mha->dropout() == 0.25);
    const auto* ln = dynamic_cast<const nn::LayerNormalization*>(loaded.layers()[0].get());
    REQUIRE(ln != nullptr);
    CHECK(ln->epsilon() == 1e-5);
    CHECK_FALSE(ln->scale());
    Tensor x = Tensor(xt::cast<float>(wavy({3, 6, 8}, 0.2)));
    model.eval();
    loaded.eval();
    CHECK(loaded(Variable(x)).value() == model(Variable(x)).value());
    std::filesystem::remove(path);
}
