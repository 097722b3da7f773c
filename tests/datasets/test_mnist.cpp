#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <filesystem>

#include <xtensor/xsort.hpp>

#include "tests/datasets/helpers.h"
#include "xgrad.h"

using namespace xgrad;
using namespace xgrad::data;
using namespace test_data;

namespace {

// Sets (or with nullptr unsets) XGRAD_DATA_DIR for one scope, restoring the old value.
class ScopedDataDir {
  public:
    explicit ScopedDataDir(const char* value) {
        if (const char* old = std::getenv("XGRAD_DATA_DIR")) old_ = old, had_ = true;
        set(value);
    }
    ~ScopedDataDir() { set(had_ ? old_.c_str() : nullptr); }

  private:
    static void set(const char* value) {
        if (value != nullptr)
            setenv("XGRAD_DATA_DIR", value, 1);
        else
            unsetenv("XGRAD_DATA_DIR");
    }
    std::string old_;
    bool had_ = false;
};

// Writes one split of tiny files with the given images and labels (as whole IDX byte strings).
void write_pair(const std::string& dir, const std::string& prefix, const Bytes& images,
                const Bytes& labels, bool gzip = true) {
    const auto write = gzip ? write_gz : write_raw;
    const std::string ext = gzip ? ".gz" : "";
    write(dir + "/" + prefix + "-images-idx3-ubyte" + ext, images);
    write(dir + "/" + prefix + "-labels-idx1-ubyte" + ext, labels);
}

const Bytes kGoodImages = idx_bytes(0x08, {4, 28, 28}, image_payload(4));
const Bytes kGoodLabels = idx_bytes(0x08, {4}, {3, 1, 4, 1});

}  // namespace

TEST_CASE("MNIST and FashionMNIST read tiny raw and gzip directories") {
    for (bool gzip : {false, true}) {
        CAPTURE(gzip);
        const std::string dir = write_mnist_dir(gzip ? "mnist_gz" : "mnist_raw", gzip);
        MNIST train(dir, Split::train);
        CHECK(train.size() == 20);
        CHECK(train.example_shape() == Shape{28, 28});
        CHECK(train.num_classes() == 10);
        CHECK(train.class_names() == MNIST::names());
        CHECK(train.label(13) == 3);
        CHECK(train.split() == Split::train);
        CHECK(train.directory() == dir);
        CHECK(train.images_path() == dir + "/train-images-idx3-ubyte" + (gzip ? ".gz" : ""));
        CHECK(train.pixels().size() == 20 * 784);

        MNIST test(dir, Split::test);
        CHECK(test.size() == 10);
        Batch b;
        test.get_batch({7, 2}, b);
        CHECK(to_shape(b.input().shape()) == Shape{2, 28, 28});
        CHECK(b.target() == Tensor{7.f, 2.f});
        for (std::size_t r : {0, 5, 27})
            for (std::size_t c : {0, 13, 27}) {
                CHECK(b.input()(0, r, c) == doctest::Approx(pixel(7, r, c) / 255.0));
                CHECK(b.input()(1, r, c) == doctest::Approx(pixel(2, r, c) / 255.0));
            }

        FashionMNIST fashion(dir, Split::train);
        CHECK(fashion.size() == 20);
        CHECK(fashion.class_name_of(9) == "Ankle boot");
    }
    CHECK(FashionMNIST::names() == std::vector<std::string>{"T-shirt/top", "Trouser", "Pullover",
                                                            "Dress", "Coat", "Sandal", "Shirt",
                                                            "Sneaker", "Bag", "Ankle boot"});
}

TEST_CASE("normalisations: 0..1, -1..1 and the training set's mean and std") {
    const std::string dir = write_mnist_dir("mnist_norm", true);
    MNIST zero_one(dir, Split::train);
    MNIST minus_one_one(dir, Split::train, Normalization::minus_one_one);
    FashionMNIST standardized(dir, Split::train, Normalization::standardize);
    CHECK(minus_one_one.normalization() == Normalization::minus_one_one);
    Batch a, b, c;
    const std::vector<std::size_t> all = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    zero_one.get_batch(all, a);
    minus_one_one.get_batch(all, b);
    standardized.get_batch(all, c);
    // The first ten images hold every byte value, 0 and 255 included.
    CHECK(xt::amin(a.input())() == 0.f);
    CHECK(xt::amax(a.input())() == doctest::Approx(1.0));
    CHECK(xt::amin(b.input())() == doctest::Approx(-1.0));
    CHECK(xt::amax(b.input())() == doctest::Approx(1.0));
    for (std::size_t r : {0, 9, 27}) {
        const double v = pixel(4, r, 3);
        CHECK(b.input()(4, r, 3) == doctest::Approx(v / 127.5 - 1));
        CHECK(c.input()(4, r, 3) ==
              doctest::Approx((v / 255 - FashionMNIST::train_mean) / FashionMNIST::train_std)
                  .epsilon(1e-5));
    }
}

TEST_CASE("resolve_data_dir: the directory given, else XGRAD_DATA_DIR, else the default") {
    {
        ScopedDataDir env(nullptr);
        CHECK(resolve_data_dir("", "/default") == "/default");
        CHECK(resolve_data_dir("/given", "/default") == "/given");
    }
    {
        ScopedDataDir env("/from-env");
        CHECK(resolve_data_dir("", "/default") == "/from-env");
        CHECK(resolve_data_dir("/given", "/default") == "/given");
    }
    {
        ScopedDataDir env("");
        CHECK(resolve_data_dir("", "/default") == "/default");
    }
    const std::string dir = write_mnist_dir("mnist_env", false);
    ScopedDataDir env(dir.c_str());
    CHECK(MNIST("", Split::test).size() == 10);
}

TEST_CASE("missing files: the error says where it looked and how to get them") {
    const std::string nowhere = tmp_path("no-such-data-dir");
    CHECK_ERROR_CONTAINS(
        DataNotFoundError, FashionMNIST(nowhere, Split::train),
        "Fashion-MNIST: data directory '" + nowhere + "' (the directory given) does not exist",
        "install Debian's dataset-fashion-mnist package, or pass --data-dir / "
        "set XGRAD_DATA_DIR");
    {
        ScopedDataDir env(nowhere.c_str());
        CHECK_ERROR_CONTAINS(DataNotFoundError, FashionMNIST("", Split::train),
                             "'" + nowhere + "' (from XGRAD_DATA_DIR) does not exist");
    }
    const std::string empty = tmp_dir("empty-data-dir");
    CHECK_ERROR_CONTAINS(DataNotFoundError, MNIST(empty, Split::test),
                         "MNIST: the test split is missing from '" + empty +
                             "' (the directory given): looked for t10k-images-idx3-ubyte.gz, "
                             "t10k-labels-idx1-ubyte.gz (or the same without .gz); download");

    // Only some of the files: the training pair is there, the test pair is not.
    const std::string partial = tmp_dir("partial-data-dir");
    write_split(partial, "train", 3, true);
    CHECK(FashionMNIST(partial, Split::train).size() == 3);
    CHECK_ERROR_CONTAINS(DataNotFoundError, FashionMNIST(partial, Split::test),
                         "looked for t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz",
                         "the directory has only train-images-idx3-ubyte.gz, "
                         "train-labels-idx1-ubyte.gz",
                         "dataset-fashion-mnist");
    // Images without their labels.
    const std::string half = tmp_dir("half-data-dir");
    write_gz(half + "/train-images-idx3-ubyte.gz", kGoodImages);
    CHECK_ERROR_CONTAINS(DataNotFoundError, FashionMNIST(half, Split::train),
                         "looked for train-labels-idx1-ubyte.gz (or the same without .gz); the "
                         "directory has only train-images-idx3-ubyte.gz");
}

TEST_CASE("bad files: each problem is named with its file") {
    const std::string dir = tmp_dir("bad-data");
    const std::string images = dir + "/train-images-idx3-ubyte.gz";
    const std::string labels = dir + "/train-labels-idx1-ubyte.gz";
    const auto load = [&] { return MNIST(dir, Split::train); };

    write_pair(dir, "train", kGoodImages, kGoodLabels);
    CHECK(load().label(2) == 4);

    SUBCASE("images of the wrong data type") {
        write_pair(dir, "train", idx_bytes(0x0D, {4, 28, 28}, Bytes(4 * 4 * 784, 0)), kGoodLabels);
        CHECK_ERROR_CONTAINS(std::runtime_error, load(), "IDX file '" + images + "'",
                             "MNIST images must be unsigned byte (0x08), found float32 (0x0D)");
    }
    SUBCASE("labels of the wrong data type") {
        write_pair(dir, "train", kGoodImages, idx_bytes(0x0C, {4}, Bytes(16, 0)));
        CHECK_ERROR_CONTAINS(std::runtime_error, load(), "IDX file '" + labels + "'",
                             "MNIST labels must be unsigned byte (0x08), found int32 (0x0C)");
    }
    SUBCASE("labels that are not 1-D") {
        write_pair(dir, "train", kGoodImages, idx_bytes(0x08, {2, 2}, {1, 2, 3, 4}));
        CHECK_ERROR_CONTAINS(std::runtime_error, load(), labels,
                             "labels must be a 1-D array, found rank 2");
    }
    SUBCASE("image and label counts that differ") {
        write_pair(dir, "train", kGoodImages, idx_bytes(0x08, {3}, {1, 2, 3}));
        CHECK_THROWS_WITH_AS(
            load(),
            ("MNIST: '" + images + "' has 4 images but '" + labels + "' has 3 labels").c_str(),
            std::runtime_error);
    }
    SUBCASE("a label outside 0..9") {
        write_pair(dir, "train", kGoodImages, idx_bytes(0x08, {4}, {3, 1, 4, 10}));
        CHECK_ERROR_CONTAINS(std::runtime_error, load(), labels,
                             "label 10 at index 3 is outside 0..9");
    }
    SUBCASE("images that are not 28x28") {
        write_pair(dir, "train", idx_bytes(0x08, {4, 32, 32}, image_payload(4, 32, 32)),
                   kGoodLabels);
        CHECK_ERROR_CONTAINS(std::runtime_error, load(), images,
                             "MNIST images must be 28x28 (dims n x 28 x 28), found 32x32 images");
        write_pair(dir, "train", idx_bytes(0x08, {4, 784}, image_payload(4)), kGoodLabels);
        CHECK_ERROR_CONTAINS(std::runtime_error, load(), images, "found a rank-2 array");
    }
    SUBCASE("a truncated raw image file next to gzip labels") {
        std::filesystem::remove(images);
        Bytes cut = kGoodImages;
        cut.resize(cut.size() - 100);
        write_raw(dir + "/train-images-idx3-ubyte", cut);
        CHECK_ERROR_CONTAINS(std::runtime_error, load(), dir + "/train-images-idx3-ubyte'",
                             "truncated file");
    }
    SUBCASE("a corrupt gzip label file") {
        Bytes gz = read_all(labels);
        gz[gz.size() - 6] ^= 0x55;  // the CRC
        write_raw(labels, gz);
        CHECK_ERROR_CONTAINS(std::runtime_error, load(), labels, "corrupt gzip stream");
    }
    SUBCASE("a truncated gzip image file") {
        Bytes gz = read_all(images);
        gz.resize(gz.size() / 2);
        write_raw(images, gz);
        CHECK_ERROR_CONTAINS(std::runtime_error, load(), images, "truncated gzip stream");
    }
}

namespace {
bool have_fashion_mnist() {
    const std::string d = FashionMNIST::default_dir;
    return std::filesystem::exists(d + "/train-images-idx3-ubyte.gz") &&
           std::filesystem::exists(d + "/t10k-labels-idx1-ubyte.gz");
}
}  // namespace

TEST_CASE("the real Fashion-MNIST files, when Debian's package is installed") {
    if (!have_fashion_mnist()) {
        MESSAGE("skipped: " << FashionMNIST::default_dir
                            << " is absent (install dataset-fashion-mnist)");
        return;
    }
    FashionMNIST train(FashionMNIST::default_dir, Split::train);
    FashionMNIST test(FashionMNIST::default_dir, Split::test);
    CHECK(train.size() == 60000);
    CHECK(test.size() == 10000);
    std::array<std::size_t, 10> per_class{};
    for (std::size_t i = 0; i < train.size(); ++i) ++per_class[train.label(i)];
    for (std::size_t c = 0; c < 10; ++c) CHECK(per_class[c] == 6000);
    CHECK(train.label(0) == 9);
    CHECK(train.class_name_of(0) == "Ankle boot");
    CHECK(test.label(0) == 9);
    CHECK(test.label(1) == 2);
    CHECK(test.label(2) == 1);
    CHECK(test.label(3) == 1);

    Batch b;
    train.get_batch({0, 1, 59999, 12345}, b);
    CHECK(xt::amin(b.input())() == 0.f);
    CHECK(xt::amax(b.input())() == doctest::Approx(1.0));  // these images use the full range
    test.get_batch({0, 9999}, b);
    CHECK(xt::amin(b.input())() >= 0.f);
    CHECK(xt::amax(b.input())() <= 1.f);

    // The standardize constants are the training set's statistics.
    double sum = 0, sum_sq = 0;
    for (auto v : train.pixels()) sum += v / 255.0, sum_sq += (v / 255.0) * (v / 255.0);
    const double n = static_cast<double>(train.pixels().size());
    const double mean = sum / n;
    CHECK(mean == doctest::Approx(FashionMNIST::train_mean).epsilon(1e-3));
    CHECK(std::sqrt(sum_sq / n - mean * mean) ==
          doctest::Approx(FashionMNIST::train_std).epsilon(1e-3));
}
