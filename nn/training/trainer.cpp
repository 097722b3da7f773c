#include "nn/training/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "datasets/dataloader.h"
#include "framework/flush_denormal.h"
#include "framework/grad_mode.h"
#include "nn/io/checkpoint.h"
#include "nn/layers/activation_layer.h"
#include "nn/layers/dense.h"
#include "nn/training/progress_bar.h"
#include "ops/activation.h"
#include "ops/loss.h"

namespace xgrad::nn {

namespace {

bool is_categorical(const std::string& loss) {
    return loss == "sparse_categorical_crossentropy" || loss == "categorical_crossentropy";
}

MetricLine metric_line(const Logs& logs, const std::vector<std::string>& order) {
    MetricLine line;
    for (const auto& name : order) {
        auto it = logs.find(name);
        if (it != logs.end()) line.emplace_back(name, it->second);
    }
    return line;
}

}  // namespace

const std::vector<double>& History::operator[](const std::string& name) const {
    auto it = metrics.find(name);
    if (it == metrics.end()) {
        throw std::invalid_argument("History: no metric '" + name + "' was recorded");
    }
    return it->second;
}

const std::vector<std::string>& Trainer::loss_names() {
    static const std::vector<std::string> names = {"sparse_categorical_crossentropy",
                                                   "categorical_crossentropy", "cross_entropy"};
    return names;
}

Trainer::Trainer(Sequential& model, std::unique_ptr<optim::Optimizer> optimizer, std::string loss,
                 std::vector<std::string> metrics)
    : model_(model),
      optimizer_(std::move(optimizer)),
      loss_(std::move(loss)),
      metrics_(std::move(metrics)) {
    if (!optimizer_) throw std::invalid_argument("Trainer: the optimizer is null");
    const auto& names = loss_names();
    if (std::find(names.begin(), names.end(), loss_) == names.end()) {
        std::string valid;
        for (const auto& n : names) valid += (valid.empty() ? "" : ", ") + n;
        throw std::invalid_argument("Trainer: unknown loss '" + loss_ +
                                    "'; valid losses: " + valid);
    }
    for (const auto& m : metrics_) {
        if (m != "accuracy") {
            throw std::invalid_argument("Trainer: unknown metric '" + m +
                                        "'; valid metrics: accuracy");
        }
    }
}

bool Trainer::fuses_softmax() const {
    if (!is_categorical(loss_) || model_.layers().empty()) return false;
    const Module* last = model_.layers().back().get();
    if (auto* dense = dynamic_cast<const Dense*>(last)) return dense->activation() == "softmax";
    if (auto* act = dynamic_cast<const Activation*>(last)) return act->activation() == "softmax";
    return false;
}

// Runs the model up to, not including, its final softmax.
Variable Trainer::forward_to_logits(const Variable& inputs) {
    const auto& layers = model_.layers();
    Variable h = inputs;
    for (std::size_t i = 0; i + 1 < layers.size(); ++i) h = (*layers[i])(h);
    Module& last = *layers.back();
    if (auto* dense = dynamic_cast<Dense*>(&last)) {
        if (!dense->built()) dense->build(Shape(h.shape().begin() + 1, h.shape().end()));
        return dense->forward_linear(h);
    }
    return h;  // the last layer is Activation("softmax"): skip it
}

Variable Trainer::batch_loss(const Variable& inputs, const IndexTensor& labels, Variable& output) {
    if (fuses_softmax()) {
        // Softmax followed by cross-entropy is computed as one stable log-softmax.
        output = forward_to_logits(inputs);
        return cross_entropy(output, labels);
    }
    output = model_(inputs);
    if (loss_ == "cross_entropy") return cross_entropy(output, labels);
    return sparse_categorical_crossentropy(output, labels);
}

std::size_t count_correct(const Tensor& scores, const IndexTensor& labels) {
    const std::size_t rows = scores.shape()[0],
                      cols = scores.size() / std::max<std::size_t>(rows, 1);
    std::size_t correct = 0;
    const float* p = scores.data();
    for (std::size_t r = 0; r < rows; ++r, p += cols) {
        const std::size_t best = std::max_element(p, p + cols) - p;
        correct += static_cast<std::int64_t>(best) == labels(r);
    }
    return correct;
}

History Trainer::fit(std::shared_ptr<const data::Dataset> train, const FitOptions& options) {
    FlushDenormalGuard flush;  // subnormals cost ~100 cycles per op on Intel cores
    if (!train) throw std::invalid_argument("fit: the training dataset is null");
    if (options.validation_split < 0 || options.validation_split >= 1) {
        throw std::invalid_argument("fit: validation_split must be in [0, 1), got " +
                                    std::to_string(options.validation_split));
    }
    std::shared_ptr<const data::Dataset> validation = options.validation_data;
    if (!validation && options.validation_split > 0) {
        // Seed 0: the last fraction, unshuffled, as Keras' validation_split does.
        auto [t, v] = data::train_validation_split(train, options.validation_split, 0);
        train = t;
        validation = v;
    }
    data::DataLoader loader(
        train,
        {.batch_size = options.batch_size, .shuffle = options.shuffle, .seed = options.seed});
    if (!model_.built()) {
        model_.build(train->example_shape());
    }

    std::ostream& out = *options.out;
    const bool interactive = is_terminal(out);
    std::vector<std::string> order = {"loss"};
    for (const auto& m : metrics_) order.push_back(m);

    History history;
    stop_ = false;
    for (auto& cb : options.callbacks) cb->on_train_begin(*this);
    data::Batch batch;
    for (std::size_t epoch = options.initial_epoch; epoch < options.epochs && !stop_; ++epoch) {
        for (auto& cb : options.callbacks) cb->on_epoch_begin(*this, epoch);
        if (options.verbose > 0) out << "Epoch " << epoch + 1 << "/" << options.epochs << "\n";
        ProgressBar bar(out, loader.num_batches(), options.verbose, interactive);
        model_.train();
        loader.set_epoch(epoch);

        const auto start = std::chrono::steady_clock::now();
        double loss_sum = 0;
        std::size_t seen = 0, correct = 0, step = 0;
        Logs logs;
        while (loader.next(batch)) {
            const std::size_t n = batch.labels.size();
            // The batch buffer moves into the graph and back, so it is reused every step.
            Variable x(std::move(batch.inputs));
            Variable output;
            Variable loss = batch_loss(x, batch.labels, output);
            const double value = loss.item();
            optimizer_->zero_grad();
            loss.backward();
            optimizer_->step();

            loss_sum += value * double(n);
            seen += n;
            logs["loss"] = loss_sum / double(seen);
            if (!metrics_.empty()) {
                correct += count_correct(output.value(), batch.labels);
                logs["accuracy"] = double(correct) / double(seen);
            }
            if (!std::isfinite(value)) logs["loss"] = value;
            batch.inputs = std::move(x.value());
            ++step;
            for (auto& cb : options.callbacks) cb->on_batch_end(*this, epoch, step - 1, logs);
            bar.update(step, metric_line(logs, order));
            if (stop_) break;
        }
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

        last_epoch_seconds_ = seconds;
        std::vector<std::string> line_order = order;
        if (validation) {
            const Logs v = evaluate(*validation, std::max<std::size_t>(options.batch_size, 256));
            for (const auto& [name, value] : v) {
                logs["val_" + name] = value;
            }
            for (const auto& name : order) line_order.push_back("val_" + name);
        }
        bar.finish(metric_line(logs, line_order));

        append_epoch(history, epoch, logs, seconds);
        for (auto& cb : options.callbacks) cb->on_epoch_end(*this, epoch, logs);
    }
    for (auto& cb : options.callbacks) cb->on_train_end(*this);
    return history;
}

namespace {

void check_batch_size(const char* who, std::size_t batch_size) {
    if (batch_size == 0)
        throw std::invalid_argument(std::string(who) + ": batch_size must be at least 1");
}

}  // namespace

Logs Trainer::evaluate(const data::Dataset& dataset, std::size_t batch_size) {
    FlushDenormalGuard flush;  // subnormals cost ~100 cycles per op on Intel cores
    check_batch_size("evaluate", batch_size);
    if (dataset.size() == 0) throw std::invalid_argument("evaluate: the dataset is empty");
    NoGradGuard no_grad;
    const bool was_training = model_.is_training();
    model_.eval();
    double loss_sum = 0;
    std::size_t correct = 0;
    data::Batch batch;
    std::vector<std::size_t> indices;
    for (std::size_t start = 0; start < dataset.size(); start += batch_size) {
        const std::size_t stop = std::min(dataset.size(), start + batch_size);
        indices.resize(stop - start);
        for (std::size_t i = start; i < stop; ++i) indices[i - start] = i;
        dataset.get_batch(indices, batch);
        Variable x(std::move(batch.inputs));
        Variable output;
        Variable loss = batch_loss(x, batch.labels, output);
        loss_sum += double(loss.item()) * double(indices.size());
        correct += count_correct(output.value(), batch.labels);
        batch.inputs = std::move(x.value());
    }
    model_.train(was_training);
    Logs logs{{"loss", loss_sum / double(dataset.size())}};
    if (!metrics_.empty()) logs["accuracy"] = double(correct) / double(dataset.size());
    return logs;
}

Tensor Trainer::predict(const Tensor& inputs, std::size_t batch_size) {
    FlushDenormalGuard flush;  // subnormals cost ~100 cycles per op on Intel cores
    check_batch_size("predict", batch_size);
    if (inputs.dimension() == 0 || inputs.shape()[0] == 0) {
        throw std::invalid_argument(
            "predict: inputs need a batch dimension with at least one row, got shape " +
            format_shape_of(inputs));
    }
    NoGradGuard no_grad;
    const bool was_training = model_.is_training();
    model_.eval();
    const std::size_t n = inputs.shape()[0];
    const std::size_t row = n == 0 ? 0 : inputs.size() / n;
    Tensor result;
    for (std::size_t start = 0; start < n; start += batch_size) {
        const std::size_t stop = std::min(n, start + batch_size);
        Shape shape = to_shape(inputs.shape());
        shape[0] = stop - start;
        Tensor chunk = Tensor::from_shape(shape);
        std::copy(inputs.data() + start * row, inputs.data() + stop * row, chunk.data());
        Tensor y = model_(Variable(std::move(chunk))).value();
        if (start == 0) {
            Shape out = to_shape(y.shape());
            out[0] = n;
            result = Tensor::from_shape(out);
        }
        const std::size_t out_row = y.size() / (stop - start);
        std::copy(y.data(), y.data() + y.size(), result.data() + start * out_row);
    }
    model_.train(was_training);
    return result;
}

Tensor Trainer::predict(const data::Dataset& dataset, std::size_t batch_size) {
    FlushDenormalGuard flush;  // subnormals cost ~100 cycles per op on Intel cores
    check_batch_size("predict", batch_size);
    if (dataset.size() == 0) throw std::invalid_argument("predict: the dataset is empty");
    NoGradGuard no_grad;
    const bool was_training = model_.is_training();
    model_.eval();
    Tensor result;
    data::Batch batch;
    std::vector<std::size_t> indices;
    for (std::size_t start = 0; start < dataset.size(); start += batch_size) {
        const std::size_t stop = std::min(dataset.size(), start + batch_size);
        indices.resize(stop - start);
        for (std::size_t i = start; i < stop; ++i) indices[i - start] = i;
        dataset.get_batch(indices, batch);
        Variable x(std::move(batch.inputs));
        Tensor y = model_(x).value();
        if (start == 0) {
            Shape out = to_shape(y.shape());
            out[0] = dataset.size();
            result = Tensor::from_shape(out);
        }
        const std::size_t out_row = y.size() / indices.size();
        std::copy(y.data(), y.data() + y.size(), result.data() + start * out_row);
        batch.inputs = std::move(x.value());
    }
    model_.train(was_training);
    return result;
}

}  // namespace xgrad::nn
