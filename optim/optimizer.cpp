#include "optim/optimizer.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>
#include <stdexcept>

#include "framework/errors.h"
#include "framework/flush_denormal.h"
#include "framework/grad_mode.h"
#include "framework/names.h"
#include "optim/adagrad.h"
#include "optim/adam.h"
#include "optim/rmsprop.h"
#include "optim/sgd.h"

namespace xgrad::optim {

namespace {

constexpr double kDigit = 16777216.0;  // 2^24: every integer below it is exact in float32

// A double as three float32 parts whose double sum is the value again: each part holds the
// rounding error of the previous one, and 3 x 24 bits cover a double's 53.
Tensor encode_double(double x) {
    const float hi = static_cast<float>(x);
    const double r1 = x - static_cast<double>(hi);
    const float mid = static_cast<float>(r1);
    const float lo = static_cast<float>(r1 - static_cast<double>(mid));
    return Tensor{hi, mid, lo};
}

double decode_double(const Tensor& t) {
    return static_cast<double>(t(0)) + static_cast<double>(t(1)) + static_cast<double>(t(2));
}

// A non-negative count as three base-2^24 digits, each exact in float32.
Tensor encode_count(std::int64_t n) {
    const auto u = static_cast<std::uint64_t>(n);
    return Tensor{static_cast<float>(u & 0xFFFFFFu), static_cast<float>((u >> 24) & 0xFFFFFFu),
                  static_cast<float>(u >> 48)};
}

std::int64_t decode_count(const Tensor& t) {
    for (std::size_t i = 0; i < 3; ++i) {
        const float d = t(i);
        if (!(d >= 0 && d < static_cast<float>(kDigit) && d == std::floor(d))) {
            throw std::invalid_argument("load_state_dict: 'iterations' digit " + std::to_string(i) +
                                        " is " + std::to_string(d) +
                                        ", not an integer in [0, 2^24)");
        }
    }
    // 2^15 in the top digit would overflow int64 (24 + 24 + 15 bits = 63).
    if (t(2) >= 32768.0f) throw std::invalid_argument("load_state_dict: 'iterations' is too large");
    std::int64_t out = 0;
    for (std::size_t i = 3; i-- > 0;) out = (out << 24) | static_cast<std::int64_t>(t(i));
    return out;
}

std::string slot_key(std::size_t index, const std::string& slot) {
    return "param." + std::to_string(index) + "." + slot;
}

void check_learning_rate(double lr) {
    if (!(std::isfinite(lr) && lr >= 0)) {
        throw std::invalid_argument("optimizer: the learning rate must be finite and >= 0, got " +
                                    std::to_string(lr));
    }
}

}  // namespace

Optimizer::Optimizer(std::vector<Variable> params, double learning_rate)
    : params_(std::move(params)), learning_rate_(learning_rate), state_(params_.size()) {
    if (params_.empty()) {
        throw std::invalid_argument(
            "optimizer: the parameter list is empty; a model has no parameters until it is "
            "built: call model.build(input_shape) before model.trainable_parameters()");
    }
    std::set<const void*> seen;
    for (std::size_t i = 0; i < params_.size(); ++i) {
        if (!params_[i].defined()) {
            throw std::invalid_argument("optimizer: parameter " + std::to_string(i) +
                                        " is an empty Variable handle");
        }
        if (!seen.insert(params_[i].node().get()).second) {
            throw std::invalid_argument("optimizer: parameter " + std::to_string(i) +
                                        " appears twice in the parameter list");
        }
    }
    check_learning_rate(learning_rate);
}

Optimizer::~Optimizer() = default;

void Optimizer::set_learning_rate(double lr) {
    check_learning_rate(lr);
    learning_rate_ = lr;
}

void Optimizer::zero_grad() {
    for (const auto& p : params_) p.zero_grad();
}

void Optimizer::step() {
    NoGradGuard no_grad;
    FlushDenormalGuard flush;  // moments that decay into subnormals would cost ~100x per op
    // Check every shape before touching anything, so a bad one leaves all parameters as they
    // were (and the raw loops never run past a buffer).
    for (std::size_t i = 0; i < params_.size(); ++i) {
        const Variable& p = params_[i];
        if (!p.has_grad()) continue;
        if (p.grad().shape() != p.value().shape()) {
            throw ShapeError(name(), "parameter " + std::to_string(i) + " has shape " +
                                         format_shape_of(p.value()) + " but its gradient has " +
                                         format_shape_of(p.grad()));
        }
        if (!state_[i].empty() && state_[i][0].shape() != p.value().shape()) {
            throw ShapeError(name(), "parameter " + std::to_string(i) + " changed shape to " +
                                         format_shape_of(p.value()) + " but its state has " +
                                         format_shape_of(state_[i][0]));
        }
    }
    ++iterations_;
    prepare_step(iterations_);
    for (std::size_t i = 0; i < params_.size(); ++i) {
        const Variable& p = params_[i];
        if (!p.has_grad()) continue;
        Tensor& value = p.mutable_value();
        if (state_[i].empty()) {
            // Allocated once, then updated in place for the rest of training.
            const std::size_t slots = slot_names().size();
            for (std::size_t k = 0; k < slots; ++k) {
                Tensor s = Tensor::from_shape(value.shape());
                s.fill(slot_initial_value(k));
                state_[i].push_back(std::move(s));
            }
        }
        update(i, value, p.grad());
    }
}

std::map<std::string, Tensor> Optimizer::state_dict() const {
    std::map<std::string, Tensor> out;
    out["iterations"] = encode_count(iterations_);
    out["learning_rate"] = encode_double(learning_rate_);
    const std::vector<std::string> slots = slot_names();
    for (std::size_t i = 0; i < params_.size(); ++i) {
        for (std::size_t k = 0; k < state_[i].size(); ++k)
            out[slot_key(i, slots[k])] = state_[i][k];
    }
    return out;
}

void Optimizer::load_state_dict(const std::map<std::string, Tensor>& state) {
    const std::string where = "load_state_dict (" + name() + "): ";
    for (const char* key : {"iterations", "learning_rate"}) {
        auto it = state.find(key);
        if (it == state.end()) throw std::invalid_argument(where + "missing entry '" + key + "'");
        if (it->second.shape() != std::vector<std::size_t>{3}) {
            throw std::invalid_argument(where + "entry '" + key + "' has shape " +
                                        format_shape_of(it->second) + ", expected (3,)");
        }
    }
    const std::int64_t iterations = decode_count(state.at("iterations"));
    const double lr = decode_double(state.at("learning_rate"));
    check_learning_rate(lr);

    // Every key must be a known entry; each parameter has all of its slots or none.
    const std::vector<std::string> slots = slot_names();
    std::set<std::string> known = {"iterations", "learning_rate"};
    for (std::size_t i = 0; i < params_.size(); ++i) {
        for (const auto& s : slots) known.insert(slot_key(i, s));
    }
    for (const auto& entry : state) {
        if (!known.count(entry.first)) {
            throw std::invalid_argument(where + "unexpected entry '" + entry.first +
                                        "' (from a different optimizer, options or parameter "
                                        "list?)");
        }
    }
    std::vector<std::vector<Tensor>> new_state(params_.size());
    for (std::size_t i = 0; i < params_.size(); ++i) {
        std::size_t found = 0;
        for (const auto& s : slots) found += state.count(slot_key(i, s));
        if (found == 0) continue;
        if (found != slots.size()) {
            throw std::invalid_argument(where + "parameter " + std::to_string(i) + " has " +
                                        std::to_string(found) + " of its " +
                                        std::to_string(slots.size()) + " state slots");
        }
        const Shape shape = params_[i].shape();
        for (const auto& s : slots) {
            const Tensor& t = state.at(slot_key(i, s));
            if (to_shape(t.shape()) != shape) {
                throw std::invalid_argument(
                    where + "entry '" + slot_key(i, s) + "' has shape " + format_shape_of(t) +
                    " but parameter " + std::to_string(i) + " has shape " + format_shape(shape));
            }
            new_state[i].push_back(t);
        }
    }
    iterations_ = iterations;
    learning_rate_ = lr;
    state_ = std::move(new_state);
}

const std::vector<std::string>& optimizer_names() {
    static const std::vector<std::string> names = {"sgd", "adam", "adamw", "rmsprop", "adagrad"};
    return names;
}

std::unique_ptr<Optimizer> make_optimizer(const std::string& name, std::vector<Variable> params,
                                          std::optional<double> learning_rate) {
    std::string key = name;
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (key == "sgd") {
        SGD::Options o;
        if (learning_rate) o.learning_rate = *learning_rate;
        return std::make_unique<SGD>(std::move(params), o);
    }
    if (key == "adam") {
        Adam::Options o;
        if (learning_rate) o.learning_rate = *learning_rate;
        return std::make_unique<Adam>(std::move(params), o);
    }
    if (key == "adamw") {
        AdamW::Options o;
        if (learning_rate) o.learning_rate = *learning_rate;
        return std::make_unique<AdamW>(std::move(params), o);
    }
    if (key == "rmsprop") {
        RMSprop::Options o;
        if (learning_rate) o.learning_rate = *learning_rate;
        return std::make_unique<RMSprop>(std::move(params), o);
    }
    if (key == "adagrad") {
        Adagrad::Options o;
        if (learning_rate) o.learning_rate = *learning_rate;
        return std::make_unique<Adagrad>(std::move(params), o);
    }
    throw std::invalid_argument("make_optimizer: unknown optimizer '" + name +
                                "'; valid names are " + join_names(optimizer_names()));
}

}  // namespace xgrad::optim
