// MNIST and Fashion-MNIST: 28x28 grey images with labels 0-9, read from the four IDX files
// (gzip-compressed or not) of the original distributions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "datasets/dataset.h"

namespace xgrad::data {

enum class Split { train, test };

// How get_batch turns the stored uint8 pixels into floats.
enum class Normalization {
    zero_one,       // v / 255 (the default, as in the Keras tutorial)
    minus_one_one,  // v / 127.5 - 1
    standardize,    // (v / 255 - mean) / std with the training set's pixel mean and std
};

// "train" / "test".
const char* split_name(Split split);

// The data directory to use: `dir` if not empty, else $XGRAD_DATA_DIR if set and not empty, else
// `default_dir`.
std::string resolve_data_dir(const std::string& dir, const std::string& default_dir);

// The data files are not where they were looked for. The message names the directory, where that
// choice came from, the missing files and how to get them.
class DataNotFoundError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// The shared reader of the MNIST-format datasets. Pixels stay uint8 in memory (47 MB for 60,000
// images) and are scaled into the batch's float buffer by get_batch.
class MnistFormatDataset : public Dataset {
  public:
    static constexpr std::size_t rows = 28, cols = 28, classes = 10;

    std::size_t size() const override;
    // {{28, 28}} and {{}}: one image in, one class label (a whole float) out.
    std::vector<Shape> input_shapes() const override;
    std::vector<Shape> target_shapes() const override;
    std::size_t num_classes() const override;
    std::vector<std::string> class_names() const override;
    std::int64_t label(std::size_t i) const override;
    void get_batch(const std::vector<std::size_t>& indices, Batch& out) const override;

    Split split() const { return split_; }
    Normalization normalization() const { return normalization_; }
    // The resolved directory and the two files read.
    const std::string& directory() const { return directory_; }
    const std::string& images_path() const { return images_path_; }
    const std::string& labels_path() const { return labels_path_; }
    // Row-major (n, 28, 28) pixels and the n labels, as stored in the files.
    const std::vector<std::uint8_t>& pixels() const { return pixels_; }
    const std::vector<std::uint8_t>& raw_labels() const { return labels_; }

  protected:
    struct Info {
        const char* title;        // "Fashion-MNIST", for messages
        const char* default_dir;  // used when neither a directory nor XGRAD_DATA_DIR is given
        const char* how_to_get;   // appended to "files not found" errors
        float mean, std;          // training-set pixel statistics on the 0..1 scale
        std::vector<std::string> class_names;
    };
    MnistFormatDataset(const Info& info, const std::string& dir, Split split,
                       Normalization normalization);

  private:
    Split split_;
    Normalization normalization_;
    std::string directory_, images_path_, labels_path_;
    std::vector<std::uint8_t> pixels_, labels_;
    std::vector<std::string> class_names_;
    float scale_ = 1.f, shift_ = 0.f;  // float pixel = v * scale_ + shift_
};

// Fashion-MNIST (Zalando): 60,000 training and 10,000 test images of clothing.
// Files: {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] in
// resolve_data_dir(dir, default_dir) (Debian's dataset-fashion-mnist package by default).
class FashionMNIST : public MnistFormatDataset {
  public:
    static constexpr const char* default_dir = "/usr/share/datasets/fashion-mnist";
    // Pixel mean and std of the 60,000 training images on the 0..1 scale (for standardize).
    static constexpr float train_mean = 0.2860f, train_std = 0.3530f;

    FashionMNIST(const std::string& dir, Split split,
                 Normalization normalization = Normalization::zero_one);
    // T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot.
    static const std::vector<std::string>& names();
};

// MNIST handwritten digits (LeCun et al.): the same file names and format as Fashion-MNIST.
// Class names are "0".."9".
class MNIST : public MnistFormatDataset {
  public:
    static constexpr const char* default_dir = "/usr/share/datasets/mnist";
    static constexpr float train_mean = 0.1307f, train_std = 0.3081f;

    MNIST(const std::string& dir, Split split,
          Normalization normalization = Normalization::zero_one);
    static const std::vector<std::string>& names();
};

}  // namespace xgrad::data
