// The example programs' command line: bad input is one "error: ..." line and exit status 2,
// found before any training starts.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "../nn/svg_test_util.h"

namespace {

struct Result {
    int status;
    std::string output;  // stdout and stderr together
};

Result run(const std::string& args, const char* program = "FASHION_MNIST_MLP") {
    const char* exe = std::getenv(program);
    REQUIRE_MESSAGE(exe != nullptr, program << " is not set (meson sets it)");
    const std::string command = std::string(exe) + " " + args + " 2>&1";
    FILE* pipe = popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::string output;
    std::array<char, 4096> buffer;
    while (std::fgets(buffer.data(), buffer.size(), pipe)) output += buffer.data();
    const int raw = pclose(pipe);
    return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, output};
}

void check_usage_error(const std::string& args, const std::string& message) {
    CAPTURE(args);
    const Result r = run(args);
    CHECK(r.status == 2);
    CHECK(r.output.rfind("error: ", 0) == 0);
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
    CHECK_MESSAGE(r.output.find(message) != std::string::npos, r.output);
}

std::string nn_test_read(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string temp_dir() {
    const char* env = std::getenv("XGRAD_TEST_TMP");
    const std::filesystem::path dir = std::filesystem::path(env ? env : "/tmp") / "cli";
    std::filesystem::create_directories(dir);
    return dir.string();
}

}  // namespace

TEST_CASE("--summary prints the Keras table and exits 0") {
    const Result r = run("--summary");
    CHECK(r.status == 0);
    CHECK(r.output.find(" dense_1 (Dense)             (None, 10)                1010") !=
          std::string::npos);
    CHECK(r.output.find("Total params: 79,510") != std::string::npos);
}

TEST_CASE("fashion_mnist_cnn --summary shows the CNN with its hidden Dense layer") {
    const Result r = run("--summary", "FASHION_MNIST_CNN");
    CHECK(r.status == 0);
    CHECK(r.output.find(" conv2d (Conv2D)             (None, 26, 26, 32)        320") !=
          std::string::npos);
    CHECK(r.output.find(" dense (Dense)               (None, 128)               204928") !=
          std::string::npos);
    CHECK_MESSAGE(r.output.find("Total params: 225,034") != std::string::npos, r.output);
}

TEST_CASE("bad arguments are one error line and exit status 2") {
    check_usage_error("--no-such-flag", "--no-such-flag");
    check_usage_error("--epochs -3", "--epochs must be at least 1, got -3");
    check_usage_error("--epochs ten", "--epochs");
    check_usage_error("--batch-size 0", "--batch-size must be at least 1, got 0");
    check_usage_error("--optimizer adagradx", "--optimizer");
    check_usage_error("--learning-rate -1", "--learning-rate must be positive, got -1");
    check_usage_error("--validation-split 1.5", "--validation-split must be in [0, 1), got 1.5");
    check_usage_error("--data-dir /nonexistent/fashion", "/nonexistent/fashion");
    check_usage_error("--dataset imagenet", "imagenet");
    check_usage_error("--save /nonexistent/dir/model.safetensors",
                      "the directory /nonexistent/dir does not exist");
    check_usage_error("--save " + temp_dir(), "is a directory, not a file");
    check_usage_error("--history /nonexistent/h.csv", "the directory /nonexistent does not exist");
    check_usage_error("--resume /nonexistent/ckpt.safetensors", "no such file");
    check_usage_error("--plot /nonexistent/curves.svg",
                      "the directory /nonexistent does not exist");
    check_usage_error("--confusion " + temp_dir(), "is a directory, not a file");
}

TEST_CASE("a data directory with only some of the files is a usage error naming them") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(temp_dir()) / "partial";
    fs::create_directories(dir);
    std::FILE* f = std::fopen((dir / "train-images-idx3-ubyte.gz").c_str(), "w");
    REQUIRE(f != nullptr);
    std::fclose(f);
    check_usage_error("--data-dir " + dir.string(), "train-labels-idx1-ubyte");
}

TEST_CASE("--plot and --confusion draw SVG pictures; predict --image draws the images") {
    namespace fs = std::filesystem;
    const fs::path dir = temp_dir();
    const std::string plot = (dir / "curves.svg").string(), confusion = (dir / "cm.svg").string(),
                      model = (dir / "model.safetensors").string(),
                      image = (dir / "predictions.svg").string();
    for (const auto& f : {plot, confusion, image}) fs::remove(f);
    const Result r = run("--epochs 2 --quiet --validation-split 0.1 --plot " + plot +
                         " --confusion " + confusion + " --save " + model);
    REQUIRE_MESSAGE(r.status == 0, r.output);

    tinyxml2::XMLDocument curves;
    svg_test::parse(curves, nn_test_read(plot));
    const auto lines = svg_test::find_all(curves.RootElement(), "polyline", "class", "curve");
    CHECK(lines.size() == 4);  // loss, accuracy and their validation values
    for (auto* line : lines) CHECK(svg_test::points(line).size() == 2);

    tinyxml2::XMLDocument cm;
    svg_test::parse(cm, nn_test_read(confusion));
    const auto cells = svg_test::find_all(cm.RootElement(), "rect", "class", "cell");
    CHECK(cells.size() == 100);
    unsigned total = 0;
    for (auto* cell : cells) total += cell->UnsignedAttribute("data-count");
    CHECK(total == 10000);  // the whole test set
    const auto names = svg_test::texts(cm.RootElement());
    CHECK(std::count(names.begin(), names.end(), "Ankle boot") == 2);  // row and column

    const Result p = run(model + " 0 7 --image " + image, "PREDICT");
    REQUIRE_MESSAGE(p.status == 0, p.output);
    tinyxml2::XMLDocument pictures;
    svg_test::parse(pictures, nn_test_read(image));
    const auto rows = svg_test::find_all(pictures.RootElement(), "g", "class", "prediction");
    REQUIRE(rows.size() == 2);
    CHECK(std::string(rows[1]->Attribute("data-index")) == "7");
    for (auto* row : rows) {
        CHECK(svg_test::find_all(row, "rect", "class", "pixel").size() == 28 * 28);
        CHECK(svg_test::find_all(row, "rect", "class", "bar").size() == 3);
    }

    const Result bad = run(model + " 0 --image /nonexistent/p.svg", "PREDICT");
    CHECK(bad.status == 2);
    CHECK(bad.output ==
          "error: --image /nonexistent/p.svg: the directory /nonexistent does not exist\n");
}
