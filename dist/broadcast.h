// Makes every process start from the same state, as Horovod's broadcast_parameters and
// broadcast_optimizer_state do: the model's parameters (trainable and not) and the optimizer's
// state are copied from process `root` to all others.
#pragma once

#include "nn/module.h"
#include "optim/optimizer.h"

namespace xgrad::dist {

// A model whose parameters differ between processes in number, name or shape is a
// std::invalid_argument on every process (naming the first difference), before any value is
// copied.
void broadcast_parameters(const nn::Module& model, int root = 0);

// The optimizer's state_dict() (step count, learning rate, per-parameter slots). An optimizer
// of another type, options or parameter list than root's is a std::invalid_argument on every
// process, and changes nothing.
void broadcast_optimizer_state(optim::Optimizer& optimizer, int root = 0);

}  // namespace xgrad::dist
