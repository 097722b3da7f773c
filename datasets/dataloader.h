// DataLoader: batches of a Dataset in a reproducible (shuffled) order, optionally gathering the
// next batch on a background thread while the caller trains on the current one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "datasets/dataset.h"

namespace xgrad::data {

struct DataLoaderOptions {
    std::size_t batch_size = 32;
    bool shuffle = true;
    std::uint64_t seed = 0;
    // Skip the last partial batch.
    bool drop_last = false;
    // Gather batch k+1 on a background thread while the caller uses batch k.
    bool prefetch = false;
    // Data-parallel training (PyTorch's DistributedSampler): batch_size is the global batch,
    // and this loader yields shard `shard` of `num_shards` equal slices of each batch (of a
    // last partial batch, slices that differ by at most one example, possibly none). Every
    // process sees the same batches in the same order, so the shards of an epoch are disjoint.
    std::size_t num_shards = 1;
    std::size_t shard = 0;
};

// Typical loop:
//   DataLoader loader(train, {.batch_size = 32, .seed = 42});
//   Batch batch;
//   for (std::uint64_t epoch = 0; epoch < epochs; ++epoch) {
//       loader.set_epoch(epoch);
//       while (loader.next(batch)) { ... batch.inputs, batch.labels ... }
//   }
class DataLoader {
  public:
    // Throws std::invalid_argument for a null or empty dataset, batch_size 0, drop_last with a
    // batch larger than the dataset (no batch at all), shard >= num_shards, or a batch_size
    // not divisible by num_shards.
    explicit DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options = {});
    ~DataLoader();
    DataLoader(DataLoader&&) noexcept;
    DataLoader& operator=(DataLoader&&) noexcept;
    DataLoader(const DataLoader&) = delete;
    DataLoader& operator=(const DataLoader&) = delete;

    // Batches per epoch: ceil(n / batch_size), or floor with drop_last (the same for every shard).
    std::size_t num_batches() const;
    // Examples per epoch (after drop_last), over all shards.
    std::size_t size() const;
    const DataLoaderOptions& options() const;
    const Dataset& dataset() const;

    // Starts epoch `epoch` from its first batch. With shuffle, the order of epoch e depends only
    // on (seed, e), so a run resumed at epoch e sees the same batches as an uninterrupted one.
    void set_epoch(std::uint64_t epoch);
    std::uint64_t epoch() const;
    // Restarts the current epoch (same order).
    void reset();
    // Fills `out` with the next batch (reusing its buffers) and returns true; returns false once
    // the epoch is over (and keeps returning false until set_epoch or reset). An exception thrown
    // by the dataset, also on the prefetch thread, is rethrown here.
    bool next(Batch& out);
    // Index of the batch the next call to next() returns.
    std::size_t batch_index() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace xgrad::data
