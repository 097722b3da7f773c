// A functional model with one image input and two outputs: the 10 Fashion-MNIST classes and 4
// kinds of garment (tops 0,2,3,4,6; trousers 1; footwear 5,7,9; bags 8). A shared trunk
// (Flatten -> Dense(128, relu)) feeds both heads; each head has its own loss, loss weight and
// metric, and the logs are named after the heads (class_accuracy, val_kind_loss, ...).
#include <cblas.h>

#include <array>
#include <iostream>
#include <numeric>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "examples/example_cli.h"
#include "xgrad.h"

using namespace xgrad;

namespace {

// Class -> kind: 0 tops, 1 trousers, 2 footwear, 3 bags.
constexpr std::array<float, 10> kind_of = {0, 1, 0, 0, 0, 2, 0, 2, 3, 2};

// A classification dataset with a second target: the kind of each example's class.
class WithKinds : public data::Dataset {
  public:
    explicit WithKinds(std::shared_ptr<const data::Dataset> images) : images_(std::move(images)) {}
    std::size_t size() const override { return images_->size(); }
    std::vector<Shape> input_shapes() const override { return images_->input_shapes(); }
    std::vector<Shape> target_shapes() const override { return {Shape{}, Shape{}}; }
    void get_batch(const std::vector<std::size_t>& indices, data::Batch& out) const override {
        images_->get_batch(indices, out);
        out.targets.resize(2);
        out.targets[1] = Tensor::from_shape({indices.size()});
        for (std::size_t i = 0; i < indices.size(); ++i) {
            out.targets[1](i) = kind_of.at(static_cast<std::size_t>(out.targets[0](i)));
        }
    }

  private:
    std::shared_ptr<const data::Dataset> images_;
};

std::shared_ptr<const data::Dataset> first(std::shared_ptr<const data::Dataset> set,
                                           std::size_t n) {
    if (n == 0 || n >= set->size()) return set;
    std::vector<std::size_t> indices(n);
    std::iota(indices.begin(), indices.end(), std::size_t{0});
    return std::make_shared<data::Subset>(set, indices);
}

struct Options {
    int epochs = 5;
    int batch_size = 32;
    double kind_weight = 0.5;
    std::size_t limit = 0;
    std::uint64_t seed = 0;
    std::string data_dir;
    bool summary_only = false;
    bool quiet = false;
};

nn::Model make_model() {
    auto image = nn::Input({28, 28}, "image");
    auto trunk = nn::Dense(128, "relu")(nn::Flatten()(image));
    auto cls = std::make_shared<nn::Dense>(10, "softmax");
    cls->set_name("class");
    auto kind = std::make_shared<nn::Dense>(4, "softmax");
    kind->set_name("kind");
    return nn::Model({image}, {(*cls)(trunk), (*kind)(trunk)}, "two_heads");
}

int run(const Options& o) {
    if (o.epochs < 1 || o.batch_size < 1) {
        throw examples::UsageError(fmt::format(
            "--epochs and --batch-size must be at least 1, got {} and {}", o.epochs, o.batch_size));
    }
    if (!(o.kind_weight >= 0)) {
        throw examples::UsageError(
            fmt::format("--kind-weight must be >= 0, got {}", o.kind_weight));
    }
    manual_seed(o.seed);
    nn::Model model = make_model();
    if (o.summary_only || !o.quiet) model.summary(std::cout);
    if (o.summary_only) return 0;

    std::shared_ptr<const data::Dataset> train, test;
    try {
        train = data::make_dataset("fashion_mnist", o.data_dir, data::Split::train);
        test = data::make_dataset("fashion_mnist", o.data_dir, data::Split::test);
    } catch (const std::exception& e) {
        throw examples::UsageError(e.what());
    }
    openblas_set_num_threads(1);
    auto train_set = std::make_shared<WithKinds>(first(train, o.limit));
    auto test_set = std::make_shared<WithKinds>(first(test, o.limit));

    nn::Trainer trainer(
        model, optim::make_optimizer("adam", model.trainable_parameters()),
        {{"class", "sparse_categorical_crossentropy"}, {"kind", "sparse_categorical_crossentropy"}},
        {{"class", {"accuracy"}}, {"kind", {"accuracy"}}},
        {{"class", 1.0}, {"kind", o.kind_weight}});
    nn::FitOptions fit;
    fit.epochs = std::size_t(o.epochs);
    fit.batch_size = std::size_t(o.batch_size);
    fit.seed = o.seed;
    fit.verbose = o.quiet ? 0 : 2;
    fit.validation_data = test_set;
    trainer.fit(train_set, fit);

    const nn::Logs logs = trainer.evaluate(*test_set);
    std::cout << fmt::format("Test accuracy: class {:.4f}, kind {:.4f}\n",
                             logs.at("class_accuracy"), logs.at("kind_accuracy"));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "Train a functional model with two heads on Fashion-MNIST: the 10 classes and 4 kinds "
        "(tops, trousers, footwear, bags)."};
    Options o;
    app.add_option("--epochs", o.epochs, "Training epochs")->capture_default_str();
    app.add_option("--batch-size", o.batch_size, "Examples per step")->capture_default_str();
    app.add_option("--kind-weight", o.kind_weight, "Loss weight of the kind head")
        ->capture_default_str();
    app.add_option("--limit", o.limit, "Use only the first N train and test images (0: all)")
        ->capture_default_str();
    app.add_option("--seed", o.seed, "Seed for initialisation and shuffling")
        ->capture_default_str();
    app.add_option("--data-dir", o.data_dir,
                   "Data directory (default: $XGRAD_DATA_DIR, else Debian's package directory)");
    app.add_flag("--summary", o.summary_only, "Print the model summary and exit");
    app.add_flag("--quiet", o.quiet, "No summary and no per-epoch lines");
    return examples::run_cli(app, argc, argv, [&] { return run(o); });
}
