// An SVG picture of classified images: each image beside its three most probable classes as
// bars, the true class's bar in green.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "framework/tensor.h"

namespace xgrad::examples {

struct Prediction {
    std::size_t index;                               // in the test set
    Tensor image;                                    // (rows, cols), values in [0, 1]
    std::int64_t label;                              // the true class
    std::vector<std::pair<std::size_t, float>> top;  // (class, probability), most probable first
};

// One row per prediction: <g class="prediction"> holding the image as one <rect class="pixel">
// per pixel and one <rect class="bar"> per class in `top`.
std::string predictions_svg(const std::vector<Prediction>& predictions,
                            const std::vector<std::string>& class_names);

}  // namespace xgrad::examples
