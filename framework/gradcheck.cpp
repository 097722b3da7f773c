#include "framework/gradcheck.h"

#include <cmath>
#include <random>

#include <fmt/format.h>
#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include "framework/autograd.h"
#include "framework/grad_mode.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"

namespace xgrad {

namespace {

double weighted_sum(const Tensor64& y, const Tensor64& w) {
    return xt::sum(y * w)();
}

}  // namespace

GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor64>& inputs,
                          const GradcheckOptions& options) {
    EnableGradGuard grad_on;  // also inside a caller's NoGradGuard
    std::vector<Variable64> vars;
    for (const auto& x : inputs) vars.emplace_back(x, true);
    Variable64 y = f(vars);

    std::mt19937 rng(options.seed);
    std::uniform_real_distribution<double> dist(0.5, 1.5);
    Tensor64 w = Tensor64::from_shape(y.value().shape());
    for (auto& v : w) v = dist(rng);
    y.backward(w, BackwardOptions{.create_graph = options.create_graph});
    std::vector<Tensor64> analytic_grads;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        analytic_grads.push_back(vars[i].has_grad() ? vars[i].grad()
                                                    : Tensor64(xt::zeros_like(inputs[i])));
        // A gradient with history refers back to its leaf; forgetting it breaks that cycle.
        vars[i].zero_grad();
    }

    GradcheckResult result;
    double worst_excess = 0;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const Tensor64& analytic = analytic_grads[i];
        for (std::size_t k = 0; k < inputs[i].size(); ++k) {
            auto probe = [&](double delta) {
                std::vector<Variable64> shifted;
                for (std::size_t j = 0; j < inputs.size(); ++j) {
                    Tensor64 v = inputs[j];
                    if (j == i) v.flat(k) += delta;
                    shifted.emplace_back(std::move(v), false);
                }
                return weighted_sum(f(shifted).value(), w);
            };
            const double numeric = (probe(options.eps) - probe(-options.eps)) / (2 * options.eps);
            const double a = analytic.flat(k);
            const double err = std::abs(a - numeric);
            const double excess = err - (options.atol + options.rtol * std::abs(numeric));
            // Written as !(excess <= 0) so that a NaN on either side fails the check.
            const bool bad = !(excess <= 0) || !std::isfinite(a) || !std::isfinite(numeric);
            if (err > result.max_abs_error || !std::isfinite(err)) result.max_abs_error = err;
            if (bad && (result.ok || !(excess <= worst_excess))) {
                result.ok = false;
                worst_excess = excess;
                result.input = i;
                result.index = unravel_index(k, to_shape(inputs[i].shape()));
                result.analytic = a;
                result.numeric = numeric;
            }
        }
    }
    if (!result.ok) {
        result.message = fmt::format(
            "gradcheck: input {} at index {}: backward gives {:.8g} but finite differences "
            "give {:.8g} (abs error {:.3g}, largest abs error over all elements {:.3g})",
            result.input, format_shape(result.index), result.analytic, result.numeric,
            std::abs(result.analytic - result.numeric), result.max_abs_error);
    }
    return result;
}

GradcheckResult gradgradcheck(const GradcheckFn& f, const std::vector<Tensor64>& inputs,
                              const GradcheckOptions& options) {
    EnableGradGuard grad_on;
    GradcheckOptions graph_path = options;
    graph_path.create_graph = true;
    GradcheckResult first = gradcheck(f, inputs, graph_path);
    if (!first.ok) {
        first.message = "gradgradcheck: the first derivative from the graph backward: " +
                        first.message.substr(std::string("gradcheck: ").size());
        return first;
    }
    std::mt19937 rng(options.seed + 1);
    std::uniform_real_distribution<double> dist(0.5, 1.5);
    auto random_like = [&](const auto& shape) {
        Tensor64 t = Tensor64::from_shape(shape);
        for (auto& v : t) v = dist(rng);
        return t;
    };
    std::vector<Tensor64> directions;
    for (const auto& x : inputs) directions.push_back(random_like(x.shape()));
    std::vector<Variable64> probe_inputs;
    for (const auto& x : inputs) probe_inputs.emplace_back(x, false);
    const Tensor64 w = random_like(f(probe_inputs).value().shape());

    // x -> sum_i <grad_i(x), v_i>, differentiable through the graph of the gradients.
    auto first_order = [&](const std::vector<Variable64>& xs) {
        std::vector<Variable64> leaves = xs;
        for (auto& x : leaves) {
            // gradcheck's finite-difference probes pass inputs without requires_grad.
            if (!x.requires_grad()) x = Variable64(x.value(), true);
        }
        const Variable64 y = f(leaves);
        const std::vector<Variable64> grads = grad<double>(
            {y}, leaves,
            {.grad_outputs = {Variable64(w)}, .create_graph = true, .allow_unused = true});
        Variable64 total(0.0);
        for (std::size_t i = 0; i < grads.size(); ++i) {
            total = total + sum(grads[i] * Variable64(directions[i]));
        }
        return total;
    };
    GradcheckResult result = gradcheck(first_order, inputs, options);
    if (!result.ok) {
        result.message = "gradgradcheck: second derivative " +
                         result.message.substr(std::string("gradcheck: ").size());
    }
    return result;
}

}  // namespace xgrad
