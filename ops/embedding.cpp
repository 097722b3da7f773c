#include "ops/embedding.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "framework/errors.h"
#include "framework/record.h"

namespace xgrad {

namespace {

// Adds row k of `rows` (ids.size(), dim) into row ids[k] of `sum` (num_rows, dim).
template <class T>
void add_rows(const T* rows, const IndexTensor& ids, std::size_t dim, T* sum) {
    for (std::size_t k = 0; k < ids.size(); ++k) {
        const T* from = rows + k * dim;
        T* to = sum + static_cast<std::size_t>(ids.data()[k]) * dim;
        for (std::size_t j = 0; j < dim; ++j) to[j] += from[j];
    }
}

// The table's gradient as an op, for gradients of gradients: g (...ids' shape, dim) added
// into zeros (num_rows, dim) at the ids. Its own gradient is embedding() again.
template <class T>
VariableOf<T> embedding_backward(const VariableOf<T>& g, const IndexTensor& ids,
                                 std::size_t num_rows) {
    const std::size_t dim = g.shape().back();
    TensorOf<T> sum = TensorOf<T>::from_shape({num_rows, dim});
    std::fill(sum.begin(), sum.end(), T(0));
    add_rows(g.value().data(), ids, dim, sum.data());
    return record<T>(
        "embedding_backward", std::move(sum), {g},
        [ids](const BackwardContext<T>& c) {
            return Grads<T>{embedding(VariableOf<T>(c.grad), ids).value()};
        },
        [ids](const GraphBackwardContext<T>& c) {
            return VariableList<T>{embedding(c.grad, ids)};
        });
}

}  // namespace

template <class T>
VariableOf<T> embedding(const VariableOf<T>& table, const IndexTensor& ids) {
    const TensorOf<T>& tv = table.value();
    if (tv.dimension() != 2) {
        throw ShapeError("embedding",
                         "the table must have shape (num_rows, dim), got " + format_shape_of(tv));
    }
    const std::size_t num_rows = tv.shape()[0], dim = tv.shape()[1];
    for (std::size_t k = 0; k < ids.size(); ++k) {
        const std::int64_t id = ids.data()[k];
        if (id < 0 || static_cast<std::size_t>(id) >= num_rows) {
            throw std::out_of_range("embedding: id " + std::to_string(id) + " at position " +
                                    format_shape(unravel_index(k, to_shape(ids.shape()))) +
                                    " is out of range for a table of shape " + format_shape_of(tv));
        }
    }
    Shape out_shape = to_shape(ids.shape());
    out_shape.push_back(dim);
    TensorOf<T> y = TensorOf<T>::from_shape(out_shape);
    for (std::size_t k = 0; k < ids.size(); ++k) {
        const T* row = tv.data() + static_cast<std::size_t>(ids.data()[k]) * dim;
        std::copy(row, row + dim, y.data() + k * dim);
    }
    return record<T>(
        "embedding", std::move(y), {table},
        [ids](const BackwardContext<T>& c) {
            const std::size_t dim = c.input(0).shape()[1];
            if (TensorOf<T>* sum = c.gradient_sum(0)) {  // only the rows used are touched
                add_rows(c.grad.data(), ids, dim, sum->data());
                return Grads<T>(1);
            }
            TensorOf<T> g = TensorOf<T>::from_shape(c.input(0).shape());
            std::fill(g.begin(), g.end(), T(0));
            add_rows(c.grad.data(), ids, dim, g.data());
            return Grads<T>{std::move(g)};
        },
        [ids](const GraphBackwardContext<T>& c) {
            return VariableList<T>{embedding_backward(c.grad, ids, c.input(0).shape()[0])};
        });
}

#define XGRAD_INSTANTIATE_EMBEDDING(T) \
    template VariableOf<T> embedding(const VariableOf<T>&, const IndexTensor&);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_EMBEDDING)

}  // namespace xgrad
