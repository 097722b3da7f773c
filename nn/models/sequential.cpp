#include "nn/models/sequential.h"

#include <limits>
#include <ostream>
#include <stdexcept>
#include <typeinfo>

#include <nlohmann/json.hpp>

#include "nn/io/layer_registry.h"
#include "nn/layers/conv2d.h"
#include "nn/layers/pooling.h"
#include "nn/models/summary.h"

namespace xgrad::nn {

Sequential::Sequential(std::string name) {
    set_name(std::move(name));
}

Sequential& Sequential::add(std::shared_ptr<Module> layer) {
    register_module(layer);
    try {
        if (built()) {
            const Shape in = output_shapes_.empty() ? *built_input_shape() : output_shapes_.back();
            layer->build(in);
            output_shapes_.push_back(layer->output_shape(in));
        } else if (layers().size() == 1 && layer->declared_input_shape()) {
            set_input_shape(*layer->declared_input_shape());
            build(*layer->declared_input_shape());
        }
    } catch (...) {
        // Leave the model as it was before the failed add().
        unregister_last_module();
        throw;
    }
    return *this;
}

void Sequential::build(const Shape& input_shape) {
    if (!needs_build(input_shape)) return;
    if (!layers().empty() && layers().front()->declared_input_shape() &&
        *layers().front()->declared_input_shape() != input_shape) {
        throw std::invalid_argument(name() + ": cannot build for input shape " +
                                    format_batch_shape(input_shape) + "; layer '" +
                                    layers().front()->name() + "' declares " +
                                    format_batch_shape(*layers().front()->declared_input_shape()));
    }
    std::vector<Shape> shapes;
    Shape shape = input_shape;
    for (const auto& layer : layers()) {
        layer->build(shape);
        shape = layer->output_shape(shape);
        shapes.push_back(shape);
    }
    output_shapes_ = std::move(shapes);
    Module::build(input_shape);
}

nlohmann::json Sequential::config() const {
    nlohmann::json records = nlohmann::json::array();
    for (const auto& layer : layers()) records.push_back(layer_record(*layer));
    nlohmann::json out = {{"layers", std::move(records)}};
    if (built_input_shape()) out["build_input_shape"] = *built_input_shape();
    return out;
}

Sequential Sequential::from_config(const LayerConfig& c) {
    Sequential model(c.string("name"));
    const LayerConfig config(c.raw(), "model '" + model.name() + "'");
    const nlohmann::json& records = config.at("layers");
    if (!records.is_array()) {
        throw std::invalid_argument(config.where() + " 'layers' is not a list");
    }
    for (const auto& record : records) model.register_module(layer_from_record(record));
    return model;
}

std::optional<std::uint64_t> Sequential::weight_count(const Shape& input_shape) const {
    std::uint64_t total = 0;
    Shape shape = input_shape;
    for (const auto& layer : layers()) {
        const auto n = layer->weight_count(shape);
        if (!n) break;  // unknown from here on: count what is known
        if (__builtin_add_overflow(total, *n, &total)) {
            return std::numeric_limits<std::uint64_t>::max();
        }
        try {
            shape = layer->output_shape(shape);
        } catch (const std::exception&) {
            break;  // build() reports it
        }
    }
    return total;
}

std::optional<Shape> Sequential::input_shape() const {
    if (!layers().empty() && layers().front()->declared_input_shape()) {
        return layers().front()->declared_input_shape();
    }
    if (declared_input_shape()) return declared_input_shape();
    return built_input_shape();
}

namespace {

// The layer as an L when it is exactly an L (a subclass may override forward()), else null.
template <class L>
L* exactly(const std::shared_ptr<Module>& layer) {
    const Module& m = *layer;
    return typeid(m) == typeid(L) ? static_cast<L*>(layer.get()) : nullptr;
}

}  // namespace

Variable Sequential::forward(const Variable& x) {
    Variable y = x;
    const auto& all = layers();
    for (std::size_t i = 0; i < all.size(); ++i) {
        // A Conv2D followed by a MaxPooling2D runs as one op once both are built: the conv's
        // full-size output (megabytes for a first conv layer) is pooled in the cache instead
        // of being stored, read back, and its gradient written and read again.
        auto* conv = exactly<Conv2D>(all[i]);
        auto* pool = i + 1 < all.size() ? exactly<MaxPooling2D>(all[i + 1]) : nullptr;
        if (conv && pool) {
            if (std::optional<Variable> pooled = conv->forward_max_pooled(y, *pool)) {
                y = std::move(*pooled);
                ++i;
                continue;
            }
        }
        y = (*all[i])(y);
    }
    return y;
}

Shape Sequential::output_shape(const Shape& input_shape) const {
    if (built() && *built_input_shape() == input_shape) {
        return output_shapes_.empty() ? input_shape : output_shapes_.back();
    }
    Shape shape = input_shape;
    for (const auto& layer : layers()) shape = layer->output_shape(shape);
    return shape;
}

std::string Sequential::summary() const {
    if (!built()) {
        throw std::logic_error(name() +
                               ": the model is not built yet; give the first layer an input "
                               "shape, call build(input_shape) or call the model on a batch");
    }
    std::vector<SummaryRow> rows;
    for (std::size_t i = 0; i < layers().size(); ++i) {
        const auto& layer = layers()[i];
        rows.push_back({layer->name() + " (" + layer->type_name() + ")",
                        format_batch_shape(output_shapes_[i]), layer->count_params()});
    }
    return format_summary(name(), rows, count_params(), count_trainable_params());
}

void Sequential::summary(std::ostream& out) const {
    out << summary();
}

}  // namespace xgrad::nn
