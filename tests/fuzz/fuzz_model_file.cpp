// libFuzzer target: nn::read_safetensors and nn::load_model on the input bytes as a file.
// Accepted files must round-trip through the writers unchanged, and a loaded model must run a
// forward pass of the shape its file declares.
#include <cstdio>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "framework/grad_mode.h"
#include "nn/io/model_file.h"
#include "nn/io/safetensors.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using namespace xgrad;

bool same_tensors(const nn::TensorMap& a, const nn::TensorMap& b) {
    if (a.size() != b.size()) return false;
    for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib) {
        // Bytes, not values: NaN payloads must survive too.
        if (ia->first != ib->first || ia->second.shape() != ib->second.shape() ||
            (ia->second.size() != 0 &&
             std::memcmp(ia->second.data(), ib->second.data(), ia->second.size() * 4) != 0))
            return false;
    }
    return true;
}

std::size_t elements(const Shape& s) {
    std::size_t n = 1;
    for (auto d : s) n = d != 0 && n > (std::size_t{1} << 40) / d ? (std::size_t{1} << 40) : n * d;
    return n;
}

bool check_safetensors(const std::string& path) {
    std::pair<nn::TensorMap, nn::Metadata> file;
    try {
        file = nn::read_safetensors(path);
    } catch (const std::runtime_error& e) {
        fuzz::check_message(e.what(), path);
        return false;
    }
    nn::write_safetensors(path + ".out", file.first, file.second);
    const auto again = nn::read_safetensors(path + ".out");
    std::remove((path + ".out").c_str());
    if (!same_tensors(file.first, again.first) || file.second != again.second)
        fuzz::violated("safetensors round trip differs");
    return true;
}

bool check_model(const std::string& path) {
    std::optional<nn::Sequential> model;
    try {
        model.emplace(nn::load_model(path));
    } catch (const std::runtime_error& e) {
        fuzz::check_message(e.what(), path);
        return false;
    }
    nn::save_model(*model, path + ".out");
    const nn::Sequential again = nn::load_model(path + ".out");
    std::remove((path + ".out").c_str());
    if (nn::model_architecture(*model) != nn::model_architecture(again) ||
        !same_tensors(model->state_dict(), again.state_dict()))
        fuzz::violated("model file round trip differs");
    // A forward pass, unless the (valid) architecture asks for huge activations.
    const Shape in = *model->built_input_shape();
    bool small = elements(in) <= 100000;
    for (const auto& s : model->layer_output_shapes()) small = small && elements(s) <= 100000;
    if (small) {
        NoGradGuard no_grad;
        Shape batch = {2};
        batch.insert(batch.end(), in.begin(), in.end());
        const Variable out = model->forward(Variable(Tensor(Tensor::from_shape(batch))));
        Shape want = {2};
        const Shape& last =
            model->layer_output_shapes().empty() ? in : model->layer_output_shapes().back();
        want.insert(want.end(), last.begin(), last.end());
        if (to_shape(out.value().shape()) != want)
            fuzz::violated("forward output " + format_shape(to_shape(out.value().shape())) +
                           ", expected " + format_shape(want));
    }
    return true;
}

}  // namespace

bool xgrad_fuzz_one(const std::uint8_t* data, std::size_t size) {
    const std::string& path = fuzz::scratch_path("model");
    fuzz::write_scratch(path, data, size);
    const bool ok = check_safetensors(path);
    const bool loaded = ok && check_model(path);
    std::remove(path.c_str());
    return ok || loaded;
}
