#include <doctest/doctest.h>

#include "svg_test_util.h"
#include "xgrad.h"

using namespace xgrad;

TEST_CASE("confusion_matrix counts (true, predicted) pairs from the argmax of the scores") {
    const Tensor scores = {{0.9f, 0.1f, 0.0f},
                           {0.2f, 0.7f, 0.1f},
                           {0.1f, 0.2f, 0.7f},
                           {0.6f, 0.3f, 0.1f},
                           {0.1f, 0.1f, 0.8f}};
    const IndexTensor labels = {0, 1, 2, 1, 1};
    const nn::ConfusionMatrix m = nn::confusion_matrix(scores, labels);
    CHECK(m == nn::ConfusionMatrix{{1, 0, 0}, {1, 1, 1}, {0, 0, 1}});
}

TEST_CASE("confusion_matrix rejects shapes and labels that do not fit") {
    const Tensor scores = {{0.9f, 0.1f}, {0.2f, 0.8f}};
    CHECK_THROWS_WITH_AS(nn::confusion_matrix(scores, IndexTensor{0, 1, 1}),
                         "confusion_matrix: scores (2, 2) and labels (3) do not fit; expected "
                         "(examples, classes) and (examples,)",
                         ShapeError);
    CHECK_THROWS_WITH_AS(nn::confusion_matrix(scores, IndexTensor{0, 2}),
                         "confusion_matrix: label 2 of example 1 is outside [0, 2)",
                         std::invalid_argument);
}

TEST_CASE("confusion_matrix_svg: one cell per pair with its count, class names on both axes") {
    const nn::ConfusionMatrix m = {{8, 2, 0}, {1, 9, 0}, {0, 5, 5}};
    const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Bag & <co>"};
    tinyxml2::XMLDocument doc;
    svg_test::parse(doc, nn::confusion_matrix_svg(m, names));
    const auto cells = svg_test::find_all(doc.RootElement(), "rect", "class", "cell");
    REQUIRE(cells.size() == 9);
    std::string darkest;
    for (auto* cell : cells) {
        const int r = cell->IntAttribute("data-true"), c = cell->IntAttribute("data-predicted");
        CHECK(cell->UnsignedAttribute("data-count") == m[std::size_t(r)][std::size_t(c)]);
    }
    // Colour by the share of the row: 9/10 is darker than 5/10, which is darker than 0.
    auto fill = [&](int r, int c) {
        for (auto* cell : cells) {
            if (cell->IntAttribute("data-true") == r && cell->IntAttribute("data-predicted") == c)
                return std::string(cell->Attribute("fill"));
        }
        return std::string();
    };
    CHECK(fill(1, 1) < fill(2, 1));  // "#rrggbb": darker is smaller
    CHECK(fill(2, 1) < fill(0, 2));
    CHECK(fill(2, 1) == fill(2, 2));
    CHECK(fill(0, 2) == "#ffffff");
    const auto rows = svg_test::find_all(doc.RootElement(), "text", "class", "row-name");
    const auto columns = svg_test::find_all(doc.RootElement(), "text", "class", "column-name");
    REQUIRE(rows.size() == 3);
    REQUIRE(columns.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(rows[i]->GetText() == names[i]);
        CHECK(columns[i]->GetText() == names[i]);
    }
    const auto words = svg_test::texts(doc.RootElement());
    CHECK(std::count(words.begin(), words.end(), "9") == 1);
}

TEST_CASE("confusion_matrix_svg rejects a matrix that does not fit its names") {
    CHECK_THROWS_WITH_AS(nn::confusion_matrix_svg({{1, 2}, {3, 4}}, {"a"}),
                         "confusion_matrix_svg: 1 class names for 2 classes",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(nn::confusion_matrix_svg({{1, 2}, {3}}, {"a", "b"}),
                         "confusion_matrix_svg: the matrix is not square (2 rows, a row of 1)",
                         std::invalid_argument);
}
