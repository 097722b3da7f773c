// RMSprop (Hinton), as Keras computes it.
#pragma once

#include "optim/optimizer.h"

namespace xgrad::optim {

struct RMSpropOptions {
    double learning_rate = 0.001;  // Keras defaults
    double rho = 0.9;
    double momentum = 0;
    double epsilon = 1e-7;
    bool centered = false;
};

// Keras 3 update (epsilon inside the square root):
//   rms = rho * rms + (1 - rho) * g^2
//   centered:   mg = rho * mg + (1 - rho) * g;  denom = rms - mg^2 + epsilon
//   otherwise:  denom = rms + epsilon
//   inc = lr * g / sqrt(denom)
//   momentum > 0:  mom = momentum * mom + inc;  p -= mom
//   otherwise:     p -= inc
// State slots: "rms", then "momentum" (momentum > 0), then "mg" (centered).
class RMSprop : public Optimizer {
  public:
    using Options = RMSpropOptions;

    explicit RMSprop(std::vector<Variable> params, Options options = {});

    std::string name() const override { return "rmsprop"; }
    const Options& options() const { return options_; }

  protected:
    std::vector<std::string> slot_names() const override;
    void update(std::size_t index, Tensor& value, const Tensor& grad) override;

  private:
    Options options_;
};

}  // namespace xgrad::optim
