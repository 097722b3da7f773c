#include "optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>

namespace xgrad::optim {

namespace {

void check_step(const char* who, std::int64_t step) {
    if (step < 0) {
        throw std::invalid_argument(std::string(who) + ": the step must be >= 0, got " +
                                    std::to_string(step));
    }
}

void check_positive(const char* who, const char* what, std::int64_t value) {
    if (value <= 0) {
        throw std::invalid_argument(std::string(who) + ": " + what + " must be > 0, got " +
                                    std::to_string(value));
    }
}

}  // namespace

StepDecay::StepDecay(double initial, double drop_factor, std::int64_t step_size)
    : initial_(initial), drop_factor_(drop_factor), step_size_(step_size) {
    check_positive("StepDecay", "step_size", step_size);
}

double StepDecay::operator()(std::int64_t step) const {
    check_step("StepDecay", step);
    return initial_ * std::pow(drop_factor_, static_cast<double>(step / step_size_));
}

ExponentialDecay::ExponentialDecay(double initial, std::int64_t decay_steps, double decay_rate,
                                   bool staircase)
    : initial_(initial), decay_steps_(decay_steps), decay_rate_(decay_rate), staircase_(staircase) {
    check_positive("ExponentialDecay", "decay_steps", decay_steps);
}

double ExponentialDecay::operator()(std::int64_t step) const {
    check_step("ExponentialDecay", step);
    double p = static_cast<double>(step) / static_cast<double>(decay_steps_);
    if (staircase_) p = std::floor(p);
    return initial_ * std::pow(decay_rate_, p);
}

CosineDecay::CosineDecay(double initial, std::int64_t decay_steps, double alpha,
                         std::int64_t warmup_steps, std::optional<double> warmup_target)
    : initial_(initial),
      decay_steps_(decay_steps),
      alpha_(alpha),
      warmup_steps_(warmup_steps),
      warmup_target_(warmup_target) {
    check_positive("CosineDecay", "decay_steps", decay_steps);
    if (warmup_steps < 0) {
        throw std::invalid_argument("CosineDecay: warmup_steps must be >= 0, got " +
                                    std::to_string(warmup_steps));
    }
}

double CosineDecay::operator()(std::int64_t step) const {
    check_step("CosineDecay", step);
    double from = initial_;
    if (warmup_target_) {
        if (step < warmup_steps_) {
            const double done = static_cast<double>(step) / static_cast<double>(warmup_steps_);
            return initial_ + done * (*warmup_target_ - initial_);
        }
        from = *warmup_target_;
        step -= warmup_steps_;
    }
    const double s = static_cast<double>(std::min(step, decay_steps_));
    const double cosine =
        0.5 * (1 + std::cos(std::numbers::pi * s / static_cast<double>(decay_steps_)));
    return from * ((1 - alpha_) * cosine + alpha_);
}

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, double factor, int patience,
                                     double min_delta, double min_lr, PlateauMode mode,
                                     int cooldown)
    : optimizer_(optimizer),
      factor_(factor),
      patience_(patience),
      min_delta_(std::abs(min_delta)),
      min_lr_(min_lr),
      mode_(mode),
      cooldown_(cooldown),
      best_(mode == PlateauMode::min ? std::numeric_limits<double>::infinity()
                                     : -std::numeric_limits<double>::infinity()) {
    if (!(factor >= 0 && factor < 1)) {
        throw std::invalid_argument("ReduceLROnPlateau: factor must be in [0, 1), got " +
                                    std::to_string(factor));
    }
    if (patience < 0 || cooldown < 0) {
        throw std::invalid_argument("ReduceLROnPlateau: patience and cooldown must be >= 0, got " +
                                    std::to_string(patience) + " and " + std::to_string(cooldown));
    }
    if (!(min_lr >= 0)) {
        throw std::invalid_argument("ReduceLROnPlateau: min_lr must be >= 0, got " +
                                    std::to_string(min_lr));
    }
}

bool ReduceLROnPlateau::improved(double metric) const {
    return mode_ == PlateauMode::min ? metric < best_ - min_delta_ : metric > best_ + min_delta_;
}

bool ReduceLROnPlateau::update(double metric) {
    // Same order as Keras: the cooldown ticks first and keeps the wait at zero.
    const bool in_cooldown = cooldown_counter_ > 0;
    if (in_cooldown) {
        --cooldown_counter_;
        wait_ = 0;
    }
    if (improved(metric)) {
        best_ = metric;
        wait_ = 0;
        return false;
    }
    if (in_cooldown) return false;
    if (++wait_ < patience_) return false;
    const double lr = optimizer_.learning_rate();
    if (lr <= min_lr_) return false;
    optimizer_.set_learning_rate(std::max(lr * factor_, min_lr_));
    cooldown_counter_ = cooldown_;
    wait_ = 0;
    return true;
}

}  // namespace xgrad::optim
