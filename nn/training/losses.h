// Losses for training, by Keras name or as a user's function
// Variable(const Variable& prediction, const Variable& target).
//
// Each returns the mean over the batch. The elementwise losses (mse, mae, huber,
// binary_crossentropy) average the last axis into one value per example, the class losses
// (categorical_crossentropy, kl_divergence) sum it, as Keras does; for targets of the
// prediction's shape both are the mean over every element resp. the mean of the row sums.
// Targets are float tensors: sparse losses take class labels as whole numbers, of shape
// (batch,) or (batch, 1) for a (batch, classes) prediction, and more generally the
// prediction's shape without its last axis.
//
// A softmax (or sigmoid) output is recognised by the op that produced it: the class losses
// (binary_crossentropy) then start from its input, the logits, as one stable log-softmax
// (log-sigmoid) — Keras does the same — so a Dense(10, "softmax") model gives no NaN on
// logits of 1e4. Softmax means softmax along the last axis (ops/activation.h).
//
//   nn::Trainer trainer(model, std::move(optimizer), "mse");
//   nn::Trainer trainer(model, std::move(optimizer),
//                       nn::Loss("binary_crossentropy", {.from_logits = true}));
//   nn::Trainer trainer(model, std::move(optimizer),
//                       [](const Variable& p, const Variable& t) { return mean(abs(p - t)); });
#pragma once

#include <concepts>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "framework/variable.h"

namespace xgrad::nn {

using LossFunction = std::function<Variable(const Variable& prediction, const Variable& target)>;

namespace losses {

Variable mean_squared_error(const Variable& prediction, const Variable& target);
Variable mean_absolute_error(const Variable& prediction, const Variable& target);
// 0.5 e^2 where |e| <= delta, delta (|e| - 0.5 delta) beyond; e = prediction - target.
Variable huber(const Variable& prediction, const Variable& target, double delta = 1.0);
// Targets in [0, 1] (labels 0/1, or soft). On probabilities (clipped to [1e-7, 1 - 1e-7]),
// or on logits with from_logits.
Variable binary_crossentropy(const Variable& prediction, const Variable& target,
                             bool from_logits = false);
// One-hot or soft float targets of the prediction's shape (the classes on the last axis).
// A target of another shape (class labels) is a ShapeError that names
// sparse_categorical_crossentropy.
Variable categorical_crossentropy(const Variable& prediction, const Variable& target,
                                  bool from_logits = false);
// Integer class labels held as floats; a label that is not a whole number in 0..classes-1 is
// a std::invalid_argument naming it and its position.
Variable sparse_categorical_crossentropy(const Variable& prediction, const Variable& target,
                                         bool from_logits = false);
// PyTorch's cross_entropy: logits and class labels (sparse_categorical_crossentropy on logits).
Variable cross_entropy(const Variable& logits, const Variable& target);
// sum t log(t / p) over the last axis, both clipped to [1e-7, 1] (Keras).
Variable kl_divergence(const Variable& prediction, const Variable& target);

}  // namespace losses

// Options of the named losses that have any.
struct LossOptions {
    bool from_logits = false;  // binary_crossentropy, categorical_crossentropy, sparse_...
    double delta = 1.0;        // huber
};

// A loss by name, or a user's function. Implicit from a name and from a callable, so a
// Trainer takes "mse" or a lambda directly.
class Loss {
  public:
    // Names: mse (mean_squared_error), mae (mean_absolute_error), huber, binary_crossentropy,
    // categorical_crossentropy, sparse_categorical_crossentropy, cross_entropy,
    // kl_divergence. An unknown name is a std::invalid_argument listing them.
    Loss(const char* name, LossOptions options = {});
    // Exactly a std::string, not anything convertible to one: otherwise a one-entry loss map
    // {{"class", "mse"}} would also read as std::string's iterator-pair constructor, and a
    // Trainer call with it would be ambiguous.
    template <std::same_as<std::string> S>
    Loss(const S& name, LossOptions options = {}) : Loss(name.c_str(), options) {}
    // A user's loss; `name` is what checkpoints record.
    Loss(std::string name, LossFunction function);
    template <class F>
    requires(std::is_invocable_r_v<Variable, const F&, const Variable&, const Variable&> &&
             !std::is_convertible_v<F, std::string>)
        Loss(F function)  // NOLINT: implicit, so that a lambda is a loss
        : Loss("custom", LossFunction(std::move(function))) {}

    Variable operator()(const Variable& prediction, const Variable& target) const;
    const std::string& name() const { return name_; }
    // Whether this is binary_crossentropy (Keras' "accuracy" then means binary accuracy).
    bool is_binary_crossentropy() const { return name_ == "binary_crossentropy"; }

    // The names the first constructor accepts.
    static const std::vector<std::string>& names();

  private:
    std::string name_;
    LossFunction function_;
};

}  // namespace xgrad::nn
