#include "ops/sort.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "framework/errors.h"
#include "ops/axis.h"
#include "ops/shape.h"

namespace xgrad {

namespace {

// The positions of the first k elements of each (outer, n, inner) line along `axis` in
// sorted order: a stable (partial) sort of 0..n-1 by value, NaNs last.
template <class T>
IndexTensor order(const TensorOf<T>& x, std::size_t axis, std::size_t k, bool descending) {
    Shape out_shape = to_shape(x.shape());
    const std::size_t n = out_shape[axis];
    out_shape[axis] = k;
    const AxisBlocks blocks = around_axis(out_shape, axis);
    const std::size_t outer = blocks.outer, inner = blocks.inner;
    IndexTensor idx = IndexTensor::from_shape(out_shape);
    std::vector<std::size_t> pos(n);
    for (std::size_t o = 0; o < outer; ++o) {
        for (std::size_t j = 0; j < inner; ++j) {
            const T* line = x.data() + o * n * inner + j;
            auto before = [&](std::size_t a, std::size_t b) {
                const T va = line[a * inner], vb = line[b * inner];
                if (std::isnan(vb)) return !std::isnan(va);
                if (std::isnan(va)) return false;
                return descending ? va > vb : va < vb;
            };
            std::iota(pos.begin(), pos.end(), std::size_t{0});
            if (k == n) {
                std::stable_sort(pos.begin(), pos.end(), before);
            } else {  // ties by position: compare (value, position)
                std::partial_sort(pos.begin(), pos.begin() + static_cast<long>(k), pos.end(),
                                  [&](std::size_t a, std::size_t b) {
                                      return before(a, b) || (!before(b, a) && a < b);
                                  });
            }
            for (std::size_t i = 0; i < k; ++i) {
                idx.data()[o * k * inner + i * inner + j] = static_cast<std::int64_t>(pos[i]);
            }
        }
    }
    return idx;
}

}  // namespace

template <class T>
SortResult<T> sort(const VariableOf<T>& x, int axis, bool descending) {
    const std::size_t a = normalize_axis("sort", axis, x.shape());
    IndexTensor idx = order(x.value(), a, x.shape()[a], descending);
    VariableOf<T> values = gather(x, static_cast<int>(a), idx);
    return {values, std::move(idx)};
}

template <class T>
SortResult<T> topk(const VariableOf<T>& x, std::size_t k, int axis, bool largest) {
    const std::size_t a = normalize_axis("topk", axis, x.shape());
    if (k > x.shape()[a]) {
        throw ShapeError("topk", "k " + std::to_string(k) + " is larger than axis " +
                                     std::to_string(a) + " of size " +
                                     std::to_string(x.shape()[a]) + " in shape " +
                                     format_shape(x.shape()));
    }
    IndexTensor idx = order(x.value(), a, k, largest);
    VariableOf<T> values = gather(x, static_cast<int>(a), idx);
    return {values, std::move(idx)};
}

#define XGRAD_INSTANTIATE_SORT(T)                                 \
    template SortResult<T> sort(const VariableOf<T>&, int, bool); \
    template SortResult<T> topk(const VariableOf<T>&, std::size_t, int, bool);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_SORT)

}  // namespace xgrad
