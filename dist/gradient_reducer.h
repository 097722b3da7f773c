// Averages the gradients of a model's parameters over the processes of a run while backward
// runs, as PyTorch DDP's Reducer does: the parameters are packed, last first, into buckets of
// about `bucket_bytes`, and a bucket's non-blocking allreduce starts as soon as backward has
// made all of its gradients final, so communication overlaps the rest of backward. Buckets
// start in the same order on every process.
//
//   dist::GradientReducer reducer(model.trainable_parameters());
//   optimizer.zero_grad();
//   reducer.backward(loss, local_examples / double(global_examples));
//   optimizer.step();   // every process holds the same averaged gradients
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "framework/variable.h"

namespace xgrad::dist {

struct ReducerOptions {
    // A bucket closes once it holds at least this many bytes of gradients (DDP's 25 MB).
    std::size_t bucket_bytes = std::size_t(25) << 20;
    // false: every allreduce starts after backward (for measuring what overlap hides).
    bool overlap = true;
};

// Time spent on communication, summed over backward() calls.
struct ReducerStats {
    std::size_t steps = 0;
    // The communication not hidden behind backward: the time this process spent in MPI
    // calls during backward (starting allreduces, letting them progress) plus the wait for
    // them after backward, with packing and unpacking the buckets.
    double exposed_seconds = 0;
};

class GradientReducer {
  public:
    // An empty list, an empty handle or a parameter that takes no gradient is
    // std::invalid_argument.
    explicit GradientReducer(std::vector<Variable> params, ReducerOptions options = {});
    ~GradientReducer();
    GradientReducer(const GradientReducer&) = delete;
    GradientReducer& operator=(const GradientReducer&) = delete;

    // loss.backward(), then every parameter's gradient becomes the sum over processes of
    // weight * gradient, the same on every process. `weight` is this process's share of the
    // global batch (its examples over all processes' examples), so the sum is the gradient of
    // the global batch's mean loss. `loss` may be empty: this process had no examples and
    // adds zeros. A parameter without a gradient adds zeros and gets the average.
    void backward(const Variable& loss, double weight);

    std::size_t num_buckets() const;
    const ReducerStats& stats() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace xgrad::dist
