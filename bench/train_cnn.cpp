// The CNN of examples/fashion_mnist_cnn (Conv2D(32, 3x3, relu) -> MaxPooling2D -> Conv2D(64,
// 3x3, relu) -> MaxPooling2D -> Flatten -> Dropout(0.5) -> Dense(128, relu) -> Dense(10,
// softmax)) at a constant learning rate, trained with xgrad's public
// API, printing the same per-epoch line as bench/torch_cnn.py so bench/compare_pytorch can set
// them side by side.
//
//   train_cnn [--data-dir DIR] [--epochs N] [--batch-size N] [--threads N] [--seed N]
#include <cblas.h>
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "xgrad.h"

using namespace xgrad;

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

int main(int argc, char** argv) {
    std::string dir;
    int epochs = 3, batch = 32, threads = 1;
    std::uint64_t seed = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i], value = argv[i + 1];
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
    }
    try {
        // Keep freed memory in the heap: every batch allocates the same large buffers, and
        // returning them to the OS makes each batch page-fault them in again (8x slower here).
        mallopt(M_MMAP_THRESHOLD, 256 << 20);
        mallopt(M_TRIM_THRESHOLD, 512 << 20);
        openblas_set_num_threads(threads);
        auto train = std::make_shared<data::FashionMNIST>(dir, data::Split::train);
        auto test = std::make_shared<data::FashionMNIST>(dir, data::Split::test);
        manual_seed(seed);
        nn::Sequential model;
        model.add(nn::Reshape({28, 28, 1}, {28, 28}));
        model.add(nn::Conv2D(32, {3, 3}, "relu"));
        model.add(nn::MaxPooling2D());
        model.add(nn::Conv2D(64, {3, 3}, "relu"));
        model.add(nn::MaxPooling2D());
        model.add(nn::Flatten());
        model.add(nn::Dropout(0.5));
        model.add(nn::Dense(128, "relu"));
        model.add(nn::Dense(10, "softmax"));
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
