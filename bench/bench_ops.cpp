// Op overhead: xgrad::matmul and linear against cblas_sgemm on preallocated buffers, the
// fixed cost of one tiny elementwise op with and without recording a graph node, and each
// layer of the Fashion-MNIST CNN (forward and backward) at its real shapes, and the backward
// of embedding lookups in a large table.
// Run with OPENBLAS_NUM_THREADS=1 in a release build (BM_sgemm_threads sets its own count).
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <random>
#include <vector>

#include "xgrad.h"

using namespace xgrad;

namespace {

constexpr int kIn = 784, kOut = 100;

Tensor random_tensor(const Shape& shape, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(-1.f, 1.f);
    Tensor t = Tensor::from_shape(shape);
    for (auto& v : t) v = dist(rng);
    return t;
}

std::size_t rows(const benchmark::State& state) {
    return static_cast<std::size_t>(state.range(0));
}

void set_flops(benchmark::State& state, double gemms) {
    state.counters["GFLOP/s"] =
        benchmark::Counter(gemms * 2.0 * static_cast<double>(rows(state)) * kIn * kOut *
                               static_cast<double>(state.iterations()),
                           benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}

// The floor: one sgemm into a buffer allocated once.
void BM_sgemm_direct(benchmark::State& state) {
    const int m = static_cast<int>(state.range(0));
    const Tensor a = random_tensor({rows(state), kIn}, 1), b = random_tensor({kIn, kOut}, 2);
    std::vector<float> c(rows(state) * kOut);
    for (auto _ : state) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, kOut, kIn, 1.f, a.data(), kIn,
                    b.data(), kOut, 0.f, c.data(), kOut);
        benchmark::DoNotOptimize(c.data());
        benchmark::ClobberMemory();
    }
    set_flops(state, 1);
}

// xgrad::matmul computing values only: no graph (NoGradGuard).
void BM_matmul_nograd(benchmark::State& state) {
    Variable a(random_tensor({rows(state), kIn}, 1)), b(parameter(random_tensor({kIn, kOut}, 2)));
    NoGradGuard no_grad;
    for (auto _ : state) {
        Variable y = matmul(a, b);
        benchmark::DoNotOptimize(y.value().data());
    }
    set_flops(state, 1);
}

// xgrad::matmul with a weight that requires a gradient: records one graph node per call.
void BM_matmul_record(benchmark::State& state) {
    Variable a(random_tensor({rows(state), kIn}, 1)), b(parameter(random_tensor({kIn, kOut}, 2)));
    for (auto _ : state) {
        Variable y = matmul(a, b);
        benchmark::DoNotOptimize(y.value().data());
    }
    set_flops(state, 1);
}

// One training step of a dense layer (rows, in) -> (rows, out) by hand: y = x W + b (bias
// rows then sgemm with beta = 1), then dW = x^T g and db = column sums of g (dX is not needed
// for the data input). Arguments: rows, in, out.
void BM_linear_step_direct(benchmark::State& state) {
    const int m = static_cast<int>(state.range(0)), in = static_cast<int>(state.range(1));
    const int out = static_cast<int>(state.range(2));
    const std::size_t um = m, uin = in, uout = out;
    const Tensor x = random_tensor({um, uin}, 1), w = random_tensor({uin, uout}, 2);
    const Tensor bias = random_tensor({uout}, 3), g = random_tensor({um, uout}, 4);
    std::vector<float> y(um * uout), dw(uin * uout), db(uout);
    for (auto _ : state) {
        for (int r = 0; r < m; ++r) std::copy(bias.begin(), bias.end(), y.begin() + r * out);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, out, in, 1.f, x.data(), in,
                    w.data(), out, 1.f, y.data(), out);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, out, m, 1.f, x.data(), in,
                    g.data(), out, 0.f, dw.data(), out);
        std::fill(db.begin(), db.end(), 0.f);
        for (int r = 0; r < m; ++r) {
            for (int j = 0; j < out; ++j) db[j] += g.data()[r * out + j];
        }
        benchmark::DoNotOptimize(y.data());
        benchmark::DoNotOptimize(dw.data());
        benchmark::DoNotOptimize(db.data());
        benchmark::ClobberMemory();
    }
}

// The same step through xgrad: linear() records a node, backward() runs it.
void BM_linear_step_xgrad(benchmark::State& state) {
    const std::size_t m = state.range(0), in = state.range(1), out = state.range(2);
    Variable x(random_tensor({m, in}, 1));
    Variable w = parameter(random_tensor({in, out}, 2));
    Variable b = parameter(random_tensor({out}, 3));
    const Tensor g = random_tensor({m, out}, 4);
    for (auto _ : state) {
        Variable y = linear(x, w, b);
        y.backward(g);
        benchmark::DoNotOptimize(w.grad().data());
        w.zero_grad();
        b.zero_grad();
    }
}

// cblas_sgemm straight at 1 or 2 BLAS threads, for the thread policy in ops/gemm.h.
// Arguments: m, n, k, A transposed (the weight-gradient form X^T g), threads.
void BM_sgemm_threads(benchmark::State& state) {
    const int m = static_cast<int>(state.range(0)), n = static_cast<int>(state.range(1));
    const int k = static_cast<int>(state.range(2));
    const bool trans_a = state.range(3) != 0;
    const std::size_t um = m, un = n, uk = k;
    const Tensor a = random_tensor({um * uk}, 1), b = random_tensor({uk * un}, 2);
    std::vector<float> c(um * un);
    openblas_set_num_threads(static_cast<int>(state.range(4)));
    for (auto _ : state) {
        cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, CblasNoTrans, m, n, k, 1.f,
                    a.data(), trans_a ? m : k, b.data(), n, 0.f, c.data(), n);
        benchmark::DoNotOptimize(c.data());
        benchmark::ClobberMemory();
    }
    openblas_set_num_threads(1);
    state.counters["MMAC"] = double(m) * n * k / 1e6;
}

// Fixed per-op cost: add of two 1-element variables. "nograd": inputs need no gradient, so
// no node is recorded; "record": one needs a gradient, so a node with its backward closure is.
void BM_add_tiny_nograd(benchmark::State& state) {
    Variable a(Tensor{1.f}), b(Tensor{2.f});
    for (auto _ : state) {
        Variable y = a + b;
        benchmark::DoNotOptimize(y.value().data());
    }
}

void BM_add_tiny_record(benchmark::State& state) {
    Variable a(Tensor{1.f}, true), b(Tensor{2.f});
    for (auto _ : state) {
        Variable y = a + b;
        benchmark::DoNotOptimize(y.value().data());
    }
}

// Recording plus running the backward of that one op.
void BM_add_tiny_record_backward(benchmark::State& state) {
    Variable a(Tensor{1.f}, true), b(Tensor{2.f});
    for (auto _ : state) {
        Variable y = a + b;
        y.backward();
        benchmark::DoNotOptimize(a.grad().data());
        a.zero_grad();
    }
}

// One training step's forward and backward through one layer of examples/fashion_mnist_cnn,
// at its real shapes. Arguments: the layer (0 conv1, 1 pool1, 2 conv2, 3 pool2, 4 dropout,
// 5 dense1 with relu), the batch size. The layer's input needs a gradient except conv1's
// (the images). Each iteration allocates its outputs and gradients afresh, page faults
// included (bench/train_cnn keeps freed memory in the heap instead), so the figures are for
// comparing versions of one layer, not for adding up to an epoch.
void BM_cnn_layer(benchmark::State& state) {
    const auto layer = state.range(0);
    const auto n = static_cast<std::size_t>(state.range(1));
    const Shape in_shape[] = {{n, 28, 28, 1},  {n, 26, 26, 32}, {n, 13, 13, 32},
                              {n, 11, 11, 64}, {n, 1600},       {n, 1600}};
    Variable x(random_tensor(in_shape[layer], 1), layer != 0);
    Variable k1 = parameter(random_tensor({3, 3, 1, 32}, 2)),
             b1 = parameter(Tensor(xt::zeros<float>({32})));
    Variable k2 = parameter(random_tensor({3, 3, 32, 64}, 3)),
             b2 = parameter(Tensor(xt::zeros<float>({64})));
    Variable w = parameter(random_tensor({1600, 128}, 4)),
             b = parameter(Tensor(xt::zeros<float>({128})));
    Rng rng(5);
    for (auto _ : state) {
        Variable y;
        switch (layer) {
            case 0:
                y = conv2d(x, k1, b1, {.relu = true});
                break;
            case 1:
                y = max_pool2d(x, {2, 2}, {2, 2});
                break;
            case 2:
                y = conv2d(x, k2, b2, {.relu = true});
                break;
            case 3:
                y = max_pool2d(x, {2, 2}, {2, 2});
                break;
            case 4:
                y = dropout(x, 0.5, true, rng);
                break;
            default:
                y = relu(linear(x, w, b));
                break;
        }
        y.backward(xt::ones<float>(y.value().shape()));
        benchmark::DoNotOptimize(y.value().data());
        for (Variable* v : {&x, &k1, &b1, &k2, &b2, &w, &b}) v->zero_grad();
    }
    static const char* names[] = {"conv1", "pool1", "conv2", "pool2", "dropout", "dense1"};
    state.SetLabel(names[layer]);
}

// The backward of token lookups in a large table (50,000 x 256 floats, 51 MB): `lookups`
// lookups of 12 x 64 ids into the same table per step, then backward and zero_grad, as in a
// training step. embedding() adds the rows it used into the table's gradient in place;
// index_select (the dense way) returns a table-sized gradient per lookup for the engine to
// add. Arguments: lookups per step, 1 for embedding() or 0 for index_select.
void BM_embedding_backward(benchmark::State& state) {
    const auto lookups = state.range(0);
    const bool in_place = state.range(1) == 1;
    Variable table = parameter(random_tensor({50000, 256}, 1));
    std::mt19937 rng(2);
    IndexTensor ids = IndexTensor::from_shape({12, 64});
    for (auto& id : ids) id = static_cast<std::int64_t>(rng() % 50000);
    const std::vector<std::size_t> flat(ids.begin(), ids.end());
    for (auto _ : state) {
        Variable loss;
        for (std::int64_t l = 0; l < lookups; ++l) {
            const Variable rows = in_place ? embedding(table, ids) : index_select(table, 0, flat);
            loss = l == 0 ? sum(rows) : loss + sum(rows);
        }
        loss.backward();
        benchmark::DoNotOptimize(table.grad().data());
        table.zero_grad();
    }
    state.SetLabel(in_place ? "embedding" : "index_select");
}

}  // namespace

BENCHMARK(BM_sgemm_direct)->Arg(32)->Arg(256);
BENCHMARK(BM_matmul_nograd)->Arg(32)->Arg(256);
BENCHMARK(BM_matmul_record)->Arg(32)->Arg(256);
// The seed model's two layers, 784 -> 100 and 100 -> 10, at batch 32 and 256.
BENCHMARK(BM_linear_step_direct)
    ->Args({32, 784, 100})
    ->Args({256, 784, 100})
    ->Args({32, 100, 10})
    ->Args({256, 100, 10});
BENCHMARK(BM_linear_step_xgrad)
    ->Args({32, 784, 100})
    ->Args({256, 784, 100})
    ->Args({32, 100, 10})
    ->Args({256, 100, 10});
// The seed model's first layer at batch 32 and 256 (forward, weight gradient), the second
// conv of the Keras CNN over 3 and 6 images (one chunk at 1 and 2 threads), and the first
// layer over all 10,000 test images at once (the floor for inference).
BENCHMARK(BM_sgemm_threads)
    ->ArgsProduct({{32}, {100}, {784}, {0}, {1, 2}})
    ->ArgsProduct({{784}, {100}, {32}, {1}, {1, 2}})
    ->ArgsProduct({{256}, {100}, {784}, {0}, {1, 2}})
    ->ArgsProduct({{784}, {100}, {256}, {1}, {1, 2}})
    ->ArgsProduct({{363, 726}, {64}, {288}, {0}, {1, 2}})
    ->ArgsProduct({{10000}, {100}, {784}, {0}, {1, 2}})  // the first layer over the test set
    ->UseRealTime();
BENCHMARK(BM_cnn_layer)
    ->ArgsProduct({{0, 1, 2, 3, 4, 5}, {32, 128}})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_embedding_backward)->ArgsProduct({{1, 4}, {0, 1}})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_add_tiny_nograd);
BENCHMARK(BM_add_tiny_record);
BENCHMARK(BM_add_tiny_record_backward);

BENCHMARK_MAIN();
