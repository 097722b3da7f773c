// The CNN of examples/fashion_mnist_cnn (Conv2D(32, 3x3, relu) -> MaxPooling2D -> Conv2D(64,
// 3x3, relu) -> MaxPooling2D -> Flatten -> Dropout(0.5) -> Dense(128, relu) -> Dense(10,
// softmax)) at a constant learning rate, trained with xgrad's public API, printing the same
// per-epoch line as bench/torch_cnn.py so bench/compare_pytorch can set them side by side.
//
//   train_cnn [--data-dir DIR] [--epochs N] [--batch-size N] [--threads N] [--seed N]
#include <malloc.h>

#include "bench/train_bench.h"
#include "xgrad.h"

using namespace xgrad;

int main(int argc, char** argv) {
    // Keep freed memory in the heap: every batch allocates the same large buffers, and
    // returning them to the OS makes each batch page-fault them in again.
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    return bench::run_train_bench(argc, argv, [](nn::Sequential& model) {
        model.add(nn::Reshape({28, 28, 1}, {28, 28}));
        model.add(nn::Conv2D(32, {3, 3}, "relu"));
        model.add(nn::MaxPooling2D());
        model.add(nn::Conv2D(64, {3, 3}, "relu"));
        model.add(nn::MaxPooling2D());
        model.add(nn::Flatten());
        model.add(nn::Dropout(0.5));
        model.add(nn::Dense(128, "relu"));
        model.add(nn::Dense(10, "softmax"));
    });
}
