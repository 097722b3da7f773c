#include "nn/io/model_file.h"

#include <limits>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "nn/io/layer_registry.h"
#include "nn/io/weight_budget.h"

namespace xgrad::nn {

namespace {

using json = nlohmann::json;

// load_model() builds the model before comparing it with the tensors; the layers may need
// at most this many weights more than the file holds (4 MB), so that a corrupt record cannot
// make it allocate without bound.
constexpr std::uint64_t slack_weights = std::uint64_t{1} << 20;

std::runtime_error load_error(const std::string& path, const std::string& problem) {
    return std::runtime_error("cannot load '" + path + "': " + problem);
}

Metadata file_metadata() {
    return {{"format", "xgrad"}, {"version", model_file_version}};
}

// The record of a whole model: its layer record, plus the shape(s) it was built for when its
// config does not give them (a subclassed model), so that loading can build it.
json model_record(const Module& model) {
    json record = layer_record(model);
    json& config = record["config"];
    if (model.built() && !config.contains("build_input_shape") &&
        !config.contains("build_input_shapes")) {
        if (model.built_input_shapes().size() > 1) {
            config["build_input_shapes"] = model.built_input_shapes();
        } else if (model.built_input_shape()) {
            config["build_input_shape"] = *model.built_input_shape();
        }
    }
    return record;
}

// The model a record describes, built when the record gives its input shape. A corrupt
// record must not make it allocate more weights than the file could fill (`max_weights`):
// the layers' weight counts are checked before build() allocates them.
std::shared_ptr<Module> model_from_json(const json& record, std::uint64_t max_weights) {
    std::shared_ptr<Module> model;
    {
        // A functional model's layers build while its graph is rebuilt.
        const WeightBudget budget(max_weights, slack_weights);
        model = layer_from_record(record);
    }
    if (model->built()) return model;
    const LayerConfig config(record.at("config"), "model '" + model->name() + "'");
    if (config.has("build_input_shapes")) {
        const json& shapes = config.at("build_input_shapes");
        if (!shapes.is_array()) {
            throw std::invalid_argument(config.where() +
                                        " 'build_input_shapes' is not a list of shapes");
        }
        std::vector<Shape> in;
        for (std::size_t i = 0; i < shapes.size(); ++i) {
            in.push_back(LayerConfig(json{{"shape", shapes[i]}}, config.where()).shape("shape"));
        }
        model->build(in);
        return model;
    }
    std::optional<Shape> in;
    if (config.has("build_input_shape")) {
        in = config.shape("build_input_shape");
    } else if (const auto* sequential = dynamic_cast<const Sequential*>(model.get())) {
        in = sequential->input_shape();
    } else {
        in = model->declared_input_shape();
    }
    if (!in) return model;
    const std::uint64_t needed = model->weight_count(*in).value_or(0);
    // Small differences are left to the exact comparison, which names the tensors.
    if (needed > max_weights && needed - max_weights > slack_weights) {
        throw std::invalid_argument("the layers need " + std::to_string(needed) +
                                    " weights but the file holds only " +
                                    std::to_string(max_weights));
    }
    model->build(*in);
    return model;
}

json parse_json(const std::string& text) {
    try {
        return json::parse(text);
    } catch (const json::parse_error& e) {
        throw std::invalid_argument("it is not valid JSON (error at byte " +
                                    std::to_string(e.byte) + ")");
    } catch (const json::out_of_range&) {
        // A number too large for a double, e.g. 1e400.
        throw std::invalid_argument("it is not valid JSON (a number is out of range)");
    }
}

// A Sequential from its architecture, for the functions that return one.
Sequential sequential_from_json(const json& record, std::uint64_t max_weights) {
    const std::string type = LayerConfig(record, "the architecture").string("class_name");
    if (type != "Sequential") {
        throw std::invalid_argument("the architecture describes a '" + type +
                                    "', not a Sequential model");
    }
    return dynamic_cast<Sequential&>(*model_from_json(record, max_weights));
}

// The file's tensors and architecture record, checked; `metadata_out`, when given, receives
// the whole metadata.
std::pair<TensorMap, json> read_model_file(const std::string& path, Metadata* metadata_out) {
    auto [tensors, metadata] = read_safetensors(path);
    if (metadata_out) *metadata_out = metadata;
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
    try {
        return {std::move(tensors), parse_json(metadata.at("architecture"))};
    } catch (const std::exception& e) {
        throw load_error(path, std::string("the architecture is invalid: ") + e.what());
    }
}

std::uint64_t weight_total(const TensorMap& tensors) {
    std::uint64_t weights = 0;
    for (const auto& [name, t] : tensors) weights += t.size();
    return weights;
}

// Fills the model rebuilt from the file with the file's tensors.
void fill_model(Module& model, const TensorMap& tensors, const std::string& path) {
    if (!model.built()) {
        throw load_error(path,
                         "the architecture gives no input shape, so the model cannot be built");
    }
    const std::string problem = model.state_mismatch(tensors, "the file");
    if (!problem.empty()) {
        throw load_error(path, "the weights do not match the architecture: " + problem);
    }
    model.load_state_dict(tensors);
}

}  // namespace

std::string model_architecture(const Module& model) {
    return model_record(model).dump();
}

Sequential model_from_architecture(const std::string& architecture) {
    return sequential_from_json(parse_json(architecture),
                                std::numeric_limits<std::uint64_t>::max());
}

void check_savable(const Module& model) {
    model_record(model);
}

void save_model(const Module& model, const std::string& path, const Metadata& extra) {
    if (!model.built()) {
        throw std::invalid_argument("save_model: model '" + model.name() +
                                    "' is not built, so it has no weights to save");
    }
    Metadata metadata = file_metadata();
    metadata["architecture"] = model_architecture(model);
    for (const auto& [key, value] : extra) {
        if (!metadata.emplace(key, value).second) {
            throw std::invalid_argument("save_model: the metadata key '" + key +
                                        "' is the file format's own");
        }
    }
    write_safetensors(path, model.state_dict(), metadata);
}

Sequential load_model(const std::string& path, Metadata* metadata) {
    auto [tensors, record] = read_model_file(path, metadata);
    std::optional<Sequential> model;
    try {
        model.emplace(sequential_from_json(record, weight_total(tensors)));
    } catch (const std::exception& e) {
        throw load_error(path, std::string("the architecture is invalid: ") + e.what());
    }
    fill_model(*model, tensors, path);
    return std::move(*model);
}

std::shared_ptr<Module> load_any_model(const std::string& path, Metadata* metadata) {
    auto [tensors, record] = read_model_file(path, metadata);
    std::shared_ptr<Module> model;
    try {
        model = model_from_json(record, weight_total(tensors));
    } catch (const std::exception& e) {
        throw load_error(path, std::string("the architecture is invalid: ") + e.what());
    }
    fill_model(*model, tensors, path);
    return model;
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
