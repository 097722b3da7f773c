#include "ops/one_hot.h"

#include <stdexcept>

#include <fmt/format.h>
#include <xtensor/xbuilder.hpp>

namespace xgrad {

template <class T>
VariableOf<T> one_hot(const IndexTensor& ids, std::size_t depth) {
    Shape shape = to_shape(ids.shape());
    shape.push_back(depth);
    TensorOf<T> y = xt::zeros<T>(shape);
    for (std::size_t k = 0; k < ids.size(); ++k) {
        const std::int64_t id = ids.data()[k];
        if (id < 0 || static_cast<std::size_t>(id) >= depth) {
            throw std::invalid_argument(
                fmt::format("one_hot: id {} at position {} is out of range for depth {}", id,
                            format_shape(unravel_index(k, to_shape(ids.shape()))), depth));
        }
        y.data()[k * depth + static_cast<std::size_t>(id)] = T(1);
    }
    return VariableOf<T>(std::move(y));
}

#define XGRAD_INSTANTIATE_ONE_HOT(T) \
    template VariableOf<T> one_hot<T>(const IndexTensor&, std::size_t);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_ONE_HOT)

}  // namespace xgrad
