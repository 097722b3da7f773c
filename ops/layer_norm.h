// Per-example normalisation over the last axis, each as one fused op (forward and backward in
// single passes over a row): layer_norm (Ba et al.; Keras LayerNormalization, torch LayerNorm)
// and rms_norm (Zhang & Sennrich; torch RMSNorm).
#pragma once

#include "framework/variable.h"

namespace xgrad {

// y = (x - mean) / sqrt(variance + epsilon) * gamma + beta, with the mean and the biased
// variance of each row of the last axis (computed in two passes, so large offsets cancel
// exactly). gamma and beta have shape (features,); x has rank 1 or more. Wrong shapes are a
// ShapeError naming layer_norm and the shapes; epsilon <= 0 is a std::invalid_argument.
template <class T>
VariableOf<T> layer_norm(const VariableOf<T>& x, const VariableOf<T>& gamma,
                         const VariableOf<T>& beta, double epsilon = 1e-3);

// y = x / sqrt(mean(x^2) + epsilon) * gamma over the last axis; gamma has shape (features,).
template <class T>
VariableOf<T> rms_norm(const VariableOf<T>& x, const VariableOf<T>& gamma, double epsilon = 1e-6);

}  // namespace xgrad
