// The examples on other tasks than classification: fashion_mnist_autoencoder (a subclassed
// model, images as their own targets) and breast_cancer (a CSV table, Normalization, binary
// cross-entropy). Bad input is one "error: ..." line and exit status 2.
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "../datasets/helpers.h"
#include "cli_run.h"

using cli_test::check_usage_error;
using cli_test::number_after;
using cli_test::run;

namespace {

constexpr const char* autoencoder = "FASHION_MNIST_AUTOENCODER";
constexpr const char* breast_cancer = "BREAST_CANCER";

std::string write_text(const std::string& name, const std::string& text) {
    const std::string path = test_data::tmp_path(name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

}  // namespace

TEST_CASE("fashion_mnist_autoencoder --summary prints the encoder's and decoder's tables") {
    const auto r = run(autoencoder, "--summary");
    CHECK(r.status == 0);
    CHECK(r.output.find("Model: \"encoder\"") != std::string::npos);
    CHECK(r.output.find(" dense (Dense)               (None, 64)                50240") !=
          std::string::npos);
    CHECK(r.output.find("Model: \"decoder\"") != std::string::npos);
    CHECK(r.output.find(" dense (Dense)               (None, 784)               50960") !=
          std::string::npos);
    CHECK(r.output.find(" reshape (Reshape)           (None, 28, 28)            0") !=
          std::string::npos);
}

TEST_CASE("fashion_mnist_autoencoder trains and draws test images over reconstructions") {
    const std::string dir = test_data::write_mnist_dir("autoencoder_data", false);
    const std::string picture = test_data::tmp_path("autoencoder.pgm");
    const auto r = run(autoencoder, "--data-dir " + dir +
                                        " --epochs 2 --batch-size 8 --images 4 "
                                        "--quiet --image " +
                                        picture);
    REQUIRE_MESSAGE(r.status == 0, r.output);
    const double mse = number_after(r.output, "Test reconstruction MSE: ");
    CHECK(mse > 0.0);
    CHECK(mse < 0.5);
    CHECK(r.output.find("Wrote 4 test images (top) and their reconstructions (bottom) to " +
                        picture) != std::string::npos);
    // A binary PGM, 4 images wide and 2 high; the top row holds the test images themselves.
    const auto bytes = test_data::read_all(picture);
    const std::string header = "P5\n112 56\n255\n";
    REQUIRE(bytes.size() == header.size() + 112 * 56);
    CHECK(std::string(bytes.begin(), bytes.begin() + long(header.size())) == header);
    for (std::size_t i = 0; i < 4; ++i)
        for (std::size_t y = 0; y < 28; y += 9)
            for (std::size_t x = 0; x < 28; x += 5) {
                CAPTURE(i);
                CAPTURE(y);
                CAPTURE(x);
                CHECK(bytes[header.size() + y * 112 + i * 28 + x] == test_data::pixel(i, y, x));
            }
}

TEST_CASE("fashion_mnist_autoencoder: bad arguments are one error line and exit status 2") {
    check_usage_error(autoencoder, "--no-such-flag", "--no-such-flag");
    check_usage_error(autoencoder, "--epochs 0", "--epochs must be at least 1, got 0");
    check_usage_error(autoencoder, "--images 0", "--images must be at least 1, got 0");
    check_usage_error(autoencoder, "--learning-rate -1",
                      "--learning-rate must be positive, got -1");
    check_usage_error(autoencoder, "--image /nonexistent/dir/a.pgm",
                      "--image /nonexistent/dir/a.pgm: the directory /nonexistent/dir does not "
                      "exist");
    check_usage_error(autoencoder, "--data-dir /nonexistent/fashion", "/nonexistent/fashion");
    const std::string dir = test_data::write_mnist_dir("autoencoder_few", false);
    check_usage_error(autoencoder, "--data-dir " + dir + " --images 11",
                      "--images 11 is more than the 10 test images");
}

TEST_CASE("breast_cancer --summary: Normalization's 61 non-trainable parameters") {
    const auto r = run(breast_cancer, "--summary");
    CHECK(r.status == 0);
    CHECK(r.output.find(" normalization (Normalizati  (None, 30)                61\n on)") !=
          std::string::npos);
    CHECK(r.output.find("Total params: 574") != std::string::npos);
    CHECK(r.output.find("Non-trainable params: 61") != std::string::npos);
}

TEST_CASE("breast_cancer learns the Wisconsin data: held-out accuracy and AUC") {
    const std::string model = test_data::tmp_path("breast_cancer.safetensors");
    const auto r = run(breast_cancer, "--quiet --save " + model);
    REQUIRE_MESSAGE(r.status == 0, r.output);
    CAPTURE(r.output);
    // 114 held-out rows. Measured: accuracy 0.98, AUC 0.997; a model that did not learn, or
    // saw unnormalised features, falls well below these bounds.
    CHECK(r.output.find("(114 rows)") != std::string::npos);
    CHECK(number_after(r.output, "Test accuracy: ") >= 0.95);
    CHECK(number_after(r.output, "AUC: ") >= 0.98);
    CHECK(test_data::read_all(model).size() > 574 * 4);
}

TEST_CASE("breast_cancer trains on any CSV with a 0/1 column") {
    // y = 1 exactly when a + b > 10; c is noise-free filler.
    std::string text = "a,b,c,y\n";
    for (int i = 0; i < 40; ++i) {
        const int a = i % 10, b = (i * 7) % 13;
        text +=
            std::to_string(a) + "," + std::to_string(b) + ",1," + (a + b > 10 ? "1" : "0") + "\n";
    }
    const auto r = run(breast_cancer,
                       "--quiet --epochs 5 --target y --csv " + write_text("tiny_table.csv", text));
    REQUIRE_MESSAGE(r.status == 0, r.output);
    CHECK(r.output.find("(8 rows)") != std::string::npos);
}

TEST_CASE("breast_cancer: bad files and arguments are one error line and exit status 2") {
    check_usage_error(breast_cancer, "--csv /nonexistent/t.csv",
                      "cannot open '/nonexistent/t.csv'");
    check_usage_error(breast_cancer, "--target diagnosis",
                      "has no column 'diagnosis' (its columns: 'mean radius', 'mean texture'");
    check_usage_error(breast_cancer, "--target 'mean radius'",
                      "--target mean radius: row 1 holds 17.99, but a binary classifier needs 0 "
                      "or 1");
    check_usage_error(breast_cancer, "--csv " + write_text("bc_empty.csv", ""), "is empty");
    check_usage_error(breast_cancer,
                      "--target y --csv " + write_text("bc_ragged.csv", "x,y\n1,0\n2\n"),
                      "line 3 has 1 cells but the header has 2 columns");
    check_usage_error(breast_cancer,
                      "--target y --csv " + write_text("bc_text.csv", "x,y\n1,0\n2,1\nn/a,1\n"),
                      "line 4, column 1 ('x'): 'n/a' is not a finite number");
    check_usage_error(breast_cancer, "--test-fraction 1.5",
                      "--test-fraction must be in (0, 1), got 1.5");
    check_usage_error(breast_cancer, "--split-seed 0", "--split-seed must not be 0");
    check_usage_error(breast_cancer, "--epochs 0", "--epochs must be at least 1, got 0");
    check_usage_error(breast_cancer, "--save /nonexistent/m.safetensors",
                      "the directory /nonexistent does not exist");
}

TEST_CASE("fashion_mnist_two_heads: summary, a tiny run with both accuracies, bad arguments") {
    constexpr const char* two_heads = "FASHION_MNIST_TWO_HEADS";
    const auto s = run(two_heads, "--summary");
    CHECK(s.status == 0);
    CHECK(s.output.find(" class (Dense)                  (None, 10)           1290        "
                        "['dense[0][0]']") != std::string::npos);
    CHECK(s.output.find("Total params: 102,286") != std::string::npos);
    const std::string dir = test_data::write_mnist_dir("two_heads_data", false);
    const auto r = run(two_heads, "--data-dir " + dir + " --epochs 1 --batch-size 8 --quiet");
    REQUIRE_MESSAGE(r.status == 0, r.output);
    const double cls = number_after(r.output, "Test accuracy: class ");
    const double kind = number_after(r.output, ", kind ");
    CHECK(cls >= 0.0);
    CHECK(cls <= 1.0);
    CHECK(kind >= 0.0);
    CHECK(kind <= 1.0);
    check_usage_error(two_heads, "--epochs 0", "--epochs and --batch-size must be at least 1");
    check_usage_error(two_heads, "--kind-weight -1", "--kind-weight must be >= 0, got -1");
}
