#include "nn/io/model_file.h"

#include <limits>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "nn/layers/activation_layer.h"
#include "nn/layers/batch_normalization.h"
#include "nn/layers/conv2d.h"
#include "nn/layers/dense.h"
#include "nn/layers/dropout_layer.h"
#include "nn/layers/flatten.h"
#include "nn/layers/global_average_pooling.h"
#include "nn/layers/normalization.h"
#include "nn/layers/pooling.h"
#include "nn/layers/reshape_layer.h"

namespace xgrad::nn {

namespace {

using json = nlohmann::json;

// Deeper nesting of Sequentials than this in a file is treated as corrupt.
constexpr int max_depth = 64;
// load_model() builds the model before comparing it with the tensors; the layers may need
// at most this many weights more than the file holds (4 MB), so that a corrupt record cannot
// make it allocate without bound.
constexpr std::uint64_t slack_weights = std::uint64_t{1} << 20;

std::runtime_error load_error(const std::string& path, const std::string& problem) {
    return std::runtime_error("cannot load '" + path + "': " + problem);
}

// ---- writing ----

json layer_record(const Module& layer) {
    const std::string type = layer.type_name();
    json config = {{"name", layer.name()}};
    if (layer.declared_input_shape()) config["input_shape"] = *layer.declared_input_shape();
    // Both the dynamic type and the type name must match: a user subclass of Dense with its
    // own forward() is not a Dense a file can describe.
    if (const auto* s = dynamic_cast<const Sequential*>(&layer); s && type == "Sequential") {
        json layers = json::array();
        for (const auto& l : s->layers()) layers.push_back(layer_record(*l));
        config["layers"] = std::move(layers);
        if (s->built_input_shape()) config["build_input_shape"] = *s->built_input_shape();
    } else if (const auto* d = dynamic_cast<const Dense*>(&layer); d && type == "Dense") {
        config["units"] = d->units();
        config["activation"] = d->activation();
        config["use_bias"] = d->use_bias();
        config["kernel_initializer"] = d->kernel_initializer();
    } else if (const auto* a = dynamic_cast<const Activation*>(&layer); a && type == "Activation") {
        config["activation"] = a->activation();
    } else if (const auto* r = dynamic_cast<const Dropout*>(&layer); r && type == "Dropout") {
        config["rate"] = r->rate();
    } else if (const auto* cv = dynamic_cast<const Conv2D*>(&layer); cv && type == "Conv2D") {
        config["filters"] = cv->filters();
        config["kernel_size"] = cv->kernel_size();
        config["strides"] = cv->strides();
        config["padding"] = cv->padding();
        config["dilation_rate"] = cv->dilation_rate();
        config["activation"] = cv->activation();
        config["use_bias"] = cv->use_bias();
        config["kernel_initializer"] = cv->kernel_initializer();
    } else if (const auto* p = dynamic_cast<const Pooling2D*>(&layer);
               p && (type == "MaxPooling2D" || type == "AveragePooling2D")) {
        config["pool_size"] = p->pool_size();
        config["strides"] = p->strides();
        config["padding"] = p->padding();
    } else if (const auto* bn = dynamic_cast<const BatchNormalization*>(&layer);
               bn && type == "BatchNormalization") {
        config["momentum"] = bn->momentum();
        config["epsilon"] = bn->epsilon();
    } else if (dynamic_cast<const Normalization*>(&layer) && type == "Normalization") {
        config["axis"] = -1;  // Keras' default, the only axis this layer normalises
    } else if (const auto* rs = dynamic_cast<const Reshape*>(&layer); rs && type == "Reshape") {
        config["target_shape"] = rs->target_shape();
    } else if (!(dynamic_cast<const Flatten*>(&layer) && type == "Flatten") &&
               !(dynamic_cast<const GlobalAveragePooling2D*>(&layer) &&
                 type == "GlobalAveragePooling2D")) {
        throw std::invalid_argument("save_model: layer '" + layer.name() + "' has type '" + type +
                                    "', which a model file cannot describe; save the weights "
                                    "with save_weights() instead");
    }
    return {{"class_name", type}, {"config", std::move(config)}};
}

Metadata file_metadata() {
    return {{"format", "xgrad"}, {"version", model_file_version}};
}

// ---- reading: every field is checked before use ----

const json& field(const json& obj, const std::string& key, const std::string& where) {
    if (!obj.is_object()) throw std::invalid_argument(where + " is not a JSON object");
    auto it = obj.find(key);
    if (it == obj.end()) throw std::invalid_argument(where + " has no '" + key + "'");
    return *it;
}

std::string as_string(const json& obj, const std::string& key, const std::string& where) {
    const json& v = field(obj, key, where);
    if (!v.is_string()) throw std::invalid_argument(where + " '" + key + "' is not a string");
    return v.get<std::string>();
}

std::size_t as_count(const json& obj, const std::string& key, const std::string& where) {
    const json& v = field(obj, key, where);
    if (!v.is_number_unsigned() ||
        v.get<std::uint64_t>() > std::numeric_limits<std::size_t>::max()) {
        throw std::invalid_argument(where + " '" + key + "' is not a non-negative integer");
    }
    return v.get<std::size_t>();
}

bool as_bool(const json& obj, const std::string& key, const std::string& where) {
    const json& v = field(obj, key, where);
    if (!v.is_boolean()) throw std::invalid_argument(where + " '" + key + "' is not true or false");
    return v.get<bool>();
}

double as_number(const json& obj, const std::string& key, const std::string& where) {
    const json& v = field(obj, key, where);
    if (!v.is_number()) throw std::invalid_argument(where + " '" + key + "' is not a number");
    return v.get<double>();
}

Shape as_shape(const json& obj, const std::string& key, const std::string& where) {
    const json& v = field(obj, key, where);
    Shape shape;
    if (v.is_array()) {
        for (const auto& d : v) {
            if (!d.is_number_unsigned()) break;
            shape.push_back(d.get<std::size_t>());
        }
    }
    if (!v.is_array() || shape.size() != v.size()) {
        throw std::invalid_argument(where + " '" + key +
                                    "' is not a list of non-negative integers");
    }
    return shape;
}

// (height, width) pairs of the convolutional layers.
Size2 as_pair(const json& obj, const std::string& key, const std::string& where) {
    const Shape s = as_shape(obj, key, where);
    if (s.size() != 2) {
        throw std::invalid_argument(where + " '" + key + "' is not a list of two integers");
    }
    return {s[0], s[1]};
}

std::shared_ptr<Module> layer_from_record(const json& record, int depth);

Sequential sequential_from_config(const json& config, int depth) {
    const std::string where = "the Sequential config";
    Sequential model(as_string(config, "name", where));
    const std::string model_where = "model '" + model.name() + "'";
    if (config.contains("input_shape")) {
        model.set_input_shape(as_shape(config, "input_shape", model_where));
    }
    const json& layers = field(config, "layers", model_where);
    if (!layers.is_array()) throw std::invalid_argument(model_where + " 'layers' is not a list");
    for (const auto& record : layers) model.add(layer_from_record(record, depth + 1));
    if (config.contains("build_input_shape") && !model.built()) {
        model.build(as_shape(config, "build_input_shape", model_where));
    }
    return model;
}

std::shared_ptr<Module> layer_from_record(const json& record, int depth) {
    if (depth > max_depth) {
        throw std::invalid_argument("Sequential models are nested more than " +
                                    std::to_string(max_depth) + " deep");
    }
    const std::string type = as_string(record, "class_name", "a layer record");
    const json& config = field(record, "config", "the " + type + " record");
    const std::string name = as_string(config, "name", "the " + type + " config");
    const std::string where = "layer '" + name + "'";
    std::shared_ptr<Module> layer;
    if (type == "Sequential") {
        return std::make_shared<Sequential>(sequential_from_config(config, depth));
    } else if (type == "Dense") {
        layer = std::make_shared<Dense>(
            as_count(config, "units", where), as_string(config, "activation", where),
            as_bool(config, "use_bias", where), as_string(config, "kernel_initializer", where));
    } else if (type == "Flatten") {
        layer = std::make_shared<Flatten>();
    } else if (type == "Activation") {
        layer = std::make_shared<Activation>(as_string(config, "activation", where));
    } else if (type == "Dropout") {
        layer = std::make_shared<Dropout>(as_number(config, "rate", where));
    } else if (type == "Conv2D") {
        layer = std::make_shared<Conv2D>(
            as_count(config, "filters", where), as_pair(config, "kernel_size", where),
            as_pair(config, "strides", where), as_string(config, "padding", where),
            as_string(config, "activation", where), as_bool(config, "use_bias", where),
            as_string(config, "kernel_initializer", where),
            as_pair(config, "dilation_rate", where));
    } else if (type == "MaxPooling2D") {
        layer = std::make_shared<MaxPooling2D>(as_pair(config, "pool_size", where),
                                               as_pair(config, "strides", where),
                                               as_string(config, "padding", where));
    } else if (type == "AveragePooling2D") {
        layer = std::make_shared<AveragePooling2D>(as_pair(config, "pool_size", where),
                                                   as_pair(config, "strides", where),
                                                   as_string(config, "padding", where));
    } else if (type == "BatchNormalization") {
        layer = std::make_shared<BatchNormalization>(as_number(config, "momentum", where),
                                                     as_number(config, "epsilon", where));
    } else if (type == "Normalization") {
        const json& axis = field(config, "axis", where);
        if (!axis.is_number_integer() || axis.get<long long>() != -1) {
            throw std::invalid_argument(where + " 'axis' is " + axis.dump() +
                                        "; only -1 (the last axis) is supported");
        }
        layer = std::make_shared<Normalization>();
    } else if (type == "Reshape") {
        layer = std::make_shared<Reshape>(as_shape(config, "target_shape", where));
    } else if (type == "GlobalAveragePooling2D") {
        layer = std::make_shared<GlobalAveragePooling2D>();
    } else {
        throw std::invalid_argument(where + " has the unknown type '" + type +
                                    "' (known: Sequential, Dense, Flatten, Activation, Dropout, "
                                    "Conv2D, MaxPooling2D, AveragePooling2D, "
                                    "BatchNormalization, Normalization, Reshape, "
                                    "GlobalAveragePooling2D)");
    }
    layer->set_name(name);
    if (config.contains("input_shape"))
        layer->set_input_shape(as_shape(config, "input_shape", where));
    return layer;
}

// For weights_needed(): the weights a convolutional-family layer record allocates for input
// `shape` (per example), and its output shape. False when the record or the shape does not
// make sense (the layer's own checks then report it) or a count overflows.
bool conv_layer_weights(const std::string& type, const json& c, Shape& shape, std::uint64_t& n) {
    auto pair = [&](const char* key, Size2& out) {
        if (!c.is_object() || !c.contains(key) || !c[key].is_array() || c[key].size() != 2 ||
            !c[key][0].is_number_unsigned() || !c[key][1].is_number_unsigned()) {
            return false;
        }
        out = {c[key][0].get<std::size_t>(), c[key][1].get<std::size_t>()};
        return out[0] > 0 && out[1] > 0;
    };
    auto text = [&](const char* key) {
        return c.is_object() && c.contains(key) && c[key].is_string() ? c[key].get<std::string>()
                                                                      : std::string();
    };
    n = 0;
    if (type == "Reshape") {
        if (!c.is_object() || !c.contains("target_shape") || !c["target_shape"].is_array())
            return false;
        Shape target;
        for (const auto& d : c["target_shape"]) {
            if (!d.is_number_unsigned()) return false;
            target.push_back(d.get<std::size_t>());
        }
        shape = target;
        return true;
    }
    if (type == "BatchNormalization") {
        if (shape.empty()) return false;
        return !__builtin_mul_overflow(std::uint64_t{4}, shape.back(), &n);
    }
    if (type == "Normalization") {  // mean, variance and count
        if (shape.empty()) return false;
        return !__builtin_mul_overflow(std::uint64_t{2}, shape.back(), &n) &&
               !__builtin_add_overflow(n, std::uint64_t{1}, &n);
    }
    if (shape.size() != 3) return false;
    if (type == "GlobalAveragePooling2D") {
        shape = {shape[2]};
        return true;
    }
    const std::string padding = text("padding");
    Size2 kernel{}, strides{}, dilation{1, 1};
    if (padding != "valid" && padding != "same") return false;
    const bool conv = type == "Conv2D";
    if (!pair(conv ? "kernel_size" : "pool_size", kernel) || !pair("strides", strides) ||
        (conv && !pair("dilation_rate", dilation))) {
        return false;
    }
    // Sizes too large for window arithmetic cannot come from a real model.
    constexpr std::size_t limit = std::size_t{1} << 31;
    for (std::size_t v : {kernel[0], kernel[1], strides[0], strides[1], dilation[0], dilation[1],
                          shape[0], shape[1]}) {
        if (v >= limit) return false;
    }
    const WindowAxis h = window_axis(shape[0], kernel[0], strides[0], dilation[0], padding);
    const WindowAxis w = window_axis(shape[1], kernel[1], strides[1], dilation[1], padding);
    std::size_t channels = shape[2];
    if (conv) {
        if (!c.contains("filters") || !c["filters"].is_number_unsigned()) return false;
        channels = c["filters"].get<std::size_t>();
        std::uint64_t taps = 0;
        if (__builtin_mul_overflow(std::uint64_t{kernel[0]} * kernel[1], shape[2], &taps) ||
            __builtin_add_overflow(taps, std::uint64_t{1}, &taps) ||  // the bias, at most
            __builtin_mul_overflow(taps, std::uint64_t{channels}, &n)) {
            n = std::numeric_limits<std::uint64_t>::max();
        }
    }
    shape = {h.out, w.out, channels};
    return true;
}

// The number of weights the model described by a Sequential config will allocate, from the
// records alone (before anything is allocated), or 0 when unknown. A corrupt file must not
// make load_model() allocate more than the file could fill.
std::uint64_t weights_needed(const json& config, Shape shape, int depth) {
    std::uint64_t total = 0;
    const json* layers =
        config.is_object() && config.contains("layers") ? &config["layers"] : nullptr;
    if (!layers || !layers->is_array() || depth > max_depth) return 0;
    for (const auto& record : *layers) {
        if (!record.is_object() || !record.contains("class_name") || !record.contains("config")) {
            return total;
        }
        const json& type = record["class_name"];
        const json& c = record["config"];
        if (type == "Flatten") {
            std::uint64_t n = 1;
            for (auto d : shape) {
                if (__builtin_mul_overflow(n, d, &n))
                    return std::numeric_limits<std::uint64_t>::max();
            }
            shape = {static_cast<std::size_t>(n)};
        } else if (type == "Dense" && c.is_object() && c.contains("units") &&
                   c["units"].is_number_unsigned() && shape.size() == 1) {
            const std::uint64_t units = c["units"].get<std::uint64_t>();
            std::uint64_t n = 0;
            if (__builtin_mul_overflow(shape[0] + 1, units, &n) ||
                __builtin_add_overflow(total, n, &total)) {
                return std::numeric_limits<std::uint64_t>::max();
            }
            shape = {static_cast<std::size_t>(units)};
        } else if (type == "Sequential") {
            const std::uint64_t n = weights_needed(c, shape, depth + 1);
            if (__builtin_add_overflow(total, n, &total))
                return std::numeric_limits<std::uint64_t>::max();
            return total;  // the nested model's output shape is not tracked here
        } else if (type == "Reshape" || type == "Conv2D" || type == "MaxPooling2D" ||
                   type == "AveragePooling2D" || type == "BatchNormalization" ||
                   type == "Normalization" || type == "GlobalAveragePooling2D") {
            std::uint64_t n = 0;
            if (!conv_layer_weights(type.get<std::string>(), c, shape, n)) return total;
            if (__builtin_add_overflow(total, n, &total))
                return std::numeric_limits<std::uint64_t>::max();
        } else if (type != "Activation" && type != "Dropout") {
            return total;
        }
    }
    return total;
}

// The input shape a Sequential config declares: its own, or its first layer's.
std::optional<Shape> declared_input(const json& config) {
    for (const char* key : {"build_input_shape", "input_shape"}) {
        if (config.is_object() && config.contains(key)) return as_shape(config, key, "the model");
    }
    if (config.is_object() && config.contains("layers") && config["layers"].is_array() &&
        !config["layers"].empty()) {
        const json& first = config["layers"][0];
        if (first.is_object() && first.contains("config") && first["config"].is_object() &&
            first["config"].contains("input_shape")) {
            return as_shape(first["config"], "input_shape", "the first layer");
        }
    }
    return std::nullopt;
}

Sequential model_from_json(const json& record, std::uint64_t max_weights) {
    const std::string type = as_string(record, "class_name", "the architecture");
    if (type != "Sequential") {
        throw std::invalid_argument("the architecture describes a '" + type +
                                    "', not a Sequential model");
    }
    const json& config = field(record, "config", "the architecture");
    if (auto in = declared_input(config)) {
        const std::uint64_t needed = weights_needed(config, *in, 0);
        // Small differences are left to the exact comparison, which names the tensors.
        if (needed > max_weights && needed - max_weights > slack_weights) {
            throw std::invalid_argument("the layers need " + std::to_string(needed) +
                                        " weights but the file holds only " +
                                        std::to_string(max_weights));
        }
    }
    return sequential_from_config(config, 0);
}

Sequential parse_architecture(const std::string& text, std::uint64_t max_weights) {
    json record;
    try {
        record = json::parse(text);
    } catch (const json::parse_error& e) {
        throw std::invalid_argument("it is not valid JSON (error at byte " +
                                    std::to_string(e.byte) + ")");
    } catch (const json::out_of_range&) {
        // A number too large for a double, e.g. 1e400.
        throw std::invalid_argument("it is not valid JSON (a number is out of range)");
    }
    return model_from_json(record, max_weights);
}

}  // namespace

std::string model_architecture(const Sequential& model) {
    return layer_record(model).dump();
}

Sequential model_from_architecture(const std::string& architecture) {
    return parse_architecture(architecture, std::numeric_limits<std::uint64_t>::max());
}

void save_model(const Sequential& model, const std::string& path) {
    if (!model.built()) {
        throw std::invalid_argument("save_model: model '" + model.name() +
                                    "' is not built, so it has no weights to save");
    }
    Metadata metadata = file_metadata();
    metadata["architecture"] = model_architecture(model);
    write_safetensors(path, model.state_dict(), metadata);
}

Sequential load_model(const std::string& path) {
    auto [tensors, metadata] = read_safetensors(path);
    if (metadata.count("format") == 0 || metadata.at("format") != "xgrad") {
        throw load_error(path,
                         "it is not an xgrad model file (no \"format\": \"xgrad\" in its "
                         "metadata); load_weights() reads plain safetensors files");
    }
    if (metadata.count("version") == 0 || metadata.at("version") != model_file_version) {
        throw load_error(path, "unsupported model file version '" +
                                   (metadata.count("version") ? metadata.at("version") : "") +
                                   "' (this build reads version " + model_file_version + ")");
    }
    if (metadata.count("architecture") == 0) {
        throw load_error(path, "it holds weights only, no architecture; use load_weights()");
    }
    std::uint64_t weights = 0;
    for (const auto& [name, t] : tensors) weights += t.size();
    std::optional<Sequential> model;
    try {
        model.emplace(parse_architecture(metadata.at("architecture"), weights));
    } catch (const std::exception& e) {
        throw load_error(path, std::string("the architecture is invalid: ") + e.what());
    }
    if (!model->built()) {
        throw load_error(path,
                         "the architecture gives no input shape, so the model cannot be built");
    }
    const std::string problem = model->state_mismatch(tensors, "the file");
    if (!problem.empty()) {
        throw load_error(path, "the weights do not match the architecture: " + problem);
    }
    model->load_state_dict(tensors);
    return std::move(*model);
}

void save_weights(const Module& module, const std::string& path) {
    write_safetensors(path, module.state_dict(), file_metadata());
}

void load_weights(Module& module, const std::string& path) {
    auto [tensors, metadata] = read_safetensors(path);
    if (metadata.count("version") && metadata.at("version") != model_file_version) {
        throw load_error(path, "unsupported model file version '" + metadata.at("version") +
                                   "' (this build reads version " + model_file_version + ")");
    }
    const std::string problem = module.state_mismatch(tensors, "the file");
    if (!problem.empty()) {
        throw load_error(path,
                         "the weights do not match model '" + module.name() + "': " + problem);
    }
    module.load_state_dict(tensors);
}

}  // namespace xgrad::nn
