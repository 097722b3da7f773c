// Losses. Each reduces with mean (the default), sum, or none (one value per example).
// Class losses take (batch, classes) and have one value per row. Elementwise losses (mse,
// mae, huber, binary cross-entropies) take two inputs of the same shape and, as Keras does,
// average the last axis of a rank >= 2 input into one value per example (a rank 0 or 1 input
// has one example per element); sum adds the per-example values, mean averages them.
#pragma once

#include "framework/variable.h"

namespace xgrad {

enum class Reduction { mean, sum, none };

// From logits (batch, classes) and integer labels (batch,): fused log-softmax, stable for
// logits of +-1e4. A label outside 0..classes-1 is an error naming the label, its position and
// the number of classes; the number of labels must equal the batch.
template <class T>
VariableOf<T> cross_entropy(const VariableOf<T>& logits, const IndexTensor& labels,
                            Reduction reduction = Reduction::mean);

// Keras sparse_categorical_crossentropy on probabilities: clipped to [eps, 1 - eps]
// (eps = 1e-7) before the log, so log never sees 0.
template <class T>
VariableOf<T> sparse_categorical_crossentropy(const VariableOf<T>& probs, const IndexTensor& labels,
                                              Reduction reduction = Reduction::mean);

// Keras categorical_crossentropy on probabilities with one-hot (or soft) targets, clipped.
template <class T>
VariableOf<T> categorical_crossentropy(const VariableOf<T>& probs, const VariableOf<T>& targets,
                                       Reduction reduction = Reduction::mean);

// Negative log-likelihood from log-probabilities (batch, classes) and integer labels.
template <class T>
VariableOf<T> nll_loss(const VariableOf<T>& log_probs, const IndexTensor& labels,
                       Reduction reduction = Reduction::mean);

// Binary cross-entropy on probabilities (clipped) and from logits (stable).
template <class T>
VariableOf<T> binary_cross_entropy(const VariableOf<T>& probs, const VariableOf<T>& targets,
                                   Reduction reduction = Reduction::mean);
template <class T>
VariableOf<T> binary_cross_entropy_with_logits(const VariableOf<T>& logits,
                                               const VariableOf<T>& targets,
                                               Reduction reduction = Reduction::mean);

template <class T>
VariableOf<T> mse_loss(const VariableOf<T>& pred, const VariableOf<T>& target,
                       Reduction reduction = Reduction::mean);
template <class T>
VariableOf<T> mae_loss(const VariableOf<T>& pred, const VariableOf<T>& target,
                       Reduction reduction = Reduction::mean);
template <class T>
VariableOf<T> huber_loss(const VariableOf<T>& pred, const VariableOf<T>& target, double delta = 1.0,
                         Reduction reduction = Reduction::mean);

}  // namespace xgrad
