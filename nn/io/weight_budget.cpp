#include "nn/io/weight_budget.h"

#include <cstdint>
#include <stdexcept>
#include <string>

namespace xgrad::nn {

namespace {
thread_local WeightBudget* current_budget = nullptr;
}

WeightBudget::WeightBudget(std::uint64_t file_weights, std::uint64_t slack)
    : previous_(current_budget),
      file_weights_(file_weights),
      left_(file_weights > UINT64_MAX - slack ? UINT64_MAX : file_weights + slack) {
    current_budget = this;
}

WeightBudget::~WeightBudget() {
    current_budget = previous_;
}

void WeightBudget::charge(const Module& layer, const Shape& input_shape) {
    WeightBudget* budget = current_budget;
    if (budget == nullptr || layer.built()) return;
    const std::uint64_t needed = layer.weight_count(input_shape).value_or(0);
    if (needed > budget->left_) {
        throw std::invalid_argument("layer '" + layer.name() + "' needs " + std::to_string(needed) +
                                    " weights for input shape " + format_batch_shape(input_shape) +
                                    ", more than the file holds with the layers before it (" +
                                    std::to_string(budget->file_weights_) + " in all)");
    }
    budget->left_ -= needed;
}

}  // namespace xgrad::nn
