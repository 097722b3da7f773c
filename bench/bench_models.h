// The two models the training benchmarks time: the seed MLP and the CNN of
// examples/fashion_mnist_cnn (bench/torch_*.py hold the same in PyTorch).
#pragma once

#include "xgrad.h"

namespace xgrad::bench {

// Flatten(28x28) -> Dense(100, relu) -> Dense(10, softmax): 79,510 parameters.
inline void add_seed_mlp(nn::Sequential& model) {
    model.add(nn::Flatten({28, 28}));
    model.add(nn::Dense(100, "relu"));
    model.add(nn::Dense(10, "softmax"));
}

// Conv2D(32, 3x3, relu) -> MaxPooling2D -> Conv2D(64, 3x3, relu) -> MaxPooling2D -> Flatten ->
// Dropout(0.5) -> Dense(128, relu) -> Dense(10, softmax).
inline void add_cnn(nn::Sequential& model) {
    model.add(nn::Reshape({28, 28, 1}, {28, 28}));
    model.add(nn::Conv2D(32, {3, 3}, "relu"));
    model.add(nn::MaxPooling2D());
    model.add(nn::Conv2D(64, {3, 3}, "relu"));
    model.add(nn::MaxPooling2D());
    model.add(nn::Flatten());
    model.add(nn::Dropout(0.5));
    model.add(nn::Dense(128, "relu"));
    model.add(nn::Dense(10, "softmax"));
}

}  // namespace xgrad::bench
