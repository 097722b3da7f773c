// The recurrence of an LSTM layer over a whole sequence as one op, the way cuDNN and PyTorch
// run it: the layer computes every step's input projection x_t W + b in one large product
// beforehand, and this op runs the steps, per step one product for all four gates and one
// fused pass of gate arithmetic, and back-propagates through time by hand.
#pragma once

#include "framework/variable.h"

namespace xgrad {

// xproj (batch, time, 4 units): x_t W + b per step; h0, c0 (batch, units): the initial
// state; recurrent_kernel R (units, 4 units). Per step, with z = xproj_t + h_{t-1} R cut in
// four quarters in Keras' (and PyTorch's) gate order i, f, g, o:
//   i = sigmoid(z_i), f = sigmoid(z_f), g = tanh(z_g), o = sigmoid(z_o)
//   c_t = f c_{t-1} + i g,  h_t = o tanh(c_t)
// The result is (batch, time + 1, units): h_1 .. h_T, then c_T as the last row, so that one
// op gives the layer every output it may return. Shapes that do not fit are a ShapeError
// naming all four. Twice differentiable: gradients of gradients differentiate the same steps
// written with elementwise ops (slower, for create_graph only).
template <class T>
VariableOf<T> lstm_recurrence(const VariableOf<T>& xproj, const VariableOf<T>& h0,
                              const VariableOf<T>& c0, const VariableOf<T>& recurrent_kernel);

// One step of Keras' GRU with reset_after=True: a = x_t W + b_in (batch, 3 units) computed
// beforehand, h (batch, units), recurrent_kernel U (units, 3 units), recurrent_bias (3 units).
// With s = h U + b_rec cut in three in the order z, r, candidate:
//   z = sigmoid(a_z + s_z), r = sigmoid(a_r + s_r), h~ = tanh(a_h + r s_h)
//   h_t = z h + (1 - z) h~
// Composed of ops (the GRU layer is not among the speed targets).
template <class T>
VariableOf<T> gru_cell(const VariableOf<T>& a, const VariableOf<T>& h,
                       const VariableOf<T>& recurrent_kernel, const VariableOf<T>& recurrent_bias);

// One step of a simple RNN: tanh(a + h U) with a = x_t W + b computed beforehand.
template <class T>
VariableOf<T> simple_rnn_cell(const VariableOf<T>& a, const VariableOf<T>& h,
                              const VariableOf<T>& recurrent_kernel);

}  // namespace xgrad
