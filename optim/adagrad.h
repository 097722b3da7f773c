// Adagrad (Duchi et al.), as Keras computes it.
#pragma once

#include "optim/optimizer.h"

namespace xgrad::optim {

struct AdagradOptions {
    double learning_rate = 0.001;  // Keras defaults
    double initial_accumulator_value = 0.1;
    double epsilon = 1e-7;
};

// Keras 3 update (epsilon inside the square root):
//   acc += g^2
//   p -= lr * g / sqrt(acc + epsilon)
// State slot: "accumulator" (starts at initial_accumulator_value).
class Adagrad : public Optimizer {
  public:
    using Options = AdagradOptions;

    explicit Adagrad(std::vector<Variable> params, Options options = {});

    std::string name() const override { return "adagrad"; }
    const Options& options() const { return options_; }

  protected:
    std::vector<std::string> slot_names() const override { return {"accumulator"}; }
    float slot_initial_value(std::size_t /*slot*/) const override {
        return static_cast<float>(options_.initial_accumulator_value);
    }
    void update(std::size_t index, Tensor& value, const Tensor& grad) override;

  private:
    Options options_;
};

}  // namespace xgrad::optim
