// What the character-level language models (examples/char_lstm, examples/char_transformer)
// share: their common flags and checks, the corpus and its windows, the loss and its
// evaluation on fixed windows, the training loop with its printed lines, and the sampling loop
// of --generate. Each program adds its model, its own flags and how it saves, loads and runs
// its model one position at a time. The command-line conventions are examples/example_cli.h's.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "examples/example_cli.h"
#include "xgrad.h"

namespace xgrad::examples {

// The flags both programs have; each program sets its own defaults for steps, batch_size,
// learning_rate and save_path.
struct CharModelOptions {
    // Training
    int steps = 0;
    int batch_size = 0;
    int block_size = 64;
    double learning_rate = 0;
    double clip_norm = 1.0;
    int eval_interval = 500;
    int eval_windows = 256;
    std::vector<std::string> data;  // empty: the fortunes corpus
    std::string save_path;
    // Generation
    std::string model_path;
    int generate = 0;
    double temperature = 1.0;
    int top_k = 0;
    std::string prompt = "\n";
    // Both
    std::uint64_t seed = 1;
    int threads = 1;
    bool quiet = false;
};

// --steps, --batch-size, --block-size: the first flags of --help.
inline void add_window_flags(CLI::App& app, CharModelOptions& o) {
    app.add_option("--steps", o.steps, "Training steps")->capture_default_str();
    app.add_option("--batch-size", o.batch_size, "Windows per step")->capture_default_str();
    app.add_option("--block-size", o.block_size, "Characters per window")->capture_default_str();
}

// The other shared flags, after the model's own; `optimizer` names the optimizer ("Adam").
inline void add_run_flags(CLI::App& app, CharModelOptions& o, const std::string& optimizer) {
    app.add_option("--learning-rate", o.learning_rate, optimizer + "'s learning rate")
        ->capture_default_str();
    app.add_option("--clip-norm", o.clip_norm, "Global gradient norm limit")->capture_default_str();
    app.add_option("--eval-interval", o.eval_interval, "Steps between loss reports")
        ->capture_default_str();
    app.add_option("--eval-windows", o.eval_windows, "Validation windows per evaluation")
        ->capture_default_str();
    app.add_option("--data", o.data, "Text files to train on (default: the fortunes corpus)");
    app.add_option("--save", o.save_path, "Where to save the trained model (empty: not saved)")
        ->capture_default_str();
    app.add_option("--model", o.model_path, "A saved model to generate from");
    app.add_option("--generate", o.generate, "Generate this many characters from --model");
    app.add_option("--temperature", o.temperature, "Sampling temperature (0: greedy)")
        ->capture_default_str();
    app.add_option("--top-k", o.top_k, "Sample among the k likeliest characters (0: all)")
        ->capture_default_str();
    app.add_option("--prompt", o.prompt, "Text the generation starts from (default: a newline)");
    app.add_option("--seed", o.seed, "Seed for initialisation, batches and sampling")
        ->capture_default_str();
    app.add_option("--threads", o.threads, "BLAS threads")->capture_default_str();
    app.add_flag("--quiet", o.quiet, "Only the final line (training) or the text (generation)");
}

// Each (flag, value) is at least 1, else a UsageError.
inline void require_positive(std::initializer_list<std::pair<const char*, int>> flags) {
    for (const auto& [flag, value] : flags) {
        if (value < 1) throw UsageError(fmt::format("{} must be at least 1, got {}", flag, value));
    }
}

// The shared flags' checks (a UsageError naming the flag and its value).
inline void validate(const CharModelOptions& o) {
    require_positive({{"--steps", o.steps},
                      {"--batch-size", o.batch_size},
                      {"--block-size", o.block_size},
                      {"--eval-interval", o.eval_interval},
                      {"--eval-windows", o.eval_windows},
                      {"--threads", o.threads}});
    if (!(o.learning_rate > 0)) {
        throw UsageError(fmt::format("--learning-rate must be positive, got {}", o.learning_rate));
    }
    if (!(o.clip_norm > 0)) {
        throw UsageError(fmt::format("--clip-norm must be positive, got {}", o.clip_norm));
    }
    if (o.generate < 0)
        throw UsageError(fmt::format("--generate must be >= 0, got {}", o.generate));
    if (o.generate > 0 && o.model_path.empty()) {
        throw UsageError("--generate needs --model (a model saved by a training run)");
    }
    if (!(o.temperature >= 0) || !std::isfinite(o.temperature)) {
        throw UsageError(
            fmt::format("--temperature must be finite and >= 0, got {}", o.temperature));
    }
    if (o.top_k < 0) throw UsageError(fmt::format("--top-k must be >= 0, got {}", o.top_k));
    if (o.generate == 0 && !o.save_path.empty()) check_writable("--save", o.save_path);
}

// Runs `f` and gives back its result; an exception it throws becomes a UsageError with the
// same message (bad data or a bad model file is bad input, found before any work starts).
template <class F>
auto or_usage_error(F&& f) {
    try {
        return f();
    } catch (const std::exception& e) {
        throw UsageError(e.what());
    }
}

// The text of --data (or the fortunes corpus), its vocabulary and its windows: the last 10%
// by position for validation.
struct CharCorpus {
    std::vector<std::string> files;
    std::string text;
    data::CharVocabulary vocabulary;
    data::TextSplit split;
    data::TextWindows train, validation;

    // Bad data (a missing or empty file, a text too short for a window) is a UsageError.
    static CharCorpus read(const CharModelOptions& o) {
        return or_usage_error([&] {
            std::vector<std::string> files = o.data.empty() ? data::fortune_files() : o.data;
            std::string text = data::read_text_files(files);
            data::CharVocabulary vocabulary = data::CharVocabulary::of_text(text);
            data::TextSplit split = data::split_text(vocabulary.encode(text), 0.1);
            data::TextWindows train(split.train, std::size_t(o.block_size));
            data::TextWindows validation(split.validation, std::size_t(o.block_size));
            return CharCorpus{std::move(files), std::move(text),  std::move(vocabulary),
                              std::move(split), std::move(train), std::move(validation)};
        });
    }

    // "corpus: N characters in F files, vocabulary V, train T, validation W"
    std::string describe() const {
        return fmt::format(
            "corpus: {} characters in {} files, vocabulary {}, train {}, validation {}",
            text.size(), files.size(), vocabulary.size(), split.train.size(),
            split.validation.size());
    }
};

// Mean cross-entropy in nats per character of logits (batch, time, vocab) against the next
// characters (batch, time).
inline Variable next_char_loss(const Variable& logits, const Tensor& targets) {
    const long vocab = static_cast<long>(logits.shape().back());
    IndexTensor labels = IndexTensor::from_shape({targets.size()});
    std::copy(targets.begin(), targets.end(), labels.begin());
    return cross_entropy(reshape(logits, {-1, vocab}), labels);
}

// The loss over `count` windows at evenly spaced offsets of the text: the same windows every
// time (and in the PyTorch twins), so that evaluations differ only by the model.
inline double evaluate(nn::Module& model, const data::TextWindows& windows, std::size_t count,
                       std::size_t batch_size) {
    nn::TrainingModeGuard eval_mode(model, false);
    NoGradGuard no_grad;
    count = std::min(count, windows.size());
    std::vector<std::size_t> offsets(count);
    for (std::size_t i = 0; i < count; ++i)
        offsets[i] = i * (windows.size() - 1) / std::max<std::size_t>(count - 1, 1);
    double total = 0;
    data::Batch batch;
    for (std::size_t start = 0; start < count; start += batch_size) {
        const std::vector<std::size_t> part(
            offsets.begin() + long(start),
            offsets.begin() + long(std::min(count, start + batch_size)));
        windows.get_batch(part, batch);
        total += double(next_char_loss(model(Variable(batch.input())), batch.target()).item()) *
                 double(part.size());
    }
    return total / double(count);
}

// Trains `model` for --steps steps on random windows (batches drawn from seed + 1), with
// gradients clipped to --clip-norm before each optimizer step; evaluates and prints the losses
// every --eval-interval steps, then `save`s to --save (unless empty) and prints the final line
// that bench/compare_pytorch reads. The step time covers the batch, forward, backward, clipping
// and the update, not the evaluations.
inline int train_char_model(nn::Module& model, optim::Optimizer& optimizer,
                            const CharCorpus& corpus, const CharModelOptions& o,
                            const std::function<void(const std::string&)>& save) {
    using Clock = std::chrono::steady_clock;
    const std::vector<Variable> params = model.trainable_parameters();
    Rng batches(o.seed + 1);
    data::Batch batch;
    double train_seconds = 0, loss_sum = 0, val_loss = 0;
    int loss_count = 0;
    for (int step = 1; step <= o.steps; ++step) {
        const auto start = Clock::now();
        corpus.train.random_batch(std::size_t(o.batch_size), batches, batch);
        const Variable loss = next_char_loss(model(Variable(batch.input())), batch.target());
        loss.backward();
        optim::clip_grad_norm(params, o.clip_norm);
        optimizer.step();
        optimizer.zero_grad();
        train_seconds += std::chrono::duration<double>(Clock::now() - start).count();
        loss_sum += double(loss.item());
        ++loss_count;
        if (step % o.eval_interval == 0 || step == o.steps) {
            val_loss = evaluate(model, corpus.validation, std::size_t(o.eval_windows),
                                std::size_t(o.batch_size));
            if (!std::isfinite(val_loss)) throw std::runtime_error("the loss is not finite");
            if (!o.quiet) {
                std::cout << fmt::format(
                                 "step {:5d}  train loss {:.4f}  val loss {:.4f}  "
                                 "({:.1f} ms/step)\n",
                                 step, loss_sum / loss_count, val_loss, 1e3 * train_seconds / step)
                          << std::flush;
            }
            loss_sum = 0;
            loss_count = 0;
        }
    }
    if (!o.save_path.empty()) {
        save(o.save_path);
        if (!o.quiet) std::cout << "saved the model and its vocabulary to " << o.save_path << "\n";
    }
    // One line for bench/compare_pytorch.
    std::cout << fmt::format("final steps {} step_time_ms {:.3f} val_loss {:.4f}\n", o.steps,
                             1e3 * train_seconds / o.steps, val_loss);
    return 0;
}

// The logits (vocabulary,) of the character after the given ones, which continue all those
// given before (the first call gets the prompt, each later call the one character sampled).
using NextLogits = std::function<Tensor(const std::vector<std::int64_t>&)>;

// --generate: samples --generate characters after --prompt (temperature, top-k, seed) in eval
// mode without a graph, prints them (and, unless --quiet, the time taken on stderr).
inline int generate_text(nn::Module& model, const data::CharVocabulary& vocabulary,
                         const CharModelOptions& o, const NextLogits& next_logits) {
    using Clock = std::chrono::steady_clock;
    if (o.prompt.empty()) throw UsageError("--prompt must not be empty");
    std::vector<std::int64_t> prompt;
    try {
        prompt = vocabulary.encode(o.prompt);
    } catch (const std::invalid_argument& e) {
        throw UsageError(std::string("--prompt: ") + e.what());
    }
    model.eval();
    NoGradGuard no_grad;
    Rng rng(o.seed);
    const auto start = Clock::now();
    Tensor logits = next_logits(prompt);
    std::string out;
    for (int i = 0; i < o.generate; ++i) {
        const std::int64_t next = sample_categorical(
            logits, {.temperature = o.temperature, .top_k = std::size_t(o.top_k)}, rng)();
        out.push_back(vocabulary.character(next));
        if (i + 1 < o.generate) logits = next_logits({next});
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::cout << out << std::flush;
    if (!o.quiet) {
        std::cerr << fmt::format("\n[generated {} characters in {:.3f} s]\n", o.generate, seconds);
    }
    return 0;
}

}  // namespace xgrad::examples
