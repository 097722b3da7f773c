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

#include <memory>
#include <optional>

#include <CLI/CLI.hpp>
#include <xtensor/xview.hpp>

#include "examples/char_model_cli.h"
#include "xgrad.h"

using namespace xgrad;

namespace {

struct Options : examples::CharModelOptions {
    Options() {
        steps = 1500;
        batch_size = 32;
        learning_rate = 2e-3;
        save_path = "char_lstm.safetensors";
    }
    int embedding = 64;
    int units = 256;
};

void validate(const Options& o) {
    examples::validate(o);
    examples::require_positive({{"--embedding", o.embedding}, {"--units", o.units}});
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

int train(const Options& o) {
    const examples::CharCorpus corpus = examples::CharCorpus::read(o);
    manual_seed(o.seed);
    nn::Sequential model = make_model(corpus.vocabulary.size(), o);
    if (!o.quiet) {
        std::cout << corpus.describe() << "\n";
        model.summary(std::cout);
    }
    optim::Adam adam(model.trainable_parameters(), {.learning_rate = o.learning_rate});
    return examples::train_char_model(model, adam, corpus, o, [&](const std::string& path) {
        nn::save_model(model, path, {{"vocabulary", corpus.vocabulary.serialize()}});
    });
}

// The logits (vocabulary,) of the next character after `ids` (1, n), carrying each recurrent
// layer's state from call to call, so that every character runs through the model once. (The
// model was built for whole windows; its Embedding and Dense take any length.)
Tensor next_logits(const nn::Sequential& model, const Tensor& ids,
                   std::vector<std::vector<Variable>>& states) {
    Variable x(ids);
    for (std::size_t i = 0; i < model.layers().size(); ++i) {
        nn::Module& layer = *model.layers()[i];
        if (auto* rnn = dynamic_cast<nn::RecurrentLayer*>(&layer)) {
            std::vector<Variable> out = rnn->run(x, states[i]);
            x = out[0];
            states[i].assign(out.begin() + 1, out.end());
        } else {
            x = layer(x);
        }
    }
    const std::size_t n = x.shape()[1];
    return Tensor(xt::flatten(slice(x, 1, n - 1, n).value()));
}

int generate(const Options& o) {
    // The vocabulary is saved beside the model's weights.
    nn::Metadata metadata;
    std::optional<nn::Sequential> loaded;
    const data::CharVocabulary vocab = examples::or_usage_error([&] {
        loaded.emplace(nn::load_model(o.model_path, &metadata));
        if (metadata.count("vocabulary") == 0) {
            throw std::runtime_error("the model file " + o.model_path +
                                     " holds no vocabulary (was it saved by char_lstm?)");
        }
        return data::CharVocabulary::parse(metadata.at("vocabulary"));
    });
    nn::Sequential& model = *loaded;
    std::vector<std::vector<Variable>> states(model.layers().size());
    return examples::generate_text(model, vocab, o, [&](const std::vector<std::int64_t>& ids) {
        Tensor x = Tensor::from_shape({1, ids.size()});
        std::copy(ids.begin(), ids.end(), x.begin());
        return next_logits(model, x, states);
    });
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "Train a 2-layer LSTM character model (char-rnn) on the fortunes corpus, or generate "
        "text from a saved one."};
    Options o;
    examples::add_window_flags(app, o);
    app.add_option("--embedding", o.embedding, "Embedding size")->capture_default_str();
    app.add_option("--units", o.units, "Units of each LSTM layer")->capture_default_str();
    examples::add_run_flags(app, o, "Adam");
    return examples::run_cli(app, argc, argv, [&] {
        validate(o);
        openblas_set_num_threads(o.threads);
        return o.generate > 0 ? generate(o) : train(o);
    });
}
