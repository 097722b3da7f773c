// Batch normalisation over every axis but the last (channels-last: one mean and variance per
// channel, for (batch, features) and (batch, height, width, channels) alike).
#pragma once

#include "framework/variable.h"

namespace xgrad {

// Training mode: y = gamma * (x - mean) / sqrt(variance + epsilon) + beta with the batch's
// own mean and (biased) variance per channel. When given, batch_mean and batch_variance
// receive those statistics (shape (channels,)) for the caller's running averages.
// gamma and beta have shape (channels,).
template <class T>
VariableOf<T> batch_norm(const VariableOf<T>& x, const VariableOf<T>& gamma,
                         const VariableOf<T>& beta, double epsilon,
                         TensorOf<T>* batch_mean = nullptr, TensorOf<T>* batch_variance = nullptr);

// Inference mode: the same with fixed statistics (the running averages).
template <class T>
VariableOf<T> batch_norm_inference(const VariableOf<T>& x, const VariableOf<T>& gamma,
                                   const VariableOf<T>& beta, const TensorOf<T>& mean,
                                   const TensorOf<T>& variance, double epsilon);

}  // namespace xgrad
