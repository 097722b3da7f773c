// The Keras convolutional network for Fashion-MNIST in xgrad:
// Reshape(28x28 -> 28x28x1) -> Conv2D(32, 3x3, relu) -> MaxPooling2D -> Conv2D(64, 3x3, relu)
// -> MaxPooling2D -> Flatten -> Dropout(0.5) -> Dense(10, softmax), Adam, sparse categorical
// cross-entropy (34,826 parameters, as in Keras). Same flags and output as fashion_mnist_mlp.
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
        "-> Dense(10, softmax)) on Fashion-MNIST.";
    program.build_model = [](nn::Sequential& model) {
        model.add(nn::Reshape({28, 28, 1}, {28, 28}));  // the batches arrive as (None, 28, 28)
        model.add(nn::Conv2D(32, {3, 3}, "relu"));
        model.add(nn::MaxPooling2D());
        model.add(nn::Conv2D(64, {3, 3}, "relu"));
        model.add(nn::MaxPooling2D());
        model.add(nn::Flatten());
        model.add(nn::Dropout(0.5));
        model.add(nn::Dense(10, "softmax"));
    };
    program.default_epochs = 20;
    program.default_batch_size = 64;
    return examples::run_classifier(program, argc, argv);
}
