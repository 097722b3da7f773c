// Gradient clipping, applied between backward() and step(). Parameters without a gradient
// are skipped.
#pragma once

#include <vector>

#include "framework/variable.h"

namespace xgrad::optim {

// Scales all gradients together so that their global L2 norm is at most max_norm (Keras
// global_clipnorm). Returns the norm before clipping. A non-finite norm is returned and
// nothing is scaled, so the caller can see and skip the step. max_norm must be > 0.
double clip_grad_norm(const std::vector<Variable>& params, double max_norm);

// Limits every gradient element to [-clip, clip] (Keras clipvalue); clip must be > 0.
void clip_grad_value(const std::vector<Variable>& params, double clip);

}  // namespace xgrad::optim
