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
    // Take the analytic gradient from the ops' graph backward (what create_graph runs)
    // instead of their tensor backward.
    bool create_graph = false;
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

// Checks the second derivatives of `f`. First the gradients computed with create_graph
// (the ops' graph backward) are checked against finite differences; then they are
// differentiated again and compared with finite differences of those gradients, along
// fixed random directions (the output weights w and a direction v per input):
// gradcheck of x -> sum_i <d<f(x), w>/dx_i, v_i>. Every op in f needs a graph backward.
GradcheckResult gradgradcheck(const GradcheckFn& f, const std::vector<Tensor64>& inputs,
                              const GradcheckOptions& options = {});

}  // namespace xgrad
