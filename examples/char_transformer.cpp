// A GPT-style character-level language model (nanoGPT's model.py in xgrad's layers): token and
// position embeddings, pre-norm causal transformer blocks (LayerNormalization ->
// MultiHeadAttention -> residual, LayerNormalization -> Dense MLP -> residual), a final
// LayerNormalization and a Dense head to the vocabulary. Trained on random windows of the
// fortunes corpus (datasets/text.h) with AdamW; prints the training and validation loss in
// nats per character every --eval-interval steps, saves the model (its vocabulary is part of
// its config), and with --generate samples text from a saved model, one character at a time
// with cached keys and values:
//
//   char_transformer --steps 2000 --save char_transformer.safetensors
//   char_transformer --model char_transformer.safetensors --generate 1000 --temperature 0.8
//
// The defaults are nanoGPT's CPU configuration (4 layers, 4 heads, 128 embedding, block 64,
// batch 12, 2,000 steps, learning rate 1e-3, dropout 0). bench/torch_char_transformer.py is
// the same program in PyTorch (bench/compare_pytorch --model transformer).
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
    int steps = 2000;
    int batch_size = 12;
    int block_size = 64;
    int layers = 4;
    int heads = 4;
    int embedding = 128;
    double learning_rate = 1e-3;
    double weight_decay = 0.1;
    double clip_norm = 1.0;
    int eval_interval = 500;
    int eval_windows = 256;
    std::vector<std::string> data;  // empty: the fortunes corpus
    std::string save_path = "char_transformer.safetensors";
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
                                      {"--layers", o.layers},
                                      {"--heads", o.heads},
                                      {"--embedding", o.embedding},
                                      {"--eval-interval", o.eval_interval},
                                      {"--eval-windows", o.eval_windows},
                                      {"--threads", o.threads}}) {
        if (value < 1) {
            throw examples::UsageError(fmt::format("{} must be at least 1, got {}", flag, value));
        }
    }
    if (o.embedding % o.heads != 0) {
        throw examples::UsageError(
            fmt::format("--embedding {} must be a multiple of --heads {}", o.embedding, o.heads));
    }
    if (!(o.learning_rate > 0)) {
        throw examples::UsageError(
            fmt::format("--learning-rate must be positive, got {}", o.learning_rate));
    }
    if (!(o.weight_decay >= 0)) {
        throw examples::UsageError(
            fmt::format("--weight-decay must be >= 0, got {}", o.weight_decay));
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

// One pre-norm block: x + attention(norm(x)), then x + mlp(norm(x)) (nanoGPT's Block).
class TransformerBlock : public nn::Module {
  public:
    TransformerBlock(std::size_t embedding, std::size_t heads) {
        for (auto m : std::initializer_list<std::shared_ptr<nn::Module>>{
                 norm1_,
                 attention_ = std::make_shared<nn::MultiHeadAttention>(heads, embedding / heads, 0,
                                                                       true, 0, true),
                 norm2_, fc_ = std::make_shared<nn::Dense>(4 * embedding, "gelu"),
                 proj_ = std::make_shared<nn::Dense>(embedding)}) {
            register_module(m);
        }
    }
    std::string type_name() const override { return "TransformerBlock"; }
    Variable forward(const Variable& x) override {
        const Variable h = x + (*attention_)((*norm1_)(x));
        return h + (*proj_)((*fc_)((*norm2_)(h)));
    }
    using Module::forward;

    // The same for the next positions x (1, m, embedding) of a sequence whose earlier
    // positions' keys and values (1, t, embedding) are cached: only the new positions are
    // computed, and their keys and values join the cache. With an empty cache (a prefill) the
    // chunk attends causally to itself; afterwards one position at a time attends to all.
    Variable decode(const Variable& x, Variable& keys, Variable& values) const {
        const nn::AttentionWeights<float> w = attention_->weights();
        const Variable h = normalize(*norm1_, x);
        const Variable k = nn::project_heads(h, w.key_kernel, w.key_bias);
        const Variable v = nn::project_heads(h, w.value_kernel, w.value_bias);
        const bool prefill = !keys.defined();
        keys = prefill ? k : concat({keys, k}, 1);
        values = prefill ? v : concat({values, v}, 1);
        const Variable q = nn::project_heads(h, w.query_kernel, w.query_bias);
        const Variable o =
            attention(q, keys, values, {.num_heads = attention_->num_heads(), .causal = prefill});
        const Variable y = x + nn::project_output(o, w.output_kernel, w.output_bias);
        const Variable hidden =
            activate(fc_->activation(), linear(normalize(*norm2_, y), fc_->kernel(), fc_->bias()));
        return y + linear(hidden, proj_->kernel(), proj_->bias());
    }

  private:
    // The layers' formulas on any number of positions (the layers themselves are built for a
    // whole window).
    static Variable normalize(const nn::LayerNormalization& n, const Variable& x) {
        return layer_norm(x, n.gamma(), n.beta(), n.epsilon());
    }

    // epsilon 1e-5 as torch's LayerNorm (Keras' default is 1e-3).
    std::shared_ptr<nn::LayerNormalization> norm1_ = std::make_shared<nn::LayerNormalization>(1e-5);
    std::shared_ptr<nn::MultiHeadAttention> attention_;
    std::shared_ptr<nn::LayerNormalization> norm2_ = std::make_shared<nn::LayerNormalization>(1e-5);
    std::shared_ptr<nn::Dense> fc_, proj_;
};

// The whole model; its config holds the vocabulary, so a model file is all generation needs.
class CharTransformer : public nn::Module {
  public:
    CharTransformer(data::CharVocabulary vocabulary, std::size_t block_size, std::size_t layers,
                    std::size_t heads, std::size_t embedding)
        : vocabulary_(std::move(vocabulary)),
          block_size_(block_size),
          layers_(layers),
          heads_(heads),
          embedding_(embedding) {
        tokens_ = std::make_shared<nn::Embedding>(vocabulary_.size(), embedding);
        positions_ = std::make_shared<nn::Embedding>(block_size, embedding);
        register_module(tokens_);
        register_module(positions_);
        for (std::size_t i = 0; i < layers; ++i) {
            blocks_.push_back(std::make_shared<TransformerBlock>(embedding, heads));
            register_module(blocks_.back());
        }
        norm_ = std::make_shared<nn::LayerNormalization>(1e-5);
        head_ = std::make_shared<nn::Dense>(vocabulary_.size());
        register_module(norm_);
        register_module(head_);
        Tensor pos = Tensor::from_shape({1, block_size});
        for (std::size_t t = 0; t < block_size; ++t) pos(0, t) = float(t);
        position_ids_ = Variable(pos);
    }
    std::string type_name() const override { return "CharTransformer"; }
    const data::CharVocabulary& vocabulary() const { return vocabulary_; }
    std::size_t block_size() const { return block_size_; }

    // ids (batch, block_size) -> logits (batch, block_size, vocabulary)
    Variable forward(const Variable& ids) override {
        Variable x = (*tokens_)(ids) + (*positions_)(position_ids_);
        for (auto& block : blocks_) x = (*block)(x);
        return (*head_)((*norm_)(x));
    }
    using Module::forward;

    // Keys and values of every block for the positions decoded so far.
    struct Cache {
        std::vector<Variable> keys, values;
        std::size_t length = 0;
    };

    // The logits (vocabulary,) of the character after `ids`, which continue the cached
    // positions (at most block_size in all).
    Tensor decode(const std::vector<std::int64_t>& ids, Cache& cache) const {
        const std::size_t m = ids.size();
        Tensor tok = Tensor::from_shape({1, m}), pos = Tensor::from_shape({1, m});
        for (std::size_t i = 0; i < m; ++i) {
            tok(0, i) = float(ids[i]);
            pos(0, i) = float(cache.length + i);
        }
        Variable x = (*tokens_)(Variable(tok)) + (*positions_)(Variable(pos));
        cache.keys.resize(blocks_.size());
        cache.values.resize(blocks_.size());
        for (std::size_t b = 0; b < blocks_.size(); ++b) {
            x = blocks_[b]->decode(x, cache.keys[b], cache.values[b]);
        }
        cache.length += m;
        const Variable last = slice(x, 1, m - 1, m);
        const Variable logits =
            linear(layer_norm(last, norm_->gamma(), norm_->beta(), norm_->epsilon()),
                   head_->kernel(), head_->bias());
        return Tensor(xt::flatten(logits.value()));
    }

    nlohmann::json config() const override {
        return {{"vocabulary", vocabulary_.serialize()},
                {"block_size", block_size_},
                {"layers", layers_},
                {"heads", heads_},
                {"embedding", embedding_}};
    }
    static std::shared_ptr<CharTransformer> from_config(const nn::LayerConfig& c) {
        return std::make_shared<CharTransformer>(
            data::CharVocabulary::parse(c.string("vocabulary")), c.count("block_size"),
            c.count("layers"), c.count("heads"), c.count("embedding"));
    }

  private:
    data::CharVocabulary vocabulary_;
    std::size_t block_size_, layers_, heads_, embedding_;
    std::shared_ptr<nn::Embedding> tokens_, positions_;
    std::vector<std::shared_ptr<TransformerBlock>> blocks_;
    std::shared_ptr<nn::LayerNormalization> norm_;
    std::shared_ptr<nn::Dense> head_;
    Variable position_ids_;
};

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
double evaluate(CharTransformer& model, const data::TextWindows& windows, std::size_t count,
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
    const data::TextWindows& train_windows = *train_or;
    const data::TextWindows& validation_windows = *validation_or;

    manual_seed(o.seed);
    CharTransformer model(vocab, std::size_t(o.block_size), std::size_t(o.layers),
                          std::size_t(o.heads), std::size_t(o.embedding));
    model.build({std::size_t(o.block_size)});
    if (!o.quiet) {
        std::cout << fmt::format(
            "corpus: {} characters in {} files, vocabulary {}, train {}, validation {}; "
            "{} parameters\n",
            text.size(), files.size(), vocab.size(), split_or->train.size(),
            split_or->validation.size(), nn::format_count(model.count_params()));
    }
    const std::vector<Variable> params = model.trainable_parameters();
    // nanoGPT's AdamW: beta2 0.99, weight decay 0.1, gradients clipped to norm 1.
    optim::AdamW adamw(params, {.learning_rate = o.learning_rate,
                                .beta2 = 0.99,
                                .epsilon = 1e-8,
                                .weight_decay = o.weight_decay});
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
        adamw.step();
        adamw.zero_grad();
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
        nn::save_model(model, o.save_path);
        if (!o.quiet) std::cout << "saved the model and its vocabulary to " << o.save_path << "\n";
    }
    // One line for bench/compare_pytorch.
    std::cout << fmt::format("final steps {} step_time_ms {:.3f} val_loss {:.4f}\n", o.steps,
                             1e3 * train_seconds / o.steps, val_loss);
    return 0;
}

int generate(const Options& o) {
    // A missing or corrupt model file is bad input, like a missing data file.
    std::shared_ptr<CharTransformer> loaded;
    try {
        loaded = std::dynamic_pointer_cast<CharTransformer>(nn::load_any_model(o.model_path));
        if (!loaded) {
            throw std::runtime_error("the model file " + o.model_path +
                                     " holds no CharTransformer (was it saved by "
                                     "char_transformer?)");
        }
    } catch (const std::exception& e) {
        throw examples::UsageError(e.what());
    }
    CharTransformer& model = *loaded;
    const data::CharVocabulary& vocab = model.vocabulary();
    if (o.prompt.empty()) throw examples::UsageError("--prompt must not be empty");
    std::vector<std::int64_t> ids;
    try {
        ids = vocab.encode(o.prompt);
    } catch (const std::invalid_argument& e) {
        throw examples::UsageError(std::string("--prompt: ") + e.what());
    }
    model.eval();
    NoGradGuard no_grad;
    Rng rng(o.seed);
    const std::size_t block = model.block_size();
    const auto start = Clock::now();
    // With cached keys and values each character costs one position's work. When the block is
    // full, decoding restarts from the last half of it (positions 0.. again), where nanoGPT
    // recomputes a window shifted by one for every character.
    CharTransformer::Cache cache;
    auto restart = [&](std::size_t keep) {
        cache = {};
        return model.decode(
            std::vector<std::int64_t>(ids.end() - long(std::min(keep, ids.size())), ids.end()),
            cache);
    };
    Tensor logits = restart(block);
    std::string out;
    for (int i = 0; i < o.generate; ++i) {
        const std::int64_t next = sample_categorical(
            logits, {.temperature = o.temperature, .top_k = std::size_t(o.top_k)}, rng)();
        ids.push_back(next);
        out.push_back(vocab.character(next));
        if (i + 1 == o.generate) break;
        logits = cache.length == block ? restart(block / 2) : model.decode({next}, cache);
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
        "Train a GPT-style character transformer on the fortunes corpus, or generate text from a "
        "saved one."};
    Options o;
    app.add_option("--steps", o.steps, "Training steps")->capture_default_str();
    app.add_option("--batch-size", o.batch_size, "Windows per step")->capture_default_str();
    app.add_option("--block-size", o.block_size, "Characters per window")->capture_default_str();
    app.add_option("--layers", o.layers, "Transformer blocks")->capture_default_str();
    app.add_option("--heads", o.heads, "Attention heads per block")->capture_default_str();
    app.add_option("--embedding", o.embedding, "Embedding size")->capture_default_str();
    app.add_option("--learning-rate", o.learning_rate, "AdamW's learning rate")
        ->capture_default_str();
    app.add_option("--weight-decay", o.weight_decay, "AdamW's decoupled weight decay")
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
        nn::register_layer<CharTransformer>("CharTransformer");
        return o.generate > 0 ? generate(o) : train(o);
    });
}
