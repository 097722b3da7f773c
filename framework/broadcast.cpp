#include "framework/broadcast.h"

#include <xtensor/xreducer.hpp>
// Note: xtensor 0.24 evaluation_strategy::immediate with runtime axes crashes; use lazy sums.
#include <xtensor/xmath.hpp>

#include "framework/errors.h"

namespace xgrad {

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
    const std::size_t rank = std::max(a.size(), b.size());
    Shape out(rank);
    for (std::size_t i = 0; i < rank; ++i) {
        // Align from the last dimension; a missing leading dimension counts as 1.
        const std::size_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
        const std::size_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
        if (da != db && da != 1 && db != 1) {
            throw ShapeError(op, "shapes " + format_shape(a) + " and " + format_shape(b) +
                                     " cannot be broadcast (" + std::to_string(da) +
                                     " != " + std::to_string(db) + " in dimension " +
                                     std::to_string(i) + " of the result)");
        }
        out[i] = da == 1 ? db : da;
    }
    return out;
}

template <class T>
TensorOf<T> sum_to(TensorOf<T> grad, const Shape& shape) {
    const Shape from = to_shape(grad.shape());
    if (from == shape) return grad;
    if (from.size() < shape.size()) {
        throw ShapeError("sum_to", "cannot reduce a gradient of shape " + format_shape(from) +
                                       " to the larger rank of " + format_shape(shape));
    }
    const std::size_t lead = from.size() - shape.size();
    std::vector<std::size_t> axes;
    for (std::size_t i = 0; i < from.size(); ++i) {
        if (i < lead) {
            axes.push_back(i);
        } else if (shape[i - lead] == 1 && from[i] != 1) {
            axes.push_back(i);
        } else if (shape[i - lead] != from[i]) {
            throw ShapeError("sum_to", "a gradient of shape " + format_shape(from) +
                                           " does not broadcast from " + format_shape(shape));
        }
    }
    TensorOf<T> reduced = xt::sum(grad, axes);
    reduced.reshape(shape);
    return reduced;
}

#define XGRAD_INSTANTIATE_SUM_TO(T) template TensorOf<T> sum_to(TensorOf<T>, const Shape&);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_SUM_TO)

}  // namespace xgrad
