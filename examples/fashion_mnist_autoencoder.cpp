// The autoencoder of TensorFlow's "Intro to Autoencoders" tutorial, as a subclassed model: an
// nn::Module holding an encoder (Flatten -> Dense(64, relu)) and a decoder (Dense(784, sigmoid)
// -> Reshape(28, 28)), trained with mean squared error on Fashion-MNIST images as their own
// targets, Adam, 10 epochs. Prints the test reconstruction MSE and writes a picture (PGM) of
// test images over their reconstructions.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>
#include <optional>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <xtensor/xview.hpp>

#include "examples/example_cli.h"
#include "xgrad.h"

using namespace xgrad;

namespace {

class Autoencoder : public nn::Module {
  public:
    explicit Autoencoder(std::size_t latent_dim = 64) {
        encoder_->add(nn::Flatten());
        encoder_->add(nn::Dense(latent_dim, "relu"));
        decoder_->add(nn::Dense(28 * 28, "sigmoid"));
        decoder_->add(nn::Reshape({28, 28}));
        register_module(encoder_);
        register_module(decoder_);
    }
    std::string type_name() const override { return "Autoencoder"; }
    Variable forward(const Variable& x) override { return (*decoder_)((*encoder_)(x)); }

    const nn::Sequential& encoder() const { return *encoder_; }
    const nn::Sequential& decoder() const { return *decoder_; }

  private:
    std::shared_ptr<nn::Sequential> encoder_ = std::make_shared<nn::Sequential>("encoder");
    std::shared_ptr<nn::Sequential> decoder_ = std::make_shared<nn::Sequential>("decoder");
};

// A dataset's images as their own targets (the reconstruction task), read through the
// dataset itself rather than copied.
class ImagesAsTargets : public data::Dataset {
  public:
    explicit ImagesAsTargets(std::shared_ptr<const data::Dataset> images)
        : images_(std::move(images)) {}
    std::size_t size() const override { return images_->size(); }
    std::vector<Shape> input_shapes() const override { return images_->input_shapes(); }
    std::vector<Shape> target_shapes() const override { return images_->input_shapes(); }
    void get_batch(const std::vector<std::size_t>& indices, data::Batch& out) const override {
        images_->get_batch(indices, out);
        out.targets.resize(1);
        out.targets[0] = out.input();
    }

  private:
    std::shared_ptr<const data::Dataset> images_;
};

// Records each epoch's training time (the trainer measures it without validation).
class EpochTimes : public nn::Callback {
  public:
    void on_epoch_end(nn::Trainer& trainer, std::size_t, const nn::Logs&) override {
        seconds.push_back(trainer.last_epoch_seconds());
    }
    std::vector<double> seconds;
};

// Writes `rows` (n, 28, 28) tensors in [0, 1] as one binary PGM picture, each tensor a row of
// n images, through a temporary file so that a failed write leaves no half picture.
void write_pgm(const std::string& path, const std::vector<Tensor>& rows) {
    const std::size_t n = rows.at(0).shape()[0], width = 28 * n, height = 28 * rows.size();
    std::vector<unsigned char> pixels(width * height);
    for (std::size_t r = 0; r < rows.size(); ++r)
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t y = 0; y < 28; ++y)
                for (std::size_t x = 0; x < 28; ++x) {
                    const float v = std::clamp(rows[r](i, y, x), 0.f, 1.f);
                    pixels[(r * 28 + y) * width + i * 28 + x] =
                        static_cast<unsigned char>(std::lround(v * 255.f));
                }
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary);
        out << "P5\n" << width << " " << height << "\n255\n";
        out.write(reinterpret_cast<const char*>(pixels.data()),
                  static_cast<std::streamsize>(pixels.size()));
        if (!out.flush()) {
            std::filesystem::remove(tmp);
            throw std::runtime_error("cannot write the picture " + tmp);
        }
    }
    std::filesystem::rename(tmp, path);
}

struct Options {
    int epochs = 10;
    int batch_size = 32;
    std::optional<double> learning_rate;
    std::uint64_t seed = 0;
    std::string dataset = "fashion_mnist";
    std::string data_dir;
    std::string image_path = "autoencoder.pgm";
    int images = 10;
    int threads = 1;
    bool summary_only = false;
    bool quiet = false;
};

void validate(const Options& o) {
    for (const auto& [flag, value] : {std::pair{"--epochs", o.epochs},
                                      {"--batch-size", o.batch_size},
                                      {"--images", o.images},
                                      {"--threads", o.threads}}) {
        if (value < 1)
            throw examples::UsageError(fmt::format("{} must be at least 1, got {}", flag, value));
    }
    if (o.learning_rate && !(*o.learning_rate > 0)) {
        throw examples::UsageError(
            fmt::format("--learning-rate must be positive, got {}", *o.learning_rate));
    }
    if (!o.image_path.empty()) examples::check_writable("--image", o.image_path);
}

int run(const Options& o) {
    validate(o);
    manual_seed(o.seed);
    Autoencoder model;
    model.build({28, 28});  // builds encoder and decoder, so Adam gets every parameter
    auto summaries = [&] {
        model.encoder().summary(std::cout);
        model.decoder().summary(std::cout);
    };
    if (o.summary_only) {
        summaries();
        return 0;
    }

    std::shared_ptr<data::Dataset> train, test;
    try {
        train = data::make_dataset(o.dataset, o.data_dir, data::Split::train);
        test = data::make_dataset(o.dataset, o.data_dir, data::Split::test);
    } catch (const std::exception& e) {
        throw examples::UsageError(e.what());
    }
    if (test->size() < std::size_t(o.images)) {
        throw examples::UsageError(
            fmt::format("--images {} is more than the {} test images", o.images, test->size()));
    }
    openblas_set_num_threads(o.threads);
    if (!o.quiet) summaries();

    nn::Trainer trainer(
        model, optim::make_optimizer("adam", model.trainable_parameters(), o.learning_rate), "mse");
    auto times = std::make_shared<EpochTimes>();
    nn::FitOptions fit;
    fit.epochs = std::size_t(o.epochs);
    fit.batch_size = std::size_t(o.batch_size);
    fit.seed = o.seed;
    fit.verbose = o.quiet ? 0 : 1;
    fit.validation_data = std::make_shared<ImagesAsTargets>(test);
    fit.callbacks.push_back(times);
    fit.callbacks.push_back(std::make_shared<nn::TerminateOnNaN>());
    trainer.fit(std::make_shared<ImagesAsTargets>(train), fit);
    if (!dist::is_root()) return 0;  // data-parallel: the others hold the same model

    const double mse = trainer.evaluate(ImagesAsTargets(test)).at("loss");
    std::cout << fmt::format("Test reconstruction MSE: {:.5f}\n", mse);
    const auto& s = times->seconds;
    std::cout << fmt::format("Training time per epoch: {:.3f} s (mean of {}), {:.3f} s fastest\n",
                             std::accumulate(s.begin(), s.end(), 0.0) / double(s.size()), s.size(),
                             *std::min_element(s.begin(), s.end()));

    if (!o.image_path.empty()) {
        Tensor originals = Tensor::from_shape({std::size_t(o.images), 28, 28});
        for (std::size_t i = 0; i < std::size_t(o.images); ++i)
            xt::view(originals, i) = test->input(i);
        write_pgm(o.image_path, {originals, trainer.predict(originals)});
        std::cout << "Wrote " << o.images << " test images (top) and their reconstructions "
                  << "(bottom) to " << o.image_path << "\n";
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "Train the autoencoder of TensorFlow's \"Intro to Autoencoders\" on "
        "Fashion-MNIST (a subclassed model, mse, Adam)."};
    Options o;
    app.add_option("--epochs", o.epochs, "Training epochs")->capture_default_str();
    app.add_option("--batch-size", o.batch_size, "Examples per step")->capture_default_str();
    app.add_option("--learning-rate", o.learning_rate, "Adam's learning rate (default 0.001)");
    app.add_option("--seed", o.seed, "Seed for initialisation and shuffling")
        ->capture_default_str();
    app.add_option("--dataset", o.dataset, "Registered dataset name (fashion_mnist, mnist)")
        ->capture_default_str();
    app.add_option("--data-dir", o.data_dir,
                   "Data directory (default: $XGRAD_DATA_DIR, else Debian's package directory)");
    app.add_option("--image", o.image_path,
                   "Write test images over their reconstructions to this PGM file "
                   "(empty: no picture)")
        ->capture_default_str();
    app.add_option("--images", o.images, "Test images in the picture")->capture_default_str();
    app.add_option("--threads", o.threads, "BLAS threads")->capture_default_str();
    app.add_flag("--summary", o.summary_only, "Print the encoder's and decoder's summaries, exit");
    app.add_flag("--quiet", o.quiet, "No summaries and no progress output");
    return examples::run_cli(app, argc, argv, [&] { return run(o); });
}
