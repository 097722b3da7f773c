#include "ops/split.h"

#include <numeric>
#include <stdexcept>
#include <string>

#include "framework/errors.h"
#include "ops/axis.h"
#include "ops/shape.h"

namespace xgrad {

template <class T>
std::vector<VariableOf<T>> split(const VariableOf<T>& x, const std::vector<std::size_t>& sizes,
                                 int axis) {
    const std::size_t a = normalize_axis("split", axis, x.shape());
    const std::size_t n = x.shape()[a];
    if (std::accumulate(sizes.begin(), sizes.end(), std::size_t{0}) != n) {
        throw ShapeError("split", "sizes " + format_shape(sizes) + " do not add up to " +
                                      std::to_string(n) + ", the size of axis " +
                                      std::to_string(a) + " in shape " + format_shape(x.shape()));
    }
    std::vector<VariableOf<T>> pieces;
    std::size_t start = 0;
    for (std::size_t s : sizes) {
        pieces.push_back(slice(x, static_cast<int>(a), start, start + s));
        start += s;
    }
    return pieces;
}

template <class T>
std::vector<VariableOf<T>> chunk(const VariableOf<T>& x, std::size_t chunks, int axis) {
    if (chunks == 0) throw std::invalid_argument("chunk: the number of chunks must be positive");
    const std::size_t a = normalize_axis("chunk", axis, x.shape());
    const std::size_t n = x.shape()[a], piece = (n + chunks - 1) / chunks;
    std::vector<std::size_t> sizes;
    for (std::size_t start = 0; start < n; start += piece)
        sizes.push_back(std::min(piece, n - start));
    if (sizes.empty()) sizes.push_back(0);
    return split(x, sizes, static_cast<int>(a));
}

#define XGRAD_INSTANTIATE_SPLIT(T)                                                   \
    template std::vector<VariableOf<T>> split(const VariableOf<T>&,                  \
                                              const std::vector<std::size_t>&, int); \
    template std::vector<VariableOf<T>> chunk(const VariableOf<T>&, std::size_t, int);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_SPLIT)

}  // namespace xgrad
