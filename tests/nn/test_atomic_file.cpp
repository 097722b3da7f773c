#include <doctest/doctest.h>

#include <filesystem>

#include "nn_test_util.h"
#include "xgrad.h"

using namespace xgrad;
namespace fs = std::filesystem;

namespace {

// Files in the directory of `path` other than `path` itself (left-over temporary files).
std::size_t others_beside(const std::string& path) {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(fs::path(path).parent_path())) {
        if (e.path().filename().string().rfind(fs::path(path).filename().string() + ".tmp", 0) == 0)
            ++n;
    }
    return n;
}

}  // namespace

TEST_CASE("write_file_atomically writes and replaces a file") {
    const std::string path = nn_test::tmp_path("atomic.txt");
    nn::write_file_atomically(path, "first");
    CHECK(nn_test::read_bytes(path) == "first");
    nn::write_file_atomically(path, [](const nn::AppendBytes& append) {
        append("sec", 3);
        append("ond", 3);
    });
    CHECK(nn_test::read_bytes(path) == "second");
    CHECK(others_beside(path) == 0);
}

TEST_CASE("write_file_atomically keeps the old file when filling fails") {
    const std::string path = nn_test::tmp_path("atomic_fail.txt");
    nn::write_file_atomically(path, "old");
    CHECK_THROWS_WITH_AS(nn::write_file_atomically(path,
                                                   [](const nn::AppendBytes& append) {
                                                       append("half", 4);
                                                       throw std::invalid_argument("no more");
                                                   }),
                         "no more", std::invalid_argument);
    CHECK(nn_test::read_bytes(path) == "old");
    CHECK(others_beside(path) == 0);
}

TEST_CASE("write_file_atomically names the file when its directory is missing") {
    CHECK_THROWS_WITH_AS(nn::write_file_atomically("/nonexistent/dir/f.txt", "x"),
                         doctest::Contains("cannot save '/nonexistent/dir/f.txt': cannot create "
                                           "a temporary file beside it"),
                         std::runtime_error);
}
