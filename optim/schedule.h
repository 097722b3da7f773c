// Learning-rate schedules: callables from a step (or epoch) count to a rate, as in Keras,
// and ReduceLROnPlateau, which lowers an optimizer's rate when a metric stops improving.
//
//   optim::CosineDecay schedule(0.001, 10000);
//   opt->set_learning_rate(schedule(opt->iterations()));
#pragma once

#include <cstdint>
#include <optional>

#include "optim/optimizer.h"

namespace xgrad::optim {

class LearningRateSchedule {
  public:
    virtual ~LearningRateSchedule() = default;
    // The rate at `step` (>= 0; a negative step is std::invalid_argument).
    virtual double operator()(std::int64_t step) const = 0;
};

// initial * drop_factor ^ floor(step / step_size): drops every step_size steps.
class StepDecay : public LearningRateSchedule {
  public:
    StepDecay(double initial, double drop_factor, std::int64_t step_size);
    double operator()(std::int64_t step) const override;

  private:
    double initial_, drop_factor_;
    std::int64_t step_size_;
};

// Keras ExponentialDecay: initial * decay_rate ^ (step / decay_steps), with the exponent
// floored when staircase is true.
class ExponentialDecay : public LearningRateSchedule {
  public:
    ExponentialDecay(double initial, std::int64_t decay_steps, double decay_rate,
                     bool staircase = false);
    double operator()(std::int64_t step) const override;

  private:
    double initial_;
    std::int64_t decay_steps_;
    double decay_rate_;
    bool staircase_;
};

// Keras CosineDecay. Without a warm-up target:
//   s = min(step, decay_steps)
//   rate = initial * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)
// With warmup_target: a linear ramp from initial to warmup_target over warmup_steps, then
// the same cosine from warmup_target over the next decay_steps.
class CosineDecay : public LearningRateSchedule {
  public:
    CosineDecay(double initial, std::int64_t decay_steps, double alpha = 0,
                std::int64_t warmup_steps = 0, std::optional<double> warmup_target = {});
    double operator()(std::int64_t step) const override;

  private:
    double initial_;
    std::int64_t decay_steps_;
    double alpha_;
    std::int64_t warmup_steps_;
    std::optional<double> warmup_target_;
};

enum class PlateauMode { min, max };

// Keras ReduceLROnPlateau: after `patience` calls to update() without an improvement of
// more than min_delta over the best metric, multiplies the optimizer's rate by factor (not
// below min_lr), then waits `cooldown` calls before counting again.
class ReduceLROnPlateau {
  public:
    explicit ReduceLROnPlateau(Optimizer& optimizer, double factor = 0.1, int patience = 10,
                               double min_delta = 1e-4, double min_lr = 0,
                               PlateauMode mode = PlateauMode::min, int cooldown = 0);

    // Feeds one metric value (once per epoch); true when it reduced the learning rate.
    bool update(double metric);

    double best() const { return best_; }
    int wait() const { return wait_; }

  private:
    bool improved(double metric) const;

    Optimizer& optimizer_;
    double factor_;
    int patience_;
    double min_delta_, min_lr_;
    PlateauMode mode_;
    int cooldown_;
    double best_;
    int wait_ = 0;
    int cooldown_counter_ = 0;
};

}  // namespace xgrad::optim
