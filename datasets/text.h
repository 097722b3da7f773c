// Text for character-level language models: a corpus read from files, its character
// vocabulary, a split by position, and windows of block_size characters whose targets are
// the next characters (nanoGPT's data path).
//
//   std::string text = data::read_text_files(data::fortune_files());
//   data::CharVocabulary vocab = data::CharVocabulary::of_text(text);
//   auto [train, validation] = data::split_text(vocab.encode(text), 0.1);
//   data::TextWindows windows(train, 64);
//   windows.random_batch(12, rng, batch);  // inputs (12, 64) ids, targets (12, 64) next ids
//
// A character is a byte: a UTF-8 letter outside ASCII is several characters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "datasets/dataset.h"
#include "framework/random.h"

namespace xgrad::data {

// The characters of a text numbered 0..size()-1 in byte order.
class CharVocabulary {
  public:
    // The distinct characters of `text`; an empty text is a std::invalid_argument.
    static CharVocabulary of_text(std::string_view text);
    // The characters in id order; none, or one twice, is a std::invalid_argument.
    explicit CharVocabulary(std::string chars);

    std::size_t size() const { return chars_.size(); }
    const std::string& chars() const { return chars_; }
    bool contains(char c) const { return ids_[static_cast<unsigned char>(c)] >= 0; }
    // A character outside the vocabulary is a std::invalid_argument naming it.
    std::int64_t id(char c) const;
    // An id outside 0..size()-1 is a std::out_of_range.
    char character(std::int64_t id) const;
    std::vector<std::int64_t> encode(std::string_view text) const;
    std::string decode(const std::vector<std::int64_t>& ids) const;

    // For a model file's metadata: the byte values in id order, "10,32,33,..." (plain ASCII
    // whatever the bytes are). parse() reads it back; anything else is a std::invalid_argument.
    std::string serialize() const;
    static CharVocabulary parse(const std::string& text);

  private:
    std::string chars_;
    std::int16_t ids_[256];  // byte -> id, -1 when absent
};

// The contents of the files, concatenated in the order given. A file that is missing,
// unreadable or empty is a std::runtime_error naming it.
std::string read_text_files(const std::vector<std::string>& paths);

// The corpus of the examples: the plain text files of Debian's `fortunes` package (which
// scripts/setup installs) in `dir`, sorted by name: every regular file whose name has no '.'
// (the .dat files are strfile indexes, the .u8 ones UTF-8 copies of the same texts), about
// 2.5 MB in all. A missing directory is a std::runtime_error saying how to install it.
std::vector<std::string> fortune_files(const std::string& dir = "/usr/share/games/fortunes");

// A text split by position: the first part for training, the last validation_fraction of it
// (rounded down, at least one character) for validation, as nanoGPT does. The fraction must
// be in (0, 1) and the text at least 2 characters, else a std::invalid_argument.
struct TextSplit {
    std::vector<std::int64_t> train, validation;
};
TextSplit split_text(const std::vector<std::int64_t>& ids, double validation_fraction = 0.1);

// The windows of a text: example i is ids[i .. i+block_size) as input and ids[i+1 ..
// i+block_size] as target, both (block_size,) float ids; size() is ids.size() - block_size.
class TextWindows : public Dataset {
  public:
    // A window (block_size + 1 characters with its last target) longer than the text, or
    // block_size 0, is a std::invalid_argument naming both lengths.
    TextWindows(std::vector<std::int64_t> ids, std::size_t block_size);

    std::size_t size() const override { return ids_.size() - block_size_; }
    std::vector<Shape> input_shapes() const override { return {{block_size_}}; }
    std::vector<Shape> target_shapes() const override { return {{block_size_}}; }
    void get_batch(const std::vector<std::size_t>& indices, Batch& out) const override;

    // batch_size windows at random offsets drawn from `rng` (nanoGPT's get_batch): the same
    // generator state gives the same batch.
    void random_batch(std::size_t batch_size, Rng& rng, Batch& out) const;

    std::size_t block_size() const { return block_size_; }
    const std::vector<std::int64_t>& ids() const { return ids_; }

  private:
    std::vector<std::int64_t> ids_;
    std::size_t block_size_;
};

}  // namespace xgrad::data
