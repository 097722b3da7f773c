// Finite-difference gradient check in float64, public so users can check their own ops.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "framework/variable.h"

namespace xgrad {

struct GradcheckOptions {
    double eps = 1e-6;   // step of the central difference
    double atol = 1e-5;  // pass when |analytic - numeric| <= atol + rtol * |numeric|
    double rtol = 1e-4;
    unsigned seed = 0;  // for the random weights that reduce a non-scalar output
};

struct GradcheckResult {
    bool ok = true;
    double max_abs_error = 0;
    // The worst element: which input, its position, and both gradients there.
    std::size_t input = 0;
    Shape index;
    double analytic = 0;
    double numeric = 0;
    std::string message;  // one sentence, empty when ok
};

using GradcheckFn = std::function<Variable64(const std::vector<Variable64>&)>;

// Compares the backward of `f` at `inputs` with central finite differences. A non-scalar
// output is reduced as sum(f(x) * w) with fixed random weights w, so every output element
// is checked. Every input is treated as requiring a gradient.
GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor64>& inputs,
                          const GradcheckOptions& options = {});

}  // namespace xgrad
