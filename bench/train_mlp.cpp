// The seed model (Flatten(28x28) -> Dense(100, relu) -> Dense(10, softmax)) trained with
// xgrad's public API, printing the same per-epoch line as bench/hand_mlp and
// bench/torch_mlp.py so bench/compare_pytorch can set them side by side.
//
//   train_mlp [--data-dir DIR] [--epochs N] [--batch-size N] [--threads N] [--seed N]
#include "bench/bench_models.h"
#include "bench/train_bench.h"

int main(int argc, char** argv) {
    return xgrad::bench::run_train_bench(argc, argv, xgrad::bench::add_seed_mlp);
}
