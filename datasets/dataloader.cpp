#include "datasets/dataloader.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "framework/flush_denormal.h"

namespace xgrad::data {

struct DataLoader::Impl {
    std::shared_ptr<const Dataset> dataset;
    DataLoaderOptions options;
    std::size_t examples = 0;  // per epoch, after drop_last
    std::size_t batches = 0;
    std::uint64_t epoch = 0;
    std::vector<std::size_t> order;  // the current epoch's example order
    std::size_t cursor = 0;          // the batch the next call to next() returns
    std::vector<std::size_t> indices;

    // Prefetch: one worker thread gathers batch `job_batch` into `slot`. `order` is only changed
    // while no job is in flight, so the worker reads it without holding the lock.
    std::thread worker;
    std::mutex mutex;
    std::condition_variable cv;
    bool stop = false;
    bool job_pending = false;
    bool job_done = false;
    std::size_t job_batch = 0;
    Batch slot;
    std::exception_ptr error;
    std::vector<std::size_t> worker_indices;

    void batch_indices(std::size_t b, std::vector<std::size_t>& out) const {
        std::size_t begin = b * options.batch_size;
        std::size_t end = std::min(begin + options.batch_size, examples);
        if (options.num_shards > 1) {  // this shard's slice of the global batch
            const std::size_t n = end - begin, k = options.num_shards, r = options.shard;
            end = begin + n * (r + 1) / k;
            begin += n * r / k;
        }
        out.assign(order.begin() + static_cast<std::ptrdiff_t>(begin),
                   order.begin() + static_cast<std::ptrdiff_t>(end));
    }

    void make_order() {
        if (options.shuffle) {
            order = random_permutation(dataset->size(), options.seed, epoch);
        } else {
            order.resize(dataset->size());
            for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        }
    }

    void work() {
        std::unique_lock lock(mutex);
        for (;;) {
            cv.wait(lock, [&] { return stop || job_pending; });
            if (stop) return;
            const std::size_t b = job_batch;
            lock.unlock();
            std::exception_ptr err;
            try {
                batch_indices(b, worker_indices);
                dataset->get_batch(worker_indices, slot);
            } catch (...) {
                err = std::current_exception();
            }
            lock.lock();
            error = err;
            job_pending = false;
            job_done = true;
            cv.notify_all();
        }
    }

    // Waits for a job in flight and drops its result, so `order` and `cursor` may change.
    void discard_prefetch() {
        if (!options.prefetch) return;
        std::unique_lock lock(mutex);
        cv.wait(lock, [&] { return !job_pending; });
        job_done = false;
        error = nullptr;
    }

    bool next(Batch& out) {
        if (cursor >= batches) return false;
        if (!options.prefetch) {
            batch_indices(cursor, indices);
            dataset->get_batch(indices, out);
            ++cursor;
            return true;
        }
        std::unique_lock lock(mutex);
        if (!job_pending && !job_done) {
            job_batch = cursor;
            job_pending = true;
            cv.notify_all();
        }
        cv.wait(lock, [&] { return job_done; });
        job_done = false;
        if (error) {
            // The cursor stays, so calling next() again retries the same batch.
            auto err = error;
            error = nullptr;
            std::rethrow_exception(err);
        }
        std::swap(out, slot);  // the caller's old buffers become the worker's next target
        ++cursor;
        if (cursor < batches) {
            job_batch = cursor;
            job_pending = true;
            cv.notify_all();
        }
        return true;
    }

    ~Impl() {
        if (!worker.joinable()) return;
        {
            std::lock_guard lock(mutex);
            stop = true;
        }
        cv.notify_all();
        worker.join();
    }
};

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options)
    : impl_(std::make_unique<Impl>()) {
    if (!dataset) throw std::invalid_argument("DataLoader: the dataset is null");
    const std::size_t n = dataset->size();
    if (n == 0) throw std::invalid_argument("DataLoader: the dataset is empty");
    if (options.batch_size == 0) throw std::invalid_argument("DataLoader: batch_size must be > 0");
    if (options.drop_last && options.batch_size > n)
        throw std::invalid_argument("DataLoader: drop_last with batch_size " +
                                    std::to_string(options.batch_size) + " larger than the " +
                                    std::to_string(n) + " examples leaves no batch");
    if (options.num_shards == 0 || options.shard >= options.num_shards) {
        throw std::invalid_argument("DataLoader: shard " + std::to_string(options.shard) + " of " +
                                    std::to_string(options.num_shards) + " shards does not exist");
    }
    if (options.batch_size % options.num_shards != 0) {
        throw std::invalid_argument(
            "DataLoader: the global batch size " + std::to_string(options.batch_size) +
            " is not divisible by the " + std::to_string(options.num_shards) +
            " processes (shards); choose a multiple of " + std::to_string(options.num_shards));
    }
    Impl& s = *impl_;
    s.dataset = std::move(dataset);
    s.options = options;
    s.batches = options.drop_last ? n / options.batch_size
                                  : (n + options.batch_size - 1) / options.batch_size;
    s.examples = options.drop_last ? s.batches * options.batch_size : n;
    s.make_order();
    if (options.prefetch) {
        s.worker = std::thread([&s] {
            FlushDenormalGuard flush;  // computes like the thread it works for
            s.work();
        });
    }
}

DataLoader::~DataLoader() = default;
DataLoader::DataLoader(DataLoader&&) noexcept = default;
DataLoader& DataLoader::operator=(DataLoader&&) noexcept = default;

std::size_t DataLoader::num_batches() const {
    return impl_->batches;
}
std::size_t DataLoader::size() const {
    return impl_->examples;
}
const DataLoaderOptions& DataLoader::options() const {
    return impl_->options;
}
const Dataset& DataLoader::dataset() const {
    return *impl_->dataset;
}
std::uint64_t DataLoader::epoch() const {
    return impl_->epoch;
}
std::size_t DataLoader::batch_index() const {
    return impl_->cursor;
}

void DataLoader::set_epoch(std::uint64_t epoch) {
    impl_->discard_prefetch();
    impl_->epoch = epoch;
    impl_->make_order();
    impl_->cursor = 0;
}

void DataLoader::reset() {
    impl_->discard_prefetch();
    impl_->cursor = 0;
}

bool DataLoader::next(Batch& out) {
    return impl_->next(out);
}

}  // namespace xgrad::data
