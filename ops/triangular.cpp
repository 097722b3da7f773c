#include "ops/triangular.h"

#include "framework/errors.h"
#include "ops/elementwise.h"

namespace xgrad {

namespace {

// The (m, n) mask of the kept triangle: j - i <= k (lower) or j - i >= k (upper).
Mask triangle(std::size_t m, std::size_t n, long k, bool lower) {
    Mask mask = Mask::from_shape({m, n});
    for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t j = 0; j < n; ++j) {
            const long d = static_cast<long>(j) - static_cast<long>(i);
            mask(i, j) = lower ? d <= k : d >= k;
        }
    }
    return mask;
}

// Keeps one triangle with where(): differentiable to any order.
template <class T>
VariableOf<T> keep_triangle(const char* op, const VariableOf<T>& x, long k, bool lower) {
    const Shape s = x.shape();
    if (s.size() < 2) {
        throw ShapeError(op,
                         "needs rank 2 or more (..., rows, columns), got shape " + format_shape(s));
    }
    return where(triangle(s[s.size() - 2], s.back(), k, lower), x, T(0));
}

}  // namespace

template <class T>
VariableOf<T> tril(const VariableOf<T>& x, long k) {
    return keep_triangle("tril", x, k, true);
}

template <class T>
VariableOf<T> triu(const VariableOf<T>& x, long k) {
    return keep_triangle("triu", x, k, false);
}

Mask causal_mask(std::size_t queries, std::size_t keys) {
    return triangle(queries, keys, 0, true);
}

#define XGRAD_INSTANTIATE_TRIANGULAR(T)                      \
    template VariableOf<T> tril(const VariableOf<T>&, long); \
    template VariableOf<T> triu(const VariableOf<T>&, long);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_TRIANGULAR)

}  // namespace xgrad
