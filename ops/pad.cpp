#include "ops/pad.h"

#include <string>

#include <xtensor/xbuilder.hpp>
#include <xtensor/xnoalias.hpp>
#include <xtensor/xstrided_view.hpp>

#include "framework/errors.h"
#include "framework/record.h"
#include "ops/shape.h"

namespace xgrad {

namespace {

// The interior of the padded tensor: where x sits.
xt::xstrided_slice_vector interior(const Shape& x_shape, const std::vector<PadWidth>& widths) {
    xt::xstrided_slice_vector sv;
    for (std::size_t d = 0; d < x_shape.size(); ++d) {
        sv.push_back(xt::range(widths[d].first, widths[d].first + x_shape[d]));
    }
    return sv;
}

}  // namespace

template <class T>
VariableOf<T> pad(const VariableOf<T>& x, const std::vector<PadWidth>& widths, double value) {
    const Shape in = x.shape();
    if (widths.size() != in.size()) {
        throw ShapeError("pad", "needs one (before, after) pair per axis of x " + format_shape(in) +
                                    ", got " + std::to_string(widths.size()));
    }
    Shape out = in;
    for (std::size_t d = 0; d < in.size(); ++d) out[d] += widths[d].first + widths[d].second;
    TensorOf<T> y = xt::full_like(TensorOf<T>::from_shape(out), static_cast<T>(value));
    const auto sv = interior(in, widths);
    if (x.size() > 0) xt::noalias(xt::strided_view(y, sv)) = x.value();
    return record<T>(
        "pad", std::move(y), {x},
        [sv](const BackwardContext<T>& c) {
            return Grads<T>{TensorOf<T>(xt::strided_view(c.grad, sv))};
        },
        [widths](const GraphBackwardContext<T>& c) {
            const Shape s = c.input(0).shape();
            VariableOf<T> g = c.grad;
            for (std::size_t d = 0; d < s.size(); ++d) {
                if (widths[d].first + widths[d].second == 0) continue;
                g = slice(g, static_cast<int>(d), widths[d].first, widths[d].first + s[d]);
            }
            return VariableList<T>{g};
        });
}

#define XGRAD_INSTANTIATE_PAD(T) \
    template VariableOf<T> pad(const VariableOf<T>&, const std::vector<PadWidth>&, double);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_PAD)

}  // namespace xgrad
