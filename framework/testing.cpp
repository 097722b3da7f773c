#include "framework/testing.h"

#include <cmath>

#include <fmt/format.h>

namespace xgrad::testing {

template <class T>
Comparison compare_tensors(const TensorOf<T>& actual, const TensorOf<T>& expected, double rtol,
                           double atol) {
    Comparison c;
    if (actual.shape() != expected.shape()) {
        c.ok = false;
        c.message = "tensors differ in shape: " + format_shape_of(actual) + " vs expected " +
                    format_shape_of(expected);
        return c;
    }
    double worst = -1;
    std::size_t worst_k = 0;
    for (std::size_t k = 0; k < actual.size(); ++k) {
        const double a = actual.flat(k), e = expected.flat(k);
        // NaN equals nothing, and an infinity only the same infinity (inf - inf would be
        // NaN, which compares false with every tolerance and so passed anything).
        double excess;
        if (std::isnan(a) || std::isnan(e)) {
            excess = INFINITY;
        } else if (std::isinf(a) || std::isinf(e)) {
            excess = a == e ? 0 : INFINITY;
        } else {
            excess = std::abs(a - e) - (atol + rtol * std::abs(e));
        }
        if (excess > 0 && excess > worst) {
            worst = excess;
            worst_k = k;
        }
    }
    if (worst > 0) {
        const Shape shape = to_shape(actual.shape());
        const Shape index = unravel_index(worst_k, shape);
        c.ok = false;
        c.message = fmt::format(
            "tensors of shape {} differ: worst at index {}: {:.8g} vs expected {:.8g} "
            "(rtol {}, atol {})",
            format_shape(shape), format_shape(index), double(actual.flat(worst_k)),
            double(expected.flat(worst_k)), rtol, atol);
    }
    return c;
}

template Comparison compare_tensors(const TensorOf<float>&, const TensorOf<float>&, double, double);
template Comparison compare_tensors(const TensorOf<double>&, const TensorOf<double>&, double,
                                    double);

}  // namespace xgrad::testing
