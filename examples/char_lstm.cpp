// A character-level language model, char-rnn style: Embedding -> LSTM -> LSTM -> Dense to
// the vocabulary, trained on random windows of the fortunes corpus (datasets/text.h) to
// predict each next character, with Adam and gradient clipping. Prints the training and
// validation loss in nats per character every --eval-interval steps, saves the model with its
// vocabulary, and with --generate samples text from a saved model:
//
//   char_lstm --steps 1500 --save char_lstm.safetensors
//   char_lstm --model char_lstm.safetensors --generate 1000 --temperature 0.8 --seed 7
//
// bench/torch_char_lstm.py is the same program in PyTorch (bench/compare_pytorch --model lstm).
#include <cblas.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <xtensor/xview.hpp>

#include "examples/example_cli.h"
#include "xgrad.h"

using namespace xgrad;

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
    // Training
    int steps = 1500;
    int batch_size = 32;
    int block_size = 64;
    int embedding = 64;
    int units = 256;
    double learning_rate = 2e-3;
    double clip_norm = 1.0;
    int eval_interval = 500;
    int eval_windows = 256;
    std::vector<std::string> data;  // empty: the fortunes corpus
    std::string save_path = "char_lstm.safetensors";
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

void validate(const Options& o) {
    for (const auto& [flag, value] : {std::pair{"--steps", o.steps},
                                      {"--batch-size", o.batch_size},
                                      {"--block-size", o.block_size},
                                      {"--embedding", o.embedding},
                                      {"--units", o.units},
                                      {"--eval-interval", o.eval_interval},
                                      {"--eval-windows", o.eval_windows},
                                      {"--threads", o.threads}}) {
        if (value < 1) {
            throw examples::UsageError(fmt::format("{} must be at least 1, got {}", flag, value));
        }
    }
    if (!(o.learning_rate > 0)) {
        throw examples::UsageError(
            fmt::format("--learning-rate must be positive, got {}", o.learning_rate));
    }
    if (!(o.clip_norm > 0)) {
        throw examples::UsageError(
            fmt::format("--clip-norm must be positive, got {}", o.clip_norm));
    }
    if (o.generate < 0) {
        throw examples::UsageError(fmt::format("--generate must be >= 0, got {}", o.generate));
    }
    if (o.generate > 0 && o.model_path.empty()) {
        throw examples::UsageError("--generate needs --model (a model saved by a training run)");
    }
    if (!(o.temperature >= 0) || !std::isfinite(o.temperature)) {
        throw examples::UsageError(
            fmt::format("--temperature must be finite and >= 0, got {}", o.temperature));
    }
    if (o.top_k < 0)
        throw examples::UsageError(fmt::format("--top-k must be >= 0, got {}", o.top_k));
    if (o.generate == 0 && !o.save_path.empty()) examples::check_writable("--save", o.save_path);
}

nn::Sequential make_model(std::size_t vocab, const Options& o) {
    nn::Sequential model("char_lstm");
    model.add(nn::Embedding(vocab, std::size_t(o.embedding)));
    model.add(nn::LSTM(std::size_t(o.units), /*return_sequences=*/true));
    model.add(nn::LSTM(std::size_t(o.units), /*return_sequences=*/true));
    model.add(nn::Dense(vocab));
    model.build({std::size_t(o.block_size)});
    return model;
}

// Mean cross-entropy in nats per character of logits (batch, time, vocab) against the next
// characters (batch, time).
Variable next_char_loss(const Variable& logits, const Tensor& targets) {
    const long vocab = static_cast<long>(logits.shape().back());
    IndexTensor labels = IndexTensor::from_shape({targets.size()});
    std::copy(targets.begin(), targets.end(), labels.begin());
    return cross_entropy(reshape(logits, {-1, vocab}), labels);
}

// The loss over `count` windows at evenly spaced offsets of the text: the same windows every
// time (and in the PyTorch twin), so that evaluations differ only by the model.
double evaluate(nn::Sequential& model, const data::TextWindows& windows, std::size_t count,
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

int train(const Options& o) {
    // Bad data (a missing or empty file, a text too short for a window) is a usage error,
    // found before training starts.
    std::vector<std::string> files;
    std::string text;
    std::optional<data::CharVocabulary> vocab_or;
    std::optional<data::TextSplit> split_or;
    std::optional<data::TextWindows> train_or, validation_or;
    try {
        files = o.data.empty() ? data::fortune_files() : o.data;
        text = data::read_text_files(files);
        vocab_or.emplace(data::CharVocabulary::of_text(text));
        split_or.emplace(data::split_text(vocab_or->encode(text), 0.1));
        train_or.emplace(split_or->train, std::size_t(o.block_size));
        validation_or.emplace(split_or->validation, std::size_t(o.block_size));
    } catch (const std::exception& e) {
        throw examples::UsageError(e.what());
    }
    const data::CharVocabulary& vocab = *vocab_or;
    const data::TextSplit& split = *split_or;
    const data::TextWindows& train_windows = *train_or;
    const data::TextWindows& validation_windows = *validation_or;

    manual_seed(o.seed);
    nn::Sequential model = make_model(vocab.size(), o);
    if (!o.quiet) {
        std::cout << fmt::format(
            "corpus: {} characters in {} files, vocabulary {}, train {}, "
            "validation {}\n",
            text.size(), files.size(), vocab.size(), split.train.size(), split.validation.size());
        model.summary(std::cout);
    }
    const std::vector<Variable> params = model.trainable_parameters();
    optim::Adam adam(params, {.learning_rate = o.learning_rate});
    Rng batches(o.seed + 1);
    data::Batch batch;
    double train_seconds = 0, loss_sum = 0, val_loss = 0;
    int loss_count = 0;
    for (int step = 1; step <= o.steps; ++step) {
        const auto start = Clock::now();
        train_windows.random_batch(std::size_t(o.batch_size), batches, batch);
        const Variable loss = next_char_loss(model(Variable(batch.input())), batch.target());
        loss.backward();
        optim::clip_grad_norm(params, o.clip_norm);
        adam.step();
        adam.zero_grad();
        train_seconds += std::chrono::duration<double>(Clock::now() - start).count();
        loss_sum += double(loss.item());
        ++loss_count;
        if (step % o.eval_interval == 0 || step == o.steps) {
            val_loss = evaluate(model, validation_windows, std::size_t(o.eval_windows),
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
        nn::save_model(model, o.save_path, {{"vocabulary", vocab.serialize()}});
        if (!o.quiet) std::cout << "saved the model and its vocabulary to " << o.save_path << "\n";
    }
    // One line for bench/compare_pytorch.
    std::cout << fmt::format("final steps {} step_time_ms {:.3f} val_loss {:.4f}\n", o.steps,
                             1e3 * train_seconds / o.steps, val_loss);
    return 0;
}

// The logits of the next character after `ids` (1, n), carrying each recurrent layer's state
// from call to call, so that every character runs through the model once.
Tensor next_logits(const nn::Sequential& model, const Tensor& ids,
                   std::vector<std::vector<Variable>>& states) {
    Variable x(ids);
    for (std::size_t i = 0; i < model.layers().size(); ++i) {
        nn::Module& layer = *model.layers()[i];
        if (auto* rnn = dynamic_cast<nn::RecurrentLayer*>(&layer)) {
            std::vector<Variable> out = rnn->run(x, states[i]);
            x = out[0];
            states[i].assign(out.begin() + 1, out.end());
        } else if (auto* dense = dynamic_cast<nn::Dense*>(&layer)) {
            // Only the last position's logits are needed; the layer was built for a whole
            // window, so its weights are applied directly.
            const Shape s = x.shape();
            const Variable last = reshape(slice(x, 1, s[1] - 1, s[1]), {1, long(s[2])});
            x = linear(last, dense->kernel(), dense->bias());
        } else {
            x = layer(x);
        }
    }
    return x.value();
}

int generate(const Options& o) {
    // A missing or corrupt model file is bad input, like a missing data file.
    nn::Metadata metadata;
    std::optional<nn::Sequential> loaded;
    std::optional<data::CharVocabulary> vocab_or;
    try {
        loaded.emplace(nn::load_model(o.model_path, &metadata));
        if (metadata.count("vocabulary") == 0) {
            throw std::runtime_error("the model file " + o.model_path +
                                     " holds no vocabulary (was it saved by char_lstm?)");
        }
        vocab_or.emplace(data::CharVocabulary::parse(metadata.at("vocabulary")));
    } catch (const std::exception& e) {
        throw examples::UsageError(e.what());
    }
    nn::Sequential& model = *loaded;
    const data::CharVocabulary& vocab = *vocab_or;
    if (o.prompt.empty()) throw examples::UsageError("--prompt must not be empty");
    std::vector<std::int64_t> prompt_ids;
    try {
        prompt_ids = vocab.encode(o.prompt);
    } catch (const std::invalid_argument& e) {
        throw examples::UsageError(std::string("--prompt: ") + e.what());
    }
    model.eval();
    NoGradGuard no_grad;
    Rng rng(o.seed);
    const auto start = Clock::now();
    std::vector<std::vector<Variable>> states(model.layers().size());
    Tensor ids = Tensor::from_shape({1, prompt_ids.size()});
    std::copy(prompt_ids.begin(), prompt_ids.end(), ids.begin());
    std::string out;
    for (int i = 0; i < o.generate; ++i) {
        const Tensor logits = next_logits(model, ids, states);
        const std::int64_t next = sample_categorical(
            Tensor(xt::view(logits, 0)),
            {.temperature = o.temperature, .top_k = std::size_t(o.top_k)}, rng)();
        out.push_back(vocab.character(next));
        ids = Tensor::from_shape({1, 1});
        ids(0, 0) = float(next);
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::cout << out << std::flush;
    if (!o.quiet) {
        std::cerr << fmt::format("\n[generated {} characters in {:.3f} s]\n", o.generate, seconds);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "Train a 2-layer LSTM character model (char-rnn) on the fortunes corpus, or generate "
        "text from a saved one."};
    Options o;
    app.add_option("--steps", o.steps, "Training steps")->capture_default_str();
    app.add_option("--batch-size", o.batch_size, "Windows per step")->capture_default_str();
    app.add_option("--block-size", o.block_size, "Characters per window")->capture_default_str();
    app.add_option("--embedding", o.embedding, "Embedding size")->capture_default_str();
    app.add_option("--units", o.units, "Units of each LSTM layer")->capture_default_str();
    app.add_option("--learning-rate", o.learning_rate, "Adam's learning rate")
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
    return examples::run_cli(app, argc, argv, [&] {
        validate(o);
        openblas_set_num_threads(o.threads);
        return o.generate > 0 ? generate(o) : train(o);
    });
}
