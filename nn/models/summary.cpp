#include "nn/models/summary.h"

#include <algorithm>
#include <string>
#include <vector>

namespace xgrad::nn {

namespace {

// Where each column ends, as Keras computes it: for a sequential model 65 * (.45, .85, 1),
// for a graph 98 * (.33, .55, .67, 1). The last one is the line length.
const std::vector<std::size_t> sequential_columns = {29, 55, 65};
const std::vector<std::size_t> graph_columns = {32, 53, 65, 98};

std::string rstrip(std::string s) {
    s.erase(s.find_last_not_of(' ') + 1);
    return s;
}

// One table row; each cell is cut to its column's width (or at a '\n') and the rest continues
// on the next line. A cell starts one space in and keeps two spaces before the next column.
std::string format_row(std::vector<std::string> cells, const std::vector<std::size_t>& column_end) {
    std::string out;
    while (std::any_of(cells.begin(), cells.end(), [](const auto& c) { return !c.empty(); })) {
        std::string line = " ";
        for (std::size_t col = 0; col < cells.size(); ++col) {
            const std::size_t start = col == 0 ? 0 : column_end[col - 1];
            const bool last = col + 1 == cells.size();
            const std::size_t width = column_end[col] - start - (last ? 0 : 3);
            const std::size_t take = std::min({width, cells[col].size(), cells[col].find('\n')});
            line += cells[col].substr(0, take);
            cells[col].erase(0, take);
            if (!cells[col].empty() && cells[col][0] == '\n') cells[col].erase(0, 1);
            if (line.size() < column_end[col]) line.resize(column_end[col], ' ');
        }
        out += rstrip(line) + "\n";
    }
    return out;
}

std::string format_table(const std::string& model_name,
                         const std::vector<std::vector<std::string>>& rows,
                         std::size_t total_params, std::size_t trainable_params,
                         const std::vector<std::size_t>& columns) {
    const std::size_t line_length = columns.back();
    const std::string thin(line_length, '_'), thick(line_length, '=');
    std::vector<std::string> header = {"Layer (type)", "Output Shape", "Param #", "Connected to"};
    header.resize(columns.size());
    std::string out = "Model: \"" + model_name + "\"\n" + thin + "\n";
    out += format_row(header, columns);
    out += thick + "\n";
    for (const auto& row : rows) {
        out += format_row(row, columns);
        out += "\n";  // Keras separates rows with a blank line
    }
    out += thick + "\n";
    out += "Total params: " + format_count(total_params) + "\n";
    out += "Trainable params: " + format_count(trainable_params) + "\n";
    out += "Non-trainable params: " + format_count(total_params - trainable_params) + "\n";
    out += thin + "\n";
    return out;
}

}  // namespace

std::string format_count(std::size_t n) {
    std::string digits = std::to_string(n), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string format_summary(const std::string& model_name, const std::vector<SummaryRow>& rows,
                           std::size_t total_params, std::size_t trainable_params) {
    std::vector<std::vector<std::string>> cells;
    for (const auto& row : rows) {
        cells.push_back({row.layer, row.output_shape, std::to_string(row.params)});
    }
    return format_table(model_name, cells, total_params, trainable_params, sequential_columns);
}

std::string format_graph_summary(const std::string& model_name,
                                 const std::vector<std::vector<std::string>>& rows,
                                 std::size_t total_params, std::size_t trainable_params) {
    return format_table(model_name, rows, total_params, trainable_params, graph_columns);
}

}  // namespace xgrad::nn
