// Classifies Fashion-MNIST test images with a saved model and draws each one in the terminal.
//
//   predict MODEL [INDEX ...] [--data-dir DIR] [--image PATH.svg]
//
// (default: the first 5 test images); --image also draws them with their top-3 bars as SVG.
#include <algorithm>
#include <iostream>
#include <numeric>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "examples/prediction_picture.h"
#include "examples/writable_path.h"
#include "xgrad.h"

using namespace xgrad;

namespace {

// Eight shades from blank to full, one character per pixel, two columns per pixel so the
// image keeps its proportions in a terminal.
void draw(const Tensor& image) {
    static const char* shades = " .:-=+*#%@";
    const std::size_t rows = image.shape()[0], cols = image.shape()[1];
    for (std::size_t r = 0; r < rows; ++r) {
        std::string line = "    ";
        for (std::size_t c = 0; c < cols; ++c) {
            const float v = std::clamp(image(r, c), 0.f, 1.f);
            const char shade = shades[static_cast<int>(v * 9.f + 0.5f)];
            line += shade;
            line += shade;
        }
        std::cout << line << "\n";
    }
}

int run(const std::string& model_path, std::vector<std::size_t> indices,
        const std::string& data_dir, const std::string& image_path) {
    if (!image_path.empty()) {
        if (const std::string why = examples::unwritable_reason("--image", image_path);
            !why.empty()) {
            std::cerr << "error: " << why << "\n";
            return 2;
        }
    }
    nn::Sequential model = nn::load_model(model_path);
    model.eval();
    data::FashionMNIST test(data_dir, data::Split::test);
    if (indices.empty()) indices = {0, 1, 2, 3, 4};
    for (auto i : indices) {
        if (i >= test.size()) {
            std::cerr << "error: index " << i << " is out of range: the test set has "
                      << test.size() << " images (0.." << test.size() - 1 << ")\n";
            return 2;
        }
    }
    const auto names = test.class_names();
    data::Batch batch;
    test.get_batch(indices, batch);
    Tensor probs;
    {
        NoGradGuard no_grad;
        probs = model(Variable(batch.input())).value();
    }
    const std::size_t classes = probs.shape()[1];
    if (classes != names.size()) {
        std::cerr << "error: the model predicts " << classes << " classes but Fashion-MNIST has "
                  << names.size() << "\n";
        return 2;
    }
    std::vector<examples::Prediction> predictions;
    for (std::size_t k = 0; k < indices.size(); ++k) {
        const std::size_t i = indices[k];
        std::cout << fmt::format("Test image {} (true label: {} {})\n", i, test.label(i),
                                 names[test.label(i)]);
        draw(test.input(i));
        std::vector<std::size_t> order(classes);
        std::iota(order.begin(), order.end(), 0);
        const float* p = probs.data() + k * classes;
        std::partial_sort(order.begin(), order.begin() + 3, order.end(),
                          [p](std::size_t a, std::size_t b) { return p[a] > p[b]; });
        examples::Prediction prediction{i, test.input(i), test.label(i), {}};
        for (std::size_t rank = 0; rank < 3; ++rank) {
            const std::size_t c = order[rank];
            std::cout << fmt::format("  {}. {:<12} {:6.2f}%{}\n", rank + 1, names[c], 100.0 * p[c],
                                     c == std::size_t(test.label(i)) ? "  <- true" : "");
            prediction.top.emplace_back(c, p[c]);
        }
        predictions.push_back(std::move(prediction));
        std::cout << "\n";
    }
    if (!image_path.empty()) {
        nn::write_file_atomically(image_path, examples::predictions_svg(predictions, names));
        std::cout << "Wrote the picture to " << image_path << "\n";
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Classify Fashion-MNIST test images with a saved xgrad model."};
    std::string model_path, data_dir, image_path;
    std::vector<std::size_t> indices;
    app.add_option("MODEL", model_path, "Model file written by fashion_mnist_mlp --save")
        ->required();
    app.add_option("INDEX", indices, "Test image indices (default: 0 1 2 3 4)");
    app.add_option("--data-dir", data_dir, "Fashion-MNIST directory");
    app.add_option("--image", image_path,
                   "Also draw the images and their top-3 classes to this SVG file");
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 2;
    }
    try {
        return run(model_path, indices, data_dir, image_path);
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}
