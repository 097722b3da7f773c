#include "nn/training/progress_bar.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>

#include <fmt/format.h>

namespace xgrad::nn {

namespace {

constexpr int kBarWidth = 30;

std::string format_metrics(const MetricLine& metrics) {
    std::string s;
    for (const auto& [name, value] : metrics) s += fmt::format(" - {}: {:.4f}", name, value);
    return s;
}

}  // namespace

bool is_terminal(const std::ostream& out) {
    if (&out == &std::cout) return isatty(STDOUT_FILENO) != 0;
    if (&out == &std::cerr) return isatty(STDERR_FILENO) != 0;
    return false;
}

ProgressBar::ProgressBar(std::ostream& out, std::size_t total_steps, int verbose, bool interactive)
    : out_(out),
      total_(total_steps),
      verbose_(verbose),
      interactive_(interactive),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

double ProgressBar::elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string ProgressBar::format_bar(std::size_t step, std::size_t total) {
    const int width = total == 0 ? kBarWidth : static_cast<int>(kBarWidth * step / total);
    // Built with append(): GCC 12 raises a false -Wrestrict on chains of string operator+.
    std::string bar = "[";
    if (width > 0) {
        bar.append(width - 1, '=');
        bar.push_back(step < total ? '>' : '=');
    }
    bar.append(kBarWidth - width, '.');
    bar.push_back(']');
    return bar;
}

std::string ProgressBar::format_duration(double seconds) {
    const long s = std::lround(seconds);
    if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
    if (s >= 60) return fmt::format("{}:{:02}", s / 60, s % 60);
    return fmt::format("{}s", s);
}

std::string ProgressBar::format_per_step(double seconds_per_step) {
    if (seconds_per_step >= 1) return fmt::format("{:.0f}s/step", seconds_per_step);
    if (seconds_per_step >= 1e-3) return fmt::format("{:.0f}ms/step", seconds_per_step * 1e3);
    return fmt::format("{:.0f}us/step", seconds_per_step * 1e6);
}

std::string ProgressBar::line(std::size_t step, const MetricLine& metrics, bool done) const {
    const std::size_t digits = std::to_string(total_).size();
    std::string s = fmt::format("{:>{}}/{}", step, digits, total_);
    const double t = elapsed();
    if (verbose_ == 1) s.append(" ").append(format_bar(step, total_));
    if (done) {
        s.append(" - ").append(format_duration(t));
        if (step > 0) s.append(" ").append(format_per_step(t / double(step)));
    } else if (step > 0) {
        s.append(" - ETA: ").append(format_duration(t / double(step) * double(total_ - step)));
    }
    return s.append(format_metrics(metrics));
}

void ProgressBar::update(std::size_t step, const MetricLine& metrics) {
    if (verbose_ != 1 || !interactive_) return;
    const auto now = std::chrono::steady_clock::now();
    if (step < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    std::string s = line(step, metrics, false);
    // Pad over the previous, possibly longer, line.
    const std::size_t width = s.size();
    if (width < last_width_) s.append(last_width_ - width, ' ');
    last_width_ = width;
    out_ << '\r' << s << std::flush;
}

void ProgressBar::finish(const MetricLine& metrics) {
    if (verbose_ == 0) return;
    std::string s = line(total_, metrics, true);
    if (interactive_ && verbose_ == 1) {
        if (s.size() < last_width_) s.append(last_width_ - s.size(), ' ');
        out_ << '\r';
    }
    out_ << s << '\n' << std::flush;
}

}  // namespace xgrad::nn
