// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay.
#pragma once

#include "optim/optimizer.h"

namespace xgrad::optim {

struct SGDOptions {
    double learning_rate = 0.01;  // Keras default
    double momentum = 0;          // in [0, 1]
    bool nesterov = false;
    // L2 penalty: weight_decay * p is added to the gradient (coupled, as PyTorch's SGD).
    double weight_decay = 0;
};

// Keras 3 update, with g = grad + weight_decay * p:
//   momentum == 0:  p -= lr * g
//   otherwise:      m = momentum * m - lr * g
//                   p += m                          (plain)
//                   p += momentum * m - lr * g      (Nesterov)
// State slot: "momentum" (only when momentum != 0).
class SGD : public Optimizer {
  public:
    using Options = SGDOptions;

    explicit SGD(std::vector<Variable> params, Options options = {});

    std::string name() const override { return "sgd"; }
    const Options& options() const { return options_; }

  protected:
    std::vector<std::string> slot_names() const override;
    void update(std::size_t index, Tensor& value, const Tensor& grad) override;

  private:
    Options options_;
};

}  // namespace xgrad::optim
