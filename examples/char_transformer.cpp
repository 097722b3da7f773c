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

#include <memory>

#include <CLI/CLI.hpp>
#include <xtensor/xview.hpp>

#include "examples/char_model_cli.h"
#include "xgrad.h"

using namespace xgrad;

namespace {

struct Options : examples::CharModelOptions {
    Options() {
        steps = 2000;
        batch_size = 12;
        learning_rate = 1e-3;
        save_path = "char_transformer.safetensors";
    }
    int layers = 4;
    int heads = 4;
    int embedding = 128;
    double weight_decay = 0.1;
};

void validate(const Options& o) {
    examples::validate(o);
    examples::require_positive(
        {{"--layers", o.layers}, {"--heads", o.heads}, {"--embedding", o.embedding}});
    if (o.embedding % o.heads != 0) {
        throw examples::UsageError(
            fmt::format("--embedding {} must be a multiple of --heads {}", o.embedding, o.heads));
    }
    if (!(o.weight_decay >= 0)) {
        throw examples::UsageError(
            fmt::format("--weight-decay must be >= 0, got {}", o.weight_decay));
    }
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
        const Variable h = (*norm1_)(x);
        const Variable k = nn::project_heads(h, w.key_kernel, w.key_bias);
        const Variable v = nn::project_heads(h, w.value_kernel, w.value_bias);
        const bool prefill = !keys.defined();
        keys = prefill ? k : concat({keys, k}, 1);
        values = prefill ? v : concat({values, v}, 1);
        const Variable q = nn::project_heads(h, w.query_kernel, w.query_bias);
        const Variable o =
            attention(q, keys, values, {.num_heads = attention_->num_heads(), .causal = prefill});
        const Variable y = x + nn::project_output(o, w.output_kernel, w.output_bias);
        return y + (*proj_)((*fc_)((*norm2_)(y)));
    }

  private:
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
        const Variable logits = (*head_)((*norm_)(slice(x, 1, m - 1, m)));
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

int train(const Options& o) {
    const examples::CharCorpus corpus = examples::CharCorpus::read(o);
    manual_seed(o.seed);
    CharTransformer model(corpus.vocabulary, std::size_t(o.block_size), std::size_t(o.layers),
                          std::size_t(o.heads), std::size_t(o.embedding));
    model.build({std::size_t(o.block_size)});
    if (!o.quiet) {
        std::cout << corpus.describe()
                  << fmt::format("; {} parameters\n", nn::format_count(model.count_params()));
    }
    // nanoGPT's AdamW: beta2 0.99, weight decay 0.1, gradients clipped to norm 1.
    optim::AdamW adamw(model.trainable_parameters(), {.learning_rate = o.learning_rate,
                                                      .beta2 = 0.99,
                                                      .epsilon = 1e-8,
                                                      .weight_decay = o.weight_decay});
    // The vocabulary is part of the model's config.
    return examples::train_char_model(
        model, adamw, corpus, o, [&](const std::string& path) { nn::save_model(model, path); });
}

int generate(const Options& o) {
    const std::shared_ptr<CharTransformer> loaded = examples::or_usage_error([&] {
        auto model = std::dynamic_pointer_cast<CharTransformer>(nn::load_any_model(o.model_path));
        if (!model) {
            throw std::runtime_error("the model file " + o.model_path +
                                     " holds no CharTransformer (was it saved by "
                                     "char_transformer?)");
        }
        return model;
    });
    CharTransformer& model = *loaded;
    const std::size_t block = model.block_size();
    // With cached keys and values each character costs one position's work. When the block is
    // full, decoding restarts from the last half of it (positions 0.. again), where nanoGPT
    // recomputes a window shifted by one for every character.
    CharTransformer::Cache cache;
    std::vector<std::int64_t> seen;
    return examples::generate_text(
        model, model.vocabulary(), o, [&](const std::vector<std::int64_t>& ids) {
            const bool first = seen.empty();
            seen.insert(seen.end(), ids.begin(), ids.end());
            if (!first && cache.length < block) return model.decode(ids, cache);
            const std::size_t keep = std::min(first ? block : block / 2, seen.size());
            cache = {};
            return model.decode(std::vector<std::int64_t>(seen.end() - long(keep), seen.end()),
                                cache);
        });
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "Train a GPT-style character transformer on the fortunes corpus, or generate text from a "
        "saved one."};
    Options o;
    examples::add_window_flags(app, o);
    app.add_option("--layers", o.layers, "Transformer blocks")->capture_default_str();
    app.add_option("--heads", o.heads, "Attention heads per block")->capture_default_str();
    app.add_option("--embedding", o.embedding, "Embedding size")->capture_default_str();
    app.add_option("--weight-decay", o.weight_decay, "AdamW's decoupled weight decay")
        ->capture_default_str();
    examples::add_run_flags(app, o, "AdamW");
    return examples::run_cli(app, argc, argv, [&] {
        validate(o);
        openblas_set_num_threads(o.threads);
        nn::register_layer<CharTransformer>("CharTransformer");
        return o.generate > 0 ? generate(o) : train(o);
    });
}
