#include "bench/train_bench.h"

#include <cblas.h>

#include <chrono>
#include <cstdio>
#include <numeric>
#include <string>

#include "bench/bench_flags.h"
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
    BenchFlags flags;
    if (!parse_bench_flags(argc, argv, flags)) return 2;
    try {
        openblas_set_num_threads(flags.threads);
        set_flush_denormal(flags.flush_denormal);
        std::shared_ptr<const data::Dataset> train =
            std::make_shared<data::FashionMNIST>(flags.data_dir, data::Split::train);
        if (flags.train_images > 0 && flags.train_images < train->size()) {
            std::vector<std::size_t> first(flags.train_images);
            std::iota(first.begin(), first.end(), std::size_t(0));
            train = std::make_shared<data::Subset>(train, std::move(first));
        }
        auto test = std::make_shared<data::FashionMNIST>(flags.data_dir, data::Split::test);
        manual_seed(flags.seed);
        nn::Sequential model;
        build_model(model);
        nn::Trainer trainer(model, optim::make_optimizer("adam", model.trainable_parameters()),
                            "sparse_categorical_crossentropy");
        nn::FitOptions fit;
        fit.epochs = std::size_t(flags.epochs);
        fit.batch_size = std::size_t(flags.batch_size);
        fit.seed = flags.seed;
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
