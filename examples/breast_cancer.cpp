// A table of numbers through the CSV dataset: the Wisconsin diagnostic breast-cancer data
// (examples/data/breast_cancer.csv, 569 rows, 30 features; see examples/data/README.md for its
// source and licence). A held-out split is kept aside; a Normalization layer adapted on the
// training split feeds Dense(16, relu) -> Dense(1, sigmoid), trained with binary cross-entropy
// and Adam; prints the test accuracy and AUC.
#include <cblas.h>

#include <algorithm>
#include <iostream>
#include <optional>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "examples/example_cli.h"
#include "xgrad.h"

using namespace xgrad;

namespace {

struct Options {
    std::string csv = XGRAD_EXAMPLES_DATA_DIR "/breast_cancer.csv";
    std::string target = "target";
    double test_fraction = 0.2;
    std::uint64_t split_seed = 42;
    int epochs = 50;
    int batch_size = 32;
    int units = 16;
    std::optional<double> learning_rate;
    std::uint64_t seed = 0;
    std::string save_path;
    bool summary_only = false;
    bool quiet = false;
};

void validate(const Options& o) {
    for (const auto& [flag, value] :
         {std::pair{"--epochs", o.epochs}, {"--batch-size", o.batch_size}, {"--units", o.units}}) {
        if (value < 1)
            throw examples::UsageError(fmt::format("{} must be at least 1, got {}", flag, value));
    }
    if (!(o.test_fraction > 0 && o.test_fraction < 1)) {
        throw examples::UsageError(
            fmt::format("--test-fraction must be in (0, 1), got {}", o.test_fraction));
    }
    if (o.split_seed == 0) {
        throw examples::UsageError("--split-seed must not be 0 (0 would hold out the last rows)");
    }
    if (o.learning_rate && !(*o.learning_rate > 0)) {
        throw examples::UsageError(
            fmt::format("--learning-rate must be positive, got {}", *o.learning_rate));
    }
    if (!o.save_path.empty()) examples::check_writable("--save", o.save_path);
}

// The dataset: every column but the target as features. Problems with the file are usage
// errors, as is a target that is not 0 or 1 (binary cross-entropy needs labels).
std::shared_ptr<data::CsvDataset> load(const Options& o) {
    std::shared_ptr<data::CsvDataset> dataset;
    try {
        std::vector<std::string> features = data::read_csv_header(o.csv);
        if (std::find(features.begin(), features.end(), o.target) != features.end())
            features.erase(std::find(features.begin(), features.end(), o.target));
        dataset =
            std::make_shared<data::CsvDataset>(o.csv, features, std::vector<std::string>{o.target});
    } catch (const std::exception& e) {
        throw examples::UsageError(e.what());
    }
    const Tensor& y = dataset->targets().at(0);
    for (std::size_t i = 0; i < y.size(); ++i) {
        if (y(i, 0) != 0.f && y(i, 0) != 1.f) {
            throw examples::UsageError(
                fmt::format("--target {}: row {} holds {}, but a binary classifier needs 0 or 1",
                            o.target, i + 1, y(i, 0)));
        }
    }
    return dataset;
}

int run(const Options& o) {
    validate(o);
    manual_seed(o.seed);
    auto dataset = load(o);
    auto [train, test] = data::train_validation_split(dataset, o.test_fraction, o.split_seed);
    openblas_set_num_threads(1);

    auto norm = std::make_shared<nn::Normalization>(dataset->example_shape());
    norm->adapt(*train);  // the training split only: the test rows stay unseen
    nn::Sequential model;
    model.add(norm);
    model.add(nn::Dense(std::size_t(o.units), "relu"));
    model.add(nn::Dense(1, "sigmoid"));
    if (!o.quiet || o.summary_only) model.summary(std::cout);
    if (o.summary_only) return 0;
    if (!o.quiet) {
        std::cout << fmt::format(
            "{} rows: {} for training, {} held out; {} features, target "
            "'{}'\n",
            dataset->size(), train->size(), test->size(), dataset->feature_columns().size(),
            o.target);
    }

    nn::Trainer trainer(
        model, optim::make_optimizer("adam", model.trainable_parameters(), o.learning_rate),
        "binary_crossentropy", {"accuracy", "auc"});
    nn::FitOptions fit;
    fit.epochs = std::size_t(o.epochs);
    fit.batch_size = std::size_t(o.batch_size);
    fit.seed = o.seed;
    fit.verbose = o.quiet ? 0 : 2;
    fit.callbacks.push_back(std::make_shared<nn::TerminateOnNaN>());
    trainer.fit(train, fit);
    if (!dist::is_root()) return 0;  // data-parallel: the others hold the same model

    const nn::Logs result = trainer.evaluate(*test);
    std::cout << fmt::format("Test accuracy: {:.4f}  AUC: {:.4f}  loss: {:.4f}  ({} rows)\n",
                             result.at("accuracy"), result.at("auc"), result.at("loss"),
                             test->size());
    if (!o.save_path.empty()) {
        nn::save_model(model, o.save_path);  // the Normalization's statistics included
        std::cout << "Saved the model to " << o.save_path << "\n";
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "Train a binary classifier on a CSV table (by default the Wisconsin "
        "diagnostic breast-cancer data): Normalization, Dense layers, sigmoid."};
    Options o;
    app.add_option("--csv", o.csv, "CSV file with a header row of column names")
        ->capture_default_str();
    app.add_option("--target", o.target,
                   "The 0/1 column to predict; every other column is a "
                   "feature")
        ->capture_default_str();
    app.add_option("--test-fraction", o.test_fraction, "Fraction of the rows held out for testing")
        ->capture_default_str();
    app.add_option("--split-seed", o.split_seed, "Seed of the random held-out split")
        ->capture_default_str();
    app.add_option("--epochs", o.epochs, "Training epochs")->capture_default_str();
    app.add_option("--batch-size", o.batch_size, "Rows per step")->capture_default_str();
    app.add_option("--units", o.units, "Units of the hidden Dense layer")->capture_default_str();
    app.add_option("--learning-rate", o.learning_rate, "Adam's learning rate (default 0.001)");
    app.add_option("--seed", o.seed, "Seed for initialisation and shuffling")
        ->capture_default_str();
    app.add_option("--save", o.save_path, "Write the trained model to this file");
    app.add_flag("--summary", o.summary_only, "Print the model summary and exit");
    app.add_flag("--quiet", o.quiet, "No summary and no progress output");
    return examples::run_cli(app, argc, argv, [&] { return run(o); });
}
