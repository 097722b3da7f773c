#include "nn/models/summary.h"

#include <algorithm>
#include <array>

namespace xgrad::nn {

namespace {

constexpr std::size_t line_length = 65;
// Where each column ends, as Keras computes it for a sequential model: 65 * (.45, .85, 1).
constexpr std::array<std::size_t, 3> column_end = {29, 55, 65};

std::string rstrip(std::string s) {
    s.erase(s.find_last_not_of(' ') + 1);
    return s;
}

// One table row; each cell is cut to its column's width and the rest continues on the
// next line. A cell starts one space in and keeps two spaces before the next column.
std::string format_row(std::array<std::string, 3> cells) {
    std::string out;
    while (std::any_of(cells.begin(), cells.end(), [](const auto& c) { return !c.empty(); })) {
        std::string line = " ";
        for (std::size_t col = 0; col < cells.size(); ++col) {
            const std::size_t start = col == 0 ? 0 : column_end[col - 1];
            const bool last = col + 1 == cells.size();
            const std::size_t width = column_end[col] - start - (last ? 0 : 3);
            const std::size_t take = std::min(width, cells[col].size());
            line += cells[col].substr(0, take);
            cells[col].erase(0, take);
            if (line.size() < column_end[col]) line.resize(column_end[col], ' ');
        }
        out += rstrip(line) + "\n";
    }
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
    const std::string thin(line_length, '_'), thick(line_length, '=');
    std::string out = "Model: \"" + model_name + "\"\n" + thin + "\n";
    out += format_row({"Layer (type)", "Output Shape", "Param #"});
    out += thick + "\n";
    for (const auto& row : rows) {
        out += format_row({row.layer, row.output_shape, std::to_string(row.params)});
        out += "\n";  // Keras separates rows with a blank line
    }
    out += thick + "\n";
    out += "Total params: " + format_count(total_params) + "\n";
    out += "Trainable params: " + format_count(trainable_params) + "\n";
    out += "Non-trainable params: " + format_count(total_params - trainable_params) + "\n";
    out += thin + "\n";
    return out;
}

}  // namespace xgrad::nn
