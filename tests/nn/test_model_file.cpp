#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>

#include <xtensor/xbuilder.hpp>

#include "framework/testing.h"
#include "nn_test_util.h"
#include "xgrad.h"

using namespace xgrad;
using nn_test::tmp_path;

namespace {

nn::Sequential seed_model() {
    nn::Sequential model;
    model.add(nn::Flatten({28, 28}));
    model.add(nn::Dense(100, "relu"));
    model.add(nn::Dense(10, "softmax"));
    return model;
}

Tensor batch() {
    Tensor x = xt::linspace<float>(-2.f, 3.f, 4 * 28 * 28);
    x.reshape({4, 28, 28});
    return x;
}

bool bit_equal(const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

// The message load_model gives for a file holding these tensors and metadata.
std::string load_model_message(const std::string& name, const nn::TensorMap& tensors,
                               const nn::Metadata& metadata) {
    const std::string path = tmp_path(name);
    nn::write_safetensors(path, tensors, metadata);
    try {
        nn::load_model(path);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "(no error)";
}

// The registered layer types, as the unknown-type message lists them (other tests register
// their own layers in the same process).
std::string known_types() {
    std::string out;
    for (const auto& name : nn::registered_layers()) out += (out.empty() ? "" : ", ") + name;
    return out;
}

std::string prefix(const std::string& name) {
    return "cannot load '" + tmp_path(name) + "': ";
}

class Custom : public nn::Module {
  public:
    std::string type_name() const override { return "Custom"; }
    void build(const Shape& in) override {
        if (!needs_build(in)) return;
        w = register_parameter("w", xt::ones<float>({in[0]}));
        Module::build(in);
    }
    Variable forward(const Variable& x) override { return x * w; }
    Variable w;
};

const char* const seed_architecture =
    R"({"class_name":"Sequential","config":{"build_input_shape":[28,28],"input_shape":[28,28],)"
    R"("layers":[{"class_name":"Flatten","config":{"input_shape":[28,28],"name":"flatten"}},)"
    R"({"class_name":"Dense","config":{"activation":"relu","kernel_initializer":"glorot_uniform",)"
    R"("name":"dense","units":100,"use_bias":true}},)"
    R"({"class_name":"Dense","config":{"activation":"softmax","kernel_initializer":)"
    R"("glorot_uniform","name":"dense_1","units":10,"use_bias":true}}],"name":"sequential"}})";

}  // namespace

TEST_CASE("model files: the architecture record of the seed model") {
    CHECK(nn::model_architecture(seed_model()) == seed_architecture);
    nn::Sequential rebuilt = nn::model_from_architecture(seed_architecture);
    CHECK(rebuilt.summary() == seed_model().summary());
}

TEST_CASE("model files: save -> load gives the same model and bit-identical predictions") {
    manual_seed(21);
    nn::Sequential model = seed_model();
    model.eval();
    const std::string path = tmp_path("seed.xgrad.safetensors");
    nn::save_model(model, path);

    nn::Sequential loaded = nn::load_model(path);
    loaded.eval();
    CHECK(loaded.summary() == model.summary());
    CHECK(nn::model_architecture(loaded) == nn::model_architecture(model));
    for (const auto& [name, t] : model.state_dict())
        CHECK(bit_equal(loaded.state_dict().at(name), t));
    CHECK(bit_equal(loaded(Variable(batch())).value(), model(Variable(batch())).value()));

    // The file is plain safetensors with the documented metadata.
    auto [tensors, metadata] = nn::read_safetensors(path);
    CHECK(tensors.size() == 4);
    CHECK(metadata.at("format") == "xgrad");
    CHECK(metadata.at("version") == "1");
    CHECK(metadata.at("architecture") == nn::model_architecture(model));
}

TEST_CASE("model files: every built-in layer and nesting round-trip") {
    manual_seed(8);
    nn::Sequential block("block");
    block.add(nn::Dense(6, "tanh", false, "he_normal"));
    block.add(nn::Dropout(0.25));
    nn::Sequential model("net");
    model.add(nn::Flatten());
    model.add(block);
    model.add(nn::Activation("gelu"));
    nn::Dense out(3, "log_softmax");
    out.set_name("out");
    model.add(out);
    model.build({2, 2});
    const std::string path = tmp_path("nested.safetensors");
    nn::save_model(model, path);
    nn::Sequential loaded = nn::load_model(path);
    CHECK(nn::model_architecture(loaded) == nn::model_architecture(model));
    CHECK(loaded.summary() == model.summary());
    auto inner = std::dynamic_pointer_cast<nn::Sequential>(loaded.layers()[1]);
    REQUIRE(inner);
    auto dropout = std::dynamic_pointer_cast<nn::Dropout>(inner->layers()[1]);
    REQUIRE(dropout);
    CHECK(dropout->rate() == 0.25);
    model.eval();
    loaded.eval();
    Tensor x = xt::linspace<float>(-1.f, 1.f, 12);
    x.reshape({3, 2, 2});
    CHECK(bit_equal(loaded(Variable(x)).value(), model(Variable(x)).value()));
}

TEST_CASE("model files: a file written by format version 1's first code still loads bit for bit") {
    // tests/nn/data/make_model_file_v1.cpp wrote these with the code of commit 7e6d858, before
    // layers described themselves: every built-in layer type, a nested Sequential.
    const std::string path = std::string(NN_TEST_DATA) + "/model_file_v1.safetensors";
    auto [tensors, metadata] = nn::read_safetensors(path);
    nn::Sequential loaded = nn::load_model(path);
    CHECK(nn::model_architecture(loaded) == metadata.at("architecture"));
    CHECK(loaded.count_params() == 147);
    const auto state = loaded.state_dict();
    CHECK(state.size() == tensors.size());
    for (const auto& entry : tensors) {  // no structured binding: clang cannot CAPTURE one
        const std::string& name = entry.first;
        CAPTURE(name);
        REQUIRE(state.count(name) == 1);
        CHECK(bit_equal(state.at(name), entry.second));
    }
    auto [io, unused] =
        nn::read_safetensors(std::string(NN_TEST_DATA) + "/model_file_v1_prediction.safetensors");
    loaded.eval();
    // The weights are bit for bit; the prediction only to rounding, since conv2d now adds its
    // bias after the GEMM instead of before it (a different order of the float sums).
    XGRAD_CHECK_TENSOR_CLOSE(loaded(Variable(io.at("input"))).value(), io.at("output"), 1e-6);
    // Saved again, it writes the same architecture and tensors.
    const std::string again = tmp_path("v1_again.safetensors");
    nn::save_model(loaded, again);
    auto [tensors2, metadata2] = nn::read_safetensors(again);
    CHECK(metadata2 == metadata);
    for (const auto& [name, t] : tensors) CHECK(bit_equal(tensors2.at(name), t));
}

TEST_CASE("model files: load_weights fills a fresh model") {
    manual_seed(1);
    nn::Sequential model = seed_model();
    const std::string path = tmp_path("weights.safetensors");
    nn::save_weights(model, path);
    manual_seed(2);
    nn::Sequential fresh = seed_model();
    CHECK_FALSE(bit_equal(fresh(Variable(batch())).value(), model(Variable(batch())).value()));
    const Variable kernel = fresh.parameters()[0];
    nn::load_weights(fresh, path);
    CHECK(bit_equal(fresh(Variable(batch())).value(), model(Variable(batch())).value()));
    CHECK(bit_equal(kernel.value(), model.parameters()[0].value()));  // same handle, new value
    // save_model's files load as weights too.
    nn::save_model(model, tmp_path("full.safetensors"));
    nn::Sequential again = seed_model();
    nn::load_weights(again, tmp_path("full.safetensors"));
    CHECK(bit_equal(again(Variable(batch())).value(), model(Variable(batch())).value()));
}

TEST_CASE("model files: load_weights into a different model names the differences") {
    nn::Sequential model = seed_model();
    const std::string path = tmp_path("mismatch.safetensors");
    nn::save_weights(model, path);
    nn::Sequential other;
    other.add(nn::Flatten({28, 28}));
    other.add(nn::Dense(50, "relu"));
    other.add(nn::Dense(10));
    other.add(nn::Dense(10));
    const auto before = other.state_dict();
    CHECK_THROWS_WITH_AS(nn::load_weights(other, path),
                         ("cannot load '" + path +
                          "': the weights do not match model 'sequential': missing "
                          "dense_2/kernel, dense_2/bias; dense/kernel has shape (784, 100) in "
                          "the file but (784, 50) in the model; dense/bias has shape (100,) in "
                          "the file but (50,) in the model; dense_1/kernel has shape (100, 10) in "
                          "the file but (50, 10) in the model")
                             .c_str(),
                         std::runtime_error);
    for (const auto& [name, t] : before) CHECK(bit_equal(other.state_dict().at(name), t));

    nn::Sequential unbuilt;
    unbuilt.add(nn::Dense(3));
    CHECK_THROWS_WITH_AS(nn::load_weights(unbuilt, path),
                         ("cannot load '" + path +
                          "': the weights do not match model 'sequential': unexpected "
                          "dense/bias, dense/kernel, dense_1/bias, dense_1/kernel (not in the "
                          "model)")
                             .c_str(),
                         std::runtime_error);
}

TEST_CASE("model files: unregistered custom layers save as weights, not as models") {
    nn::Sequential model;
    model.add(nn::Flatten({3}));
    model.add(Custom());
    const std::string message =
        "save_model: layer 'custom' has type 'Custom', which is not registered; call "
        "nn::register_layer<Custom>(\"Custom\") first, or save the weights with save_weights()";
    std::filesystem::remove(tmp_path("custom.safetensors"));
    CHECK_THROWS_WITH_AS(nn::save_model(model, tmp_path("custom.safetensors")), message.c_str(),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(nn::check_savable(model), message.c_str(), std::invalid_argument);
    CHECK_FALSE(std::filesystem::exists(tmp_path("custom.safetensors")));
    std::static_pointer_cast<Custom>(model.layers()[1])->w.mutable_value() = Tensor{1.f, 2.f, 3.f};
    nn::save_weights(model, tmp_path("custom_weights.safetensors"));
    nn::Sequential other;
    other.add(nn::Flatten({3}));
    other.add(Custom());
    nn::load_weights(other, tmp_path("custom_weights.safetensors"));
    CHECK(other.state_dict().at("custom/w") == Tensor({1.f, 2.f, 3.f}));

    nn::Sequential unbuilt;
    unbuilt.add(nn::Dense(2));
    CHECK_THROWS_WITH_AS(nn::save_model(unbuilt, tmp_path("unbuilt.safetensors")),
                         "save_model: model 'sequential' is not built, so it has no weights to "
                         "save",
                         std::invalid_argument);
}

TEST_CASE("model files: saving again replaces the file atomically") {
    const std::string path = tmp_path("replace.safetensors");
    manual_seed(3);
    nn::Sequential a = seed_model();
    nn::save_model(a, path);
    manual_seed(4);
    nn::Sequential b = seed_model();
    nn::save_model(b, path);
    nn::Sequential loaded = nn::load_model(path);
    CHECK(bit_equal(loaded.state_dict().at("dense/kernel"), b.state_dict().at("dense/kernel")));
    for (const auto& entry : std::filesystem::directory_iterator(tmp_path(""))) {
        CHECK(entry.path().filename().string().find(".tmp-") == std::string::npos);
    }
}

TEST_CASE("model files: each kind of bad model file is rejected with its message") {
    manual_seed(5);
    const nn::TensorMap weights = seed_model().state_dict();
    const nn::Metadata good = {
        {"format", "xgrad"}, {"version", "1"}, {"architecture", seed_architecture}};
    auto with = [&](const std::string& key, const std::string& value) {
        nn::Metadata m = good;
        m[key] = value;
        return m;
    };
    auto architecture_with = [&](const std::string& from, const std::string& to) {
        std::string a = seed_architecture;
        const auto at = a.find(from);
        REQUIRE(at != std::string::npos);
        return with("architecture", a.replace(at, from.size(), to));
    };

    CHECK(load_model_message("ok.st", weights, good) == "(no error)");
    CHECK(load_model_message("plain.st", weights, {}) ==
          prefix("plain.st") +
              "it is not an xgrad model file (no \"format\": \"xgrad\" in its metadata); "
              "load_weights() reads plain safetensors files");
    CHECK(load_model_message("version.st", weights, with("version", "2")) ==
          prefix("version.st") + "unsupported model file version '2' (this build reads version 1)");
    nn::Metadata no_arch = good;
    no_arch.erase("architecture");
    CHECK(load_model_message("no_arch.st", weights, no_arch) ==
          prefix("no_arch.st") + "it holds weights only, no architecture; use load_weights()");
    CHECK(load_model_message("arch_json.st", weights, with("architecture", "{\"class_name\":")) ==
          prefix("arch_json.st") +
              "the architecture is invalid: it is not valid JSON (error at byte 15)");
    CHECK(load_model_message(
              "unknown.st", weights,
              architecture_with("\"class_name\":\"Flatten\"", "\"class_name\":\"Conv3D\"")) ==
          prefix("unknown.st") +
              "the architecture is invalid: layer 'flatten' has the unknown type 'Conv3D' "
              "(known: " +
              known_types() + ")");
    CHECK(known_types().starts_with(
        "Sequential, Dense, Flatten, Activation, Dropout, Conv2D, MaxPooling2D, "
        "AveragePooling2D, BatchNormalization, Normalization, Reshape, GlobalAveragePooling2D"));
    CHECK(load_model_message("units.st", weights,
                             architecture_with("\"units\":100", "\"units\":-3")) ==
          prefix("units.st") +
              "the architecture is invalid: layer 'dense' 'units' is not a non-negative integer");
    CHECK(load_model_message("no_units.st", weights, architecture_with("\"units\":100,", "")) ==
          prefix("no_units.st") + "the architecture is invalid: layer 'dense' has no 'units'");
    CHECK(
        load_model_message("activation.st", weights, architecture_with("\"relu\"", "\"rellu\""))
            .starts_with(prefix("activation.st") +
                         "the architecture is invalid: unknown activation 'rellu'; valid names: "));
    CHECK(load_model_message("huge.st", weights,
                             architecture_with("\"units\":100", "\"units\":100000000")) ==
          prefix("huge.st") +
              "the architecture is invalid: the layers need 79500000010 weights but the file "
              "holds only 79510");
    CHECK(load_model_message("not_seq.st", weights,
                             with("architecture", R"({"class_name":"Dense","config":{}})")) ==
          prefix("not_seq.st") +
              "the architecture is invalid: the architecture describes a 'Dense', not a "
              "Sequential model");
    CHECK(load_model_message("no_shape.st", weights,
                             with("architecture", R"({"class_name":"Sequential","config":)"
                                                  R"({"name":"s","layers":[]}})")) ==
          prefix("no_shape.st") +
              "the architecture gives no input shape, so the model cannot be built");

    nn::TensorMap missing = weights;
    missing.erase("dense_1/bias");
    CHECK(load_model_message("missing.st", missing, good) ==
          prefix("missing.st") + "the weights do not match the architecture: missing dense_1/bias");
    nn::TensorMap extra = weights;
    extra["dense_2/kernel"] = Tensor{1.f};
    CHECK(load_model_message("extra.st", extra, good) ==
          prefix("extra.st") +
              "the weights do not match the architecture: unexpected dense_2/kernel (not in the "
              "model)");
    nn::TensorMap misshapen = weights;
    misshapen["dense_1/bias"] = Tensor{1.f, 2.f};
    CHECK(load_model_message("shape.st", misshapen, good) ==
          prefix("shape.st") +
              "the weights do not match the architecture: dense_1/bias has shape (2,) in the "
              "file but (10,) in the model");

    // Corruption below the architecture is reported by the safetensors reader.
    const std::string path = tmp_path("cut.st");
    nn::write_safetensors(path, weights, good);
    std::string bytes = nn_test::read_bytes(path);
    bytes.resize(bytes.size() / 2);
    nn_test::write_bytes(path, bytes);
    try {
        nn::load_model(path);
        FAIL("a truncated file loaded");
    } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()).starts_with(prefix("cut.st") + "tensor '"));
        CHECK(std::string(e.what()).find("outside the data area") != std::string::npos);
    }
}

TEST_CASE("model files: architecture records nested too deep or malformed are errors") {
    std::string deep = R"({"class_name":"Dense","config":{"name":"d","units":1,"activation":)"
                       R"("linear","use_bias":true,"kernel_initializer":"zeros"}})";
    for (int i = 0; i < 70; ++i) {
        deep = R"({"class_name":"Sequential","config":{"name":"s)" + std::to_string(i) +
               R"(","layers":[)" + deep + "]}}";
    }
    CHECK_THROWS_WITH_AS(nn::model_from_architecture(deep),
                         "Sequential models are nested more than 64 deep", std::invalid_argument);
    CHECK_THROWS_WITH_AS(nn::model_from_architecture(R"({"class_name":"Sequential","config":)"
                                                     R"({"name":"s","layers":[7]}})"),
                         "a layer record is not a JSON object", std::invalid_argument);
    CHECK_THROWS_WITH_AS(nn::model_from_architecture(R"({"class_name":"Sequential","config":)"
                                                     R"({"name":"s","layers":{}}})"),
                         "model 's' 'layers' is not a list", std::invalid_argument);
    CHECK_THROWS_WITH_AS(
        nn::model_from_architecture(R"({"class_name":"Sequential","config":{"name":"s",)"
                                    R"("build_input_shape":[4294967296,4294967296,4294967296],)"
                                    R"("layers":[{"class_name":"Flatten","config":{"name":"f"}},)"
                                    R"({"class_name":"Dense","config":{"name":"d","units":1,)"
                                    R"("activation":"linear","use_bias":true,)"
                                    R"("kernel_initializer":"zeros"}}]}})"),
        "f: input shape (None, 4294967296, 4294967296, 4294967296) has more elements than fit "
        "in a size_t",
        std::invalid_argument);
}
