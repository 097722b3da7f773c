// L-BFGS as torch.optim.LBFGS has it (Nocedal & Wright, Algorithms 7.4 and 3.5/3.6): a
// full-batch quasi-Newton method whose step re-evaluates the loss through a closure, with
// an optional strong-Wolfe line search by cubic interpolation.
//
//   optim::LBFGS opt(params, {.max_iter = 500, .line_search_fn = "strong_wolfe"});
//   opt.step([&] {
//       opt.zero_grad();
//       Variable loss = compute_loss();
//       loss.backward();
//       return loss;
//   });
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "optim/optimizer.h"

namespace xgrad::optim {

struct LBFGSOptions {
    double learning_rate = 1;  // torch defaults throughout
    int max_iter = 20;         // iterations per step(closure)
    // Loss evaluations per step(closure); default max_iter * 5 / 4.
    std::optional<int> max_eval = std::nullopt;
    double tolerance_grad = 1e-7;    // stop when max |gradient| <= this
    double tolerance_change = 1e-9;  // stop when the loss or the step changes less than this
    int history_size = 100;
    // "" (a fixed step of learning_rate) or "strong_wolfe".
    std::string line_search_fn = "";
};

// Re-evaluates the loss at the current parameters: zeroes the gradients, runs the forward
// pass and backward, and returns the loss (one element).
using LossClosure = std::function<Variable()>;

// The loss and gradient along a line, phi(t) = f(x + t d) and grad f(x + t d).
struct LineValue {
    double loss;
    std::vector<float> grad;
};
using LineFunction = std::function<LineValue(double t)>;

struct LineSearchResult {
    double loss;              // f(x + step d)
    std::vector<float> grad;  // grad f(x + step d)
    double step;
    int evaluations;
};

// torch's _strong_wolfe: from phi(0) = (loss, grad) with directional derivative gtd = grad . d
// < 0, brackets then zooms (cubic interpolation) towards a step t with
//   f(x + t d) <= f(x) + c1 t gtd        (sufficient decrease)
//   |grad f(x + t d) . d| <= c2 |gtd|     (strong curvature condition),
// trying t first; at most max_ls evaluations of phi. When it runs out of evaluations or the
// bracket shrinks below tolerance_change, it returns the lowest point found.
LineSearchResult strong_wolfe(const LineFunction& phi, const std::vector<float>& d, double t,
                              double loss, const std::vector<float>& grad, double gtd,
                              double c1 = 1e-4, double c2 = 0.9, double tolerance_change = 1e-9,
                              int max_ls = 25);

// Runs L-BFGS over the parameters as one flat vector (float32, as torch keeps it; dot products
// accumulate in double). The history (the last history_size pairs s = x' - x,
// y = grad' - grad) carries over from one step(closure) to the next. iterations() counts
// L-BFGS iterations over all steps, evaluations() the closure's calls.
class LBFGS : public Optimizer {
  public:
    using Options = LBFGSOptions;

    // Bad options (max_iter < 1, history_size < 1, an unknown line search, ...) are
    // std::invalid_argument naming the option and its value.
    explicit LBFGS(std::vector<Variable> params, Options options = {});

    std::string name() const override { return "lbfgs"; }
    const Options& options() const { return options_; }

    // Up to max_iter iterations (fewer when a tolerance is met or max_eval is reached);
    // returns the loss the closure gave first, at the parameters the step started from.
    double step(const LossClosure& closure);
    // L-BFGS needs the closure: std::invalid_argument.
    void step() override;

    std::int64_t evaluations() const { return func_evals_; }

    // "iterations", "learning_rate", "evaluations", and once a step has run: "d",
    // "prev_flat_grad" (flat float32 vectors), "t", "prev_loss" (doubles in 3 float32 parts),
    // "old_dirs.<i>", "old_stps.<i>" (the history pairs y and s, oldest first). The inverse
    // curvatures 1 / (y . s) and the initial Hessian scale are recomputed from the pairs on
    // load, by the same arithmetic, so a resumed run continues bit for bit.
    std::map<std::string, Tensor> state_dict() const override;
    void load_state_dict(const std::map<std::string, Tensor>& state) override;

  protected:
    void update(std::size_t index, Tensor& value, const Tensor& grad) override;

  private:
    std::vector<float> flat_grad() const;
    // x += t d over the parameters, in float32.
    void add_step(double t, const std::vector<float>& d);
    void set_flat(const std::vector<float>& x);
    std::vector<float> flat_values() const;
    double evaluate(const LossClosure& closure);
    // Appends the pair (y, s) when y . s > 1e-10, dropping the oldest beyond history_size.
    void remember(std::vector<float> y, std::vector<float> s);
    std::vector<float> direction(const std::vector<float>& g) const;

    Options options_;
    std::size_t size_ = 0;  // elements over all parameters
    std::int64_t func_evals_ = 0;
    bool started_ = false;  // a step has run: d_, t_, prev_* hold its last iteration
    std::vector<float> d_, prev_flat_grad_;
    double t_ = 0, prev_loss_ = 0;
    std::deque<std::vector<float>> old_dirs_, old_stps_;  // y and s, oldest first
    std::deque<double> ro_;                               // 1 / (y . s)
    double h_diag_ = 1;                                   // initial inverse Hessian scale
};

}  // namespace xgrad::optim
