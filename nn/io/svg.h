// A small SVG writer for the training pictures (learning curves, confusion matrices,
// predictions): elements are appended as text; coordinates are pixels, y grows downwards.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xgrad::nn {

// `text` with &, <, >, " and ' replaced by entities, for element text and attribute values.
std::string xml_escape(std::string_view text);

class SvgDocument {
  public:
    SvgDocument(double width, double height);

    // `attributes` is SVG attribute text such as `fill="#fff" class="cell"`; values that come
    // from users go through xml_escape first.
    void rect(double x, double y, double width, double height, std::string_view attributes);
    void line(double x1, double y1, double x2, double y2, std::string_view attributes);
    void circle(double cx, double cy, double r, std::string_view attributes);
    void polyline(const std::vector<std::pair<double, double>>& points,
                  std::string_view attributes);
    // `content` is escaped here.
    void text(double x, double y, std::string_view content, std::string_view attributes);
    void open_group(std::string_view attributes);
    void close_group();

    // The complete document.
    std::string str() const;
    // Writes str() to `path` atomically (nn/io/atomic_file.h).
    void save(const std::string& path) const;

  private:
    double width_, height_;
    std::string body_;
};

}  // namespace xgrad::nn
