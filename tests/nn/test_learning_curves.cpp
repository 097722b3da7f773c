#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "nn_test_util.h"
#include "svg_test_util.h"
#include "xgrad.h"

using namespace xgrad;

namespace {

nn::History four_epochs() {
    nn::History h;
    h.epochs = {0, 1, 2, 3};
    h.seconds = {1, 1, 1, 1};
    h.metrics["loss"] = {0.9, 0.5, 0.4, 0.35};
    h.metrics["val_loss"] = {0.8, 0.6, 0.55, 0.6};
    h.metrics["accuracy"] = {0.6, 0.8, 0.85, 0.87};
    h.metrics["val_accuracy"] = {0.65, 0.78, 0.8, 0.79};
    return h;
}

struct Box {
    double x, y, w, h;
    bool contains(double px, double py) const {
        return px >= x && px <= x + w && py >= y && py <= y + h;
    }
};

Box plot_area(const tinyxml2::XMLElement* panel) {
    auto areas = svg_test::find_all(panel, "rect", "class", "plot-area");
    REQUIRE(areas.size() == 1);
    return {areas[0]->DoubleAttribute("x"), areas[0]->DoubleAttribute("y"),
            areas[0]->DoubleAttribute("width"), areas[0]->DoubleAttribute("height")};
}

// Checks each curve of `history` in the picture: one polyline, one point per finite value,
// inside its panel's axes, epochs from left to right, larger values higher up.
void check_curves(const std::string& svg, const nn::History& history) {
    tinyxml2::XMLDocument doc;
    svg_test::parse(doc, svg);
    const auto curves = svg_test::find_all(doc.RootElement(), "polyline", "class", "curve");
    CHECK(curves.size() == history.metrics.size());
    for (const auto& series : history.metrics) {
        const std::string& name = series.first;  // (clang 14 cannot CAPTURE a binding)
        const std::vector<double>& values = series.second;
        CAPTURE(name);
        const auto mine = svg_test::find_all(doc.RootElement(), "polyline", "data-series", name);
        REQUIRE(mine.size() == 1);
        const auto* panel = mine[0]->Parent()->ToElement();
        REQUIRE(panel != nullptr);
        const std::string metric = name.rfind("val_", 0) == 0 ? name.substr(4) : name;
        CHECK(std::string(panel->Attribute("data-metric")) == metric);
        const Box area = plot_area(panel);
        const auto pts = svg_test::points(mine[0]);
        std::vector<double> finite;
        for (double v : values) {
            if (std::isfinite(v)) finite.push_back(v);
        }
        REQUIRE(pts.size() == finite.size());
        for (std::size_t i = 0; i < pts.size(); ++i) {
            CHECK(area.contains(pts[i].first, pts[i].second));
            for (std::size_t j = 0; j < i; ++j) {
                CHECK(pts[j].first < pts[i].first);
                // (Coordinates are rounded to 0.01 px: values that close may share one.)
                if (finite[j] > finite[i]) CHECK(pts[j].second <= pts[i].second);
                if (finite[j] < finite[i]) CHECK(pts[j].second >= pts[i].second);
            }
        }
    }
}

}  // namespace

TEST_CASE("learning curves: one panel per metric, one polyline per series, points inside") {
    const nn::History h = four_epochs();
    const std::string svg = nn::learning_curves_svg(h);
    check_curves(svg, h);
    tinyxml2::XMLDocument doc;
    svg_test::parse(doc, svg);
    // Values map linearly to heights: 0.9, 0.5, 0.4, 0.35 are spaced 8 : 2 : 1.
    const auto loss = svg_test::find_all(doc.RootElement(), "polyline", "data-series", "loss");
    REQUIRE(loss.size() == 1);
    const auto pts = svg_test::points(loss[0]);
    REQUIRE(pts.size() == 4);
    CHECK((pts[1].second - pts[0].second) / (pts[3].second - pts[2].second) ==
          doctest::Approx(8.0).epsilon(0.01));
    CHECK((pts[2].second - pts[1].second) / (pts[3].second - pts[2].second) ==
          doctest::Approx(2.0).epsilon(0.01));
    const auto panels = svg_test::find_all(doc.RootElement(), "g", "class", "panel");
    REQUIRE(panels.size() == 2);
    CHECK(std::string(panels[0]->Attribute("data-metric")) == "loss");  // loss comes first
    for (auto* panel : panels) {
        const auto words = svg_test::texts(panel);
        CHECK(std::count(words.begin(), words.end(), "training") == 1);  // the legend
        CHECK(std::count(words.begin(), words.end(), "validation") == 1);
        CHECK(std::count(words.begin(), words.end(), "epoch") == 1);  // the x axis
        CHECK(std::count(words.begin(), words.end(), "4") == 1);      // the last epoch tick
        CHECK(svg_test::find_all(panel, "text", "class", "tick").size() >= 6);
    }
}

TEST_CASE("learning curves: the value ticks cover every value") {
    const nn::History h = four_epochs();
    tinyxml2::XMLDocument doc;
    svg_test::parse(doc, nn::learning_curves_svg(h));
    const auto panels = svg_test::find_all(doc.RootElement(), "g", "class", "panel");
    REQUIRE(!panels.empty());
    std::vector<double> ticks;
    for (auto* t : svg_test::find_all(panels[0], "text", "text-anchor", "end")) {
        ticks.push_back(std::stod(t->GetText()));
    }
    REQUIRE(ticks.size() >= 2);
    CHECK(*std::min_element(ticks.begin(), ticks.end()) <= 0.35);
    CHECK(*std::max_element(ticks.begin(), ticks.end()) >= 0.9);
}

TEST_CASE("learning curves: one epoch, a resumed run and a constant series") {
    nn::History h;
    h.epochs = {4};
    h.seconds = {1};
    h.metrics["loss"] = {0.25};
    check_curves(nn::learning_curves_svg(h), h);

    h.epochs = {3, 4, 5};  // a run resumed after 3 epochs: numbered 4..6
    h.seconds = {1, 1, 1};
    h.metrics["loss"] = {0.5, 0.5, 0.5};
    const std::string svg = nn::learning_curves_svg(h);
    check_curves(svg, h);
    tinyxml2::XMLDocument doc;
    svg_test::parse(doc, svg);
    const auto words = svg_test::texts(doc.RootElement());
    CHECK(std::count(words.begin(), words.end(), "6") == 1);
    CHECK(std::count(words.begin(), words.end(), "1") == 0);  // epochs start at 4
}

TEST_CASE("learning curves: a non-finite loss is left out of the line") {
    nn::History h = four_epochs();
    h.metrics["loss"][2] = std::numeric_limits<double>::quiet_NaN();
    h.metrics["loss"][3] = std::numeric_limits<double>::infinity();
    check_curves(nn::learning_curves_svg(h), h);
}

TEST_CASE("learning curves: no epochs yet, and names that need escaping") {
    tinyxml2::XMLDocument doc;
    svg_test::parse(doc, nn::learning_curves_svg({}));
    CHECK(svg_test::find_all(doc.RootElement(), "polyline").empty());

    nn::History h;
    h.epochs = {0, 1};
    h.seconds = {1, 1};
    h.metrics["a<b & \"c\""] = {1, 2};
    check_curves(nn::learning_curves_svg(h), h);
}

TEST_CASE("LearningCurvesPlot writes the picture at the start and after every epoch") {
    manual_seed(0);
    nn::Sequential model;
    model.add(nn::Dense(2, "softmax"));
    model.build({1});
    nn::Trainer trainer(model, optim::make_optimizer("adam", model.trainable_parameters()),
                        "sparse_categorical_crossentropy");
    Tensor x = Tensor::from_shape({12, 1});
    IndexTensor y = IndexTensor::from_shape({12});
    for (std::size_t i = 0; i < 12; ++i) x(i, 0) = float(i) - 5.5f, y(i) = x(i, 0) > 0;
    auto data = std::make_shared<data::TensorDataset>(x, y, 2);

    const std::string path = nn_test::tmp_path("curves.svg");
    std::filesystem::remove(path);
    auto plot = std::make_shared<nn::LearningCurvesPlot>(path);
    nn::FitOptions options;
    options.epochs = 3;
    options.batch_size = 4;
    options.validation_split = 0.25;
    options.callbacks = {plot};
    options.verbose = 0;
    const nn::History history = trainer.fit(data, options);
    CHECK(plot->history().metrics == history.metrics);
    check_curves(nn_test::read_bytes(path), history);

    auto bad = std::make_shared<nn::LearningCurvesPlot>("/nonexistent/dir/curves.svg");
    options.epochs = 1;
    options.callbacks = {bad};
    CHECK_THROWS_WITH_AS(trainer.fit(data, options),
                         doctest::Contains("cannot save '/nonexistent/dir/curves.svg'"),
                         std::runtime_error);
    CHECK(bad->history().size() == 0);  // failed before the first epoch
}
