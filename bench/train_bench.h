// The driver shared by bench/train_mlp and bench/train_cnn: parses their flags, trains the model
// that `build_model` adds (Adam, sparse categorical cross-entropy, Keras defaults) and prints
// after each epoch the line bench/compare_pytorch parses, the same as the PyTorch scripts:
//
//   epoch 1 train_time 0.265s loss 0.5032 test_acc 0.8450 infer_images_per_s 595370
//
// Flags: [--data-dir DIR] [--epochs N] [--batch-size N] [--threads N] [--seed N]
// [--flush-denormal 0|1] (xgrad::set_flush_denormal; 1 by default) [--train-images N] (the first
// N training images only, for short profiling runs).
#pragma once

#include <functional>

#include "nn/models/sequential.h"

namespace xgrad::bench {

int run_train_bench(int argc, char** argv, const std::function<void(nn::Sequential&)>& build_model);

}  // namespace xgrad::bench
