#include <doctest/doctest.h>

#include <stdexcept>

#include "framework/testing.h"
#include "xgrad.h"

#include <xtensor/xview.hpp>

using namespace xgrad;

namespace {
// A (1, 1) input.
Tensor shaped(float v) {
    Tensor t = Tensor::from_shape({1, 1});
    t(0, 0) = v;
    return t;
}
}  // namespace

TEST_CASE("Embedding: Keras parameters, shapes and summary row") {
    manual_seed(1);
    nn::Sequential model;
    model.add(nn::Embedding(65, 16));
    model.build({64});
    const auto& layer = dynamic_cast<const nn::Embedding&>(*model.layers()[0]);
    CHECK(layer.name() == "embedding");
    CHECK(model.count_params() == 65 * 16);
    CHECK(layer.embeddings().shape() == Shape{65, 16});
    CHECK(model.named_parameters()[0].first == "embedding/embeddings");
    // Keras' "uniform" initialiser: U(-0.05, 0.05).
    CHECK(xt::amax(xt::abs(layer.embeddings().value()))() <= 0.05f);
    CHECK(xt::amax(xt::abs(layer.embeddings().value()))() > 0.04f);
    const std::string summary = model.summary();
    CHECK(summary.find(" embedding (Embedding)       (None, 64, 16)            1040\n") !=
          std::string::npos);
    CHECK(summary.find("Total params: 1,040") != std::string::npos);
}

TEST_CASE("Embedding: looks up the ids, any sequence length, gradients reach the table") {
    nn::Embedding layer(4, 2);
    const Tensor ids = {{3.f, 0.f, 3.f}};
    const Variable y = layer(Variable(ids));
    REQUIRE(y.shape() == Shape{1, 3, 2});
    const Tensor& table = layer.embeddings().value();
    CHECK(y.value()(0, 0, 1) == table(3, 1));
    CHECK(y.value()(0, 1, 0) == table(0, 0));
    // A later call may have another length (generation feeds one character at a time).
    CHECK(layer(Variable(xt::xarray<float>(xt::reshape_view(Tensor{1.f, 2.f}, {2, 1})))).shape() ==
          Shape{2, 1, 2});
    CHECK(layer.output_shape({7}) == Shape{7, 2});
    sum(layer(Variable(ids))).backward();
    XGRAD_CHECK_TENSOR_CLOSE(layer.embeddings().grad(),
                             Tensor({{1.f, 1.f}, {0.f, 0.f}, {0.f, 0.f}, {2.f, 2.f}}));
}

TEST_CASE("Embedding: bad arguments and inputs name the layer and the value") {
    CHECK_THROWS_WITH_AS(nn::Embedding(0, 4),
                         "Embedding: input_dim and output_dim must be positive, got 0 and 4",
                         std::invalid_argument);
    CHECK_THROWS_AS(nn::Embedding(3, 4, "no_such_init"), std::invalid_argument);
    nn::Embedding layer(4, 2);
    CHECK_THROWS_WITH_AS(layer(Variable(Tensor{{1.f, 4.f}})),
                         "embedding: id 4 at position (0, 1) is out of range for a table of "
                         "shape (4, 2)",
                         std::out_of_range);
    CHECK_THROWS_WITH_AS(layer(Variable(shaped(1.5f))),
                         "embedding: input value 1.500000 at position (0, 0) is not an id (a "
                         "whole number)",
                         std::invalid_argument);
}
