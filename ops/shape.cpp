#include "ops/shape.h"

#include <algorithm>
#include <string>

#include <xtensor/xmanipulation.hpp>

#include "framework/errors.h"
#include "framework/record.h"
#include "ops/axis.h"

// Shape ops move whole contiguous blocks: a tensor is viewed as (outer, n, inner) around the
// axis an op works on, and rows of `inner` elements are copied with std::copy_n. Only
// permute (a genuine reordering) and gather (one lookup per element) walk element by element.

namespace xgrad {

namespace {

std::string str(std::size_t v) {
    return std::to_string(v);
}

// "(4, -1)": a requested shape, which may hold -1.
std::string format_dims(const std::vector<long>& dims) {
    std::string out = "(";
    for (std::size_t i = 0; i < dims.size(); ++i) {
        if (i > 0) out += ", ";
        out += std::to_string(dims[i]);
    }
    if (dims.size() == 1) out += ",";
    return out + ")";
}

template <class T>
TensorOf<T> reshaped(const TensorOf<T>& t, const Shape& shape) {
    TensorOf<T> out = t;
    out.reshape(shape);
    return out;
}

// Every op that only relabels the shape (reshape, flatten, squeeze, unsqueeze): one copy of
// the elements forward, the gradient reshaped back.
template <class T>
VariableOf<T> relabel(const char* op, const VariableOf<T>& x, const Shape& shape) {
    return record<T>(
        op, reshaped(x.value(), shape), {x},
        [](const BackwardContext<T>& c) {
            return Grads<T>{reshaped(c.grad, to_shape(c.input(0).shape()))};
        },
        [](const GraphBackwardContext<T>& c) {
            const Shape in = c.input(0).shape();
            return VariableList<T>{reshape(c.grad, std::vector<long>(in.begin(), in.end()))};
        });
}

}  // namespace

template <class T>
VariableOf<T> reshape(const VariableOf<T>& x, const std::vector<long>& shape) {
    const Shape in = x.shape();
    const std::size_t total = shape_size(in);
    auto fail = [&] {
        throw ShapeError("reshape",
                         "cannot reshape " + format_shape(in) + " into " + format_dims(shape));
    };
    Shape out(shape.size());
    std::size_t known = 1;
    std::size_t inferred = shape.size();  // none
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] == -1) {
            if (inferred != shape.size()) {
                throw ShapeError("reshape",
                                 "only one dimension may be -1, got " + format_dims(shape));
            }
            inferred = i;
        } else if (shape[i] < 0) {
            throw ShapeError("reshape", "dimension " + std::to_string(shape[i]) + " in " +
                                            format_dims(shape) + " is negative");
        } else {
            out[i] = static_cast<std::size_t>(shape[i]);
            known *= out[i];
        }
    }
    if (inferred != shape.size()) {
        if (known == 0 || total % known != 0) fail();
        out[inferred] = total / known;
    } else if (known != total) {
        fail();
    }
    return relabel("reshape", x, out);
}

template <class T>
VariableOf<T> flatten(const VariableOf<T>& x, int start_dim) {
    // start_dim may equal the rank: the trailing (empty) group becomes one dimension of size 1,
    // so a batch of scalars (32,) flattens to (32, 1), as Keras' Flatten does.
    const Shape in = x.shape();
    const long r = static_cast<long>(in.size());
    const long s = start_dim < 0 ? start_dim + r : start_dim;
    if (s < 0 || s > r) {
        throw ShapeError("flatten", "start_dim " + std::to_string(start_dim) +
                                        " is out of range for shape " + format_shape(in));
    }
    Shape out(in.begin(), in.begin() + s);
    std::size_t rest = 1;
    for (auto d = static_cast<std::size_t>(s); d < in.size(); ++d) rest *= in[d];
    out.push_back(rest);
    return relabel("flatten", x, out);
}

template <class T>
VariableOf<T> permute(const VariableOf<T>& x, const std::vector<std::size_t>& order) {
    const Shape in = x.shape();
    std::vector<bool> seen(in.size(), false);
    bool ok = order.size() == in.size();
    for (std::size_t i = 0; ok && i < order.size(); ++i) {
        ok = order[i] < in.size() && !seen[order[i]];
        if (ok) seen[order[i]] = true;
    }
    if (!ok) {
        throw ShapeError("permute", "order " + format_shape(order) +
                                        " is not a permutation of the axes of shape " +
                                        format_shape(in));
    }
    std::vector<std::size_t> inverse(order.size());
    for (std::size_t i = 0; i < order.size(); ++i) inverse[order[i]] = i;
    return record<T>(
        "permute", TensorOf<T>(xt::transpose(x.value(), order)), {x},
        [inverse](const BackwardContext<T>& c) {
            return Grads<T>{TensorOf<T>(xt::transpose(c.grad, inverse))};
        },
        [inverse](const GraphBackwardContext<T>& c) {
            return VariableList<T>{permute(c.grad, inverse)};
        });
}

template <class T>
VariableOf<T> squeeze(const VariableOf<T>& x, int axis) {
    Shape shape = x.shape();
    const std::size_t a = normalize_axis("squeeze", axis, shape);
    if (shape[a] != 1) {
        throw ShapeError("squeeze", "axis " + str(a) + " has size " + str(shape[a]) +
                                        ", not 1, in shape " + format_shape(shape));
    }
    shape.erase(shape.begin() + static_cast<long>(a));
    return relabel("squeeze", x, shape);
}

template <class T>
VariableOf<T> unsqueeze(const VariableOf<T>& x, int axis) {
    Shape shape = x.shape();
    const std::size_t a = normalize_axis("unsqueeze", axis, shape, true);
    shape.insert(shape.begin() + static_cast<long>(a), 1);
    return relabel("unsqueeze", x, shape);
}

namespace {

template <class T>
VariableOf<T> take_range(const char* op, const VariableOf<T>& x, std::size_t axis,
                         std::size_t start, std::size_t stop);

// The gradient of take_range as an op: x placed at start.. along `axis` of a zero tensor of
// `full` shape. Its own gradient is take_range again, so slices differentiate to any order.
template <class T>
VariableOf<T> place_range(const VariableOf<T>& x, std::size_t axis, std::size_t start,
                          const Shape& full) {
    const AxisBlocks b = around_axis(full, axis);
    const std::size_t len = x.shape()[axis] * b.inner;
    TensorOf<T> y = xt::zeros<T>(full);
    for (std::size_t o = 0; o < b.outer; ++o) {
        std::copy_n(x.value().data() + o * len, len,
                    y.data() + o * b.n * b.inner + start * b.inner);
    }
    const std::size_t stop = start + x.shape()[axis];
    return record<T>(
        "slice_backward", std::move(y), {x},
        [b, start, len](const BackwardContext<T>& c) {
            TensorOf<T> g = TensorOf<T>::from_shape(c.input(0).shape());
            for (std::size_t o = 0; o < b.outer; ++o) {
                std::copy_n(c.grad.data() + o * b.n * b.inner + start * b.inner, len,
                            g.data() + o * len);
            }
            return Grads<T>{std::move(g)};
        },
        [axis, start, stop](const GraphBackwardContext<T>& c) {
            return VariableList<T>{take_range("slice", c.grad, axis, start, stop)};
        });
}

// Rows start..stop-1 of the (outer, n, inner) view; the gradient scatters back into zeros.
template <class T>
VariableOf<T> take_range(const char* op, const VariableOf<T>& x, std::size_t axis,
                         std::size_t start, std::size_t stop) {
    Shape out_shape = x.shape();
    const AxisBlocks b = around_axis(out_shape, axis);
    out_shape[axis] = stop - start;
    const std::size_t len = (stop - start) * b.inner;

    TensorOf<T> y = TensorOf<T>::from_shape(out_shape);
    const T* src = x.value().data() + start * b.inner;
    for (std::size_t o = 0; o < b.outer; ++o) {
        std::copy_n(src + o * b.n * b.inner, len, y.data() + o * len);
    }
    return record<T>(
        op, std::move(y), {x},
        [b, start, len](const BackwardContext<T>& c) {
            TensorOf<T> g = xt::zeros<T>(c.input(0).shape());
            T* dst = g.data() + start * b.inner;
            for (std::size_t o = 0; o < b.outer; ++o) {
                std::copy_n(c.grad.data() + o * len, len, dst + o * b.n * b.inner);
            }
            return Grads<T>{std::move(g)};
        },
        [axis, start](const GraphBackwardContext<T>& c) {
            return VariableList<T>{place_range(c.grad, axis, start, c.input(0).shape())};
        });
}

}  // namespace

template <class T>
VariableOf<T> slice(const VariableOf<T>& x, int axis, std::size_t start, std::size_t stop) {
    const Shape shape = x.shape();
    const std::size_t a = normalize_axis("slice", axis, shape);
    if (start > stop || stop > shape[a]) {
        throw ShapeError("slice",
                         "range " + str(start) + ".." + str(stop) +
                             (start > stop ? " starts after it stops" : " is out of bounds") +
                             " for axis " + str(a) + " of size " + str(shape[a]) + " in shape " +
                             format_shape(shape));
    }
    return take_range("slice", x, a, start, stop);
}

template <class T>
VariableOf<T> narrow(const VariableOf<T>& x, int axis, std::size_t start, std::size_t length) {
    const Shape shape = x.shape();
    const std::size_t a = normalize_axis("narrow", axis, shape);
    // Written without start + length, which could wrap around.
    if (start > shape[a] || length > shape[a] - start) {
        throw ShapeError("narrow", "start " + str(start) + " with length " + str(length) +
                                       " is out of bounds for axis " + str(a) + " of size " +
                                       str(shape[a]) + " in shape " + format_shape(shape));
    }
    return take_range("narrow", x, a, start, start + length);
}

namespace {

// Joins inputs along the middle of their (outer, n_j, inner) views; `block[j]` is n_j * inner.
template <class T>
TensorOf<T> join(const std::vector<VariableOf<T>>& xs, const std::vector<std::size_t>& block,
                 std::size_t outer, const Shape& out_shape) {
    TensorOf<T> y = TensorOf<T>::from_shape(out_shape);
    T* dst = y.data();
    for (std::size_t o = 0; o < outer; ++o) {
        for (std::size_t j = 0; j < xs.size(); ++j) {
            dst = std::copy_n(xs[j].value().data() + o * block[j], block[j], dst);
        }
    }
    return y;
}

// The inverse of join for the gradient: each input that needs one gets its blocks back.
template <class T>
Grads<T> split(const BackwardContext<T>& c, const std::vector<std::size_t>& block,
               std::size_t outer) {
    Grads<T> grads(block.size());
    for (std::size_t j = 0; j < block.size(); ++j) {
        if (c.needs(j)) grads[j] = TensorOf<T>::from_shape(c.input(j).shape());
    }
    const T* src = c.grad.data();
    for (std::size_t o = 0; o < outer; ++o) {
        for (std::size_t j = 0; j < block.size(); ++j) {
            if (c.needs(j)) std::copy_n(src, block[j], grads[j].data() + o * block[j]);
            src += block[j];
        }
    }
    return grads;
}

}  // namespace

template <class T>
VariableOf<T> concat(const std::vector<VariableOf<T>>& xs, int axis) {
    if (xs.empty()) throw std::invalid_argument("concat: needs at least one tensor, got none");
    const Shape first = xs[0].shape();
    const std::size_t a = normalize_axis("concat", axis, first);
    Shape out_shape = first;
    out_shape[a] = 0;
    std::vector<std::size_t> block;
    for (std::size_t j = 0; j < xs.size(); ++j) {
        const Shape s = xs[j].shape();
        bool ok = s.size() == first.size();
        for (std::size_t d = 0; ok && d < s.size(); ++d) ok = d == a || s[d] == first[d];
        if (!ok) {
            throw ShapeError("concat", "tensor " + str(j) + " has shape " + format_shape(s) +
                                           " but tensor 0 has shape " + format_shape(first) +
                                           "; they must match except along axis " + str(a));
        }
        out_shape[a] += s[a];
        const AxisBlocks b = around_axis(s, a);
        block.push_back(b.n * b.inner);
    }
    const std::size_t outer = around_axis(first, a).outer;
    return record<T>(
        "concat", join(xs, block, outer, out_shape), xs,
        [block, outer](const BackwardContext<T>& c) { return split(c, block, outer); },
        [a](const GraphBackwardContext<T>& c) {
            VariableList<T> grads(c.node->inputs.size());
            std::size_t offset = 0;
            for (std::size_t j = 0; j < grads.size(); ++j) {
                const std::size_t n = c.node->inputs[j]->value.shape()[a];
                if (c.needs(j)) grads[j] = take_range("slice", c.grad, a, offset, offset + n);
                offset += n;
            }
            return grads;
        });
}

template <class T>
VariableOf<T> stack(const std::vector<VariableOf<T>>& xs, int axis) {
    if (xs.empty()) throw std::invalid_argument("stack: needs at least one tensor, got none");
    const Shape first = xs[0].shape();
    const std::size_t a = normalize_axis("stack", axis, first, true);
    for (std::size_t j = 1; j < xs.size(); ++j) {
        const Shape s = xs[j].shape();
        if (s != first) {
            throw ShapeError("stack", "tensor " + str(j) + " has shape " + format_shape(s) +
                                          " but tensor 0 has shape " + format_shape(first) +
                                          "; all shapes must be equal");
        }
    }
    Shape out_shape = first;
    out_shape.insert(out_shape.begin() + static_cast<long>(a), xs.size());
    // Each input contributes one block of everything from `a` on, per outer index.
    const AxisBlocks b = around_axis(out_shape, a);
    const std::vector<std::size_t> block(xs.size(), b.inner);
    const std::size_t outer = b.outer;
    return record<T>(
        "stack", join(xs, block, outer, out_shape), xs,
        [block, outer](const BackwardContext<T>& c) { return split(c, block, outer); },
        [a](const GraphBackwardContext<T>& c) {
            VariableList<T> grads(c.node->inputs.size());
            for (std::size_t j = 0; j < grads.size(); ++j) {
                if (c.needs(j)) {
                    grads[j] = squeeze(take_range("slice", c.grad, a, j, j + 1), int(a));
                }
            }
            return grads;
        });
}

namespace {

// The gradient of index_select as an op: slices of x added into a zero tensor of `full`
// shape at `indices` along the axis of `b`. Its own gradient is index_select again.
template <class T>
VariableOf<T> index_add(const VariableOf<T>& x, std::size_t axis, const AxisBlocks& b,
                        const std::vector<std::size_t>& indices, const Shape& full) {
    TensorOf<T> g = xt::zeros<T>(full);
    const std::size_t m = indices.size();
    for (std::size_t o = 0; o < b.outer; ++o) {
        for (std::size_t k = 0; k < m; ++k) {
            const T* from = x.value().data() + (o * m + k) * b.inner;
            T* to = g.data() + (o * b.n + indices[k]) * b.inner;
            for (std::size_t i = 0; i < b.inner; ++i) to[i] += from[i];
        }
    }
    return record<T>(
        "index_select_backward", std::move(g), {x},
        [axis, indices](const BackwardContext<T>& c) {
            return Grads<T>{index_select(VariableOf<T>(c.grad), int(axis), indices).value()};
        },
        [axis, indices](const GraphBackwardContext<T>& c) {
            return VariableList<T>{index_select(c.grad, int(axis), indices)};
        });
}

}  // namespace

template <class T>
VariableOf<T> index_select(const VariableOf<T>& x, int axis,
                           const std::vector<std::size_t>& indices) {
    Shape out_shape = x.shape();
    const std::size_t a = normalize_axis("index_select", axis, out_shape);
    const AxisBlocks b = around_axis(out_shape, a);
    for (auto i : indices) {
        if (i >= b.n) {
            throw ShapeError("index_select", "index " + str(i) + " is out of range for axis " +
                                                 str(a) + " of size " + str(b.n) + " in shape " +
                                                 format_shape(out_shape));
        }
    }
    out_shape[a] = indices.size();
    const std::size_t m = indices.size();
    TensorOf<T> y = TensorOf<T>::from_shape(out_shape);
    const T* src = x.value().data();
    for (std::size_t o = 0; o < b.outer; ++o) {
        for (std::size_t k = 0; k < m; ++k) {
            std::copy_n(src + (o * b.n + indices[k]) * b.inner, b.inner,
                        y.data() + (o * m + k) * b.inner);
        }
    }
    return record<T>(
        "index_select", std::move(y), {x},
        [b, indices](const BackwardContext<T>& c) {
            // Repeated indices add their gradients up.
            TensorOf<T> g = xt::zeros<T>(c.input(0).shape());
            const std::size_t m = indices.size();
            for (std::size_t o = 0; o < b.outer; ++o) {
                for (std::size_t k = 0; k < m; ++k) {
                    const T* from = c.grad.data() + (o * m + k) * b.inner;
                    T* to = g.data() + (o * b.n + indices[k]) * b.inner;
                    for (std::size_t i = 0; i < b.inner; ++i) to[i] += from[i];
                }
            }
            return Grads<T>{std::move(g)};
        },
        [a, b, indices](const GraphBackwardContext<T>& c) {
            return VariableList<T>{index_add(c.grad, a, b, indices, c.input(0).shape())};
        });
}

namespace {

// Calls f(k, offset) for every element k of `index` (row-major), where offset is the flat
// position in x it selects. The offset is kept up to date as a multi-index counter advances,
// so no division or multiplication per element.
template <class F>
void for_each_gathered(const IndexTensor& index, const Shape& x_shape, std::size_t axis, F&& f) {
    const std::size_t rank = x_shape.size();
    const Shape ishape = to_shape(index.shape());
    std::vector<std::size_t> stride(rank, 1);
    for (std::size_t d = rank; d-- > 1;) stride[d - 1] = stride[d] * x_shape[d];
    std::vector<std::size_t> pos(rank, 0);
    std::size_t base = 0;  // offset of pos in x, ignoring the gathered axis
    for (std::size_t k = 0; k < index.size(); ++k) {
        f(k, base);
        for (std::size_t d = rank; d-- > 0;) {
            if (++pos[d] < ishape[d]) {
                if (d != axis) base += stride[d];
                break;
            }
            if (d != axis) base -= (pos[d] - 1) * stride[d];
            pos[d] = 0;
        }
    }
}

}  // namespace

namespace {

// The gradient of gather as an op: x's elements added into a zero tensor of `full` shape
// at the positions gather read them from. Its own gradient is gather again.
template <class T>
VariableOf<T> scatter_add(const VariableOf<T>& x, std::size_t axis, const IndexTensor& index,
                          std::size_t step, const Shape& full) {
    TensorOf<T> g = xt::zeros<T>(full);
    for_each_gathered(index, full, axis, [&](std::size_t k, std::size_t base) {
        g.data()[base + static_cast<std::size_t>(index.data()[k]) * step] += x.value().data()[k];
    });
    return record<T>(
        "gather_backward", std::move(g), {x},
        [axis, index](const BackwardContext<T>& c) {
            return Grads<T>{gather(VariableOf<T>(c.grad), int(axis), index).value()};
        },
        [axis, index](const GraphBackwardContext<T>& c) {
            return VariableList<T>{gather(c.grad, int(axis), index)};
        });
}

}  // namespace

template <class T>
VariableOf<T> gather(const VariableOf<T>& x, int axis, const IndexTensor& index) {
    const Shape shape = x.shape();
    const std::size_t a = normalize_axis("gather", axis, shape);
    const Shape ishape = to_shape(index.shape());
    bool fits = ishape.size() == shape.size();
    for (std::size_t d = 0; fits && d < shape.size(); ++d) fits = d == a || ishape[d] <= shape[d];
    if (!fits) {
        throw ShapeError("gather", "index of shape " + format_shape(ishape) +
                                       " does not fit x of shape " + format_shape(shape) +
                                       " (same rank, and no larger outside axis " + str(a) + ")");
    }
    const std::size_t n = shape[a];
    std::size_t step = 1;  // the stride of the gathered axis in x
    for (std::size_t d = a + 1; d < shape.size(); ++d) step *= shape[d];

    TensorOf<T> y = TensorOf<T>::from_shape(ishape);
    const T* src = x.value().data();
    for_each_gathered(index, shape, a, [&](std::size_t k, std::size_t base) {
        const std::int64_t i = index.data()[k];
        if (i < 0 || static_cast<std::size_t>(i) >= n) {
            throw ShapeError("gather", "index " + std::to_string(i) + " is out of range for axis " +
                                           str(a) + " of size " + str(n));
        }
        y.data()[k] = src[base + static_cast<std::size_t>(i) * step];
    });
    return record<T>(
        "gather", std::move(y), {x},
        [index, a, step](const BackwardContext<T>& c) {
            TensorOf<T> g = xt::zeros<T>(c.input(0).shape());
            for_each_gathered(index, to_shape(g.shape()), a, [&](std::size_t k, std::size_t base) {
                g.data()[base + static_cast<std::size_t>(index.data()[k]) * step] +=
                    c.grad.data()[k];
            });
            return Grads<T>{std::move(g)};
        },
        [index, a, step](const GraphBackwardContext<T>& c) {
            return VariableList<T>{scatter_add(c.grad, a, index, step, c.input(0).shape())};
        });
}

#define XGRAD_INSTANTIATE_SHAPE(T)                                                         \
    template VariableOf<T> reshape(const VariableOf<T>&, const std::vector<long>&);        \
    template VariableOf<T> flatten(const VariableOf<T>&, int);                             \
    template VariableOf<T> permute(const VariableOf<T>&, const std::vector<std::size_t>&); \
    template VariableOf<T> squeeze(const VariableOf<T>&, int);                             \
    template VariableOf<T> unsqueeze(const VariableOf<T>&, int);                           \
    template VariableOf<T> slice(const VariableOf<T>&, int, std::size_t, std::size_t);     \
    template VariableOf<T> narrow(const VariableOf<T>&, int, std::size_t, std::size_t);    \
    template VariableOf<T> concat(const std::vector<VariableOf<T>>&, int);                 \
    template VariableOf<T> stack(const std::vector<VariableOf<T>>&, int);                  \
    template VariableOf<T> index_select(const VariableOf<T>&, int,                         \
                                        const std::vector<std::size_t>&);                  \
    template VariableOf<T> gather(const VariableOf<T>&, int, const IndexTensor&);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_SHAPE)

}  // namespace xgrad
