#include "nn/module.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <xtensor/xbuilder.hpp>

#include "framework/errors.h"
#include "framework/grad_mode.h"
#include "nn/mode_guard.h"

namespace xgrad::nn {

namespace {

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) out += (i > 0 ? ", " : "") + items[i];
    return out;
}

}  // namespace

std::string snake_case(const std::string& type_name) {
    std::string out;
    for (std::size_t i = 0; i < type_name.size(); ++i) {
        const auto c = static_cast<unsigned char>(type_name[i]);
        if (std::isupper(c)) {
            // Keras' rule: a word starts at an upper-case letter after a lower-case one, or at
            // an upper-case letter followed by a lower-case one ("Conv2D" -> "conv2d",
            // "MaxPooling2D" -> "max_pooling2d", "HTTPServer" -> "http_server").
            const auto prev = i > 0 ? static_cast<unsigned char>(type_name[i - 1]) : 0;
            const auto next =
                i + 1 < type_name.size() ? static_cast<unsigned char>(type_name[i + 1]) : 0;
            if (i > 0 && prev != '_' && (std::islower(prev) || std::islower(next))) out += '_';
            out += static_cast<char>(std::tolower(c));
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

std::string format_batch_shape(const Shape& shape) {
    std::string out = "(None";
    for (auto d : shape) out += ", " + std::to_string(d);
    if (shape.empty()) out += ",";
    return out + ")";
}

Module::~Module() = default;

nlohmann::json Module::config() const {
    return nlohmann::json::object();
}

std::optional<std::uint64_t> Module::weight_count(const Shape&) const {
    return std::nullopt;
}

void Module::prepare_call(const Variable& x) {
    const Shape full = x.shape();
    if (full.empty()) {
        throw ShapeError(name(), "expected input with a leading batch dimension, got a scalar");
    }
    if (!built()) {
        build(Shape(full.begin() + 1, full.end()));
    } else {
        check_input_shape(full);
    }
}

Variable Module::operator()(const Variable& x) {
    prepare_call(x);
    return forward(x);
}

std::vector<Variable> Module::operator()(const std::vector<Variable>& inputs) {
    if (inputs.size() == 1) {
        prepare_call(inputs[0]);
        return forward(inputs);
    }
    std::vector<Shape> shapes;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const Shape full = inputs[i].shape();
        if (full.empty()) {
            throw ShapeError(name(), "expected input " + std::to_string(i) +
                                         " with a leading batch dimension, got a scalar");
        }
        shapes.emplace_back(full.begin() + 1, full.end());
    }
    if (!built()) {
        build(shapes);
    } else if (fixed_input_shape() && shapes != built_shapes_) {
        std::string expected, got;
        for (const auto& s : built_shapes_) {
            expected += (expected.empty() ? "" : ", ") + format_batch_shape(s);
        }
        for (const auto& s : shapes) got += (got.empty() ? "" : ", ") + format_batch_shape(s);
        throw ShapeError(name(), "expected input shapes " + expected + ", got " + got);
    }
    return forward(inputs);
}

Variable Module::forward(const Variable& x) {
    if (in_default_forward_) {
        throw std::logic_error(name() + " (" + type_name() +
                               "): override forward(const Variable&) or "
                               "forward(const std::vector<Variable>&)");
    }
    in_default_forward_ = true;
    std::vector<Variable> out;
    try {
        out = forward(std::vector<Variable>{x});
    } catch (...) {
        in_default_forward_ = false;
        throw;
    }
    in_default_forward_ = false;
    if (out.size() != 1) {
        throw std::invalid_argument(name() + ": forward(x) needs one output, the module returns " +
                                    std::to_string(out.size()) + "; call it with a list");
    }
    return out[0];
}

std::vector<Variable> Module::forward(const std::vector<Variable>& inputs) {
    if (inputs.size() != 1) {
        throw std::invalid_argument(name() + " (" + type_name() + ") takes one input, got " +
                                    std::to_string(inputs.size()));
    }
    return {forward(inputs[0])};
}

const std::string& Module::name() const {
    if (name_.empty()) name_ = snake_case(type_name());
    return name_;
}

void Module::set_name(std::string name) {
    if (name.empty() || name.find('/') != std::string::npos) {
        throw std::invalid_argument(
            "set_name: a module name must be non-empty and contain no "
            "'/', got '" +
            name + "'");
    }
    name_ = std::move(name);
    user_named_ = true;
}

bool Module::needs_build(const Shape& input_shape) const {
    if (declared_shape_ && *declared_shape_ != input_shape) {
        throw ShapeError(name(), "expected input shape " + format_batch_shape(*declared_shape_) +
                                     ", got " + format_batch_shape(input_shape));
    }
    if (built_ && !takes_input_shape(input_shape)) {
        throw ShapeError(name(), "already built for input shape " +
                                     format_batch_shape(*built_shape_) + ", got " +
                                     format_batch_shape(input_shape));
    }
    return !built_;
}

void Module::build(const Shape& input_shape) {
    if (!needs_build(input_shape)) return;
    built_ = true;
    built_shape_ = input_shape;
    built_shapes_ = {input_shape};
    // A model whose children build on their first call: one traced pass builds them all.
    const bool children_unbuilt =
        std::any_of(children_.begin(), children_.end(), [](const auto& c) { return !c->built(); });
    if (children_unbuilt) trace({input_shape});
}

void Module::build(const std::vector<Shape>& input_shapes) {
    if (input_shapes.size() == 1) return build(input_shapes[0]);
    if (input_shapes.empty())
        throw std::invalid_argument(name() + ": build() needs an input shape");
    if (built_) {
        if (fixed_input_shape() && built_shapes_ != input_shapes) {
            throw ShapeError(name(), "already built for other input shapes");
        }
        return;
    }
    built_ = true;
    built_shapes_ = input_shapes;
    trace(input_shapes);
}

void Module::set_input_shape(Shape input_shape) {
    if (built_ && *built_shape_ != input_shape) {
        throw ShapeError(name(), "cannot declare input shape " + format_batch_shape(input_shape) +
                                     " after being built for " + format_batch_shape(*built_shape_));
    }
    declared_shape_ = std::move(input_shape);
}

std::vector<Variable> Module::trace(const std::vector<Shape>& input_shapes) const {
    std::vector<Variable> inputs;
    for (const auto& shape : input_shapes) {
        Shape batch{1};
        batch.insert(batch.end(), shape.begin(), shape.end());
        inputs.emplace_back(Tensor(xt::zeros<float>(batch)));
    }
    // forward() is not const, but a pass in eval mode without a graph leaves the module as it
    // was (a BatchNormalization keeps its moving statistics, a Dropout draws nothing).
    auto& self = const_cast<Module&>(*this);
    NoGradGuard no_grad;
    TrainingModeGuard eval(self, false);
    return self.forward(inputs);
}

Shape Module::output_shape(const Shape& input_shape) const {
    return output_shapes({input_shape}).at(0);
}

std::vector<Shape> Module::output_shapes(const std::vector<Shape>& input_shapes) const {
    if (!built_) {
        throw std::logic_error(name() + ": output_shape() needs the " + type_name() +
                               " built first (or an output_shape() override)");
    }
    std::vector<Shape> out;
    for (const auto& y : trace(input_shapes)) {
        const Shape shape = y.shape();
        if (shape.empty()) {
            throw ShapeError(name(),
                             "forward() returned a scalar; the output needs a batch dimension");
        }
        out.emplace_back(shape.begin() + 1, shape.end());
    }
    return out;
}

void Module::collect(const std::string& prefix, bool trainable_only,
                     std::vector<std::pair<std::string, Variable>>& out) const {
    for (const auto& p : params_) {
        if (!trainable_only || p.trainable) out.emplace_back(prefix + p.name, p.variable);
    }
    for (const auto& child : children_) {
        child->collect(prefix + child->name() + "/", trainable_only, out);
    }
}

std::vector<std::pair<std::string, Variable>> Module::named_parameters() const {
    std::vector<std::pair<std::string, Variable>> out;
    collect("", false, out);
    return out;
}

std::vector<Variable> Module::parameters() const {
    std::vector<Variable> out;
    for (auto& [name, v] : named_parameters()) out.push_back(v);
    return out;
}

std::vector<Variable> Module::trainable_parameters() const {
    std::vector<std::pair<std::string, Variable>> named;
    collect("", true, named);
    std::vector<Variable> out;
    for (auto& [name, v] : named) out.push_back(v);
    return out;
}

std::size_t Module::count_params() const {
    std::size_t n = 0;
    for (const auto& v : parameters()) n += v.size();
    return n;
}

std::size_t Module::count_trainable_params() const {
    std::size_t n = 0;
    for (const auto& v : trainable_parameters()) n += v.size();
    return n;
}

void Module::train(bool on) {
    training_ = on;
    for (auto& child : children_) child->train(on);
}

void Module::zero_grad() {
    for (const auto& v : parameters()) v.zero_grad();
}

std::map<std::string, Tensor> Module::state_dict() const {
    std::map<std::string, Tensor> out;
    for (const auto& [name, v] : named_parameters()) out.emplace(name, v.value());
    return out;
}

std::string Module::state_mismatch(const std::map<std::string, Tensor>& state,
                                   const std::string& source) const {
    std::vector<std::string> missing, wrong_shape, unexpected;
    std::map<std::string, bool> known;
    for (const auto& [name, v] : named_parameters()) {
        known[name] = true;
        auto it = state.find(name);
        if (it == state.end()) {
            missing.push_back(name);
        } else if (to_shape(it->second.shape()) != v.shape()) {
            wrong_shape.push_back(name + " has shape " + format_shape_of(it->second) + " in " +
                                  source + " but " + format_shape(v.shape()) + " in the model");
        }
    }
    for (const auto& [name, t] : state) {
        if (!known.count(name)) unexpected.push_back(name);
    }
    std::vector<std::string> problems;
    if (!missing.empty()) {
        std::string p = "missing " + join(missing);
        if (!built_ && params_.empty()) p += " (the model is not built: build it first)";
        problems.push_back(p);
    }
    if (!unexpected.empty()) {
        problems.push_back("unexpected " + join(unexpected) + " (not in the model)");
    }
    problems.insert(problems.end(), wrong_shape.begin(), wrong_shape.end());
    std::string out;
    for (std::size_t i = 0; i < problems.size(); ++i) out += (i > 0 ? "; " : "") + problems[i];
    return out;
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state) {
    const std::string problem = state_mismatch(state, "the state dict");
    if (!problem.empty()) {
        throw std::invalid_argument(name() + ": cannot load the state dict: " + problem);
    }
    // Assign in place so that optimizers holding these handles see the new values.
    for (const auto& [name, v] : named_parameters()) v.mutable_value() = state.at(name);
}

Variable Module::register_parameter(const std::string& name, Tensor init, bool trainable) {
    if (name.empty() || name.find('/') != std::string::npos) {
        throw std::invalid_argument(this->name() +
                                    ": a parameter name must be non-empty and "
                                    "contain no '/', got '" +
                                    name + "'");
    }
    for (const auto& p : params_) {
        if (p.name == name) {
            throw std::invalid_argument(this->name() + ": parameter '" + name +
                                        "' is registered twice");
        }
    }
    Variable v(std::move(init), trainable);
    params_.push_back({name, v, trainable});
    return v;
}

void Module::register_module(std::shared_ptr<Module> child) {
    if (!child) throw std::invalid_argument(name() + ": cannot add a null module");
    if (child.get() == this) throw std::invalid_argument(name() + ": cannot add itself");
    auto taken = [&](const std::string& n) {
        return std::any_of(children_.begin(), children_.end(),
                           [&](const auto& c) { return c->name() == n; });
    };
    for (const auto& c : children_) {
        if (c == child) {
            throw std::invalid_argument(name() + ": layer '" + child->name() +
                                        "' is already in this model; add a new layer instead");
        }
    }
    if (child->user_named_) {
        if (taken(child->name())) {
            throw std::invalid_argument(name() + ": a layer named '" + child->name() +
                                        "' already exists; layer names must be unique");
        }
    } else {
        const std::string base = snake_case(child->type_name());
        std::string candidate = base;
        for (std::size_t i = 1; taken(candidate); ++i) candidate = base + "_" + std::to_string(i);
        child->name_ = candidate;
    }
    child->train(training_);
    children_.push_back(std::move(child));
}

void Module::unregister_last_module() {
    if (!children_.empty()) children_.pop_back();
}

bool Module::takes_input_shape(const Shape& example) const {
    return !fixed_input_shape() || example == *built_shape_;
}

bool Module::same_last_axis(const Shape& example) const {
    return !example.empty() && !built_shape_->empty() && example.back() == built_shape_->back();
}

void Module::check_input_shape(const Shape& full_shape) const {
    if (!built_ || !fixed_input_shape()) return;
    const Shape example(full_shape.begin() + (full_shape.empty() ? 0 : 1), full_shape.end());
    if (full_shape.empty() || !takes_input_shape(example)) {
        throw ShapeError(name(), "expected input shape " + format_batch_shape(*built_shape_) +
                                     ", got " + format_shape(full_shape));
    }
}

}  // namespace xgrad::nn
