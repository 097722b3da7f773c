// The small text the character-model tests train on, written where the tests write files.
#pragma once

#include <fstream>
#include <string>

#include "../datasets/helpers.h"

namespace char_corpus {

inline std::string write_text(const std::string& name, const std::string& text) {
    const std::string path = test_data::tmp_path(name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

// A few hundred lines of a small alphabet (18 characters).
inline std::string corpus() {
    std::string text;
    for (int i = 0; i < 300; ++i) text += "the cat sat on the mat " + std::to_string(i % 7) + "\n";
    return text;
}

}  // namespace char_corpus
