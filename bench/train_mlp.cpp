// The seed model (Flatten(28x28) -> Dense(100, relu) -> Dense(10, softmax)) trained with
// xgrad's public API, printing the same per-epoch line as bench/hand_mlp and
// bench/torch_mlp.py so bench/compare_pytorch can set them side by side.
//
//   train_mlp [--functional] [--data-dir DIR] [--epochs N] [--batch-size N] [--threads N]
//             [--seed N]
//
// --functional builds the same model with the functional API (nn::Input, nn::Model), held as
// the only layer of the Sequential the bench trains: its epoch time against the Sequential's
// is the functional graph's overhead.
#include <cstring>
#include <vector>

#include "bench/bench_models.h"
#include "bench/train_bench.h"

int main(int argc, char** argv) {
    using namespace xgrad;
    std::vector<char*> args;
    bool functional = false;
    for (int i = 0; i < argc; ++i) {
        if (std::strcmp(argv[i], "--functional") == 0) {
            functional = true;
        } else {
            args.push_back(argv[i]);
        }
    }
    return bench::run_train_bench(int(args.size()), args.data(), [&](nn::Sequential& model) {
        if (functional) {
            auto x = nn::Input({28, 28});
            auto y = nn::Dense(10, "softmax")(nn::Dense(100, "relu")(nn::Flatten()(x)));
            model.add(std::make_shared<nn::Model>(std::vector{x}, std::vector{y}, "mlp"));
            return;
        }
        bench::add_seed_mlp(model);
    });
}
