// Reading the SVG pictures back in tests, with tinyxml2: parsing and finding elements.
#pragma once

#include <doctest/doctest.h>
#include <tinyxml2.h>

#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace svg_test {

// Parses `text`, failing the test when it is not well-formed XML with an <svg> root.
inline void parse(tinyxml2::XMLDocument& doc, const std::string& text) {
    REQUIRE_MESSAGE(doc.Parse(text.c_str(), text.size()) == tinyxml2::XML_SUCCESS, doc.ErrorStr());
    REQUIRE(doc.RootElement() != nullptr);
    REQUIRE(std::string(doc.RootElement()->Name()) == "svg");
}

// Every element below `root` (depth first) named `name` whose attribute `attribute` (if given)
// equals `value`.
inline std::vector<const tinyxml2::XMLElement*> find_all(const tinyxml2::XMLElement* root,
                                                         const std::string& name,
                                                         const char* attribute = nullptr,
                                                         const std::string& value = "") {
    std::vector<const tinyxml2::XMLElement*> out;
    std::function<void(const tinyxml2::XMLElement*)> walk = [&](const tinyxml2::XMLElement* e) {
        for (auto* c = e->FirstChildElement(); c; c = c->NextSiblingElement()) {
            const char* a = attribute ? c->Attribute(attribute) : nullptr;
            if (name == c->Name() && (!attribute || (a && value == a))) out.push_back(c);
            walk(c);
        }
    };
    walk(root);
    return out;
}

// The texts of all <text> elements below `root`.
inline std::vector<std::string> texts(const tinyxml2::XMLElement* root) {
    std::vector<std::string> out;
    for (auto* t : find_all(root, "text")) out.push_back(t->GetText() ? t->GetText() : "");
    return out;
}

// The points="x,y x,y ..." of a polyline.
inline std::vector<std::pair<double, double>> points(const tinyxml2::XMLElement* polyline) {
    std::vector<std::pair<double, double>> out;
    std::istringstream in(polyline->Attribute("points") ? polyline->Attribute("points") : "");
    std::string pair;
    while (in >> pair) {
        double x = 0, y = 0;
        REQUIRE_MESSAGE(std::sscanf(pair.c_str(), "%lf,%lf", &x, &y) == 2, pair);
        out.emplace_back(x, y);
    }
    return out;
}

}  // namespace svg_test
