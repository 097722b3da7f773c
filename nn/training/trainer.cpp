#include "nn/training/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>
#include <stdexcept>

#include "datasets/dataloader.h"
#include "dist/broadcast.h"
#include "dist/gradient_reducer.h"
#include "dist/world.h"
#include "framework/errors.h"
#include "framework/flush_denormal.h"
#include "framework/grad_mode.h"
#include "nn/io/checkpoint.h"
#include "nn/mode_guard.h"
#include "nn/models/model.h"
#include "nn/training/progress_bar.h"

namespace xgrad::nn {

namespace {

MetricLine metric_line(const Logs& logs, const std::vector<std::string>& order) {
    MetricLine line;
    for (const auto& name : order) {
        auto it = logs.find(name);
        if (it != logs.end()) line.emplace_back(name, it->second);
    }
    return line;
}

void check_batch_size(const char* who, std::size_t batch_size) {
    if (batch_size == 0)
        throw std::invalid_argument(std::string(who) + ": batch_size must be at least 1");
}

// A functional model's output names; none for other modules.
std::vector<std::string> output_names_of(const Module& model) {
    if (const auto* functional = dynamic_cast<const Model*>(&model)) {
        return functional->output_names();
    }
    return {};
}

// A batch's tensors as Variables. They move in and, through give_back() once the graph is
// done with them, out again, so the batch buffers are reused every step.
std::vector<Variable> lend(std::vector<Tensor>& tensors) {
    std::vector<Variable> out;
    out.reserve(tensors.size());
    for (auto& t : tensors) out.emplace_back(std::move(t));
    return out;
}

void give_back(std::vector<Tensor>& tensors, std::vector<Variable>& lent) {
    // mutable_value(): std::move of the const value() would copy the batch every step.
    for (std::size_t i = 0; i < lent.size(); ++i) tensors[i] = std::move(lent[i].mutable_value());
}

// Each log averaged over the processes, weighted by the examples each one saw.
void average_over_processes(Logs& logs, std::size_t examples) {
    std::vector<double> sums;
    for (const auto& [name, value] : logs) sums.push_back(value * double(examples));
    sums.push_back(double(examples));
    dist::allreduce_sum(sums.data(), sums.size());
    std::size_t i = 0;
    for (auto& [name, value] : logs) value = sums[i++] / std::max(sums.back(), 1.0);
}

}  // namespace

const std::vector<double>& History::operator[](const std::string& name) const {
    auto it = metrics.find(name);
    if (it == metrics.end()) {
        throw std::invalid_argument("History: no metric '" + name + "' was recorded");
    }
    return it->second;
}

Trainer::Trainer(Module& model, std::unique_ptr<optim::Optimizer> optimizer, Loss loss,
                 std::vector<MetricSpec> metrics)
    : model_(model),
      optimizer_(std::move(optimizer)),
      loss_(std::move(loss)),
      metric_specs_(std::move(metrics)) {
    if (!optimizer_) throw std::invalid_argument("Trainer: the optimizer is null");
    // Unknown metric names fail here, not at the first batch.
    for (const auto& spec : metric_specs_) spec.make(loss_.is_binary_crossentropy());
    if (model_.built()) check_optimizer_holds_parameters();
}

Trainer::Trainer(Module& model, std::unique_ptr<optim::Optimizer> optimizer,
                 std::map<std::string, Loss> losses,
                 std::map<std::string, std::vector<MetricSpec>> metrics,
                 std::map<std::string, double> loss_weights)
    : Trainer(model, std::move(optimizer), losses.empty() ? Loss("mse") : losses.begin()->second) {
    if (losses.empty()) throw std::invalid_argument("Trainer: no loss given for any output");
    PerOutput per;
    per.names = output_names_of(model);
    if (per.names.empty()) {
        for (std::size_t k = 0; k < losses.size(); ++k) {
            per.names.push_back("output_" + std::to_string(k + 1));
        }
    }
    std::string known;
    for (const auto& n : per.names) known += (known.empty() ? "" : ", ") + n;
    auto check_keys = [&](const auto& map, const char* what) {
        for (const auto& [name, value] : map) {
            if (std::find(per.names.begin(), per.names.end(), name) == per.names.end()) {
                throw std::invalid_argument("Trainer: " + std::string(what) + " for '" + name +
                                            "', which is not an output of model '" + model.name() +
                                            "' (outputs: " + known + ")");
            }
        }
    };
    check_keys(losses, "a loss");
    check_keys(metrics, "metrics");
    check_keys(loss_weights, "a loss weight");
    for (const auto& name : per.names) {
        auto loss = losses.find(name);
        if (loss == losses.end()) {
            throw std::invalid_argument("Trainer: output '" + name + "' of model '" + model.name() +
                                        "' has no loss (outputs: " + known + ")");
        }
        per.losses.push_back(loss->second);
        per.weights.push_back(loss_weights.count(name) ? loss_weights.at(name) : 1.0);
        per.metrics.push_back(metrics.count(name) ? metrics.at(name) : std::vector<MetricSpec>{});
        // Unknown metric names fail here, not at the first batch.
        for (const auto& spec : per.metrics.back())
            spec.make(loss->second.is_binary_crossentropy());
    }
    per_output_ = std::move(per);
}

std::string Trainer::output_prefix(std::size_t k, std::size_t outputs) const {
    if (outputs <= 1) return "";
    if (per_output_ && k < per_output_->names.size()) return per_output_->names[k] + "_";
    const auto names = output_names_of(model_);
    if (k < names.size()) return names[k] + "_";
    return "output_" + std::to_string(k + 1) + "_";
}

void Trainer::check_optimizer_holds_parameters() const {
    std::set<const void*> held;
    for (const auto& p : optimizer_->params()) held.insert(p.node().get());
    std::string missing;
    std::size_t count = 0;
    for (const auto& [name, v] : model_.named_parameters()) {
        if (!v.requires_grad() || held.count(v.node().get())) continue;
        missing += (missing.empty() ? "" : ", ") + name;
        ++count;
    }
    if (count == 0) return;
    throw std::invalid_argument(
        "Trainer: the optimizer does not hold " + std::to_string(count) +
        " trainable parameter(s) of model '" + model_.name() + "' (" + missing +
        "), which would never train; build the model first (model.build(input_shape)), then "
        "make the optimizer from model.trainable_parameters()");
}

void Trainer::check_targets(std::size_t targets, std::size_t outputs) const {
    if (targets != outputs) {
        throw std::invalid_argument("Trainer: the dataset gives " + std::to_string(targets) +
                                    " target(s) per example but model '" + model_.name() +
                                    "' has " + std::to_string(outputs) + " output(s)");
    }
}

std::vector<Variable> Trainer::forward(std::vector<Variable>& inputs) {
    return model_(inputs);
}

Variable Trainer::loss_and_metrics(const std::vector<Variable>& outputs,
                                   const std::vector<Variable>& targets, std::size_t examples) {
    check_targets(targets.size(), outputs.size());
    if (per_output_ && per_output_->names.size() != outputs.size()) {
        check_targets(per_output_->names.size(), outputs.size());  // the same count message
    }
    if (outputs_.size() != outputs.size()) {
        if (outputs.size() > 1 && !per_output_) {
            for (const auto& spec : metric_specs_) {
                if (spec.is_object()) {
                    throw std::invalid_argument("Trainer: metric object '" + spec.name() +
                                                "' can serve one output, the "
                                                "model has " +
                                                std::to_string(outputs.size()) +
                                                "; give the metric by name");
                }
            }
        }
        outputs_.assign(outputs.size(), {});
        for (std::size_t k = 0; k < outputs.size(); ++k) {
            const Loss& loss = per_output_ ? per_output_->losses[k] : loss_;
            for (const auto& spec : per_output_ ? per_output_->metrics[k] : metric_specs_) {
                outputs_[k].metrics.push_back(spec.make(loss.is_binary_crossentropy()));
            }
        }
    }
    Variable total;
    for (std::size_t k = 0; k < outputs.size(); ++k) {
        const Loss& loss_k = per_output_ ? per_output_->losses[k] : loss_;
        const Variable loss = loss_k(outputs[k], targets[k]);
        if (loss.size() != 1) {
            throw ShapeError("Trainer", "loss '" + loss_k.name() + "' returned shape " +
                                            format_shape(loss.shape()) + ", not one value");
        }
        for (auto& m : outputs_[k].metrics) m->update_state(outputs[k].value(), targets[k].value());
        if (outputs.size() > 1) outputs_[k].loss_sum += double(loss.item()) * double(examples);
        // Keras: the total is the sum of the losses, each times its weight.
        const double weight = per_output_ ? per_output_->weights[k] : 1.0;
        const Variable weighted = weight == 1.0 ? loss : loss * static_cast<float>(weight);
        total = k == 0 ? weighted : total + weighted;
    }
    return total;
}

void Trainer::reset_state() {
    for (auto& out : outputs_) {
        out.loss_sum = 0;
        for (auto& m : out.metrics) m->reset_state();
    }
}

void Trainer::write_logs(Logs& logs, double loss_sum, std::size_t examples) const {
    const double n = double(std::max<std::size_t>(examples, 1));
    logs["loss"] = loss_sum / n;
    for (std::size_t k = 0; k < outputs_.size(); ++k) {
        const std::string prefix = output_prefix(k, outputs_.size());
        if (!prefix.empty()) logs[prefix + "loss"] = outputs_[k].loss_sum / n;
        for (const auto& m : outputs_[k].metrics) logs[prefix + m->name()] = m->result();
    }
}

std::vector<std::string> Trainer::metric_order() const {
    std::vector<std::string> order = {"loss"};
    const std::size_t outputs = std::max<std::size_t>(
        outputs_.size(), per_output_ ? per_output_->names.size() : std::size_t{1});
    for (std::size_t k = 0; k < outputs; ++k) {
        const std::string prefix = output_prefix(k, outputs);
        if (!prefix.empty()) order.push_back(prefix + "loss");
        const auto& specs = per_output_ && k < per_output_->metrics.size() ? per_output_->metrics[k]
                                                                           : metric_specs_;
        for (std::size_t j = 0; j < specs.size(); ++j) {
            order.push_back(
                prefix + (k < outputs_.size() ? outputs_[k].metrics[j]->name() : specs[j].name()));
        }
    }
    return order;
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
    // Data-parallel: this process's slice of every global batch.
    const std::size_t processes = std::size_t(dist::size());
    data::DataLoader loader(train, {.batch_size = options.batch_size,
                                    .shuffle = options.shuffle,
                                    .seed = options.seed,
                                    .num_shards = processes,
                                    .shard = std::size_t(dist::rank())});
    if (!model_.built()) model_.build(train->input_shapes());
    check_optimizer_holds_parameters();
    std::unique_ptr<dist::GradientReducer> reducer;
    if (processes > 1) {
        dist::broadcast_parameters(model_, 0);
        dist::broadcast_optimizer_state(*optimizer_, 0);
        reducer = std::make_unique<dist::GradientReducer>(
            optimizer_->params(),
            dist::ReducerOptions{.bucket_bytes = options.allreduce_bucket_bytes});
    }
    const int verbose = dist::is_root() ? options.verbose : 0;

    std::ostream& out = *options.out;
    const bool interactive = is_terminal(out);

    History history;
    stop_ = false;
    for (auto& cb : options.callbacks) cb->on_train_begin(*this);
    data::Batch batch;
    for (std::size_t epoch = options.initial_epoch; epoch < options.epochs && !stop_; ++epoch) {
        for (auto& cb : options.callbacks) cb->on_epoch_begin(*this, epoch);
        if (verbose > 0) out << "Epoch " << epoch + 1 << "/" << options.epochs << "\n";
        ProgressBar bar(out, loader.num_batches(), verbose, interactive);
        model_.train();
        loader.set_epoch(epoch);
        reset_state();

        const auto start = std::chrono::steady_clock::now();
        double loss_sum = 0;
        std::size_t seen = 0, step = 0;
        Logs logs;
        std::vector<std::string> order;
        while (loader.next(batch)) {
            const std::size_t n = batch.size();
            std::vector<Variable> inputs = lend(batch.inputs), targets = lend(batch.targets);
            double value = 0;
            {
                Variable loss;  // none when this process's slice of a last batch is empty
                if (n > 0) {
                    const std::vector<Variable> outputs = forward(inputs);
                    loss = loss_and_metrics(outputs, targets, n);
                    value = loss.item();
                }
                optimizer_->zero_grad();
                if (reducer) {
                    const std::size_t global =
                        std::min(options.batch_size, loader.size() - step * options.batch_size);
                    reducer->backward(loss, double(n) / double(global));
                } else {
                    loss.backward();
                }
            }
            optimizer_->step();
            give_back(batch.inputs, inputs);
            give_back(batch.targets, targets);

            loss_sum += value * double(n);
            seen += n;
            write_logs(logs, loss_sum, seen);
            if (!std::isfinite(value)) logs["loss"] = value;
            if (order.empty()) order = metric_order();
            ++step;
            for (auto& cb : options.callbacks) cb->on_batch_end(*this, epoch, step - 1, logs);
            bar.update(step, metric_line(logs, order));
            if (reducer) stop_ = dist::any(stop_);  // every process stops at the same step
            if (stop_) break;
        }
        if (reducer) average_over_processes(logs, seen);
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

        last_epoch_seconds_ = seconds;
        std::vector<std::string> line_order = order;
        if (validation) {
            const Logs v = evaluate(*validation, std::max<std::size_t>(options.batch_size, 256));
            for (const auto& [name, value] : v) logs["val_" + name] = value;
            for (const auto& name : order) line_order.push_back("val_" + name);
        }
        bar.finish(metric_line(logs, line_order));

        append_epoch(history, epoch, logs, seconds);
        for (auto& cb : options.callbacks) cb->on_epoch_end(*this, epoch, logs);
    }
    for (auto& cb : options.callbacks) cb->on_train_end(*this);
    return history;
}

template <class Visit>
void Trainer::run_inference(const data::Dataset& dataset, std::size_t batch_size, const char* who,
                            Visit&& visit) {
    FlushDenormalGuard flush;  // evaluate and predict: subnormals flushed, as in fit
    check_batch_size(who, batch_size);
    if (dataset.size() == 0)
        throw std::invalid_argument(std::string(who) + ": the dataset is empty");
    NoGradGuard no_grad;
    TrainingModeGuard eval(model_, false);  // back to each module's mode, also on an exception
    data::Batch batch;
    std::vector<std::size_t> indices;
    for (std::size_t start = 0; start < dataset.size(); start += batch_size) {
        const std::size_t stop = std::min(dataset.size(), start + batch_size);
        indices.resize(stop - start);
        for (std::size_t i = start; i < stop; ++i) indices[i - start] = i;
        dataset.get_batch(indices, batch);
        std::vector<Variable> inputs = lend(batch.inputs), targets = lend(batch.targets);
        visit(forward(inputs), targets, start, indices.size());
        give_back(batch.inputs, inputs);
        give_back(batch.targets, targets);
    }
}

Logs Trainer::evaluate(const data::Dataset& dataset, std::size_t batch_size) {
    reset_state();
    double loss_sum = 0;
    run_inference(dataset, batch_size, "evaluate",
                  [&](const std::vector<Variable>& outputs, const std::vector<Variable>& targets,
                      std::size_t, std::size_t n) {
                      loss_sum += double(loss_and_metrics(outputs, targets, n).item()) * double(n);
                  });
    Logs logs;
    write_logs(logs, loss_sum, dataset.size());
    return logs;
}

std::vector<Tensor> Trainer::predict_outputs(const data::Dataset& dataset, std::size_t batch_size) {
    std::vector<Tensor> result;
    run_inference(dataset, batch_size, "predict",
                  [&](const std::vector<Variable>& outputs, const std::vector<Variable>&,
                      std::size_t start, std::size_t n) {
                      if (result.empty()) {
                          for (const auto& y : outputs) {
                              Shape shape = y.shape();
                              if (shape.empty()) {
                                  throw ShapeError("predict",
                                                   "the model returned a scalar; "
                                                   "outputs need a batch dimension");
                              }
                              shape[0] = dataset.size();
                              result.push_back(Tensor::from_shape(shape));
                          }
                      }
                      for (std::size_t k = 0; k < outputs.size(); ++k) {
                          const Tensor& y = outputs[k].value();
                          const std::size_t row = y.size() / n;
                          std::copy(y.data(), y.data() + y.size(), result[k].data() + start * row);
                      }
                  });
    return result;
}

Tensor Trainer::predict(const data::Dataset& dataset, std::size_t batch_size) {
    std::vector<Tensor> outputs = predict_outputs(dataset, batch_size);
    if (outputs.size() != 1) {
        throw std::invalid_argument("predict: model '" + model_.name() + "' has " +
                                    std::to_string(outputs.size()) +
                                    " outputs; use predict_outputs()");
    }
    return std::move(outputs[0]);
}

Tensor Trainer::predict(const Tensor& inputs, std::size_t batch_size) {
    check_batch_size("predict", batch_size);
    if (inputs.dimension() == 0 || inputs.shape()[0] == 0) {
        throw std::invalid_argument(
            "predict: inputs need a batch dimension with at least one row, got shape " +
            format_shape_of(inputs));
    }
    return predict(data::TensorDataset(std::vector<Tensor>{inputs}, std::vector<Tensor>{}),
                   batch_size);
}

}  // namespace xgrad::nn
