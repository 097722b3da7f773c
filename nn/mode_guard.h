// TrainingModeGuard: switches a module tree to training or eval mode for a scope and puts
// every module's own mode back when the scope ends, also when an exception passes (a model
// left in eval mode by a failed evaluate() would silently train without dropout).
//
//   {
//       nn::TrainingModeGuard eval(model, false);
//       ... forward passes in eval mode ...
//   }   // each module is back in the mode it had, even a BatchNormalization frozen in eval
#pragma once

#include <utility>
#include <vector>

#include "nn/module.h"

namespace xgrad::nn {

class TrainingModeGuard {
  public:
    TrainingModeGuard(Module& module, bool training);
    ~TrainingModeGuard();
    TrainingModeGuard(const TrainingModeGuard&) = delete;
    TrainingModeGuard& operator=(const TrainingModeGuard&) = delete;

  private:
    // Every module of the tree, parents before children, with the mode it had.
    std::vector<std::pair<Module*, bool>> saved_;
};

}  // namespace xgrad::nn
