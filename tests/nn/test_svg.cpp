#include <doctest/doctest.h>

#include "nn_test_util.h"
#include "svg_test_util.h"
#include "xgrad.h"

using namespace xgrad;

TEST_CASE("xml_escape replaces the five special characters") {
    CHECK(nn::xml_escape("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&apos;");
    CHECK(nn::xml_escape("plain") == "plain");
}

TEST_CASE("SvgDocument writes well-formed SVG with the elements in order") {
    nn::SvgDocument svg(200, 100);
    svg.open_group("class=\"g\"");
    svg.rect(1, 2, 3, 4, "class=\"r\"");
    svg.line(0, 0, 10, 10, "stroke=\"#000\"");
    svg.circle(5, 5, 2, "");
    svg.polyline({{1, 2}, {3.5, 4.25}}, "class=\"p\"");
    svg.text(7, 8, "x < y & z", "class=\"t\"");
    svg.close_group();
    tinyxml2::XMLDocument doc;
    svg_test::parse(doc, svg.str());
    CHECK(doc.RootElement()->IntAttribute("width") == 200);
    CHECK(std::string(doc.RootElement()->Attribute("viewBox")) == "0 0 200 100");
    const auto* g = doc.RootElement()->FirstChildElement("g");
    REQUIRE(g != nullptr);
    const auto* r = g->FirstChildElement("rect");
    REQUIRE(r != nullptr);
    CHECK(r->DoubleAttribute("x") == 1);
    CHECK(r->DoubleAttribute("height") == 4);
    const auto* p = g->FirstChildElement("polyline");
    REQUIRE(p != nullptr);
    CHECK(svg_test::points(p) == std::vector<std::pair<double, double>>{{1, 2}, {3.5, 4.25}});
    CHECK(std::string(g->FirstChildElement("text")->GetText()) == "x < y & z");
}

TEST_CASE("SvgDocument::save writes the document, and names the file when it cannot") {
    nn::SvgDocument svg(10, 10);
    const std::string path = nn_test::tmp_path("doc.svg");
    svg.save(path);
    CHECK(nn_test::read_bytes(path) == svg.str());
    CHECK_THROWS_WITH_AS(svg.save("/nonexistent/doc.svg"),
                         doctest::Contains("cannot save '/nonexistent/doc.svg'"),
                         std::runtime_error);
}
