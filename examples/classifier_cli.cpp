#include "examples/classifier_cli.h"

#include <cblas.h>

#include <filesystem>
#include <iostream>
#include <optional>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "examples/distributed_run.h"
#include "examples/writable_path.h"
#include "xgrad.h"

namespace xgrad::examples {

namespace {

// Bad command-line input: reported as "error: ..." with exit status 2, before training.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Options {
    int epochs = 10;
    int batch_size = 32;
    std::string optimizer = "adam";
    std::optional<double> learning_rate;
    std::uint64_t seed = 0;
    std::string dataset = "fashion_mnist";
    std::string data_dir;
    double validation_split = 0;
    int threads = 1;
    std::string save_path;
    std::string history_path;
    std::string checkpoint_path;
    std::string resume_path;
    std::string plot_path;
    std::string confusion_path;
    bool summary_only = false;
    bool quiet = false;
};

void check_writable(const std::string& flag, const std::string& path) {
    if (const std::string why = unwritable_reason(flag, path); !why.empty()) throw UsageError(why);
}

void validate(const Options& o) {
    auto at_least_one = [](const char* flag, int value) {
        if (value < 1) throw UsageError(fmt::format("{} must be at least 1, got {}", flag, value));
    };
    at_least_one("--epochs", o.epochs);
    at_least_one("--batch-size", o.batch_size);
    at_least_one("--threads", o.threads);
    if (o.learning_rate && !(*o.learning_rate > 0)) {
        throw UsageError(fmt::format("--learning-rate must be positive, got {}", *o.learning_rate));
    }
    if (!(o.validation_split >= 0 && o.validation_split < 1)) {
        throw UsageError(
            fmt::format("--validation-split must be in [0, 1), got {}", o.validation_split));
    }
    if (!o.save_path.empty()) check_writable("--save", o.save_path);
    if (!o.history_path.empty()) check_writable("--history", o.history_path);
    if (!o.checkpoint_path.empty()) check_writable("--checkpoint", o.checkpoint_path);
    if (!o.plot_path.empty()) check_writable("--plot", o.plot_path);
    if (!o.confusion_path.empty()) check_writable("--confusion", o.confusion_path);
    if (!o.resume_path.empty() && !std::filesystem::is_regular_file(o.resume_path)) {
        throw UsageError("--resume " + o.resume_path + ": no such file");
    }
}

nn::ConfusionMatrix test_confusion(const Tensor& probs, const data::Dataset& test) {
    IndexTensor labels = IndexTensor::from_shape({test.size()});
    for (std::size_t i = 0; i < test.size(); ++i) labels(i) = test.label(i);
    return nn::confusion_matrix(probs, labels);
}

void print_class_report(const nn::ConfusionMatrix& confusion, const data::Dataset& test) {
    const auto names = test.class_names();
    const std::size_t k = names.size();
    std::cout << "\nPer-class accuracy:\n";
    for (std::size_t c = 0; c < k; ++c) {
        std::size_t total = 0;
        for (auto n : confusion[c]) total += n;
        std::cout << fmt::format("  {:>2} {:<12} {:.4f}  ({}/{})\n", c, names[c],
                                 total ? double(confusion[c][c]) / double(total) : 0.0,
                                 confusion[c][c], total);
    }
    std::cout << "\nConfusion matrix (rows: true class, columns: predicted class):\n      ";
    for (std::size_t c = 0; c < k; ++c) std::cout << fmt::format("{:>6}", c);
    std::cout << "\n";
    for (std::size_t r = 0; r < k; ++r) {
        std::cout << fmt::format("  {:>2}  ", r);
        for (std::size_t c = 0; c < k; ++c) std::cout << fmt::format("{:>6}", confusion[r][c]);
        std::cout << "  " << names[r] << "\n";
    }
}

int run(const ClassifierProgram& program, const Options& o) {
    validate(o);
    manual_seed(o.seed);
    nn::Sequential model;
    program.build_model(model);
    if (o.summary_only) {
        model.summary(std::cout);
        return 0;
    }

    std::shared_ptr<data::Dataset> train, test;
    try {
        train = data::make_dataset(o.dataset, o.data_dir, data::Split::train);
        test = data::make_dataset(o.dataset, o.data_dir, data::Split::test);
    } catch (const std::exception& e) {
        throw UsageError(e.what());
    }
    openblas_set_num_threads(o.threads);

    nn::Trainer trainer(
        model, optim::make_optimizer(o.optimizer, model.trainable_parameters(), o.learning_rate),
        "sparse_categorical_crossentropy", {"accuracy"});
    const double initial_rate = trainer.optimizer().learning_rate();  // before any resume
    nn::History previous;
    if (!o.resume_path.empty()) {
        try {
            previous = nn::load_training_checkpoint(o.resume_path, trainer);
        } catch (const std::exception& e) {
            throw UsageError(e.what());
        }
    }
    if (!o.quiet) {
        model.summary(std::cout);
        if (!o.resume_path.empty()) {
            std::cout << "Resuming from " << o.resume_path << " after epoch " << previous.size()
                      << "\n";
        }
    }

    auto nan_guard = std::make_shared<nn::TerminateOnNaN>();
    nn::FitOptions fit;
    fit.epochs = static_cast<std::size_t>(o.epochs);
    fit.initial_epoch = previous.size();
    fit.batch_size = static_cast<std::size_t>(o.batch_size);
    fit.seed = o.seed;
    fit.validation_split = o.validation_split;
    fit.verbose = o.quiet ? 0 : 1;
    fit.callbacks.push_back(nan_guard);
    if (program.cosine_decay) {  // one step of the schedule per epoch
        const optim::CosineDecay decay(initial_rate, o.epochs);
        fit.callbacks.push_back(std::make_shared<nn::LearningRateScheduler>(
            [decay](std::size_t epoch, double) { return decay(std::int64_t(epoch)); }));
    }
    if (!o.history_path.empty()) {
        fit.callbacks.push_back(std::make_shared<nn::CSVLogger>(o.history_path, previous));
    }
    if (!o.checkpoint_path.empty()) {
        fit.callbacks.push_back(
            std::make_shared<nn::TrainingCheckpoint>(o.checkpoint_path, previous));
    }
    if (!o.plot_path.empty()) {
        fit.callbacks.push_back(std::make_shared<nn::LearningCurvesPlot>(o.plot_path, previous));
    }
    trainer.fit(train, fit);
    if (nan_guard->terminated()) throw std::runtime_error(nan_guard->message());
    if (!dist::is_root()) return 0;  // data-parallel: the others hold the same model

    const nn::Logs result = trainer.evaluate(*test);
    std::cout << fmt::format("Test accuracy: {:.4f}\n", result.at("accuracy"));
    const nn::ConfusionMatrix confusion = test_confusion(trainer.predict(*test), *test);
    print_class_report(confusion, *test);
    if (!o.save_path.empty()) {
        nn::save_model(model, o.save_path);
        std::cout << "\nSaved the model to " << o.save_path << "\n";
    }
    if (!o.plot_path.empty()) std::cout << "Wrote the learning curves to " << o.plot_path << "\n";
    if (!o.confusion_path.empty()) {
        nn::write_file_atomically(o.confusion_path,
                                  nn::confusion_matrix_svg(confusion, test->class_names()));
        std::cout << "Wrote the confusion matrix to " << o.confusion_path << "\n";
    }
    return 0;
}

}  // namespace

int run_classifier(const ClassifierProgram& program, int argc, char** argv) {
    dist::Session session;  // under mpirun, data-parallel (examples/distributed_run.h)
    OnlyRootPrints quiet_others;
    CLI::App app{program.description};
    Options o;
    o.epochs = program.default_epochs;
    o.batch_size = program.default_batch_size;
    app.add_option("--epochs", o.epochs, "Training epochs")->capture_default_str();
    app.add_option("--batch-size", o.batch_size, "Examples per step")->capture_default_str();
    app.add_option("--optimizer", o.optimizer, "adam, sgd, rmsprop or adamw")
        ->check(CLI::IsMember({"adam", "sgd", "rmsprop", "adamw"}))
        ->capture_default_str();
    app.add_option("--learning-rate", o.learning_rate,
                   "Learning rate (default: the optimizer's own)");
    app.add_option("--seed", o.seed, "Seed for initialisation and shuffling")
        ->capture_default_str();
    app.add_option("--dataset", o.dataset, "Registered dataset name (fashion_mnist, mnist)")
        ->capture_default_str();
    app.add_option("--data-dir", o.data_dir,
                   "Data directory (default: $XGRAD_DATA_DIR, else Debian's package directory)");
    app.add_option("--validation-split", o.validation_split,
                   "Fraction of the training set held out for validation")
        ->capture_default_str();
    app.add_option("--threads", o.threads, "BLAS threads")->capture_default_str();
    app.add_option("--save", o.save_path, "Write the trained model to this file");
    app.add_option("--history", o.history_path, "Write per-epoch metrics to this CSV file");
    app.add_option("--checkpoint", o.checkpoint_path,
                   "Save the full training state here after every epoch");
    app.add_option("--resume", o.resume_path, "Continue from a --checkpoint file");
    app.add_option("--plot", o.plot_path,
                   "Draw the loss and metrics per epoch to this SVG file (after every epoch)");
    app.add_option("--confusion", o.confusion_path,
                   "Draw the test set's confusion matrix to this SVG file");
    app.add_flag("--summary", o.summary_only, "Print the model summary and exit");
    app.add_flag("--quiet", o.quiet, "No summary and no progress output");
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 2;
    }
    try {
        return run(program, o);
    } catch (const UsageError& e) {
        std::cerr << "error: " << e.what() << "\n";
        return failed(2);
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return failed(1);
    }
}

}  // namespace xgrad::examples
