#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>

#include <xtensor/xbuilder.hpp>

#include "nn_test_util.h"
#include "xgrad.h"

using namespace xgrad;
using nn_test::tmp_path;

namespace {

bool bit_equal(const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

// A user layer with a constructor argument and a weight: y = factor * x * w.
class ScaledWeight : public nn::Module {
  public:
    explicit ScaledWeight(double factor) : factor_(factor) {}
    std::string type_name() const override { return "ScaledWeight"; }
    nlohmann::json config() const override { return {{"factor", factor_}}; }
    static ScaledWeight from_config(const nn::LayerConfig& c) {
        return ScaledWeight(c.number("factor"));
    }
    void build(const Shape& in) override {
        if (!needs_build(in)) return;
        w_ = register_parameter("w", xt::ones<float>({in.back()}));
        Module::build(in);
    }
    Variable forward(const Variable& x) override { return x * w_ * static_cast<float>(factor_); }
    double factor() const { return factor_; }

  private:
    double factor_;
    Variable w_;
};

// A subclassed model: its constructor makes its children, so only the model registers.
class TwoDense : public nn::Module {
  public:
    TwoDense() {
        register_module(hidden_);
        register_module(out_);
    }
    std::string type_name() const override { return "TwoDense"; }
    Variable forward(const Variable& x) override { return (*out_)((*hidden_)(x)); }

  private:
    std::shared_ptr<nn::Dense> hidden_ = std::make_shared<nn::Dense>(4, "tanh");
    std::shared_ptr<nn::Dense> out_ = std::make_shared<nn::Dense>(2);
};

// A subclass that changes forward() but still calls itself a Dense.
class NoisyDense : public nn::Dense {
  public:
    NoisyDense() : nn::Dense(3) {}
    Variable forward(const Variable& x) override { return nn::Dense::forward(x) + 1.f; }
};

Tensor batch(std::size_t n, std::size_t features) {
    Tensor x = xt::linspace<float>(-1.f, 2.f, n * features);
    x.reshape({n, features});
    return x;
}

}  // namespace

TEST_CASE("layer registry: the built-in layers are registered in a fixed order") {
    const auto names = nn::registered_layers();
    REQUIRE(names.size() >= 12);
    CHECK(std::vector<std::string>(names.begin(), names.begin() + 3) ==
          std::vector<std::string>{"Sequential", "Dense", "Flatten"});
}

TEST_CASE("layer registry: a registered user layer saves and loads bit for bit") {
    nn::register_layer<ScaledWeight>("ScaledWeight");
    nn::register_layer<ScaledWeight>("ScaledWeight");  // again: harmless
    manual_seed(2);
    nn::Sequential model("with_custom");
    model.add(nn::Dense(3, "relu", true, "he_normal"));
    model.add(ScaledWeight(0.5));
    model.build({5});
    auto custom = std::dynamic_pointer_cast<ScaledWeight>(model.layers()[1]);
    custom->named_parameters()[0].second.mutable_value() = Tensor{1.5f, -2.f, 0.25f};
    const std::string path = tmp_path("registry_custom.safetensors");
    nn::save_model(model, path);

    nn::Sequential loaded = nn::load_model(path);
    auto rebuilt = std::dynamic_pointer_cast<ScaledWeight>(loaded.layers()[1]);
    REQUIRE(rebuilt);
    CHECK(rebuilt->factor() == 0.5);
    CHECK(nn::model_architecture(loaded) == nn::model_architecture(model));
    for (const auto& [name, t] : model.state_dict()) {
        CHECK(bit_equal(loaded.state_dict().at(name), t));
    }
    CHECK(bit_equal(loaded(Variable(batch(4, 5))).value(), model(Variable(batch(4, 5))).value()));
    CHECK(nn::model_architecture(model).find(
              R"({"class_name":"ScaledWeight","config":{"factor":0.5,"name":"scaled_weight"}})") !=
          std::string::npos);
}

TEST_CASE("layer registry: a registered model subclass saves with its input shape and loads") {
    nn::register_layer<TwoDense>("TwoDense");
    manual_seed(3);
    TwoDense model;
    model.build({6});
    const std::string path = tmp_path("registry_subclass.safetensors");
    nn::save_model(model, path);
    CHECK(nn::model_architecture(model) ==
          R"({"class_name":"TwoDense","config":{"build_input_shape":[6],"name":"two_dense"}})");
    std::shared_ptr<nn::Module> loaded = nn::load_any_model(path);
    REQUIRE(std::dynamic_pointer_cast<TwoDense>(loaded));
    CHECK(loaded->count_params() == model.count_params());
    for (const auto& [name, t] : model.state_dict()) {
        CHECK(bit_equal(loaded->state_dict().at(name), t));
    }
    CHECK(
        bit_equal((*loaded)(Variable(batch(2, 6))).value(), model(Variable(batch(2, 6))).value()));
    // load_model() is for Sequential files and says so.
    CHECK_THROWS_WITH_AS(nn::load_model(path),
                         ("cannot load '" + path +
                          "': the architecture is invalid: the architecture describes a "
                          "'TwoDense', not a Sequential model")
                             .c_str(),
                         std::runtime_error);
}

TEST_CASE("layer registry: a subclass of a registered layer is not saved as its base") {
    nn::Sequential model;
    model.add(nn::Flatten({2}));
    model.add(NoisyDense());
    CHECK_THROWS_WITH_AS(nn::check_savable(model),
                         "save_model: layer 'dense' is of a class other than the one registered "
                         "as 'Dense'; give the subclass its own type_name() and register it",
                         std::invalid_argument);
}

TEST_CASE("layer registry: one name cannot name two classes") {
    CHECK_THROWS_WITH_AS(nn::register_layer<NoisyDense>("Dense"),
                         "register_layer: the type name 'Dense' is already registered for "
                         "another class",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(nn::register_layer<TwoDense>(""), "register_layer: the type name is empty",
                         std::invalid_argument);
}

TEST_CASE("layer registry: records are checked field by field") {
    using nlohmann::json;
    CHECK_THROWS_WITH_AS(nn::layer_from_record(json::parse(R"({"class_name":"Dense"})")),
                         "the Dense record has no 'config'", std::invalid_argument);
    CHECK_THROWS_WITH_AS(
        nn::layer_from_record(json::parse(R"({"class_name":"Dense","config":{"name":3}})")),
        "the Dense config 'name' is not a string", std::invalid_argument);
    CHECK_THROWS_WITH_AS(
        nn::layer_from_record(json::parse(
            R"({"class_name":"Conv2D","config":{"name":"c","filters":2,"kernel_size":[3],)"
            R"("strides":[1,1],"padding":"valid","activation":"relu","use_bias":true,)"
            R"("kernel_initializer":"zeros","dilation_rate":[1,1]}})")),
        "layer 'c' 'kernel_size' is not a list of two integers", std::invalid_argument);
    CHECK_THROWS_WITH_AS(
        nn::layer_from_record(
            json::parse(R"({"class_name":"Normalization","config":{"name":"n","axis":1}})")),
        "layer 'n' 'axis' is 1; only -1 (the last axis) is supported", std::invalid_argument);
    CHECK_THROWS_WITH_AS(nn::layer_from_record(json::parse(
                             R"({"class_name":"Dropout","config":{"name":"d","rate":"x"}})")),
                         "layer 'd' 'rate' is not a number", std::invalid_argument);
    // A user's layer is among the known types once registered.
    nn::register_layer<ScaledWeight>("ScaledWeight");
    try {
        nn::layer_from_record(json::parse(R"({"class_name":"Conv3D","config":{"name":"c"}})"));
        FAIL("an unknown type loaded");
    } catch (const std::invalid_argument& e) {
        const std::string what = e.what();
        CHECK(what.starts_with("layer 'c' has the unknown type 'Conv3D' (known: Sequential, "));
        CHECK(what.find("ScaledWeight") != std::string::npos);
    }
}

TEST_CASE("layer registry: a record needing far more weights than the file holds is refused") {
    // 3x3 kernels over 2 channels into 2^40 filters: counted, never allocated.
    nn::Sequential model("conv");
    model.add(nn::Conv2D(2, {3, 3}));
    model.build({8, 8, 2});
    const std::string path = tmp_path("registry_huge.safetensors");
    nn::save_model(model, path);
    auto [tensors, metadata] = nn::read_safetensors(path);
    std::string arch = metadata.at("architecture");
    arch.replace(arch.find("\"filters\":2"), 11, "\"filters\":1099511627776");
    metadata["architecture"] = arch;
    nn::write_safetensors(path, tensors, metadata);
    CHECK_THROWS_WITH_AS(nn::load_model(path),
                         ("cannot load '" + path +
                          "': the architecture is invalid: the layers need 20890720927744 weights "
                          "but the file holds only 38")
                             .c_str(),
                         std::runtime_error);
}
