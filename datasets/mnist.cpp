#include "datasets/mnist.h"

#include <cstdlib>
#include <filesystem>

#include "datasets/idx.h"

namespace xgrad::data {

namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail_file(const std::string& path, const std::string& what) {
    throw std::runtime_error("IDX file '" + path + "': " + what);
}

// The file `base` + ".gz" or, failing that, `base` unpacked; "" if neither exists.
std::string find_file(const fs::path& dir, const std::string& base) {
    for (const std::string& name : {base + ".gz", base}) {
        std::error_code ec;
        if (fs::is_regular_file(dir / name, ec)) return (dir / name).string();
    }
    return "";
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
    return out;
}

}  // namespace

const char* split_name(Split split) {
    return split == Split::train ? "train" : "test";
}

std::string resolve_data_dir(const std::string& dir, const std::string& default_dir) {
    if (!dir.empty()) return dir;
    const char* env = std::getenv("XGRAD_DATA_DIR");
    if (env != nullptr && *env != '\0') return env;
    return default_dir;
}

MnistFormatDataset::MnistFormatDataset(const Info& info, const std::string& dir, Split split,
                                       Normalization normalization)
    : split_(split),
      normalization_(normalization),
      directory_(resolve_data_dir(dir, info.default_dir)),
      class_names_(info.class_names) {
    const std::string title = info.title;
    const char* env = std::getenv("XGRAD_DATA_DIR");
    const std::string origin = !dir.empty()                       ? "the directory given"
                               : (env != nullptr && *env != '\0') ? "from XGRAD_DATA_DIR"
                                                                  : "the default location";
    const std::string prefix = split == Split::train ? "train" : "t10k";
    const std::string images_base = prefix + "-images-idx3-ubyte";
    const std::string labels_base = prefix + "-labels-idx1-ubyte";

    // Find both files first, so a missing one is reported before anything is read.
    std::error_code ec;
    if (!fs::is_directory(directory_, ec))
        throw DataNotFoundError(title + ": data directory '" + directory_ + "' (" + origin +
                                ") does not exist; " + info.how_to_get);
    images_path_ = find_file(directory_, images_base);
    labels_path_ = find_file(directory_, labels_base);
    if (images_path_.empty() || labels_path_.empty()) {
        std::vector<std::string> missing, found;
        for (const auto& base : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
            const std::string path = find_file(directory_, base);
            if (!path.empty())
                found.push_back(fs::path(path).filename().string());
            else if (base == images_base || base == labels_base)
                missing.push_back(std::string(base) + ".gz");
        }
        throw DataNotFoundError(title + ": the " + split_name(split) + " split is missing from '" +
                                directory_ + "' (" + origin + "): looked for " + join(missing) +
                                " (or the same without .gz)" +
                                (found.empty() ? "" : "; the directory has only " + join(found)) +
                                "; " + info.how_to_get);
    }

    IdxArray labels = read_idx(labels_path_);
    if (labels.type != idx_type::u8)
        fail_file(labels_path_, title + " labels must be " + idx_type_name(idx_type::u8) +
                                    ", found " + idx_type_name(labels.type));
    if (labels.dims.size() != 1)
        fail_file(labels_path_, title + " labels must be a 1-D array, found rank " +
                                    std::to_string(labels.dims.size()));
    for (std::size_t i = 0; i < labels.data.size(); ++i)
        if (labels.data[i] >= classes)
            fail_file(labels_path_, "label " + std::to_string(labels.data[i]) + " at index " +
                                        std::to_string(i) + " is outside 0.." +
                                        std::to_string(classes - 1));

    IdxArray images = read_idx(images_path_);
    if (images.type != idx_type::u8)
        fail_file(images_path_, title + " images must be " + idx_type_name(idx_type::u8) +
                                    ", found " + idx_type_name(images.type));
    if (images.dims.size() != 3 || images.dims[1] != rows || images.dims[2] != cols) {
        std::string found = "a rank-" + std::to_string(images.dims.size()) + " array";
        if (images.dims.size() == 3)
            found =
                std::to_string(images.dims[1]) + "x" + std::to_string(images.dims[2]) + " images";
        fail_file(images_path_, title + " images must be 28x28 (dims n x 28 x 28), found " + found);
    }
    if (images.dims[0] != labels.dims[0])
        throw std::runtime_error(title + ": '" + images_path_ + "' has " +
                                 std::to_string(images.dims[0]) + " images but '" + labels_path_ +
                                 "' has " + std::to_string(labels.dims[0]) + " labels");
    pixels_ = std::move(images.data);
    labels_ = std::move(labels.data);

    switch (normalization) {
        case Normalization::zero_one:
            scale_ = 1.f / 255.f, shift_ = 0.f;
            break;
        case Normalization::minus_one_one:
            scale_ = 2.f / 255.f, shift_ = -1.f;
            break;
        case Normalization::standardize:
            scale_ = 1.f / (255.f * info.std), shift_ = -info.mean / info.std;
            break;
    }
}

std::size_t MnistFormatDataset::size() const {
    return labels_.size();
}
std::vector<Shape> MnistFormatDataset::input_shapes() const {
    return {{rows, cols}};
}
std::vector<Shape> MnistFormatDataset::target_shapes() const {
    return {{}};
}
std::size_t MnistFormatDataset::num_classes() const {
    return classes;
}
std::vector<std::string> MnistFormatDataset::class_names() const {
    return class_names_;
}

std::int64_t MnistFormatDataset::label(std::size_t i) const {
    if (i >= size())
        throw std::out_of_range(std::string("MNIST-format dataset: index ") + std::to_string(i) +
                                " is out of range for " + std::to_string(size()) + " examples");
    return labels_[i];
}

void MnistFormatDataset::get_batch(const std::vector<std::size_t>& indices, Batch& out) const {
    check_indices(indices, size(), "MNIST-format dataset");
    static const std::vector<Shape> image{{rows, cols}}, label{{}};
    prepare_batch(out, indices.size(), image, label);
    constexpr std::size_t pixels_per_image = rows * cols;
    // One fused scale-and-shift pass from the uint8 pixels into the reused float buffer.
    const float scale = scale_, shift = shift_;
    float* dst = out.inputs[0].data();
    float* labels = out.targets[0].data();
    for (std::size_t k = 0; k < indices.size(); ++k) {
        const std::uint8_t* src = pixels_.data() + indices[k] * pixels_per_image;
        // Shuffled images are scattered over 47 MB: ask for the next one while converting this
        // one, or each image starts with a wait on memory (most of the time spent here).
        if (k + 1 < indices.size()) {
            const std::uint8_t* next = pixels_.data() + indices[k + 1] * pixels_per_image;
            for (std::size_t j = 0; j < pixels_per_image; j += 64) __builtin_prefetch(next + j);
        }
        for (std::size_t j = 0; j < pixels_per_image; ++j)
            dst[j] = static_cast<float>(src[j]) * scale + shift;
        dst += pixels_per_image;
        labels[k] = static_cast<float>(labels_[indices[k]]);
    }
}

FashionMNIST::FashionMNIST(const std::string& dir, Split split, Normalization normalization)
    : MnistFormatDataset({"Fashion-MNIST", default_dir,
                          "install Debian's dataset-fashion-mnist package, or pass --data-dir / "
                          "set XGRAD_DATA_DIR to a directory with the four files",
                          train_mean, train_std, names()},
                         dir, split, normalization) {}

const std::vector<std::string>& FashionMNIST::names() {
    static const std::vector<std::string> n = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                               "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                               "Bag",         "Ankle boot"};
    return n;
}

MNIST::MNIST(const std::string& dir, Split split, Normalization normalization)
    : MnistFormatDataset({"MNIST", default_dir,
                          "download the four MNIST files (train-images-idx3-ubyte.gz, ...) and "
                          "pass --data-dir / set XGRAD_DATA_DIR to their directory",
                          train_mean, train_std, names()},
                         dir, split, normalization) {}

const std::vector<std::string>& MNIST::names() {
    static const std::vector<std::string> n = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
    return n;
}

}  // namespace xgrad::data
