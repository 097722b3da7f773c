#include "nn/io/svg.h"

#include <fmt/format.h>

#include "nn/io/atomic_file.h"

namespace xgrad::nn {

std::string xml_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

SvgDocument::SvgDocument(double width, double height) : width_(width), height_(height) {}

void SvgDocument::rect(double x, double y, double width, double height,
                       std::string_view attributes) {
    body_ +=
        fmt::format("<rect x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" height=\"{:.2f}\" {}/>\n", x,
                    y, width, height, attributes);
}

void SvgDocument::line(double x1, double y1, double x2, double y2, std::string_view attributes) {
    body_ += fmt::format("<line x1=\"{:.2f}\" y1=\"{:.2f}\" x2=\"{:.2f}\" y2=\"{:.2f}\" {}/>\n", x1,
                         y1, x2, y2, attributes);
}

void SvgDocument::circle(double cx, double cy, double r, std::string_view attributes) {
    body_ += fmt::format("<circle cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"{:.2f}\" {}/>\n", cx, cy, r,
                         attributes);
}

void SvgDocument::polyline(const std::vector<std::pair<double, double>>& points,
                           std::string_view attributes) {
    std::string list;
    for (const auto& [x, y] : points) {
        list += fmt::format("{}{:.2f},{:.2f}", list.empty() ? "" : " ", x, y);
    }
    body_ += fmt::format("<polyline points=\"{}\" {}/>\n", list, attributes);
}

void SvgDocument::text(double x, double y, std::string_view content, std::string_view attributes) {
    body_ += fmt::format("<text x=\"{:.2f}\" y=\"{:.2f}\" {}>{}</text>\n", x, y, attributes,
                         xml_escape(content));
}

void SvgDocument::open_group(std::string_view attributes) {
    body_ += fmt::format("<g {}>\n", attributes);
}

void SvgDocument::close_group() {
    body_ += "</g>\n";
}

std::string SvgDocument::str() const {
    return fmt::format(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0:.0f}\" height=\"{1:.0f}\" "
        "viewBox=\"0 0 {0:.0f} {1:.0f}\" font-family=\"sans-serif\" font-size=\"12\">\n"
        "<rect x=\"0\" y=\"0\" width=\"{0:.0f}\" height=\"{1:.0f}\" "
        "fill=\"#ffffff\"/>\n{2}</svg>\n",
        width_, height_, body_);
}

void SvgDocument::save(const std::string& path) const {
    write_file_atomically(path, str());
}

}  // namespace xgrad::nn
