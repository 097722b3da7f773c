#pragma once

// A bound on the weights that building layers may allocate while a model file is read: the
// layers of a functional model build as its graph is rebuilt from the file's record, before
// the weights are compared with the file's tensors, so a corrupt record (a Dense with a
// billion units) must fail before it allocates, not after.

#include <cstdint>

#include "nn/module.h"

namespace xgrad::nn {

// While alive, the layers built on this thread through a functional model's calls may need
// at most the file's weights plus `slack` in all (small differences are left to the exact
// comparison, which names the tensors). An inner budget replaces an outer one until it ends.
class WeightBudget {
  public:
    WeightBudget(std::uint64_t file_weights, std::uint64_t slack);
    ~WeightBudget();
    WeightBudget(const WeightBudget&) = delete;
    WeightBudget& operator=(const WeightBudget&) = delete;

    // Takes what `layer` needs to build for `input_shape` (when it can tell) from the
    // current budget, if there is one; throws std::invalid_argument naming the layer and the
    // counts when it would exceed it.
    static void charge(const Module& layer, const Shape& input_shape);

  private:
    WeightBudget* previous_;
    std::uint64_t file_weights_;
    std::uint64_t left_;
};

}  // namespace xgrad::nn
