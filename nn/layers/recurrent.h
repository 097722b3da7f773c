// Recurrent layers over sequences (batch, time, features), with Keras 2's defaults:
// SimpleRNN, LSTM and GRU (reset_after=True); kernels glorot_uniform, recurrent kernels
// orthogonal, biases zero (LSTM: the forget gate's bias one, unit_forget_bias). Parameters as
// Keras names and lays them out, so their counts match: SimpleRNN u(d+u+1), LSTM 4u(d+u+1),
// GRU 3u(d+u+2) for d input features and u units.
//
//   model.add(nn::Embedding(vocab, 64));
//   model.add(nn::LSTM(256, /*return_sequences=*/true));   // (None, time, 256)
//   model.add(nn::LSTM(256));                               // (None, 256): the last step
//
// Sequences may have any length (the features must stay those the layer was built for).
// With return_state, the layer has several outputs: use the list form of forward().
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "nn/module.h"

namespace xgrad::nn {

class RecurrentLayer : public Module {
  public:
    std::size_t units() const { return units_; }
    bool return_sequences() const { return return_sequences_; }
    bool return_state() const { return return_state_; }
    // The state tensors a step carries, each (batch, units): 2 for LSTM (h, c), else 1 (h).
    virtual std::size_t state_count() const { return 1; }

    // Runs over x (batch, time, features) from `initial_state` (state_count() tensors, or none
    // for zeros) and returns the whole output sequence (batch, time, units) followed by the
    // final states, whatever return_sequences and return_state say: what generating one step
    // at a time needs. Wrong shapes are a ShapeError naming the layer.
    std::vector<Variable> run(const Variable& x, const std::vector<Variable>& initial_state = {});

    // Keras' call: inputs {x} or {x, initial states...}; outputs the last step's output
    // (batch, units), or the sequence with return_sequences, then the final states with
    // return_state.
    std::vector<Variable> forward(const std::vector<Variable>& inputs) override;
    // The one output; with return_state a std::logic_error (use the list form).
    Variable forward(const Variable& x) override;
    // Creates the weights for input (time, features).
    void build(const Shape& input_shape) override;
    using Module::build;
    Shape output_shape(const Shape& input_shape) const override;
    std::vector<Shape> output_shapes(const std::vector<Shape>& input_shapes) const override;

  protected:
    RecurrentLayer(std::size_t units, bool return_sequences, bool return_state, const char* type);
    // The weights for `features` inputs per step.
    virtual void create_weights(std::size_t features) = 0;
    // The sequence (batch, time, units), then the final states, from x and the initial states.
    virtual std::vector<Variable> recur(const Variable& x, const std::vector<Variable>& state) = 0;
    // The time dimension may change from call to call; run() checks the features.
    bool fixed_input_shape() const override { return false; }

  private:
    void check_shape(const Shape& input_shape) const;

    std::size_t units_;
    bool return_sequences_, return_state_;
};

// h_t = tanh(x_t W + h_{t-1} U + b). Parameters kernel (d, u), recurrent_kernel (u, u), bias (u).
class SimpleRNN : public RecurrentLayer {
  public:
    explicit SimpleRNN(std::size_t units, bool return_sequences = false, bool return_state = false);
    std::string type_name() const override { return "SimpleRNN"; }

  protected:
    void create_weights(std::size_t features) override;
    std::vector<Variable> recur(const Variable& x, const std::vector<Variable>& state) override;

  private:
    Variable kernel_, recurrent_kernel_, bias_;
};

// Gates i, f, g, o in that order along the last axis of kernel (d, 4u), recurrent_kernel
// (u, 4u) and bias (4u); see ops/recurrent.h. The steps run as one fused op.
class LSTM : public RecurrentLayer {
  public:
    explicit LSTM(std::size_t units, bool return_sequences = false, bool return_state = false);
    std::string type_name() const override { return "LSTM"; }
    std::size_t state_count() const override { return 2; }

  protected:
    void create_weights(std::size_t features) override;
    std::vector<Variable> recur(const Variable& x, const std::vector<Variable>& state) override;

  private:
    Variable kernel_, recurrent_kernel_, bias_;
};

// Keras' GRU with reset_after=True (its default, and cuDNN's): gates z (update), r (reset)
// and the candidate h~ along the last axis of kernel (d, 3u) and recurrent_kernel (u, 3u);
// bias (2, 3u) holds the input bias, then the recurrent bias. The step is gru_cell() of
// ops/recurrent.h.
class GRU : public RecurrentLayer {
  public:
    explicit GRU(std::size_t units, bool return_sequences = false, bool return_state = false);
    std::string type_name() const override { return "GRU"; }

  protected:
    void create_weights(std::size_t features) override;
    std::vector<Variable> recur(const Variable& x, const std::vector<Variable>& state) override;

  private:
    Variable kernel_, recurrent_kernel_, bias_;
};

}  // namespace xgrad::nn
