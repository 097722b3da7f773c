#include "nn/models/model.h"

#include <algorithm>
#include <map>
#include <ostream>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "framework/errors.h"
#include "nn/io/layer_registry.h"
#include "nn/models/summary.h"

namespace xgrad::nn {

namespace {

using json = nlohmann::json;

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) out += (i > 0 ? ", " : "") + items[i];
    return out;
}

bool is_input(const SymbolicNode& node) {
    return node.inputs.empty();
}

std::string format_shapes(const std::vector<Shape>& shapes) {
    if (shapes.size() == 1) return format_batch_shape(shapes[0]);
    std::string out = "[";
    for (std::size_t i = 0; i < shapes.size(); ++i) {
        out += (i > 0 ? ", " : "") + format_batch_shape(shapes[i]);
    }
    return out + "]";
}

}  // namespace

Model::Model(const std::vector<SymbolicTensor>& inputs, const std::vector<SymbolicTensor>& outputs,
             std::string name)
    : inputs_(inputs), outputs_(outputs) {
    set_name(std::move(name));
    const std::string where = "model '" + this->name() + "'";
    if (inputs_.empty() || outputs_.empty()) {
        throw std::invalid_argument(where + " needs at least one input and one output");
    }
    std::map<const SymbolicNode*, std::size_t> input_index;
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
        const SymbolicNode& node = *inputs_[i].node();
        if (!is_input(node)) {
            throw std::invalid_argument(where + ": input " + std::to_string(i) +
                                        " is not an nn::Input but an output of layer '" +
                                        node.layer->name() + "'");
        }
        if (!input_index.emplace(&node, i).second) {
            throw std::invalid_argument(where + ": input '" + node.layer->name() +
                                        "' is listed twice");
        }
    }
    // Unnamed inputs are named as Keras does, in input order.
    std::set<std::string> taken;
    for (const auto& in : inputs_) {
        if (in.layer()->has_user_name()) taken.insert(in.layer()->name());
    }
    std::size_t next = 1;
    for (const auto& in : inputs_) {
        if (in.layer()->has_user_name()) continue;
        while (taken.count("input_" + std::to_string(next))) ++next;
        in.layer()->set_name("input_" + std::to_string(next++));
    }

    // Every node the outputs depend on, each after its inputs (an iterative depth-first walk:
    // deep graphs must not overflow the stack).
    std::set<const SymbolicNode*> seen;
    std::vector<std::shared_ptr<const SymbolicNode>> order;
    for (const auto& out : outputs_) {
        std::vector<std::pair<std::shared_ptr<const SymbolicNode>, std::size_t>> stack;
        if (seen.insert(out.node().get()).second) stack.emplace_back(out.node(), 0);
        while (!stack.empty()) {
            auto& [node, next_input] = stack.back();
            if (next_input < node->inputs.size()) {
                const auto& child = node->inputs[next_input++].node();
                if (seen.insert(child.get()).second) stack.emplace_back(child, 0);
                continue;
            }
            if (is_input(*node) && !input_index.count(node.get())) {
                std::vector<std::string> names;
                for (const auto& in : inputs_) names.push_back(in.layer()->name());
                throw std::invalid_argument(where + ": output '" + out.layer()->name() +
                                            "' depends on input '" + node->layer->name() +
                                            "', which is not among the model's inputs (" +
                                            join(names) + ")");
            }
            order.push_back(node);
            stack.pop_back();
        }
    }
    for (const auto& in : inputs_) {
        if (!seen.count(in.node().get())) {
            throw std::invalid_argument(where + ": input '" + in.layer()->name() +
                                        "' feeds none of the outputs");
        }
    }

    // Inputs first, in their order, then the calls in run order.
    for (const auto& in : inputs_) nodes_.push_back(in.node());
    for (const auto& node : order) {
        if (!is_input(*node)) nodes_.push_back(node);
    }
    std::set<const Module*> registered;
    for (const auto& node : nodes_) {
        if (registered.insert(node->layer.get()).second) register_module(node->layer);
    }

    // Value slots: one per output of each node.
    std::map<const SymbolicNode*, std::size_t> first_slot;
    for (const auto& node : nodes_) {
        first_slot[node.get()] = value_count_;
        value_count_ += node->output_shapes.size();
    }
    auto slot = [&](const SymbolicTensor& t) { return first_slot.at(t.node().get()) + t.index(); };
    for (const auto& in : inputs_) input_slots_.push_back(slot(in));
    for (const auto& out : outputs_) output_slots_.push_back(slot(out));
    for (const auto& node : nodes_) {
        if (is_input(*node)) continue;
        Step step{node->layer.get(),
                  {},
                  first_slot.at(node.get()),
                  node->output_shapes.size(),
                  node->list_call};
        for (const auto& t : node->inputs) step.inputs.push_back(slot(t));
        steps_.push_back(std::move(step));
    }
    std::vector<Shape> shapes;
    for (const auto& in : inputs_) shapes.push_back(in.shape());
    // One input: declared, as a first layer's input_shape, so that a Sequential builds on add.
    if (shapes.size() == 1) set_input_shape(shapes[0]);
    build(shapes);
}

std::vector<Variable> Model::forward(const std::vector<Variable>& inputs) {
    if (inputs.size() != inputs_.size()) {
        throw std::invalid_argument("model '" + name() + "' takes " +
                                    std::to_string(inputs_.size()) + " inputs, got " +
                                    std::to_string(inputs.size()));
    }
    std::vector<Variable> values(value_count_);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const Shape full = inputs[i].shape();
        if (full.empty() || Shape(full.begin() + 1, full.end()) != inputs_[i].shape()) {
            throw ShapeError(inputs_[i].layer()->name(),
                             "expected input shape " + format_batch_shape(inputs_[i].shape()) +
                                 ", got " + format_shape(full));
        }
        values[input_slots_[i]] = inputs[i];
    }
    std::vector<Variable> args;
    for (const auto& step : steps_) {
        if (!step.list_call) {
            values[step.first_output] = (*step.layer)(values[step.inputs[0]]);
            continue;
        }
        args.clear();
        for (auto i : step.inputs) args.push_back(values[i]);
        std::vector<Variable> outs = (*step.layer)(args);
        if (outs.size() != step.outputs) {
            throw std::logic_error(step.layer->name() + " returned " + std::to_string(outs.size()) +
                                   " outputs, its graph node " + std::to_string(step.outputs));
        }
        std::copy(outs.begin(), outs.end(), values.begin() + static_cast<long>(step.first_output));
    }
    std::vector<Variable> out;
    for (auto i : output_slots_) out.push_back(values[i]);
    return out;
}

Variable Model::forward(const Variable& x) {
    if (outputs_.size() != 1) {
        throw std::invalid_argument("model '" + name() + "' has " +
                                    std::to_string(outputs_.size()) +
                                    " outputs; call it with a list");
    }
    return forward(std::vector<Variable>{x})[0];
}

void Model::build(const Shape& input_shape) {
    build(std::vector<Shape>{input_shape});
}

void Model::build(const std::vector<Shape>& input_shapes) {
    std::vector<Shape> own;
    for (const auto& in : inputs_) own.push_back(in.shape());
    if (input_shapes != own) {
        std::string expected, got;
        for (const auto& s : own)
            expected += (expected.empty() ? "" : ", ") + format_batch_shape(s);
        for (const auto& s : input_shapes) got += (got.empty() ? "" : ", ") + format_batch_shape(s);
        throw ShapeError(name(), "expected input shapes " + expected + ", got " + got);
    }
    if (built()) return;
    // Module's own build, not this override again.
    if (input_shapes.size() == 1) {
        Module::build(input_shapes[0]);
    } else {
        Module::build(input_shapes);
    }
}

std::vector<Shape> Model::output_shapes(const std::vector<Shape>& input_shapes) const {
    const_cast<Model*>(this)->build(input_shapes);  // only checks: the model is built
    std::vector<Shape> out;
    for (const auto& t : outputs_) out.push_back(t.shape());
    return out;
}

Shape Model::output_shape(const Shape& input_shape) const {
    const auto shapes = output_shapes({input_shape});
    if (shapes.size() != 1) {
        throw std::invalid_argument("model '" + name() + "' has " + std::to_string(shapes.size()) +
                                    " outputs; call it with a list");
    }
    return shapes[0];
}

std::vector<std::string> Model::input_names() const {
    std::vector<std::string> out;
    for (const auto& t : inputs_) out.push_back(t.layer()->name());
    return out;
}

std::vector<std::string> Model::output_names() const {
    std::vector<std::string> out;
    for (const auto& t : outputs_) out.push_back(t.layer()->name());
    return out;
}

std::size_t Model::call_index(const SymbolicNode* node) const {
    std::size_t n = 0;
    for (const auto& other : nodes_) {
        if (other.get() == node) return n;
        if (other->layer == node->layer) ++n;
    }
    throw std::logic_error("model '" + name() + "': a node outside the graph");
}

std::optional<std::uint64_t> Model::weight_count(const Shape&) const {
    return count_params();  // built by the constructor
}

std::string Model::summary() const {
    // Keras' test for a chain: one call per layer, each on one tensor, each consumed once.
    bool chain = outputs_.size() == 1 && inputs_.size() == 1;
    std::map<const SymbolicNode*, int> uses;
    for (const auto& node : nodes_) {
        if (node->inputs.size() > 1 || node->output_shapes.size() > 1) chain = false;
        for (const auto& t : node->inputs) {
            if (++uses[t.node().get()] > 1) chain = false;
        }
    }
    if (children().size() != nodes_.size()) chain = false;  // a layer called twice

    std::vector<std::vector<std::string>> rows;
    std::vector<SummaryRow> chain_rows;
    for (const auto& layer : children()) {
        std::vector<Shape> shapes;
        std::vector<std::string> connections;
        bool same_shapes = true;
        for (const auto& node : nodes_) {
            if (node->layer != layer) continue;
            if (!shapes.empty() && shapes != node->output_shapes) same_shapes = false;
            shapes = node->output_shapes;
            for (const auto& t : node->inputs) {
                connections.push_back("'" + t.layer()->name() + "[" +
                                      std::to_string(call_index(t.node().get())) + "][" +
                                      std::to_string(t.index()) + "]'");
            }
        }
        // Keras shows an InputLayer's shape as a list, and "multiple" for a layer whose calls
        // give different shapes.
        const bool input = layer->type_name() == "InputLayer";
        std::string shape = !same_shapes ? std::string("multiple") : format_shapes(shapes);
        if (input && same_shapes) shape = std::string("[").append(shape).append("]");
        const std::string label = layer->name() + " (" + layer->type_name() + ")";
        chain_rows.push_back({label, shape, layer->count_params()});
        std::vector<std::string> row = {label, shape, std::to_string(layer->count_params())};
        {
            // Keras prints the list of connections, one per line.
            std::string cell = "[";
            for (std::size_t i = 0; i < connections.size(); ++i) {
                cell += (i > 0 ? ",\n " : "") + connections[i];
            }
            row.push_back(cell + "]");  // Keras prints the Python list
        }
        rows.push_back(std::move(row));
    }
    return chain ? format_summary(name(), chain_rows, count_params(), count_trainable_params())
                 : format_graph_summary(name(), rows, count_params(), count_trainable_params());
}

void Model::summary(std::ostream& out) const {
    out << summary();
}

json Model::config() const {
    json layers = json::array();
    for (const auto& layer : children()) {
        json nodes = json::array();
        for (const auto& node : nodes_) {
            if (node->layer != layer || is_input(*node)) continue;
            json inbound = json::array();
            for (const auto& t : node->inputs) {
                // Keras' [layer name, node index, tensor index, call arguments].
                json args = json::object();
                if (node->list_call && node->inputs.size() == 1) args["list_call"] = true;
                inbound.push_back(
                    json::array({t.layer()->name(), call_index(t.node().get()), t.index(), args}));
            }
            nodes.push_back(std::move(inbound));
        }
        json record = layer_record(*layer);
        record["name"] = layer->name();
        record["inbound_nodes"] = std::move(nodes);
        layers.push_back(std::move(record));
    }
    auto refs = [&](const std::vector<SymbolicTensor>& tensors) {
        json out = json::array();
        for (const auto& t : tensors) {
            out.push_back(json::array({t.layer()->name(), call_index(t.node().get()), t.index()}));
        }
        return out;
    };
    return {{"layers", std::move(layers)},
            {"input_layers", refs(inputs_)},
            {"output_layers", refs(outputs_)}};
}

Model Model::from_config(const LayerConfig& c) {
    const std::string name = c.string("name");
    const LayerConfig config(c.raw(), "model '" + name + "'");
    const json& records = config.at("layers");
    if (!records.is_array())
        throw std::invalid_argument(config.where() + " 'layers' is not a list");

    struct Pending {
        std::shared_ptr<Module> layer;
        const json* nodes;
        std::size_t done = 0;
    };
    std::vector<Pending> layers;
    std::map<std::string, std::size_t> by_name;
    // Each layer's outputs, call by call.
    std::map<std::string, std::vector<std::vector<SymbolicTensor>>> made;
    for (const auto& record : records) {
        std::shared_ptr<Module> layer = layer_from_record(record);
        const LayerConfig entry(record, "layer '" + layer->name() + "'");
        const json& nodes = entry.at("inbound_nodes");
        if (!nodes.is_array()) {
            throw std::invalid_argument(entry.where() + " 'inbound_nodes' is not a list");
        }
        if (!by_name.emplace(layer->name(), layers.size()).second) {
            throw std::invalid_argument(config.where() + ": two layers are named '" +
                                        layer->name() + "'");
        }
        if (layer->type_name() == "InputLayer") {
            if (!layer->declared_input_shape()) {
                throw std::invalid_argument(entry.where() + " has no 'input_shape'");
            }
            layer->build(*layer->declared_input_shape());
            auto node = std::make_shared<SymbolicNode>();
            node->layer = layer;
            node->output_shapes = {*layer->declared_input_shape()};
            made[layer->name()].push_back({SymbolicTensor(node, 0)});
        }
        layers.push_back({layer, &nodes});
    }

    // A tensor named by [layer name, node index, tensor index], if made yet.
    auto find = [&](const json& ref, const std::string& where) -> std::optional<SymbolicTensor> {
        if (!ref.is_array() || ref.size() < 3 || !ref[0].is_string() ||
            !ref[1].is_number_unsigned() || !ref[2].is_number_unsigned()) {
            throw std::invalid_argument(where +
                                        " has a tensor reference that is not "
                                        "[layer name, node index, tensor index]: " +
                                        ref.dump());
        }
        const std::string layer = ref[0].get<std::string>();
        if (!by_name.count(layer)) {
            throw std::invalid_argument(where + " refers to the unknown layer '" + layer + "'");
        }
        auto it = made.find(layer);
        const auto node = ref[1].get<std::size_t>(), index = ref[2].get<std::size_t>();
        if (it == made.end() || node >= it->second.size()) return std::nullopt;
        if (index >= it->second[node].size()) {
            throw std::invalid_argument(where + " refers to output " + std::to_string(index) +
                                        " of layer '" + layer + "', which has " +
                                        std::to_string(it->second[node].size()));
        }
        return it->second[node][index];
    };

    // Calls whose inputs exist, until all are made (the records list layers, not calls, so a
    // shared layer's later call may wait for other layers).
    for (bool progress = true; progress;) {
        progress = false;
        for (auto& p : layers) {
            while (p.done < p.nodes->size()) {
                const std::string where =
                    "layer '" + p.layer->name() + "' call " + std::to_string(p.done);
                const json& inbound = (*p.nodes)[p.done];
                if (!inbound.is_array() || inbound.empty()) {
                    throw std::invalid_argument(where + " has no inputs");
                }
                std::vector<SymbolicTensor> args;
                bool list_call = inbound.size() > 1;
                for (const auto& ref : inbound) {
                    auto t = find(ref, where);
                    if (!t) break;
                    args.push_back(*t);
                    if (ref.size() > 3 && ref[3].is_object() && ref[3].contains("list_call"))
                        list_call = true;
                }
                if (args.size() < inbound.size()) break;  // waits for another layer
                made[p.layer->name()].push_back(call_symbolic(p.layer, args, list_call));
                ++p.done;
                progress = true;
            }
        }
    }
    for (const auto& p : layers) {
        if (p.done < p.nodes->size()) {
            throw std::invalid_argument(config.where() + ": call " + std::to_string(p.done) +
                                        " of layer '" + p.layer->name() +
                                        "' needs a tensor no call makes (a cycle or a missing "
                                        "layer)");
        }
    }
    auto tensors = [&](const char* key) {
        const json& refs = config.at(key);
        if (!refs.is_array()) {
            throw std::invalid_argument(config.where() + " '" + key + "' is not a list");
        }
        std::vector<SymbolicTensor> out;
        for (const auto& ref : refs) {
            auto t = find(ref, config.where() + " '" + key + "'");
            if (!t) {
                throw std::invalid_argument(config.where() + " '" + key +
                                            "' names a tensor no call makes: " + ref.dump());
            }
            out.push_back(*t);
        }
        return out;
    };
    return Model(tensors("input_layers"), tensors("output_layers"), name);
}

}  // namespace xgrad::nn
