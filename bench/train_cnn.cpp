// The CNN of examples/fashion_mnist_cnn (Conv2D(32, 3x3, relu) -> MaxPooling2D -> Conv2D(64,
// 3x3, relu) -> MaxPooling2D -> Flatten -> Dropout(0.5) -> Dense(128, relu) -> Dense(10,
// softmax)) at a constant learning rate, trained with xgrad's public API, printing the same
// per-epoch line as bench/torch_cnn.py so bench/compare_pytorch can set them side by side.
//
//   train_cnn [--data-dir DIR] [--epochs N] [--batch-size N] [--threads N] [--seed N]
#include <malloc.h>

#include "bench/bench_models.h"
#include "bench/train_bench.h"

int main(int argc, char** argv) {
    // Keep freed memory in the heap: every batch allocates the same large buffers, and
    // returning them to the OS makes each batch page-fault them in again.
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    return xgrad::bench::run_train_bench(argc, argv, xgrad::bench::add_cnn);
}
