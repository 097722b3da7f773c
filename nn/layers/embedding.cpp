#include "nn/layers/embedding.h"

#include <cmath>
#include <stdexcept>

#include "nn/layers/initializers.h"
#include "ops/embedding.h"

namespace xgrad::nn {

Embedding::Embedding(std::size_t input_dim, std::size_t output_dim,
                     std::string embeddings_initializer)
    : input_dim_(input_dim),
      output_dim_(output_dim),
      initializer_(std::move(embeddings_initializer)) {
    if (input_dim_ == 0 || output_dim_ == 0) {
        throw std::invalid_argument("Embedding: input_dim and output_dim must be positive, got " +
                                    std::to_string(input_dim_) + " and " +
                                    std::to_string(output_dim_));
    }
    check_initializer_name(initializer_);
}

void Embedding::build(const Shape& input_shape) {
    if (!needs_build(input_shape)) return;
    embeddings_ = register_parameter(
        "embeddings", initialize(initializer_, {input_dim_, output_dim_}, input_dim_, output_dim_));
    Module::build(input_shape);
}

Shape Embedding::output_shape(const Shape& input_shape) const {
    Shape out = input_shape;
    out.push_back(output_dim_);
    return out;
}

Variable Embedding::forward(const Variable& x) {
    const Shape shape = x.shape();
    if (!built()) build(Shape(shape.begin() + (shape.empty() ? 0 : 1), shape.end()));
    IndexTensor ids = IndexTensor::from_shape(shape);
    const float* v = x.value().data();
    for (std::size_t k = 0; k < ids.size(); ++k) {
        // Out-of-range values are left to embedding(), which names the table; only values
        // that are no id at all are caught here (and kept from overflowing the cast).
        if (!(std::floor(v[k]) == v[k]) || std::fabs(v[k]) > 1e15f) {
            throw std::invalid_argument(name() + ": input value " + std::to_string(v[k]) +
                                        " at position " + format_shape(unravel_index(k, shape)) +
                                        " is not an id (a whole number)");
        }
        ids.data()[k] = static_cast<std::int64_t>(v[k]);
    }
    return embedding(embeddings_, ids);
}

}  // namespace xgrad::nn
