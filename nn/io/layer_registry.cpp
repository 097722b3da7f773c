#include "nn/io/layer_registry.h"

#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "nn/layers/activation_layer.h"
#include "nn/layers/batch_normalization.h"
#include "nn/layers/conv2d.h"
#include "nn/layers/dense.h"
#include "nn/layers/dropout_layer.h"
#include "nn/layers/embedding.h"
#include "nn/layers/flatten.h"
#include "nn/layers/global_average_pooling.h"
#include "nn/layers/layer_normalization.h"
#include "nn/layers/merge.h"
#include "nn/layers/multi_head_attention.h"
#include "nn/layers/normalization.h"
#include "nn/layers/pooling.h"
#include "nn/layers/recurrent.h"
#include "nn/layers/reshape_layer.h"
#include "nn/models/input.h"
#include "nn/models/model.h"
#include "nn/models/sequential.h"

namespace xgrad::nn {

namespace {

using json = nlohmann::json;

// Deeper nesting than this in a file is treated as corrupt (it would overflow the stack).
constexpr int max_depth = 64;

struct Entry {
    std::type_index type;
    LayerFactory factory;
    LayerMover mover;
};

struct Registry {
    std::mutex mutex;
    std::map<std::string, Entry> entries;
    std::vector<std::string> order;  // registration order, for messages
};

void add_entry(Registry& r, const std::string& type_name, std::type_index type,
               LayerFactory factory, LayerMover mover) {
    if (type_name.empty()) throw std::invalid_argument("register_layer: the type name is empty");
    auto it = r.entries.find(type_name);
    if (it != r.entries.end()) {
        if (it->second.type == type) return;  // registering twice is harmless
        throw std::invalid_argument("register_layer: the type name '" + type_name +
                                    "' is already registered for another class");
    }
    r.entries.emplace(type_name, Entry{type, std::move(factory), std::move(mover)});
    r.order.push_back(type_name);
}

template <class L>
void add_builtin(Registry& r, const std::string& type_name) {
    add_entry(r, type_name, typeid(L), layer_factory<L>(), layer_mover<L>());
}

// The library's own layers. A new built-in layer adds its line here (see the header for why
// layers do not register themselves from their own files).
void register_builtin_layers(Registry& r) {
    add_builtin<Sequential>(r, "Sequential");
    add_builtin<Dense>(r, "Dense");
    add_builtin<Flatten>(r, "Flatten");
    add_builtin<Activation>(r, "Activation");
    add_builtin<Dropout>(r, "Dropout");
    add_builtin<Conv2D>(r, "Conv2D");
    add_builtin<MaxPooling2D>(r, "MaxPooling2D");
    add_builtin<AveragePooling2D>(r, "AveragePooling2D");
    add_builtin<BatchNormalization>(r, "BatchNormalization");
    add_builtin<Normalization>(r, "Normalization");
    add_builtin<Reshape>(r, "Reshape");
    add_builtin<GlobalAveragePooling2D>(r, "GlobalAveragePooling2D");
    add_builtin<Embedding>(r, "Embedding");
    add_builtin<SimpleRNN>(r, "SimpleRNN");
    add_builtin<LSTM>(r, "LSTM");
    add_builtin<GRU>(r, "GRU");
    add_builtin<GlobalAveragePooling1D>(r, "GlobalAveragePooling1D");
    add_builtin<LayerNormalization>(r, "LayerNormalization");
    add_builtin<MultiHeadAttention>(r, "MultiHeadAttention");
    add_builtin<Model>(r, "Functional");
    add_builtin<InputLayer>(r, "InputLayer");
    add_builtin<Add>(r, "Add");
    add_builtin<Subtract>(r, "Subtract");
    add_builtin<Multiply>(r, "Multiply");
    add_builtin<Average>(r, "Average");
    add_builtin<Maximum>(r, "Maximum");
    add_builtin<Concatenate>(r, "Concatenate");
}

Registry& registry() {
    static Registry r;
    static std::once_flag builtins;
    std::call_once(builtins, [] { register_builtin_layers(r); });
    return r;
}

// The entry for `type_name`, copied out under the lock (a factory may register more types).
std::optional<Entry> find_entry(const std::string& type_name) {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    auto it = r.entries.find(type_name);
    if (it == r.entries.end()) return std::nullopt;
    return it->second;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) out += (i > 0 ? ", " : "") + items[i];
    return out;
}

// Counts the nesting of layer_from_record() on this thread.
class DepthGuard {
  public:
    DepthGuard() {
        if (++depth_ > max_depth + 1) {
            --depth_;
            throw std::invalid_argument("Sequential models are nested more than " +
                                        std::to_string(max_depth) + " deep");
        }
    }
    ~DepthGuard() { --depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;

  private:
    static thread_local int depth_;
};

thread_local int DepthGuard::depth_ = 0;

}  // namespace

// ---- LayerConfig ----

LayerConfig::LayerConfig(const json& config, std::string where)
    : config_(config), where_(std::move(where)) {
    if (!config_.is_object()) throw std::invalid_argument(where_ + " is not a JSON object");
}

bool LayerConfig::has(const std::string& key) const {
    return config_.contains(key);
}

const json& LayerConfig::at(const std::string& key) const {
    auto it = config_.find(key);
    if (it == config_.end()) throw std::invalid_argument(where_ + " has no '" + key + "'");
    return *it;
}

std::string LayerConfig::string(const std::string& key) const {
    const json& v = at(key);
    if (!v.is_string()) throw std::invalid_argument(where_ + " '" + key + "' is not a string");
    return v.get<std::string>();
}

std::size_t LayerConfig::count(const std::string& key) const {
    const json& v = at(key);
    if (!v.is_number_unsigned() ||
        v.get<std::uint64_t>() > std::numeric_limits<std::size_t>::max()) {
        throw std::invalid_argument(where_ + " '" + key + "' is not a non-negative integer");
    }
    return v.get<std::size_t>();
}

bool LayerConfig::boolean(const std::string& key) const {
    const json& v = at(key);
    if (!v.is_boolean()) {
        throw std::invalid_argument(where_ + " '" + key + "' is not true or false");
    }
    return v.get<bool>();
}

double LayerConfig::number(const std::string& key) const {
    const json& v = at(key);
    if (!v.is_number()) throw std::invalid_argument(where_ + " '" + key + "' is not a number");
    return v.get<double>();
}

Shape LayerConfig::shape(const std::string& key) const {
    const json& v = at(key);
    Shape shape;
    if (v.is_array()) {
        for (const auto& d : v) {
            if (!d.is_number_unsigned()) break;
            shape.push_back(d.get<std::size_t>());
        }
    }
    if (!v.is_array() || shape.size() != v.size()) {
        throw std::invalid_argument(where_ + " '" + key +
                                    "' is not a list of non-negative integers");
    }
    return shape;
}

std::array<std::size_t, 2> LayerConfig::pair(const std::string& key) const {
    const Shape s = shape(key);
    if (s.size() != 2) {
        throw std::invalid_argument(where_ + " '" + key + "' is not a list of two integers");
    }
    return {s[0], s[1]};
}

LayerConfig LayerConfig::child(const std::string& key, std::string where) const {
    return LayerConfig(at(key), std::move(where));
}

std::uint64_t saturating_product(std::initializer_list<std::uint64_t> factors) {
    std::uint64_t n = 1;
    for (auto f : factors) {
        if (__builtin_mul_overflow(n, f, &n)) return std::numeric_limits<std::uint64_t>::max();
    }
    return n;
}

// ---- the registry ----

void register_layer_type(const std::string& type_name, std::type_index type, LayerFactory factory,
                         LayerMover mover) {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    add_entry(r, type_name, type, std::move(factory), std::move(mover));
}

std::shared_ptr<Module> adopt_registered(Module&& layer) {
    const auto entry = find_entry(layer.type_name());
    if (!entry || !entry->mover || entry->type != std::type_index(typeid(layer))) return nullptr;
    return entry->mover(std::move(layer));
}

std::vector<std::string> registered_layers() {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    return r.order;
}

json layer_record(const Module& layer) {
    const std::string type = layer.type_name();
    const auto entry = find_entry(type);
    if (!entry) {
        throw std::invalid_argument("save_model: layer '" + layer.name() + "' has type '" + type +
                                    "', which is not registered; call nn::register_layer<" + type +
                                    ">(\"" + type +
                                    "\") first, or save the weights with save_weights()");
    }
    if (entry->type != std::type_index(typeid(layer))) {
        throw std::invalid_argument("save_model: layer '" + layer.name() +
                                    "' is of a class "
                                    "other than the one registered as '" +
                                    type +
                                    "'; give the subclass its own type_name() and register it");
    }
    json config = layer.config();
    if (!config.is_object()) {
        throw std::logic_error(layer.name() + " (" + type +
                               "): config() must return a JSON "
                               "object, got " +
                               config.dump());
    }
    config["name"] = layer.name();
    if (layer.declared_input_shape()) config["input_shape"] = *layer.declared_input_shape();
    return {{"class_name", type}, {"config", std::move(config)}};
}

std::shared_ptr<Module> layer_from_record(const json& record) {
    DepthGuard depth;
    const std::string type = LayerConfig(record, "a layer record").string("class_name");
    const LayerConfig named(LayerConfig(record, "the " + type + " record").at("config"),
                            "the " + type + " config");
    const std::string name = named.string("name");
    const LayerConfig config(named.raw(), "layer '" + name + "'");
    const auto entry = find_entry(type);
    if (!entry) {
        throw std::invalid_argument(config.where() + " has the unknown type '" + type +
                                    "' (known: " + join(registered_layers()) + ")");
    }
    std::shared_ptr<Module> layer = entry->factory(config);
    layer->set_name(name);
    if (config.has("input_shape")) layer->set_input_shape(config.shape("input_shape"));
    return layer;
}

}  // namespace xgrad::nn
