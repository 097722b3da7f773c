// Adam (Kingma & Ba) as Keras computes it, with the AMSGrad variant, and AdamW (decoupled
// weight decay, Loshchilov & Hutter).
#pragma once

#include "optim/optimizer.h"

namespace xgrad::optim {

struct AdamOptions {
    double learning_rate = 0.001;  // Keras defaults
    double beta1 = 0.9;
    double beta2 = 0.999;
    double epsilon = 1e-7;
    bool amsgrad = false;
    // L2 penalty: weight_decay * p is added to the gradient (coupled, as PyTorch's Adam).
    // For the decoupled form use AdamW.
    double weight_decay = 0;
};

struct AdamWOptions {
    double learning_rate = 0.001;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double epsilon = 1e-7;
    bool amsgrad = false;
    // Decoupled: p -= lr * weight_decay * p each step, apart from the gradient (Keras 3).
    double weight_decay = 0.004;  // Keras default
};

// Keras 3 update at step t (epsilon outside the square root, bias correction folded into
// the step size; this differs from the textbook m_hat / (sqrt(v_hat) + eps) only in where
// epsilon acts):
//   lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
//   m += (g - m) * (1 - beta1)
//   v += (g^2 - v) * (1 - beta2)
//   v_hat = max(v_hat, v)                 (amsgrad; then v_hat replaces v below)
//   p -= lr_t * m / (sqrt(v) + epsilon)
// State slots: "m", "v", and "v_hat" with amsgrad.
class Adam : public Optimizer {
  public:
    using Options = AdamOptions;

    explicit Adam(std::vector<Variable> params, Options options = {});

    std::string name() const override { return decoupled_ ? "adamw" : "adam"; }
    const Options& options() const { return options_; }

  protected:
    // For AdamW: the same update with weight decay decoupled from the gradient.
    Adam(std::vector<Variable> params, Options options, bool decoupled);

    std::vector<std::string> slot_names() const override;
    void prepare_step(std::int64_t t) override;
    void update(std::size_t index, Tensor& value, const Tensor& grad) override;

  private:
    Options options_;
    bool decoupled_ = false;
    double step_size_ = 0;  // lr_t of the current step
};

// Adam with decoupled weight decay, applied before the Adam update as Keras 3 does:
//   p -= lr * weight_decay * p
class AdamW : public Adam {
  public:
    using Options = AdamWOptions;

    explicit AdamW(std::vector<Variable> params, Options options = {});
};

}  // namespace xgrad::optim
