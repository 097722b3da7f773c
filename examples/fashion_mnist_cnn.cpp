// A small convolutional network for Fashion-MNIST in xgrad: the Keras CNN (Conv2D(32, 3x3,
// relu) -> MaxPooling2D -> Conv2D(64, 3x3, relu) -> MaxPooling2D -> Flatten -> Dropout(0.5))
// with a Dense(128, relu) layer before Dense(10, softmax), 225,034 parameters; Adam with a
// cosine learning-rate decay over the epochs, sparse categorical cross-entropy. The hidden
// Dense layer and the decay take it from 0.908 to 0.922 test accuracy (seed 0, 20 epochs of
// 64) for 6% more time per epoch. Same flags and output as fashion_mnist_mlp.
#include <malloc.h>

#include "examples/classifier_cli.h"
#include "xgrad.h"

using namespace xgrad;

int main(int argc, char** argv) {
    // Keep freed memory in the heap: every batch allocates the same large im2col buffers and
    // activations, and handing them back to the OS makes each batch page-fault them in again.
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    examples::ClassifierProgram program;
    program.description =
        "Train a small CNN (Conv2D 32 -> MaxPooling2D -> Conv2D 64 -> MaxPooling2D -> Dropout "
        "-> Dense(128, relu) -> Dense(10, softmax)) on Fashion-MNIST.";
    program.build_model = [](nn::Sequential& model) {
        model.add(nn::Reshape({28, 28, 1}, {28, 28}));  // the batches arrive as (None, 28, 28)
        model.add(nn::Conv2D(32, {3, 3}, "relu"));
        model.add(nn::MaxPooling2D());
        model.add(nn::Conv2D(64, {3, 3}, "relu"));
        model.add(nn::MaxPooling2D());
        model.add(nn::Flatten());
        model.add(nn::Dropout(0.5));
        model.add(nn::Dense(128, "relu"));
        model.add(nn::Dense(10, "softmax"));
    };
    program.default_epochs = 20;
    program.default_batch_size = 64;
    program.cosine_decay = true;
    return examples::run_classifier(program, argc, argv);
}
