#include "datasets/text.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace xgrad::data {

namespace {

// 'a' for a printable character, byte 10 otherwise, for error messages.
std::string describe(char c) {
    const auto b = static_cast<unsigned char>(c);
    if (b >= 32 && b < 127) return "'" + std::string(1, c) + "' (byte " + std::to_string(b) + ")";
    return "byte " + std::to_string(b);
}

}  // namespace

CharVocabulary CharVocabulary::of_text(std::string_view text) {
    if (text.empty()) throw std::invalid_argument("CharVocabulary: the text is empty");
    bool seen[256] = {};
    for (char c : text) seen[static_cast<unsigned char>(c)] = true;
    std::string chars;
    for (int b = 0; b < 256; ++b) {
        if (seen[b]) chars.push_back(static_cast<char>(b));
    }
    return CharVocabulary(std::move(chars));
}

CharVocabulary::CharVocabulary(std::string chars) : chars_(std::move(chars)) {
    if (chars_.empty()) throw std::invalid_argument("CharVocabulary: no characters");
    std::fill(std::begin(ids_), std::end(ids_), std::int16_t{-1});
    for (std::size_t i = 0; i < chars_.size(); ++i) {
        std::int16_t& slot = ids_[static_cast<unsigned char>(chars_[i])];
        if (slot >= 0) {
            throw std::invalid_argument("CharVocabulary: the character " + describe(chars_[i]) +
                                        " appears twice");
        }
        slot = static_cast<std::int16_t>(i);
    }
}

std::int64_t CharVocabulary::id(char c) const {
    const std::int16_t i = ids_[static_cast<unsigned char>(c)];
    if (i < 0) {
        throw std::invalid_argument("the character " + describe(c) +
                                    " is not in the vocabulary of " + std::to_string(size()) +
                                    " characters");
    }
    return i;
}

char CharVocabulary::character(std::int64_t id) const {
    if (id < 0 || static_cast<std::size_t>(id) >= size()) {
        throw std::out_of_range("CharVocabulary: id " + std::to_string(id) +
                                " is out of range for a vocabulary of " + std::to_string(size()) +
                                " characters");
    }
    return chars_[static_cast<std::size_t>(id)];
}

std::vector<std::int64_t> CharVocabulary::encode(std::string_view text) const {
    std::vector<std::int64_t> ids;
    ids.reserve(text.size());
    for (char c : text) ids.push_back(id(c));
    return ids;
}

std::string CharVocabulary::decode(const std::vector<std::int64_t>& ids) const {
    std::string text;
    text.reserve(ids.size());
    for (auto i : ids) text.push_back(character(i));
    return text;
}

std::string CharVocabulary::serialize() const {
    std::string s;
    for (char c : chars_) {
        if (!s.empty()) s += ',';
        s += std::to_string(static_cast<unsigned char>(c));
    }
    return s;
}

CharVocabulary CharVocabulary::parse(const std::string& text) {
    std::string chars;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t end = std::min(text.find(',', pos), text.size());
        const std::string item = text.substr(pos, end - pos);
        const bool digits =
            !item.empty() && item.size() <= 3 &&
            std::all_of(item.begin(), item.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (!digits || std::stoi(item) > 255) {
            throw std::invalid_argument("CharVocabulary: '" + item +
                                        "' in the saved vocabulary is not a byte value (0-255)");
        }
        chars.push_back(static_cast<char>(std::stoi(item)));
        pos = end + 1;
        if (end + 1 == text.size()) {
            throw std::invalid_argument("CharVocabulary: the saved vocabulary ends with ','");
        }
    }
    return CharVocabulary(std::move(chars));
}

std::string read_text_files(const std::vector<std::string>& paths) {
    if (paths.empty()) throw std::invalid_argument("read_text_files: no files given");
    std::string text;
    for (const auto& path : paths) {
        std::ifstream in(path, std::ios::binary);
        if (!in) throw std::runtime_error("cannot read text file '" + path + "': no such file");
        std::ostringstream buffer;
        buffer << in.rdbuf();
        if (in.bad()) throw std::runtime_error("cannot read text file '" + path + "'");
        const std::string contents = std::move(buffer).str();
        if (contents.empty()) throw std::runtime_error("text file '" + path + "' is empty");
        text += contents;
    }
    return text;
}

std::vector<std::string> fortune_files(const std::string& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        throw std::runtime_error("the fortunes corpus is missing: no directory '" + dir +
                                 "' (install Debian's fortunes package: scripts/setup, or "
                                 "apt-get install fortunes)");
    }
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(dir)) {
        const std::string name = entry.path().filename().string();
        if (entry.is_regular_file() && name.find('.') == std::string::npos) {
            files.push_back(entry.path().string());
        }
    }
    if (files.empty()) {
        throw std::runtime_error("the fortunes corpus is missing: no text files in '" + dir + "'");
    }
    std::sort(files.begin(), files.end());
    return files;
}

TextSplit split_text(const std::vector<std::int64_t>& ids, double validation_fraction) {
    if (!(validation_fraction > 0 && validation_fraction < 1)) {
        throw std::invalid_argument("split_text: validation_fraction must be in (0, 1), got " +
                                    std::to_string(validation_fraction));
    }
    if (ids.size() < 2) {
        throw std::invalid_argument("split_text: a text of " + std::to_string(ids.size()) +
                                    " characters cannot be split in two");
    }
    const auto n = ids.size();
    const std::size_t n_val = std::clamp<std::size_t>(
        static_cast<std::size_t>(static_cast<double>(n) * validation_fraction), 1, n - 1);
    const auto cut = ids.begin() + static_cast<std::ptrdiff_t>(n - n_val);
    return {{ids.begin(), cut}, {cut, ids.end()}};
}

TextWindows::TextWindows(std::vector<std::int64_t> ids, std::size_t block_size)
    : ids_(std::move(ids)), block_size_(block_size) {
    if (block_size_ == 0) throw std::invalid_argument("TextWindows: block_size must be positive");
    if (block_size_ + 1 > ids_.size()) {
        throw std::invalid_argument("TextWindows: a window of block_size " +
                                    std::to_string(block_size_) + " plus its next character (" +
                                    std::to_string(block_size_ + 1) +
                                    " characters) is longer than the text (" +
                                    std::to_string(ids_.size()) + " characters)");
    }
}

void TextWindows::get_batch(const std::vector<std::size_t>& indices, Batch& out) const {
    check_indices(indices, size(), "TextWindows");
    prepare_batch(out, indices.size(), input_shapes(), target_shapes());
    float* x = out.input().data();
    float* y = out.target().data();
    for (std::size_t b = 0; b < indices.size(); ++b) {
        const std::int64_t* from = ids_.data() + indices[b];
        for (std::size_t t = 0; t < block_size_; ++t) {
            x[b * block_size_ + t] = static_cast<float>(from[t]);
            y[b * block_size_ + t] = static_cast<float>(from[t + 1]);
        }
    }
}

void TextWindows::random_batch(std::size_t batch_size, Rng& rng, Batch& out) const {
    std::vector<std::size_t> offsets(batch_size);
    // rng() % n rather than a std:: distribution, whose algorithm differs between standard
    // libraries: the same seed gives the same windows everywhere.
    for (auto& o : offsets) o = static_cast<std::size_t>(rng() % size());
    get_batch(offsets, out);
}

}  // namespace xgrad::data
