// The command line shared by the example classifiers (fashion_mnist_mlp, fashion_mnist_cnn):
// flags, checks before training, training with progress, and the test report.
//
//   int main(int argc, char** argv) {
//       return run_classifier({.description = "...", .build_model = add_my_layers}, argc, argv);
//   }
#pragma once

#include <functional>
#include <string>

#include "nn/models/sequential.h"

namespace xgrad::examples {

struct ClassifierProgram {
    std::string description;
    // Adds the layers to an empty model; the model must end in Dense(10, "softmax") or similar.
    std::function<void(nn::Sequential&)> build_model;
    int default_epochs = 10;
    int default_batch_size = 32;
    // The learning rate follows a cosine from its initial value down to 0 over the epochs
    // (set at the start of each epoch, so a resumed run follows the same curve).
    bool cosine_decay = false;
};

// Parses the flags and runs. Returns the exit status: 0 done, 1 a failure during the run,
// 2 bad command-line input (reported before any training starts).
//
// Flags: --epochs N, --batch-size N, --optimizer adam|sgd|rmsprop|adamw, --learning-rate X,
// --seed N, --dataset NAME, --data-dir DIR, --validation-split X, --threads N, --save PATH,
// --history PATH, --checkpoint PATH, --resume PATH, --plot PATH.svg, --confusion PATH.svg,
// --summary, --quiet.
int run_classifier(const ClassifierProgram& program, int argc, char** argv);

}  // namespace xgrad::examples
