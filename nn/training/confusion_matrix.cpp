#include "nn/training/confusion_matrix.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "framework/errors.h"
#include "nn/io/svg.h"

namespace xgrad::nn {

ConfusionMatrix confusion_matrix(const Tensor& scores, const IndexTensor& labels) {
    if (scores.dimension() != 2 || labels.dimension() != 1 ||
        scores.shape()[0] != labels.shape()[0] || scores.shape()[1] == 0) {
        throw ShapeError(
            "confusion_matrix",
            fmt::format("scores ({}) and labels ({}) do not fit; expected (examples, "
                        "classes) and (examples,)",
                        fmt::join(scores.shape(), ", "), fmt::join(labels.shape(), ", ")));
    }
    const std::size_t n = scores.shape()[0], k = scores.shape()[1];
    ConfusionMatrix counts(k, std::vector<std::size_t>(k, 0));
    for (std::size_t i = 0; i < n; ++i) {
        const std::int64_t label = labels(i);
        if (label < 0 || std::size_t(label) >= k) {
            throw std::invalid_argument(fmt::format(
                "confusion_matrix: label {} of example {} is outside [0, {})", label, i, k));
        }
        const float* row = scores.data() + i * k;
        counts[std::size_t(label)][std::size_t(std::max_element(row, row + k) - row)] += 1;
    }
    return counts;
}

std::string confusion_matrix_svg(const ConfusionMatrix& matrix,
                                 const std::vector<std::string>& class_names) {
    const std::size_t k = matrix.size();
    for (const auto& row : matrix) {
        if (row.size() != k) {
            throw std::invalid_argument(
                fmt::format("confusion_matrix_svg: the matrix is not square ({} rows, a row of {})",
                            k, row.size()));
        }
    }
    if (class_names.size() != k) {
        throw std::invalid_argument(fmt::format(
            "confusion_matrix_svg: {} class names for {} classes", class_names.size(), k));
    }
    constexpr double cell = 44, left = 150, top = 150;
    SvgDocument svg(left + cell * double(k) + 30, top + cell * double(k) + 30);
    svg.text(left + cell * double(k) / 2, 22, "predicted class",
             "text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\"");
    svg.text(18, top + cell * double(k) / 2, "true class",
             fmt::format("text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\" "
                         "transform=\"rotate(-90 18 {:.2f})\"",
                         top + cell * double(k) / 2));
    for (std::size_t c = 0; c < k; ++c) {
        const double x = left + cell * (double(c) + 0.5), y = top - 8;
        svg.text(x, y, class_names[c],
                 fmt::format("class=\"column-name\" text-anchor=\"start\" "
                             "transform=\"rotate(-45 {:.2f} {:.2f})\"",
                             x, y));
        svg.text(left - 8, top + cell * (double(c) + 0.5) + 4, class_names[c],
                 "class=\"row-name\" text-anchor=\"end\"");
    }
    for (std::size_t r = 0; r < k; ++r) {
        std::size_t total = 0;
        for (const auto n : matrix[r]) total += n;
        for (std::size_t c = 0; c < k; ++c) {
            const double share = total ? double(matrix[r][c]) / double(total) : 0.0;
            // White to dark blue.
            const auto channel = [share](int from, int to) {
                return int(from + (to - from) * share + 0.5);
            };
            const double x = left + cell * double(c), y = top + cell * double(r);
            svg.rect(x, y, cell, cell,
                     fmt::format(
                         "class=\"cell\" data-true=\"{}\" data-predicted=\"{}\" "
                         "data-count=\"{}\" fill=\"#{:02x}{:02x}{:02x}\" stroke=\"#ffffff\"",
                         r, c, matrix[r][c], channel(255, 8), channel(255, 48), channel(255, 107)));
            svg.text(x + cell / 2, y + cell / 2 + 4, std::to_string(matrix[r][c]),
                     fmt::format("text-anchor=\"middle\" font-size=\"11\" fill=\"{}\"",
                                 share > 0.5 ? "#ffffff" : "#000000"));
        }
    }
    return svg.str();
}

}  // namespace xgrad::nn
