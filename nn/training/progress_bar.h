// Keras-style training progress: one bar per epoch updated in place on a terminal, one line
// per epoch otherwise.
//
//   1875/1875 [==============================] - 1s 412us/step - loss: 0.4964 - accuracy: 0.8259
#pragma once

#include <chrono>
#include <cstddef>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace xgrad::nn {

// Metric names and values in the order they are printed.
using MetricLine = std::vector<std::pair<std::string, double>>;

class ProgressBar {
  public:
    // verbose: 0 silent, 1 a bar (in place when `interactive`, else the final line only),
    // 2 one line per epoch without the bar.
    ProgressBar(std::ostream& out, std::size_t total_steps, int verbose, bool interactive);

    // Called after each step; redraws at most ten times a second.
    void update(std::size_t step, const MetricLine& metrics);
    // Ends the epoch's line, with validation metrics appended.
    void finish(const MetricLine& metrics);

    // "1s", "412us/step" and the bar, as Keras formats them (public for tests).
    static std::string format_bar(std::size_t step, std::size_t total);
    static std::string format_duration(double seconds);
    static std::string format_per_step(double seconds_per_step);

  private:
    std::string line(std::size_t step, const MetricLine& metrics, bool done) const;
    double elapsed() const;

    std::ostream& out_;
    std::size_t total_;
    int verbose_;
    bool interactive_;
    std::chrono::steady_clock::time_point start_;
    std::chrono::steady_clock::time_point last_draw_;
    std::size_t last_width_ = 0;
};

// Whether the stream is a terminal (std::cout or std::cerr on a tty).
bool is_terminal(const std::ostream& out);

}  // namespace xgrad::nn
