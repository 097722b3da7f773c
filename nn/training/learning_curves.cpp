#include "nn/training/learning_curves.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include <fmt/format.h>

#include "dist/world.h"
#include "nn/io/atomic_file.h"
#include "nn/io/checkpoint.h"
#include "nn/io/svg.h"

namespace xgrad::nn {

namespace {

constexpr double panel_width = 420, panel_height = 300;
constexpr double margin_left = 64, margin_right = 20, margin_top = 56, margin_bottom = 46;
constexpr const char* training_colour = "#1f77b4";
constexpr const char* validation_colour = "#ff7f0e";

// A step of 1, 2, 2.5 or 5 times a power of ten giving about `count` intervals over `range`.
double nice_step(double range, double count) {
    const double raw = range / count;
    const double power = std::pow(10.0, std::floor(std::log10(raw)));
    for (const double m : {1.0, 2.0, 2.5, 5.0}) {
        if (m * power >= raw) return m * power;
    }
    return 10 * power;
}

struct Axis {
    double lo, hi, step;
};

// An axis over [lo, hi] widened to whole steps, so the ticks include both ends.
Axis value_axis(double lo, double hi) {
    if (hi - lo < 1e-12) {
        const double pad = std::max(std::abs(lo) * 0.1, 0.05);
        lo -= pad, hi += pad;
    }
    const double step = nice_step(hi - lo, 5);
    return {std::floor(lo / step) * step, std::ceil(hi / step) * step, step};
}

// Epoch numbers as shown (from 1): whole steps, at least 1.
Axis epoch_axis(double first, double last) {
    if (first == last) return {first - 1, last + 1, 1};
    return {first, last, std::max(1.0, std::ceil(nice_step(last - first, 6)))};
}

struct Panel {
    std::string metric;
    std::vector<std::string> series;  // "accuracy", "val_accuracy", as recorded
};

// One panel per metric, the validation series beside the training one.
std::vector<Panel> panels_of(const History& history) {
    std::map<std::string, Panel> by_metric;
    for (const auto& [name, values] : history.metrics) {
        const bool validation = name.rfind("val_", 0) == 0;
        const std::string metric = validation ? name.substr(4) : name;
        Panel& p = by_metric[metric];
        p.metric = metric;
        p.series.push_back(name);
    }
    std::vector<Panel> panels;
    if (by_metric.count("loss")) panels.push_back(by_metric.at("loss"));  // loss first
    for (auto& [metric, panel] : by_metric) {
        if (metric != "loss") panels.push_back(panel);
    }
    for (auto& p : panels) {  // training before validation
        std::sort(p.series.begin(), p.series.end(), [](const auto& a, const auto& b) {
            return (a.rfind("val_", 0) == 0) < (b.rfind("val_", 0) == 0);
        });
    }
    return panels;
}

void draw_panel(SvgDocument& svg, const History& history, const Panel& panel, double left) {
    const double x0 = left + margin_left, x1 = left + panel_width - margin_right;
    const double y0 = margin_top, y1 = panel_height - margin_bottom;

    double lo = INFINITY, hi = -INFINITY;
    for (const auto& name : panel.series) {
        for (const double v : history[name]) {
            if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
        }
    }
    if (!(lo <= hi)) lo = 0, hi = 1;  // nothing finite to show
    const Axis ya = value_axis(lo, hi);
    const Axis xa =
        epoch_axis(double(history.epochs.front() + 1), double(history.epochs.back() + 1));
    auto map_x = [&](double e) { return x0 + (e - xa.lo) / (xa.hi - xa.lo) * (x1 - x0); };
    auto map_y = [&](double v) { return y1 - (v - ya.lo) / (ya.hi - ya.lo) * (y1 - y0); };

    svg.open_group(fmt::format("class=\"panel\" data-metric=\"{}\"", xml_escape(panel.metric)));
    svg.text(left + panel_width / 2, 20, panel.metric,
             "class=\"title\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\"");
    svg.rect(x0, y0, x1 - x0, y1 - y0, "class=\"plot-area\" fill=\"none\" stroke=\"#444444\"");
    // Ticks: a grid line, a tick mark and the label. `+ step / 1000` keeps the last one
    // despite rounding.
    for (double v = ya.lo; v <= ya.hi + ya.step / 1000; v += ya.step) {
        const double y = map_y(v);
        svg.line(x0, y, x1, y, "stroke=\"#e5e5e5\"");
        svg.line(x0 - 5, y, x0, y, "stroke=\"#444444\"");
        svg.text(x0 - 8, y + 4, fmt::format("{:.6g}", std::round(v / ya.step) * ya.step),
                 "class=\"tick\" text-anchor=\"end\"");
    }
    for (double e = xa.lo; e <= xa.hi + 1e-9; e += xa.step) {
        const double x = map_x(e);
        svg.line(x, y1, x, y1 + 5, "stroke=\"#444444\"");
        svg.text(x, y1 + 18, fmt::format("{:g}", e), "class=\"tick\" text-anchor=\"middle\"");
    }
    svg.text((x0 + x1) / 2, panel_height - 10, "epoch", "text-anchor=\"middle\"");

    for (const auto& name : panel.series) {
        const bool validation = name.rfind("val_", 0) == 0;
        const char* colour = validation ? validation_colour : training_colour;
        std::vector<std::pair<double, double>> points;
        const auto& values = history[name];
        for (std::size_t i = 0; i < values.size() && i < history.size(); ++i) {
            if (std::isfinite(values[i])) {
                points.emplace_back(map_x(double(history.epochs[i] + 1)), map_y(values[i]));
            }
        }
        svg.polyline(points, fmt::format("class=\"curve\" data-series=\"{}\" fill=\"none\" "
                                         "stroke=\"{}\" stroke-width=\"2\"{}",
                                         xml_escape(name), colour,
                                         validation ? " stroke-dasharray=\"6 4\"" : ""));
        for (const auto& [x, y] : points) svg.circle(x, y, 2.5, fmt::format("fill=\"{}\"", colour));
    }

    // The legend, between the title and the plot area.
    double lx = x0;
    for (const auto& name : panel.series) {
        const bool validation = name.rfind("val_", 0) == 0;
        svg.line(lx, 38, lx + 24, 38,
                 fmt::format("stroke=\"{}\" stroke-width=\"2\"{}",
                             validation ? validation_colour : training_colour,
                             validation ? " stroke-dasharray=\"6 4\"" : ""));
        svg.text(lx + 30, 42, validation ? "validation" : "training", "class=\"legend\"");
        lx += 110;
    }
    svg.close_group();
}

}  // namespace

std::string learning_curves_svg(const History& history) {
    const std::vector<Panel> panels = panels_of(history);
    if (history.size() == 0 || panels.empty()) {
        SvgDocument svg(panel_width, 80);
        svg.text(panel_width / 2, 45, "no finished epoch yet", "text-anchor=\"middle\"");
        return svg.str();
    }
    SvgDocument svg(panel_width * double(panels.size()), panel_height);
    for (std::size_t i = 0; i < panels.size(); ++i) {
        draw_panel(svg, history, panels[i], panel_width * double(i));
    }
    return svg.str();
}

LearningCurvesPlot::LearningCurvesPlot(std::string path, History previous)
    : path_(std::move(path)), history_(std::move(previous)) {}

void LearningCurvesPlot::on_train_begin(Trainer&) {
    if (!dist::is_root()) return;  // data-parallel training: one process writes
    write_file_atomically(path_, learning_curves_svg(history_));
}

void LearningCurvesPlot::on_epoch_end(Trainer& trainer, std::size_t epoch, const Logs& logs) {
    append_epoch(history_, epoch, logs, trainer.last_epoch_seconds());
    if (dist::is_root()) write_file_atomically(path_, learning_curves_svg(history_));
}

}  // namespace xgrad::nn
