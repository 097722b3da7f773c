// Data pipeline costs: loading and decompressing Fashion-MNIST (target: well under 2 s for the
// four files), gathering random batches, and one loader epoch. Release build only.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>
#include <random>

#include "xgrad.h"

using namespace xgrad::data;

namespace {

const std::string kDir = FashionMNIST::default_dir;

bool have_data(benchmark::State& state) {
    if (std::filesystem::exists(kDir + "/train-images-idx3-ubyte.gz")) return true;
    state.SkipWithError("Fashion-MNIST is not installed (Debian package dataset-fashion-mnist)");
    return false;
}

const std::shared_ptr<FashionMNIST>& train_set() {
    static auto train = std::make_shared<FashionMNIST>(kDir, Split::train);
    return train;
}

// Both splits: the four files, read and gunzipped.
void BM_LoadFashionMNIST(benchmark::State& state) {
    if (!have_data(state)) return;
    for (auto _ : state) {
        FashionMNIST train(kDir, Split::train);
        FashionMNIST test(kDir, Split::test);
        benchmark::DoNotOptimize(train.pixels().data());
        benchmark::DoNotOptimize(test.pixels().data());
    }
}
BENCHMARK(BM_LoadFashionMNIST)->Unit(benchmark::kMillisecond)->UseRealTime();

// The biggest file alone (26 MB gzip -> 47 MB).
void BM_ReadIdxTrainImages(benchmark::State& state) {
    if (!have_data(state)) return;
    for (auto _ : state) {
        auto a = read_idx(kDir + "/train-images-idx3-ubyte.gz");
        benchmark::DoNotOptimize(a.data.data());
        state.SetBytesProcessed(state.bytes_processed() + static_cast<std::int64_t>(a.data.size()));
    }
}
BENCHMARK(BM_ReadIdxTrainImages)->Unit(benchmark::kMillisecond)->UseRealTime();

// get_batch of `batch` random training indices into a reused Batch.
void BM_GetBatch(benchmark::State& state) {
    if (!have_data(state)) return;
    const auto& train = train_set();
    const auto batch = static_cast<std::size_t>(state.range(0));
    std::mt19937_64 rng(1);
    std::vector<std::vector<std::size_t>> index_sets(64, std::vector<std::size_t>(batch));
    for (auto& s : index_sets)
        for (auto& i : s) i = rng() % train->size();
    Batch out;
    std::size_t k = 0;
    for (auto _ : state) {
        train->get_batch(index_sets[k++ % index_sets.size()], out);
        benchmark::DoNotOptimize(out.input().data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
}
BENCHMARK(BM_GetBatch)->Arg(32)->Arg(256)->Unit(benchmark::kMicrosecond);

// One shuffled epoch of the 60,000 training images through a DataLoader (no training work).
void BM_LoaderEpoch(benchmark::State& state) {
    if (!have_data(state)) return;
    DataLoaderOptions options;
    options.batch_size = static_cast<std::size_t>(state.range(0));
    options.prefetch = state.range(1) != 0;
    DataLoader loader(train_set(), options);
    Batch out;
    std::uint64_t epoch = 0;
    for (auto _ : state) {
        loader.set_epoch(epoch++);
        while (loader.next(out)) benchmark::DoNotOptimize(out.input().data());
    }
}
BENCHMARK(BM_LoaderEpoch)
    ->ArgNames({"batch", "prefetch"})
    ->Args({32, 0})
    ->Args({256, 0})
    ->Args({32, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
