#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>

#include "helpers.h"
#include "xgrad.h"

using namespace xgrad;
using namespace xgrad::data;

namespace {
std::string write_file(const std::string& name, const std::string& contents) {
    const std::string path = test_data::tmp_path(name);
    std::ofstream(path, std::ios::binary) << contents;
    return path;
}
}  // namespace

TEST_CASE("CharVocabulary: sorted characters, encode/decode, save and parse") {
    const CharVocabulary v = CharVocabulary::of_text("hello, world\n");
    CHECK(v.chars() == "\n ,dehlorw");
    CHECK(v.size() == 10);
    CHECK(v.id('h') == 5);
    CHECK(v.character(5) == 'h');
    CHECK(v.decode(v.encode("low")) == "low");
    CHECK(v.serialize() == "10,32,44,100,101,104,108,111,114,119");
    CHECK(CharVocabulary::parse(v.serialize()).chars() == v.chars());
    // Any byte, also outside ASCII, survives the round trip.
    const CharVocabulary bytes(std::string("\xff\x01\x80", 3));
    CHECK(CharVocabulary::parse(bytes.serialize()).chars() == bytes.chars());
}

TEST_CASE("CharVocabulary: errors name the character") {
    const CharVocabulary v = CharVocabulary::of_text("abc");
    CHECK_THROWS_WITH_AS(v.id('z'),
                         "the character 'z' (byte 122) is not in the vocabulary of 3 characters",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(v.encode("a\tb"),
                         "the character byte 9 is not in the vocabulary of 3 characters",
                         std::invalid_argument);
    CHECK_THROWS_AS(v.character(3), std::out_of_range);
    CHECK_THROWS_WITH_AS(CharVocabulary::of_text(""), "CharVocabulary: the text is empty",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(CharVocabulary("aba"),
                         "CharVocabulary: the character 'a' (byte 97) appears twice",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(CharVocabulary::parse("10,256"),
                         "CharVocabulary: '256' in the saved vocabulary is not a byte value "
                         "(0-255)",
                         std::invalid_argument);
    CHECK_THROWS_AS(CharVocabulary::parse("10,"), std::invalid_argument);
    CHECK_THROWS_AS(CharVocabulary::parse("x"), std::invalid_argument);
    CHECK_THROWS_AS(CharVocabulary::parse(""), std::invalid_argument);
}

TEST_CASE("read_text_files: concatenates; missing and empty files are errors naming them") {
    const std::string a = write_file("a.txt", "one\n"), b = write_file("b.txt", "two\n");
    CHECK(read_text_files({a, b}) == "one\ntwo\n");
    const std::string empty = write_file("empty.txt", "");
    CHECK_THROWS_WITH_AS(read_text_files({a, empty}),
                         ("text file '" + empty + "' is empty").c_str(), std::runtime_error);
    const std::string missing = test_data::tmp_path("missing.txt");
    CHECK_THROWS_WITH_AS(read_text_files({missing}),
                         ("cannot read text file '" + missing + "': no such file").c_str(),
                         std::runtime_error);
}

TEST_CASE("fortune_files: the plain text files only, sorted; a missing directory says what to do") {
    const std::string dir = test_data::tmp_path("fortunes");
    std::filesystem::create_directories(dir);
    for (const char* name : {"zen", "zen.dat", "art", "art.u8", "art.dat"}) {
        std::ofstream(dir + "/" + name) << "x";
    }
    CHECK(fortune_files(dir) == std::vector<std::string>{dir + "/art", dir + "/zen"});
    CHECK_THROWS_WITH_AS(fortune_files(dir + "/none"),
                         ("the fortunes corpus is missing: no directory '" + dir +
                          "/none' (install Debian's fortunes package: scripts/setup, or apt-get "
                          "install fortunes)")
                             .c_str(),
                         std::runtime_error);
}

TEST_CASE("split_text: the last 10% by position is the validation part") {
    std::vector<std::int64_t> ids(25);
    for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int64_t>(i);
    const TextSplit s = split_text(ids, 0.1);
    CHECK(s.train.size() == 23);
    CHECK(s.validation == std::vector<std::int64_t>{23, 24});
    CHECK(split_text({1, 2}, 0.1).validation == std::vector<std::int64_t>{2});
    CHECK_THROWS_AS(split_text(ids, 1.0), std::invalid_argument);
    CHECK_THROWS_AS(split_text({1}, 0.1), std::invalid_argument);
}

TEST_CASE("TextWindows: next-character targets, random windows reproducible from a seed") {
    const std::vector<std::int64_t> ids = {0, 1, 2, 3, 4, 5, 6};
    const TextWindows w(ids, 3);
    CHECK(w.size() == 4);
    Batch batch;
    w.get_batch({3, 0}, batch);
    CHECK(batch.input() == Tensor{{3.f, 4.f, 5.f}, {0.f, 1.f, 2.f}});
    CHECK(batch.target() == Tensor{{4.f, 5.f, 6.f}, {1.f, 2.f, 3.f}});
    Rng a(42), b(42);
    Batch x, y;
    w.random_batch(16, a, x);
    w.random_batch(16, b, y);
    CHECK(x.input() == y.input());
    CHECK(x.input().shape() == Tensor::shape_type{16, 3});
    CHECK(xt::all(xt::equal(x.target(), x.input() + 1.f)));
    // Every offset 0..3 comes up.
    std::set<float> starts(x.input().begin(), x.input().end());
    CHECK(starts == std::set<float>{0, 1, 2, 3, 4, 5});
    CHECK_THROWS_WITH_AS(TextWindows(ids, 7),
                         "TextWindows: a window of block_size 7 plus its next character (8 "
                         "characters) is longer than the text (7 characters)",
                         std::invalid_argument);
    CHECK_THROWS_AS(TextWindows(ids, 0), std::invalid_argument);
}
