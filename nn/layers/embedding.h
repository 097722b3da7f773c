// Embedding: Keras' layer that maps integer ids to dense vectors, a lookup in a trainable
// table of input_dim rows of output_dim values. Ids come as the float values of the input
// (as in Keras), of any shape: (None, time) -> (None, time, output_dim); sequences may have
// any length.
#pragma once

#include <cstddef>
#include <string>

#include "nn/module.h"

namespace xgrad::nn {

class Embedding : public Module {
  public:
    // input_dim: the number of ids (the vocabulary size); output_dim: the vector length.
    // The table starts as Keras' "uniform" initialiser, U(-0.05, 0.05) ("random_uniform").
    Embedding(std::size_t input_dim, std::size_t output_dim,
              std::string embeddings_initializer = "random_uniform");

    std::size_t input_dim() const { return input_dim_; }
    std::size_t output_dim() const { return output_dim_; }
    const std::string& embeddings_initializer() const { return initializer_; }
    // The table (input_dim, output_dim); an empty handle before build().
    Variable embeddings() const { return embeddings_; }

    // An input value that is not a whole number, or an id outside 0..input_dim-1, is an error
    // naming it (std::invalid_argument / std::out_of_range).
    Variable forward(const Variable& x) override;
    using Module::forward;
    void build(const Shape& input_shape) override;
    Shape output_shape(const Shape& input_shape) const override;
    std::string type_name() const override { return "Embedding"; }

  protected:
    bool fixed_input_shape() const override { return false; }

  private:
    std::size_t input_dim_, output_dim_;
    std::string initializer_;
    Variable embeddings_;
};

}  // namespace xgrad::nn
