#include "examples/prediction_picture.h"

#include <algorithm>

#include <fmt/format.h>

#include "nn/io/svg.h"

namespace xgrad::examples {

std::string predictions_svg(const std::vector<Prediction>& predictions,
                            const std::vector<std::string>& class_names) {
    constexpr double pixel = 4, row_height = 150, image_left = 16, bars_left = 170;
    constexpr double bar_width = 260, name_width = 100;
    nn::SvgDocument svg(bars_left + name_width + bar_width + 70,
                        row_height * double(predictions.size()) + 10);
    for (std::size_t k = 0; k < predictions.size(); ++k) {
        const Prediction& p = predictions[k];
        const double top = row_height * double(k) + 10;
        svg.open_group(fmt::format("class=\"prediction\" data-index=\"{}\"", p.index));
        svg.text(image_left, top + 12,
                 fmt::format("Test image {}: {}", p.index, class_names.at(std::size_t(p.label))),
                 "font-weight=\"bold\"");
        const std::size_t rows = p.image.shape()[0], cols = p.image.shape()[1];
        for (std::size_t r = 0; r < rows; ++r) {
            for (std::size_t c = 0; c < cols; ++c) {
                // Fashion-MNIST is light on dark: draw it dark on light, as on paper.
                const int shade = 255 - int(std::clamp(p.image(r, c), 0.f, 1.f) * 255.f + 0.5f);
                svg.rect(image_left + pixel * double(c), top + 22 + pixel * double(r), pixel, pixel,
                         fmt::format("class=\"pixel\" fill=\"#{0:02x}{0:02x}{0:02x}\"", shade));
            }
        }
        for (std::size_t rank = 0; rank < p.top.size(); ++rank) {
            const auto [c, prob] = p.top[rank];
            const double y = top + 34 + 32 * double(rank);
            const bool correct = std::int64_t(c) == p.label;
            svg.text(bars_left + name_width - 8, y + 15, class_names.at(c), "text-anchor=\"end\"");
            svg.rect(bars_left + name_width, y, bar_width, 22, "fill=\"#eeeeee\"");
            svg.rect(bars_left + name_width, y, bar_width * double(prob), 22,
                     fmt::format("class=\"bar\" data-class=\"{}\" fill=\"{}\"", c,
                                 correct ? "#2ca02c" : "#7f9fbf"));
            svg.text(bars_left + name_width + bar_width + 6, y + 15,
                     fmt::format("{:.1f}%", 100.0 * double(prob)), "");
        }
        svg.close_group();
    }
    return svg.str();
}

}  // namespace xgrad::examples
