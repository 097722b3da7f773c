#include "nn/layers/recurrent.h"

#include <stdexcept>

#include <xtensor/xbuilder.hpp>
#include <xtensor/xview.hpp>

#include "framework/errors.h"
#include "nn/layers/initializers.h"
#include "ops/linalg.h"
#include "ops/recurrent.h"
#include "ops/shape.h"

namespace xgrad::nn {

namespace {

// Step t of a (batch, time, n) tensor as (batch, n).
Variable step(const Variable& x, std::size_t t) {
    const Shape s = x.shape();
    return reshape(slice(x, 1, t, t + 1), {static_cast<long>(s[0]), static_cast<long>(s[2])});
}

}  // namespace

RecurrentLayer::RecurrentLayer(std::size_t units, bool return_sequences, bool return_state,
                               const char* type)
    : units_(units), return_sequences_(return_sequences), return_state_(return_state) {
    if (units_ == 0)
        throw std::invalid_argument(std::string(type) + ": units must be positive, got 0");
}

void RecurrentLayer::check_shape(const Shape& input_shape) const {
    if (input_shape.size() != 2 || input_shape[0] == 0 || input_shape[1] == 0) {
        throw ShapeError(name(),
                         "expected input of shape (None, time, features) with at least "
                         "one step and one feature, got " +
                             format_batch_shape(input_shape));
    }
    if (built() && (*built_input_shape())[1] != input_shape[1]) {
        throw ShapeError(name(), "built for " + std::to_string((*built_input_shape())[1]) +
                                     " features per step, got input of shape " +
                                     format_batch_shape(input_shape));
    }
}

void RecurrentLayer::build(const Shape& input_shape) {
    if (!needs_build(input_shape)) return;
    check_shape(input_shape);
    create_weights(input_shape[1]);
    Module::build(input_shape);
}

Shape RecurrentLayer::output_shape(const Shape& input_shape) const {
    check_shape(input_shape);
    if (return_sequences_) return {input_shape[0], units_};
    return {units_};
}

std::vector<Shape> RecurrentLayer::output_shapes(const std::vector<Shape>& input_shapes) const {
    if (input_shapes.empty()) throw std::invalid_argument(name() + ": no input shape");
    std::vector<Shape> shapes = {output_shape(input_shapes[0])};
    if (return_state_) shapes.insert(shapes.end(), state_count(), Shape{units_});
    return shapes;
}

std::vector<Variable> RecurrentLayer::run(const Variable& x,
                                          const std::vector<Variable>& initial_state) {
    const Shape shape = x.shape();
    const Shape example(shape.begin() + (shape.empty() ? 0 : 1), shape.end());
    if (shape.size() != 3) {
        throw ShapeError(
            name(), "expected input of shape (batch, time, features), got " + format_shape(shape));
    }
    check_shape(example);
    if (!built()) build(example);
    std::vector<Variable> state = initial_state;
    if (state.empty()) {
        for (std::size_t i = 0; i < state_count(); ++i) {
            state.emplace_back(Tensor(xt::zeros<float>({shape[0], units_})));
        }
    }
    if (state.size() != state_count()) {
        throw std::invalid_argument(name() + ": expected " + std::to_string(state_count()) +
                                    " initial state tensors, got " + std::to_string(state.size()));
    }
    for (const auto& s : state) {
        if (s.shape() != Shape{shape[0], units_}) {
            throw ShapeError(name(), "an initial state must have shape " +
                                         format_shape({shape[0], units_}) + ", got " +
                                         format_shape(s.shape()));
        }
    }
    return recur(x, state);
}

std::vector<Variable> RecurrentLayer::forward(const std::vector<Variable>& inputs) {
    if (inputs.empty()) throw std::invalid_argument(name() + ": no input");
    std::vector<Variable> out =
        run(inputs[0], std::vector<Variable>(inputs.begin() + 1, inputs.end()));
    if (!return_sequences_) out[0] = step(out[0], inputs[0].shape()[1] - 1);
    if (!return_state_) out.resize(1);
    return out;
}

Variable RecurrentLayer::forward(const Variable& x) {
    if (return_state_) {
        throw std::logic_error(name() + ": with return_state the layer has " +
                               std::to_string(1 + state_count()) +
                               " outputs; call the list form of forward()");
    }
    return forward(std::vector<Variable>{x})[0];
}

// ---- SimpleRNN ----

SimpleRNN::SimpleRNN(std::size_t units, bool return_sequences, bool return_state)
    : RecurrentLayer(units, return_sequences, return_state, "SimpleRNN") {}

void SimpleRNN::create_weights(std::size_t d) {
    const std::size_t u = units();
    kernel_ = register_parameter("kernel", initialize("glorot_uniform", {d, u}, d, u));
    recurrent_kernel_ =
        register_parameter("recurrent_kernel", initialize("orthogonal", {u, u}, u, u));
    bias_ = register_parameter("bias", xt::zeros<float>({u}));
}

std::vector<Variable> SimpleRNN::recur(const Variable& x, const std::vector<Variable>& state) {
    const Variable xproj = linear(x, kernel_, bias_);
    Variable h = state[0];
    std::vector<Variable> hs;
    for (std::size_t t = 0; t < x.shape()[1]; ++t) {
        h = simple_rnn_cell(step(xproj, t), h, recurrent_kernel_);
        hs.push_back(h);
    }
    return {stack(hs, 1), h};
}

// ---- LSTM ----

LSTM::LSTM(std::size_t units, bool return_sequences, bool return_state)
    : RecurrentLayer(units, return_sequences, return_state, "LSTM") {}

void LSTM::create_weights(std::size_t d) {
    const std::size_t u = units();
    kernel_ = register_parameter("kernel", initialize("glorot_uniform", {d, 4 * u}, d, 4 * u));
    recurrent_kernel_ =
        register_parameter("recurrent_kernel", initialize("orthogonal", {u, 4 * u}, u, 4 * u));
    Tensor bias = xt::zeros<float>({4 * u});
    xt::view(bias, xt::range(u, 2 * u)) = 1.f;  // unit_forget_bias
    bias_ = register_parameter("bias", std::move(bias));
}

std::vector<Variable> LSTM::recur(const Variable& x, const std::vector<Variable>& state) {
    const std::size_t n = x.shape()[1];
    const long b = static_cast<long>(x.shape()[0]), u = static_cast<long>(units());
    const Variable y =
        lstm_recurrence(linear(x, kernel_, bias_), state[0], state[1], recurrent_kernel_);
    return {slice(y, 1, 0, n), reshape(slice(y, 1, n - 1, n), {b, u}),
            reshape(slice(y, 1, n, n + 1), {b, u})};
}

// ---- GRU ----

GRU::GRU(std::size_t units, bool return_sequences, bool return_state)
    : RecurrentLayer(units, return_sequences, return_state, "GRU") {}

void GRU::create_weights(std::size_t d) {
    const std::size_t u = units();
    kernel_ = register_parameter("kernel", initialize("glorot_uniform", {d, 3 * u}, d, 3 * u));
    recurrent_kernel_ =
        register_parameter("recurrent_kernel", initialize("orthogonal", {u, 3 * u}, u, 3 * u));
    bias_ = register_parameter("bias", xt::zeros<float>(Shape{2, 3 * u}));
}

std::vector<Variable> GRU::recur(const Variable& x, const std::vector<Variable>& state) {
    const long u3 = static_cast<long>(3 * units());
    const Variable input_bias = reshape(slice(bias_, 0, 0, 1), {u3});
    const Variable recurrent_bias = reshape(slice(bias_, 0, 1, 2), {u3});
    const Variable xproj = linear(x, kernel_, input_bias);
    Variable h = state[0];
    std::vector<Variable> hs;
    for (std::size_t t = 0; t < x.shape()[1]; ++t) {
        h = gru_cell(step(xproj, t), h, recurrent_kernel_, recurrent_bias);
        hs.push_back(h);
    }
    return {stack(hs, 1), h};
}

}  // namespace xgrad::nn
