// The optimizer base: parameter handles, per-parameter state slots allocated once on the
// first step, the learning rate and step count, and a state dict that resumes training
// bit for bit.
//
//   auto opt = optim::make_optimizer("adam", model.trainable_parameters());
//   opt->zero_grad();
//   loss.backward();
//   opt->step();
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "framework/variable.h"

namespace xgrad::optim {

class Optimizer {
  public:
    // An empty list, an empty handle or the same parameter twice is std::invalid_argument.
    Optimizer(std::vector<Variable> params, double learning_rate);
    explicit Optimizer(std::vector<Variable> params) : Optimizer(std::move(params), 0.001) {}
    virtual ~Optimizer();

    Optimizer(const Optimizer&) = delete;
    Optimizer& operator=(const Optimizer&) = delete;

    // Forgets every parameter's gradient.
    void zero_grad();
    // One update of every parameter that has a gradient (the others are skipped), with no
    // graph recorded. A gradient whose shape differs from its parameter's is a ShapeError.
    // Virtual for the optimizers that need more than the gradients (LBFGS: step(closure)).
    virtual void step();

    double learning_rate() const { return learning_rate_; }
    // A negative or non-finite rate is std::invalid_argument.
    void set_learning_rate(double lr);

    // Steps taken so far.
    std::int64_t iterations() const { return iterations_; }

    // "sgd", "adam", "adamw", "rmsprop", "adagrad".
    virtual std::string name() const = 0;

    // All state as float32 tensors under stable names:
    //   "iterations"       shape (3,): the step count n = d0 + d1 * 2^24 + d2 * 2^48, each digit
    //                      an exact integer in float32;
    //   "learning_rate"    shape (3,): the double rate as hi + mid + lo float32 parts, so that
    //                      it survives float32 storage exactly (hi alone is the readable rate);
    //   "param.<i>.<slot>" the state slot <slot> ("m", "v", ...) of parameter i, its shape;
    //                      present only for parameters that have been updated.
    // Optimizers with state of their own kind (LBFGS) override both functions.
    virtual std::map<std::string, Tensor> state_dict() const;
    // Loads a state_dict() of the same optimizer type and options over the same parameter
    // shapes. Checks every name and shape first (std::invalid_argument naming the entry)
    // and changes nothing on error.
    virtual void load_state_dict(const std::map<std::string, Tensor>& state);

    const std::vector<Variable>& params() const { return params_; }

  protected:
    // The names of the per-parameter state slots ({"m", "v"} for Adam), fixed by the options.
    virtual std::vector<std::string> slot_names() const { return {}; }
    // The value a slot starts with (Adagrad's accumulator starts at 0.1, the rest at 0).
    virtual float slot_initial_value(std::size_t /*slot*/) const { return 0.0f; }
    // Called once per step before the updates, with t = iterations() (already counting this
    // step, so t >= 1): the place for per-step constants like Adam's bias correction.
    virtual void prepare_step(std::int64_t /*t*/) {}
    // Updates parameter `index` in place from its gradient (same shape, contiguous).
    virtual void update(std::size_t index, Tensor& value, const Tensor& grad) = 0;

    // State slot k of parameter `index`, allocated by step() before update() is called.
    Tensor& slot(std::size_t index, std::size_t k) { return state_[index][k]; }

    // For optimizers that keep their own state (LBFGS): the step count, and the exact float32
    // encodings state_dict() uses for a double (3 parts) and a count (3 base-2^24 digits).
    void set_iterations(std::int64_t n) { iterations_ = n; }
    static Tensor encode_double(double x);
    static double decode_double(const Tensor& t);
    static Tensor encode_count(std::int64_t n);
    // `what` names the entry in the error for a malformed count.
    static std::int64_t decode_count(const Tensor& t, const std::string& what);

  private:
    std::vector<Variable> params_;
    double learning_rate_;
    std::int64_t iterations_ = 0;
    // state_[i][k]: slot k of parameter i; empty until parameter i is first updated.
    std::vector<std::vector<Tensor>> state_;
};

// The names make_optimizer accepts: sgd, adam, adamw, rmsprop, adagrad.
const std::vector<std::string>& optimizer_names();

// An optimizer by name (case-insensitive) with Keras defaults, optionally another learning
// rate. An unknown name is std::invalid_argument listing the valid names.
std::unique_ptr<Optimizer> make_optimizer(const std::string& name, std::vector<Variable> params,
                                          std::optional<double> learning_rate = {});

}  // namespace xgrad::optim
