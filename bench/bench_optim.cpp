// Optimizer step cost over the seed model's parameters (Dense 784x100 + 100, Dense 100x10 +
// 10 = 79,510 floats), in microseconds per step. The epoch_* counters give the seconds all
// the steps of one Fashion-MNIST epoch take (60,000 images: 1,875 steps at batch 32, 235 at
// batch 256), to compare with the epoch time of a training run. Release build only.
#include <benchmark/benchmark.h>

#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "xgrad.h"

using namespace xgrad;

namespace {

// The seed model's parameters, with random values and gradients already in place.
std::vector<Variable> seed_model_params() {
    std::mt19937 rng(42);
    std::normal_distribution<float> normal(0.0f, 0.05f);
    std::vector<Variable> params;
    for (const Shape& shape : {Shape{784, 100}, Shape{100}, Shape{100, 10}, Shape{10}}) {
        Tensor value = Tensor::from_shape(shape), grad = Tensor::from_shape(shape);
        for (auto& v : value) v = normal(rng);
        for (auto& g : grad) g = normal(rng);
        Variable p = parameter(std::move(value));
        p.node()->grad = std::move(grad);
        p.node()->has_grad = true;
        params.push_back(p);
    }
    return params;
}

void add_counters(benchmark::State& state, std::size_t n) {
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
    // seconds per iteration * steps per epoch (kInvert of a rate per 1/steps).
    using C = benchmark::Counter;
    state.counters["epoch_s_b32"] = C(1.0 / 1875, C::kIsIterationInvariantRate | C::kInvert);
    state.counters["epoch_s_b256"] = C(1.0 / 235, C::kIsIterationInvariantRate | C::kInvert);
}

std::size_t count(const std::vector<Variable>& params) {
    std::size_t n = 0;
    for (const auto& p : params) n += p.size();
    return n;
}

void run_steps(benchmark::State& state, optim::Optimizer& opt) {
    for (auto _ : state) {
        opt.step();
        benchmark::ClobberMemory();
    }
    add_counters(state, count(opt.params()));
}

void BM_AdamStep(benchmark::State& state) {
    optim::Adam opt(seed_model_params());
    run_steps(state, opt);
}
BENCHMARK(BM_AdamStep)->Unit(benchmark::kMicrosecond);

// Adam over moments that are subnormal at every step, as those of the weights of Fashion-MNIST's
// border pixels become (their gradient is almost always 0, so m decays by 0.9 per step):
// gradients of 1e-39 hold m at 1e-39. Argument 1: with xgrad's default flush-to-zero /
// denormals-are-zero (the first step flushes everything to 0); 0: set_flush_denormal(false),
// IEEE subnormal arithmetic, which costs Intel cores ~100 cycles per operation.
void BM_AdamStepSubnormal(benchmark::State& state) {
    const bool flush = state.range(0) != 0;
    auto params = seed_model_params();
    for (auto& p : params) p.node()->grad.fill(1e-39f);
    optim::Adam opt(params);
    set_flush_denormal(flush);
    opt.step();  // m = 1e-40 (or 0 flushed); then the steady state m -> 1e-39
    run_steps(state, opt);
    set_flush_denormal(true);
    state.SetLabel(flush ? "flushed (default)" : "IEEE subnormals");
}
BENCHMARK(BM_AdamStepSubnormal)->Arg(1)->Arg(0)->Unit(benchmark::kMicrosecond);

void BM_AdamAmsgradStep(benchmark::State& state) {
    optim::Adam opt(seed_model_params(), {.amsgrad = true});
    run_steps(state, opt);
}
BENCHMARK(BM_AdamAmsgradStep)->Unit(benchmark::kMicrosecond);

void BM_AdamWStep(benchmark::State& state) {
    optim::AdamW opt(seed_model_params());
    run_steps(state, opt);
}
BENCHMARK(BM_AdamWStep)->Unit(benchmark::kMicrosecond);

void BM_SGDMomentumStep(benchmark::State& state) {
    optim::SGD opt(seed_model_params(), {.momentum = 0.9});
    run_steps(state, opt);
}
BENCHMARK(BM_SGDMomentumStep)->Unit(benchmark::kMicrosecond);

void BM_RMSpropStep(benchmark::State& state) {
    optim::RMSprop opt(seed_model_params());
    run_steps(state, opt);
}
BENCHMARK(BM_RMSpropStep)->Unit(benchmark::kMicrosecond);

void BM_AdagradStep(benchmark::State& state) {
    optim::Adagrad opt(seed_model_params());
    run_steps(state, opt);
}
BENCHMARK(BM_AdagradStep)->Unit(benchmark::kMicrosecond);

void BM_ClipGradNorm(benchmark::State& state) {
    auto params = seed_model_params();
    for (auto _ : state) benchmark::DoNotOptimize(optim::clip_grad_norm(params, 1e9));
    add_counters(state, count(params));
}
BENCHMARK(BM_ClipGradNorm)->Unit(benchmark::kMicrosecond);

// The same Adam step written as plain xtensor expressions, as a user would write it: the
// comparison point for the hand-written loops above.
void BM_AdamStepXtensorExpressions(benchmark::State& state) {
    auto params = seed_model_params();
    std::vector<Tensor> m, v;
    for (const auto& p : params) {
        m.push_back(xt::zeros<float>(p.value().shape()));
        v.push_back(xt::zeros<float>(p.value().shape()));
    }
    const float b1 = 0.9f, b2 = 0.999f, eps = 1e-7f;
    std::int64_t t = 0;
    for (auto _ : state) {
        ++t;
        const auto step =
            static_cast<float>(0.001 * std::sqrt(1 - std::pow(0.999, t)) / (1 - std::pow(0.9, t)));
        for (std::size_t i = 0; i < params.size(); ++i) {
            const Tensor& g = params[i].grad();
            m[i] = b1 * m[i] + (1 - b1) * g;
            v[i] = b2 * v[i] + (1 - b2) * g * g;
            params[i].mutable_value() -= step * m[i] / (xt::sqrt(v[i]) + eps);
        }
        benchmark::ClobberMemory();
    }
    add_counters(state, count(params));
}
BENCHMARK(BM_AdamStepXtensorExpressions)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
