#include "framework/autograd.h"

#include <string>

#include <xtensor/xmath.hpp>

#include "framework/errors.h"
#include "framework/grad_mode.h"
#include "ops/reduce.h"

namespace xgrad {

template <class T>
std::vector<VariableOf<T>> grad(const std::vector<VariableOf<T>>& outputs,
                                const std::vector<VariableOf<T>>& inputs,
                                const GradOptions<T>& options) {
    if (outputs.empty()) throw std::invalid_argument("grad: no outputs given");
    if (!options.grad_outputs.empty() && options.grad_outputs.size() != outputs.size()) {
        throw std::invalid_argument("grad: " + std::to_string(options.grad_outputs.size()) +
                                    " grad_outputs for " + std::to_string(outputs.size()) +
                                    " outputs");
    }
    std::vector<std::shared_ptr<Node<T>>> roots, wanted;
    std::vector<VariableOf<T>> seeds;
    for (std::size_t i = 0; i < outputs.size(); ++i) {
        const VariableOf<T>& y = outputs[i];
        if (!y.requires_grad()) {
            throw GraphError("grad: output " + std::to_string(i) +
                             " does not require a gradient (none of its inputs does)");
        }
        if (options.grad_outputs.empty()) {
            if (y.size() != 1) {
                throw GraphError("grad: output " + std::to_string(i) + " has shape " +
                                 format_shape(y.shape()) + ", not one element; pass grad_outputs");
            }
            TensorOf<T> one = TensorOf<T>::from_shape(y.value().shape());
            one.fill(T(1));
            seeds.emplace_back(std::move(one));
        } else {
            const VariableOf<T>& s = options.grad_outputs[i];
            if (s.shape() != y.shape()) {
                throw ShapeError("grad", "grad_outputs[" + std::to_string(i) + "] has shape " +
                                             format_shape(s.shape()) + " but output " +
                                             std::to_string(i) + " has shape " +
                                             format_shape(y.shape()));
            }
            seeds.push_back(s);
        }
        roots.push_back(y.node());
    }
    for (std::size_t j = 0; j < inputs.size(); ++j) {
        if (!inputs[j].requires_grad()) {
            throw GraphError("grad: input " + std::to_string(j) + " (shape " +
                             format_shape(inputs[j].shape()) + ") does not require a gradient");
        }
        wanted.push_back(inputs[j].node());
    }
    const BackwardOptions backward_options{
        .retain_graph = options.retain_graph.value_or(options.create_graph),
        .create_graph = options.create_graph};
    std::vector<VariableOf<T>> result = run_backward<T>(roots, seeds, backward_options, &wanted);
    for (std::size_t j = 0; j < result.size(); ++j) {
        if (result[j].defined()) continue;
        if (!options.allow_unused) {
            throw GraphError("grad: the outputs do not depend on input " + std::to_string(j) +
                             " (shape " + format_shape(inputs[j].shape()) +
                             "); pass allow_unused to get a zero gradient");
        }
        result[j] = VariableOf<T>(TensorOf<T>(xt::zeros<T>(inputs[j].value().shape())));
    }
    return result;
}

namespace {

template <class T>
VariableOf<T> checked_scalar(const char* who, const VariableOf<T>& y) {
    if (y.size() != 1) {
        throw ShapeError(
            who, "the function must return one element, got shape " + format_shape(y.shape()));
    }
    return y;
}

}  // namespace

template <class T>
TensorOf<T> hvp(const ScalarFunction<T>& f, const TensorOf<T>& x, const TensorOf<T>& v) {
    if (x.shape() != v.shape()) {
        throw ShapeError(
            "hvp", "x has shape " + format_shape_of(x) + " but v has shape " + format_shape_of(v));
    }
    EnableGradGuard grad_on;
    VariableOf<T> xv(x, true);
    const VariableOf<T> y = checked_scalar("hvp", f(xv));
    const VariableOf<T> g = grad<T>({y}, {xv}, {.create_graph = true, .allow_unused = true})[0];
    if (!g.requires_grad()) return xt::zeros<T>(x.shape());  // f is at most linear in x
    const VariableOf<T> dot = sum(g * VariableOf<T>(v));
    return grad<T>({dot}, {xv}, {.allow_unused = true})[0].value();
}

template <class T>
TensorOf<T> jacobian(const TensorFunction<T>& f, const TensorOf<T>& x) {
    EnableGradGuard grad_on;
    VariableOf<T> xv(x, true);
    const VariableOf<T> y = f(xv);
    Shape shape = y.shape();
    const Shape xs = to_shape(x.shape());
    shape.insert(shape.end(), xs.begin(), xs.end());
    TensorOf<T> jac = TensorOf<T>::from_shape(shape);
    if (!y.requires_grad()) {
        jac.fill(T(0));
        return jac;
    }
    for (std::size_t k = 0; k < y.size(); ++k) {
        TensorOf<T> seed = xt::zeros<T>(y.value().shape());
        seed.flat(k) = T(1);
        const TensorOf<T> row = grad<T>({y}, {xv},
                                        {.grad_outputs = {VariableOf<T>(std::move(seed))},
                                         .retain_graph = true,
                                         .allow_unused = true})[0]
                                    .value();
        std::copy(row.data(), row.data() + row.size(), jac.data() + k * x.size());
    }
    return jac;
}

template <class T>
TensorOf<T> hessian(const ScalarFunction<T>& f, const TensorOf<T>& x) {
    return jacobian<T>(
        [&f](const VariableOf<T>& xv) {
            const VariableOf<T> y = checked_scalar("hessian", f(xv));
            return grad<T>({y}, {xv}, {.create_graph = true, .allow_unused = true})[0];
        },
        x);
}

#define XGRAD_INSTANTIATE_AUTOGRAD(T)                                                           \
    template std::vector<VariableOf<T>> grad(const std::vector<VariableOf<T>>&,                 \
                                             const std::vector<VariableOf<T>>&,                 \
                                             const GradOptions<T>&);                            \
    template TensorOf<T> hvp(const ScalarFunction<T>&, const TensorOf<T>&, const TensorOf<T>&); \
    template TensorOf<T> jacobian(const TensorFunction<T>&, const TensorOf<T>&);                \
    template TensorOf<T> hessian(const ScalarFunction<T>&, const TensorOf<T>&);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE_AUTOGRAD)

}  // namespace xgrad
