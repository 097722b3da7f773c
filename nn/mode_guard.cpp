#include "nn/mode_guard.h"

namespace xgrad::nn {

namespace {

void collect_modes(Module& module, std::vector<std::pair<Module*, bool>>& out) {
    out.emplace_back(&module, module.is_training());
    for (const auto& child : module.children()) collect_modes(*child, out);
}

}  // namespace

TrainingModeGuard::TrainingModeGuard(Module& module, bool training) {
    collect_modes(module, saved_);
    module.train(training);
}

TrainingModeGuard::~TrainingModeGuard() {
    // Parents first: train() switches a whole subtree, and each child's own entry follows.
    for (auto& [module, training] : saved_) module->train(training);
}

}  // namespace xgrad::nn
