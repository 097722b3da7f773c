#include <doctest/doctest.h>

#include <algorithm>
#include <sstream>

#include "nn/training/progress_bar.h"

using namespace xgrad::nn;

TEST_CASE("the bar, durations and per-step times look like Keras'") {
    CHECK(ProgressBar::format_bar(0, 1875) == "[..............................]");
    CHECK(ProgressBar::format_bar(1875, 1875) == "[==============================]");
    CHECK(ProgressBar::format_bar(900, 1875) == "[=============>................]");
    CHECK(ProgressBar::format_duration(1.4) == "1s");
    CHECK(ProgressBar::format_duration(75) == "1:15");
    CHECK(ProgressBar::format_per_step(0.000412) == "412us/step");
    CHECK(ProgressBar::format_per_step(0.0021) == "2ms/step");
}

TEST_CASE("not a terminal: one line per epoch, no carriage returns") {
    std::ostringstream out;
    ProgressBar bar(out, 3, 1, false);
    for (std::size_t step = 1; step <= 3; ++step) bar.update(step, {{"loss", 0.5}});
    CHECK(out.str().empty());
    bar.finish({{"loss", 0.49641}, {"accuracy", 0.82594}, {"val_loss", 0.4123}});
    const std::string s = out.str();
    CHECK(s.find('\r') == std::string::npos);
    CHECK(s.rfind("3/3 [==============================] - ", 0) == 0);
    CHECK(s.find("us/step - loss: 0.4964 - accuracy: 0.8259 - val_loss: 0.4123\n") !=
          std::string::npos);
    CHECK(std::count(s.begin(), s.end(), '\n') == 1);
}

TEST_CASE("on a terminal the bar is redrawn in place with an ETA") {
    std::ostringstream out;
    ProgressBar bar(out, 4, 1, true);
    bar.update(4, {{"loss", 1.0}});  // the last step is always drawn
    CHECK(out.str().rfind("\r4/4 [", 0) == 0);
    bar.finish({{"loss", 1.0}});
    CHECK(out.str().find("\r4/4 [==============================] - ") != std::string::npos);
}

TEST_CASE("verbose 2 prints one line without the bar, verbose 0 nothing") {
    std::ostringstream two, zero;
    ProgressBar bar2(two, 10, 2, true), bar0(zero, 10, 0, true);
    bar2.update(10, {{"loss", 1}});
    bar2.finish({{"loss", 1}});
    bar0.update(10, {{"loss", 1}});
    bar0.finish({{"loss", 1}});
    CHECK(two.str().rfind("10/10 - ", 0) == 0);
    CHECK(two.str().find('[') == std::string::npos);
    CHECK(zero.str().empty());
}
