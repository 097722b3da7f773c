// How tests/nn/data/model_file_v1*.safetensors were made, with the model-file code of
// version 1 as it was before layers described themselves (commit 7e6d858). Not built: the
// files are fixtures that later code must keep loading bit for bit (test_model_file.cpp).
//
//   g++ -std=c++20 -O2 -DXTENSOR_USE_XSIMD -I. tests/nn/data/make_model_file_v1.cpp \
//       -Lbuild -lxgrad -Wl,-rpath,build -o /tmp/make_v1 && /tmp/make_v1 tests/nn/data
#include <cmath>
#include <iostream>

#include <xtensor/xbuilder.hpp>

#include "xgrad.h"

using namespace xgrad;

int main(int argc, char** argv) {
    const std::string dir = argc > 1 ? argv[1] : ".";
    manual_seed(15);
    nn::Sequential block("block");
    block.add(nn::Conv2D(4, {2, 2}, {1, 1}, "valid", "linear", false, "he_uniform"));
    block.add(nn::GlobalAveragePooling2D());
    nn::Sequential model("v1_model");
    model.add(nn::Normalization({6, 6, 2}));
    model.add(nn::Conv2D(3, {3, 3}, {1, 1}, "same", "relu"));
    model.add(nn::BatchNormalization(0.9, 1e-2));
    model.add(nn::MaxPooling2D({2, 2}));
    model.add(nn::AveragePooling2D({2, 2}, {1, 1}, "same"));
    model.add(block);
    model.add(nn::Reshape({2, 2}));
    model.add(nn::Flatten());
    model.add(nn::Dropout(0.125));
    model.add(nn::Dense(5, "tanh", true, "lecun_normal"));
    model.add(nn::Activation("softmax"));
    // Every weight random, the variances positive, so that no value is a default.
    std::normal_distribution<float> normal;
    for (const auto& [name, v] : model.named_parameters()) {
        Tensor t = v.value();
        for (auto& x : t) x = normal(global_rng());
        if (name.find("variance") != std::string::npos) t = xt::abs(t) + 0.5f;
        if (name.find("count") != std::string::npos) t.fill(100.f);
        v.mutable_value() = t;  // (value() at commit 7e6d858, where the files were made)
    }
    nn::save_model(model, dir + "/model_file_v1.safetensors");
    Tensor x = xt::linspace<float>(-2.f, 2.f, 3 * 6 * 6 * 2);
    x.reshape({3, 6, 6, 2});
    model.eval();
    nn::write_safetensors(dir + "/model_file_v1_prediction.safetensors",
                          {{"input", x}, {"output", model(Variable(x)).value()}}, {});
    std::cout << model.summary();
}
