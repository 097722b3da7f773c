#include "bench/train_bench.h"

#include <cblas.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "xgrad.h"

namespace xgrad::bench {

namespace {

// Prints each epoch's training time and loss, then test accuracy and inference speed.
class EpochReport : public nn::Callback {
  public:
    explicit EpochReport(std::shared_ptr<const data::Dataset> test) : test_(std::move(test)) {}
    void on_epoch_end(nn::Trainer& trainer, std::size_t epoch, const nn::Logs& logs) override {
        const auto start = std::chrono::steady_clock::now();
        const Tensor probs = trainer.predict(*test_, 256);
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::size_t correct = 0;
        for (std::size_t i = 0; i < test_->size(); ++i) {
            const float* row = probs.data() + i * 10;
            correct += std::int64_t(std::max_element(row, row + 10) - row) == test_->label(i);
        }
        std::printf("epoch %zu train_time %.3fs loss %.4f test_acc %.4f infer_images_per_s %.0f\n",
                    epoch + 1, trainer.last_epoch_seconds(), logs.at("loss"),
                    double(correct) / double(test_->size()), double(test_->size()) / seconds);
        std::fflush(stdout);
    }

  private:
    std::shared_ptr<const data::Dataset> test_;
};

}  // namespace

int run_train_bench(int argc, char** argv,
                    const std::function<void(nn::Sequential&)>& build_model) {
    std::string dir;
    int epochs = 3, batch = 32, threads = 1;
    std::uint64_t seed = 0;
    if (argc % 2 == 0) {
        std::fprintf(stderr, "error: flag %s has no value\n", argv[argc - 1]);
        return 2;
    }
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i], value = argv[i + 1];
        try {
            if (flag == "--data-dir")
                dir = value;
            else if (flag == "--epochs")
                epochs = std::stoi(value);
            else if (flag == "--batch-size")
                batch = std::stoi(value);
            else if (flag == "--threads")
                threads = std::stoi(value);
            else if (flag == "--seed")
                seed = std::stoull(value);
            else {
                std::fprintf(stderr, "error: unknown flag %s\n", flag.c_str());
                return 2;
            }
        } catch (const std::logic_error&) {  // std::stoi's invalid_argument and out_of_range
            std::fprintf(stderr, "error: %s needs a number, got '%s'\n", flag.c_str(),
                         value.c_str());
            return 2;
        }
    }
    if (epochs < 1 || batch < 1 || threads < 1) {
        std::fprintf(stderr, "error: --epochs, --batch-size and --threads must be at least 1\n");
        return 2;
    }
    try {
        openblas_set_num_threads(threads);
        auto train = std::make_shared<data::FashionMNIST>(dir, data::Split::train);
        auto test = std::make_shared<data::FashionMNIST>(dir, data::Split::test);
        manual_seed(seed);
        nn::Sequential model;
        build_model(model);
        nn::Trainer trainer(model, optim::make_optimizer("adam", model.trainable_parameters()),
                            "sparse_categorical_crossentropy");
        nn::FitOptions fit;
        fit.epochs = std::size_t(epochs);
        fit.batch_size = std::size_t(batch);
        fit.seed = seed;
        fit.verbose = 0;
        fit.callbacks.push_back(std::make_shared<EpochReport>(test));
        trainer.fit(train, fit);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}

}  // namespace xgrad::bench
