// The Keras model summary table (the layout of Keras 2 `model.summary()`).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace xgrad::nn {

struct SummaryRow {
    std::string layer;         // "dense_1 (Dense)"
    std::string output_shape;  // "(None, 10)"
    std::size_t params = 0;
};

// The whole table, one line per row, trailing spaces removed. A cell too long for its
// column wraps onto continuation lines (as Keras does), so the columns never shift.
std::string format_summary(const std::string& model_name, const std::vector<SummaryRow>& rows,
                           std::size_t total_params, std::size_t trainable_params);

// Keras 2's table for a functional model that is not a chain: 98 columns, the fourth
// "Connected to". Each row is (layer, output shape, params, connections); a cell breaks where
// it holds a '\n', and wraps when too long.
std::string format_graph_summary(const std::string& model_name,
                                 const std::vector<std::vector<std::string>>& rows,
                                 std::size_t total_params, std::size_t trainable_params);

// 79510 -> "79,510".
std::string format_count(std::size_t n);

}  // namespace xgrad::nn
