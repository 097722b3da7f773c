#include <doctest/doctest.h>

#include <sstream>

#include "xgrad.h"

using namespace xgrad;

namespace {

// The Keras text from the issue, line for line (trailing spaces removed).
const char* const seed_summary =
    "Model: \"sequential\"\n"
    "_________________________________________________________________\n"
    " Layer (type)                Output Shape              Param #\n"
    "=================================================================\n"
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
    "_________________________________________________________________\n";

const char* const five_row_summary =
    "Model: \"sequential\"\n"
    "_________________________________________________________________\n"
    " Layer (type)                Output Shape              Param #\n"
    "=================================================================\n"
    " flatten (Flatten)           (None, 784)               0\n"
    "\n"
    " dense (Dense)               (None, 100)               78500\n"
    "\n"
    " activation (Activation)     (None, 100)               0\n"
    "\n"
    " dense_1 (Dense)             (None, 10)                1010\n"
    "\n"
    " activation_1 (Activation)   (None, 10)                0\n"
    "\n"
    "=================================================================\n"
    "Total params: 79,510\n"
    "Trainable params: 79,510\n"
    "Non-trainable params: 0\n"
    "_________________________________________________________________\n";

}  // namespace

TEST_CASE("format_count groups thousands with commas") {
    CHECK(nn::format_count(0) == "0");
    CHECK(nn::format_count(999) == "999");
    CHECK(nn::format_count(1000) == "1,000");
    CHECK(nn::format_count(79510) == "79,510");
    CHECK(nn::format_count(1234567) == "1,234,567");
}

TEST_CASE("the seed model's summary is Keras' text, character for character") {
    nn::Sequential model;
    model.add(nn::Flatten({28, 28}));
    model.add(nn::Dense(100, "relu"));
    model.add(nn::Dense(10, "softmax"));
    CHECK(model.summary() == seed_summary);
    std::ostringstream out;
    model.summary(out);
    CHECK(out.str() == seed_summary);
}

TEST_CASE("separate Activation layers are rows of their own") {
    nn::Sequential model;
    model.add(nn::Flatten({28, 28}));
    model.add(nn::Dense(100));
    model.add(nn::Activation("relu"));
    model.add(nn::Dense(10));
    model.add(nn::Activation("softmax"));
    CHECK(model.summary() == five_row_summary);
}

TEST_CASE("long cells wrap onto continuation lines and keep the columns") {
    const std::string text =
        nn::format_summary("m",
                           {{"a_very_long_layer_name_for_testing (Dense)",
                             "(None, 1000000, 2000000, 3000000)", 12345678901}},
                           12345678901, 12345678900);
    CHECK(text ==
          "Model: \"m\"\n"
          "_________________________________________________________________\n"
          " Layer (type)                Output Shape              Param #\n"
          "=================================================================\n"
          " a_very_long_layer_name_for  (None, 1000000, 2000000   1234567890\n"
          " _testing (Dense)            , 3000000)                1\n"
          "\n"
          "=================================================================\n"
          "Total params: 12,345,678,901\n"
          "Trainable params: 12,345,678,900\n"
          "Non-trainable params: 1\n"
          "_________________________________________________________________\n");
}

TEST_CASE("a long user-set layer name wraps in a model's summary") {
    nn::Sequential model("my_model");
    nn::Dense d(3);
    d.set_name("the_first_dense_layer_of_this_model");
    model.add(d);
    model.build({2});
    CHECK(model.summary() ==
          "Model: \"my_model\"\n"
          "_________________________________________________________________\n"
          " Layer (type)                Output Shape              Param #\n"
          "=================================================================\n"
          " the_first_dense_layer_of_t  (None, 3)                 9\n"
          " his_model (Dense)\n"
          "\n"
          "=================================================================\n"
          "Total params: 9\n"
          "Trainable params: 9\n"
          "Non-trainable params: 0\n"
          "_________________________________________________________________\n");
}

TEST_CASE("an unbuilt model has no summary") {
    nn::Sequential model;
    model.add(nn::Dense(3));
    CHECK_THROWS_WITH_AS(model.summary(),
                         "sequential: the model is not built yet; give the first layer an input "
                         "shape, call build(input_shape) or call the model on a batch",
                         std::logic_error);
}

TEST_CASE(
    "sequence layers: summary rows of Dense, Dropout and pooling on (batch, time, features)") {
    nn::Sequential model;
    nn::LayerNormalization norm;
    norm.set_input_shape({10, 16});
    model.add(norm);
    model.add(nn::MultiHeadAttention(2, 4));
    model.add(nn::Dense(32, "gelu"));  // on the last axis: (None, 10, 32)
    model.add(nn::Dropout(0.1));
    model.add(nn::GlobalAveragePooling1D());
    model.add(nn::Dense(3));
    // Counted as Keras counts them: 2 * 16; MultiHeadAttention 3 * (16 * 2 * 4 + 8) + 2 * 4 * 16
    // + 16; 16 * 32 + 32; 32 * 3 + 3.
    const std::vector<nn::SummaryRow> rows = {
        {"layer_normalization (LayerNormalization)", "(None, 10, 16)", 32},
        {"multi_head_attention (MultiHeadAttention)", "(None, 10, 16)", 552},
        {"dense (Dense)", "(None, 10, 32)", 544},
        {"dropout (Dropout)", "(None, 10, 32)", 0},
        {"global_average_pooling1d (GlobalAveragePooling1D)", "(None, 32)", 0},
        {"dense_1 (Dense)", "(None, 3)", 99}};
    CHECK(model.summary() == nn::format_summary("sequential", rows, 1227, 1227));
    // Dropout over a sequence: in training some elements of the (batch, time, features) output
    // are zero and the rest scaled; the model's output has the pooled shape.
    manual_seed(1);
    nn::Dropout drop(0.5);
    const Variable d = drop(Variable(Tensor(xt::ones<float>({4, 10, 32}))));
    CHECK(d.shape() == Shape{4, 10, 32});
    const double zeros = double(xt::sum(xt::equal(d.value(), 0.f))());
    CHECK(zeros > 0.3 * 1280);
    CHECK(zeros < 0.7 * 1280);
    CHECK(xt::amax(d.value())() == doctest::Approx(2.f));
    CHECK(model(Variable(Tensor(xt::ones<float>({2, 10, 16})))).shape() == Shape{2, 3});
}
