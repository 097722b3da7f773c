// The confusion matrix of a classifier, counted and drawn as an SVG heat map.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "framework/tensor.h"

namespace xgrad::nn {

// counts[true class][predicted class].
using ConfusionMatrix = std::vector<std::vector<std::size_t>>;

// The prediction of each row of `scores` (examples, classes) is its largest entry. A shape
// that does not fit `labels` (examples,) is a ShapeError, a label outside [0, classes) a
// std::invalid_argument.
ConfusionMatrix confusion_matrix(const Tensor& scores, const IndexTensor& labels);

// An SVG heat map: one <rect class="cell"> per (true, predicted) pair with its count in it,
// coloured by the share of the true class's examples, so each row reads as a distribution;
// rows are the true classes, columns the predicted ones, both named by `class_names` (one per
// class, else a std::invalid_argument).
std::string confusion_matrix_svg(const ConfusionMatrix& matrix,
                                 const std::vector<std::string>& class_names);

}  // namespace xgrad::nn
