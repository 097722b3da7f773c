// Replays a committed fuzz corpus (tests/fuzz/corpus/<target>/, the directory in
// XGRAD_FUZZ_CORPUS) through a fuzz target's entry point, built with the normal compiler, so
// every test run checks the seeds and the regression inputs of past crashes.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

// The target's entry point (tests/fuzz/fuzz_target.h also defines LLVMFuzzerTestOneInput,
// which the replay must not define twice).
bool xgrad_fuzz_one(const std::uint8_t* data, std::size_t size);

namespace fs = std::filesystem;

TEST_CASE("replay the fuzz corpus") {
    const char* dir = std::getenv("XGRAD_FUZZ_CORPUS");
    REQUIRE_MESSAGE(dir != nullptr, "set XGRAD_FUZZ_CORPUS to the corpus directory");
    REQUIRE(fs::is_directory(dir));
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.is_regular_file()) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    REQUIRE(files.size() >= 5);

    std::size_t accepted = 0;
    for (const auto& file : files) {
        INFO("corpus file ", file.string());
        std::ifstream in(file, std::ios::binary);
        REQUIRE(in);
        const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                      std::istreambuf_iterator<char>());
        // A crash, a sanitizer report or a broken invariant aborts this test.
        if (xgrad_fuzz_one(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()))
            ++accepted;
    }
    // The corpus must exercise both paths: files the reader accepts and files it rejects.
    CHECK(accepted > 0);
    CHECK(accepted < files.size());
}
