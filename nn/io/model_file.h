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
// Layer types: Sequential (nested), Flatten, Dense, Activation ("activation"), Dropout
// ("rate"), Conv2D, MaxPooling2D, AveragePooling2D, BatchNormalization, Normalization
// ("axis": -1), Reshape, GlobalAveragePooling2D. Tensors are named as in Module::named_parameters(): "dense/kernel".
#pragma once

#include <string>

#include "nn/io/safetensors.h"
#include "nn/models/sequential.h"
#include "nn/module.h"

namespace xgrad::nn {

// The format version this build writes and reads.
inline constexpr const char* model_file_version = "1";

// Weights and architecture. The model must be built, and made of the built-in layers only
// (a custom layer is a std::invalid_argument: use save_weights() for such models).
void save_model(const Sequential& model, const std::string& path);
// The model rebuilt from the file, with its weights, in training mode. Any problem is a
// std::runtime_error "cannot load '<path>': <the problem>".
Sequential load_model(const std::string& path);

// The weights alone (any module, custom layers included), in the same format.
void save_weights(const Module& module, const std::string& path);
// Fills an existing, built module; the file's tensors must match its parameters exactly
// (names and shapes). Plain safetensors files without xgrad metadata are accepted.
void load_weights(Module& module, const std::string& path);

// The architecture record alone (as stored in the file), and the model it describes
// (unbuilt unless the record gives an input shape). The latter throws std::invalid_argument.
std::string model_architecture(const Sequential& model);
Sequential model_from_architecture(const std::string& architecture);

}  // namespace xgrad::nn
