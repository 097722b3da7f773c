// Model files: the weights in the safetensors format (see nn/io/safetensors.h) with, in the
// header's __metadata__, "format": "xgrad", "version": "1" and "architecture": the layer
// list as a JSON string, so that load_model() rebuilds the model from the file alone:
//
//   {"class_name": "Sequential", "config": {"name": "sequential", "build_input_shape": [28, 28],
//    "layers": [{"class_name": "Flatten", "config": {"name": "flatten", "input_shape": [28, 28]}},
//               {"class_name": "Dense", "config": {"name": "dense", "units": 100,
//                "activation": "relu", "use_bias": true, "kernel_initializer": "glorot_uniform"}},
//               ...]}}
//
// Each layer writes its own config (Module::config()) and is rebuilt by its type name from the
// layer registry (nn/io/layer_registry.h), which users extend with nn::register_layer<L>(name).
// Tensors are named as in Module::named_parameters(): "dense/kernel". A model that is not a
// container records the input shape it was built for ("build_input_shape", or
// "build_input_shapes" for several inputs).
#pragma once

#include <memory>
#include <string>

#include "nn/io/safetensors.h"
#include "nn/models/sequential.h"
#include "nn/module.h"

namespace xgrad::nn {

// The format version this build writes and reads.
inline constexpr const char* model_file_version = "1";

// Weights and architecture. The model must be built, and every layer its record lists must be
// registered (else a std::invalid_argument naming the layer and its type: register it, or
// use save_weights() for such models).
void save_model(const Module& model, const std::string& path);
// The same checks as save_model() makes, without writing: a std::invalid_argument naming the
// first unregistered layer type (ModelCheckpoint calls it before training starts).
void check_savable(const Module& model);
// The model rebuilt from the file, with its weights, in training mode. Any problem is a
// std::runtime_error "cannot load '<path>': <the problem>".
Sequential load_model(const std::string& path);
// The same for a file holding any registered model (a Sequential, a functional Model, a
// registered subclass).
std::shared_ptr<Module> load_any_model(const std::string& path);

// The weights alone (any module, custom layers included), in the same format.
void save_weights(const Module& module, const std::string& path);
// Fills an existing, built module; the file's tensors must match its parameters exactly
// (names and shapes). Plain safetensors files without xgrad metadata are accepted.
void load_weights(Module& module, const std::string& path);

// The architecture record alone (as stored in the file), and the model it describes
// (unbuilt unless the record gives an input shape). The latter throws std::invalid_argument.
std::string model_architecture(const Module& model);
Sequential model_from_architecture(const std::string& architecture);

}  // namespace xgrad::nn
