#include "ops/tile.h"

#include <string>

#include "framework/errors.h"
#include "ops/axis.h"
#include "ops/broadcast.h"
#include "ops/shape.h"

// Both are composed from reshape and broadcast_to: the copies are a broadcast over a new
// axis of size `repeats`, so the gradient (summing the copies) and its own gradient come
// from those ops.

namespace xgrad {

namespace {

std::vector<long> dims(const Shape& s) {
    return std::vector<long>(s.begin(), s.end());
}

}  // namespace

template <class T>
VariableOf<T> tile(const VariableOf<T>& x, const std::vector<std::size_t>& reps) {
    Shape in = x.shape();
    if (reps.size() < in.size()) {
        throw ShapeError("tile", "needs a repetition count per axis of x " + format_shape(in) +
                                     ", got " + format_shape(Shape(reps.begin(), reps.end())));
    }
    in.insert(in.begin(), reps.size() - in.size(), 1);
    // (a, b) -> (1, a, 1, b) -> (r0, a, r1, b) -> (r0 * a, r1 * b)
    Shape spread, wide, out;
    for (std::size_t d = 0; d < in.size(); ++d) {
        spread.insert(spread.end(), {1, in[d]});
        wide.insert(wide.end(), {reps[d], in[d]});
        out.push_back(reps[d] * in[d]);
    }
    return reshape(broadcast_to(reshape(x, dims(spread)), wide), dims(out));
}

template <class T>
VariableOf<T> repeat(const VariableOf<T>& x, std::size_t repeats, int axis) {
    const Shape in = x.shape();
    const std::size_t a = normalize_axis("repeat", axis, in);
    // (..., n, rest) -> (..., n, 1, rest) -> (..., n, repeats, rest) -> (..., n * repeats, rest)
    Shape spread = in;
    spread.insert(spread.begin() + static_cast<long>(a) + 1, 1);
    Shape wide = spread;
    wide[a + 1] = repeats;
    Shape out = in;
    out[a] *= repeats;
    return reshape(broadcast_to(reshape(x, dims(spread)), wide), dims(out));
}

#define XGRAD_INSTANTIATE_TILE(T)                                                       \
    template VariableOf<T> tile(const VariableOf<T>&, const std::vector<std::size_t>&); \
    template VariableOf<T> repeat(const VariableOf<T>&, std::size_t, int);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_TILE)

}  // namespace xgrad
