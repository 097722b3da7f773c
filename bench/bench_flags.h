// The flags of the training benchmarks (train_mlp, train_cnn, hand_mlp), which
// bench/compare_pytorch passes to all of them and to the PyTorch scripts alike:
//
//   [--data-dir DIR] [--epochs N] [--batch-size N] [--threads N] [--seed N]
//   [--flush-denormal 0|1]   (1, the default as in xgrad: subnormal floats flushed to zero)
//   [--train-images N]       (train on the first N training images only; 0, the default: all.
//                             For short profiling runs of the xgrad programs.)
//
// Header-only and free of xgrad, so the hand-written loop stays framework-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace xgrad::bench {

struct BenchFlags {
    std::string data_dir;  // empty: the program's default
    int epochs = 3, batch_size = 32, threads = 1;
    std::uint64_t seed = 0;
    bool flush_denormal = true;
    std::size_t train_images = 0;  // 0: the whole training set
};

// Parses argv into `flags`. On bad input prints one "error: ..." line and returns false.
inline bool parse_bench_flags(int argc, char** argv, BenchFlags& flags) {
    if (argc % 2 == 0) {
        std::fprintf(stderr, "error: flag %s has no value\n", argv[argc - 1]);
        return false;
    }
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i], value = argv[i + 1];
        try {
            if (flag == "--data-dir") {
                flags.data_dir = value;
            } else if (flag == "--epochs") {
                flags.epochs = std::stoi(value);
            } else if (flag == "--batch-size") {
                flags.batch_size = std::stoi(value);
            } else if (flag == "--threads") {
                flags.threads = std::stoi(value);
            } else if (flag == "--seed") {
                flags.seed = std::stoull(value);
            } else if (flag == "--train-images") {
                flags.train_images = std::stoull(value);
            } else if (flag == "--flush-denormal") {
                if (value != "0" && value != "1") {
                    std::fprintf(stderr, "error: --flush-denormal needs 0 or 1, got '%s'\n",
                                 value.c_str());
                    return false;
                }
                flags.flush_denormal = value == "1";
            } else {
                std::fprintf(stderr, "error: unknown flag %s\n", flag.c_str());
                return false;
            }
        } catch (const std::logic_error&) {  // std::stoi's invalid_argument and out_of_range
            std::fprintf(stderr, "error: %s needs a number, got '%s'\n", flag.c_str(),
                         value.c_str());
            return false;
        }
    }
    if (flags.epochs < 1 || flags.batch_size < 1 || flags.threads < 1) {
        std::fprintf(stderr, "error: --epochs, --batch-size and --threads must be at least 1\n");
        return false;
    }
    return true;
}

}  // namespace xgrad::bench
