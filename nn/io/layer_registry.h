// The layer registry: model files rebuild each layer by its type name, from the config the
// layer wrote about itself (Keras' get_config / from_config / register_keras_serializable).
//
// How a layer becomes saveable in a model file (save_model / load_model):
//
//   1. type_name() returns the name it registers under ("Scale").
//   2. config() (a Module virtual) returns its constructor arguments as JSON; a layer without
//      arguments keeps the default ({}). "name" and "input_shape" are written for every layer
//      by the model file: leave them out.
//   3. A static `from_config(const nn::LayerConfig&)` returns the layer rebuilt from that
//      config (by value or as a shared_ptr); a layer without arguments may skip it and have a
//      default constructor instead. LayerConfig's readers check each field and name it in
//      their error ("layer 'scale' 'factor' is not a number").
//   4. Optional: weight_count(input_shape) (a Module virtual) tells how many weights build()
//      will create, so that load_model() can refuse a corrupt file before allocating them.
//   5. nn::register_layer<Scale>("Scale") once, before saving or loading (e.g. at the start of
//      main()); registering the same class again under the same name does nothing.
//
//   class Scale : public nn::Module {
//     public:
//       explicit Scale(double factor) : factor_(factor) {}
//       std::string type_name() const override { return "Scale"; }
//       nlohmann::json config() const override { return {{"factor", factor_}}; }
//       static Scale from_config(const nn::LayerConfig& c) { return Scale(c.number("factor")); }
//       Variable forward(const Variable& x) override { return x * factor_; }
//     private:
//       double factor_;
//   };
//   nn::register_layer<Scale>("Scale");
//
// A registered model subclass (built from its constructor, children included) saves the same
// way; its children need no registration since its constructor makes them. A container whose
// config lists its children (Sequential, Model) needs every child registered.
//
// The built-in layers are registered in layer_registry.cpp (register_builtin_layers): a layer
// added to the library adds its line there. They are not registered from their own .cpp files
// because a static library drops object files nobody references, and their registration with
// them.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <typeindex>
#include <typeinfo>
#include <vector>

#include <nlohmann/json.hpp>

#include "nn/module.h"

namespace xgrad::nn {

// A layer's config as read from a file, with readers that check each field's type and name
// the layer and the field in a std::invalid_argument when it is missing or wrong. It refers to
// the JSON it reads, which must outlive it.
class LayerConfig {
  public:
    // `where` names the owner in messages: "layer 'dense'".
    LayerConfig(const nlohmann::json& config, std::string where);

    const nlohmann::json& raw() const { return config_; }
    const std::string& where() const { return where_; }
    bool has(const std::string& key) const;

    // The field itself ("<where> has no '<key>'" when missing).
    const nlohmann::json& at(const std::string& key) const;
    std::string string(const std::string& key) const;
    std::size_t count(const std::string& key) const;  // a non-negative integer
    bool boolean(const std::string& key) const;
    double number(const std::string& key) const;
    Shape shape(const std::string& key) const;  // a list of non-negative integers
    std::array<std::size_t, 2> pair(const std::string& key) const;  // (height, width)
    // A nested object (a child's config) read with its own `where`.
    LayerConfig child(const std::string& key, std::string where) const;

  private:
    const nlohmann::json& config_;
    std::string where_;
};

using LayerFactory = std::function<std::shared_ptr<Module>(const LayerConfig&)>;
// Moves a temporary layer of the registered class into a shared_ptr (the functional API keeps
// temporaries called on symbolic tensors: nn::Dense(10)(x)).
using LayerMover = std::function<std::shared_ptr<Module>(Module&&)>;

// The untyped form of register_layer: `type` is the class saved layers must have exactly
// (typeid of the object), so that a subclass of Dense with its own forward() is not saved as
// a Dense. The same name for another class is a std::invalid_argument.
void register_layer_type(const std::string& type_name, std::type_index type, LayerFactory factory,
                         LayerMover mover = nullptr);

// A shared_ptr holding `layer` moved out, when its exact class is registered; else nullptr.
std::shared_ptr<Module> adopt_registered(Module&& layer);

// The factory register_layer<L> uses: L::from_config when L has one, else L's default
// constructor.
template <class L>
LayerFactory layer_factory() {
    static_assert(std::derived_from<L, Module>, "register_layer<L>: L must derive from Module");
    if constexpr (requires(const LayerConfig& c) {
                      { L::from_config(c) } -> std::convertible_to<std::shared_ptr<Module>>;
                  }) {
        return [](const LayerConfig& c) -> std::shared_ptr<Module> { return L::from_config(c); };
    } else if constexpr (requires(const LayerConfig& c) {
                             { L::from_config(c) } -> std::convertible_to<L>;
                         }) {
        return [](const LayerConfig& c) -> std::shared_ptr<Module> {
            return std::make_shared<L>(L::from_config(c));
        };
    } else {
        static_assert(std::is_default_constructible_v<L>,
                      "register_layer<L>: L needs a static from_config(const LayerConfig&) or a "
                      "default constructor");
        return [](const LayerConfig&) -> std::shared_ptr<Module> { return std::make_shared<L>(); };
    }
}

template <class L>
LayerMover layer_mover() {
    if constexpr (std::is_move_constructible_v<L>) {
        return [](Module&& m) -> std::shared_ptr<Module> {
            return std::make_shared<L>(std::move(static_cast<L&>(m)));
        };
    } else {
        return nullptr;
    }
}

// Makes layers of class L save and load under `type_name`, which must be what their
// type_name() returns.
template <class L>
void register_layer(const std::string& type_name) {
    register_layer_type(type_name, typeid(L), layer_factory<L>(), layer_mover<L>());
}

// For weight_count(): the product of `factors`, or the largest uint64 when it overflows.
std::uint64_t saturating_product(std::initializer_list<std::uint64_t> factors);

// The registered type names, built-in ones first, in registration order.
std::vector<std::string> registered_layers();

// {"class_name": type, "config": {"name": ..., ["input_shape": ...,] the layer's config()}}.
// A layer whose class is not registered under its type_name() is a std::invalid_argument
// naming the layer and the type.
nlohmann::json layer_record(const Module& layer);

// The layer a record describes, named and with its declared input shape. A Sequential comes
// back unbuilt (its from_config adds its children without building them), so that the caller
// can count the weights (weight_count) before build() allocates them; a from_config that must
// build (a functional Model wires its graph) checks its own counts. Errors are
// std::invalid_argument naming the layer and the field.
std::shared_ptr<Module> layer_from_record(const nlohmann::json& record);

}  // namespace xgrad::nn
