#include <doctest/doctest.h>

#include <algorithm>

#include "tests/datasets/helpers.h"
#include "xgrad.h"

using namespace xgrad;
using namespace xgrad::data;

namespace {

// A user-defined dataset: example i is the 1x2 input {i, -i} with label i % 3. Optionally fails
// on one index, to test error propagation.
class Counting : public Dataset {
  public:
    explicit Counting(std::size_t n, std::size_t fail_at = SIZE_MAX) : n_(n), fail_at_(fail_at) {}
    std::size_t size() const override { return n_; }
    std::vector<Shape> input_shapes() const override { return {{1, 2}}; }
    std::vector<Shape> target_shapes() const override { return {{}}; }
    std::size_t num_classes() const override { return 3; }
    std::int64_t label(std::size_t i) const override { return static_cast<std::int64_t>(i % 3); }
    void get_batch(const std::vector<std::size_t>& indices, Batch& out) const override {
        check_indices(indices, n_, "Counting");
        prepare_batch(out, indices.size(), input_shapes(), target_shapes());
        for (std::size_t k = 0; k < indices.size(); ++k) {
            if (indices[k] == fail_at_)
                throw std::runtime_error("Counting: example " + std::to_string(fail_at_) +
                                         " is unreadable");
            out.input()(k, 0, 0) = static_cast<float>(indices[k]);
            out.input()(k, 0, 1) = -static_cast<float>(indices[k]);
            out.target()(k) = static_cast<float>(label(indices[k]));
        }
    }

  private:
    std::size_t n_, fail_at_;
};

// The example indices of every batch of one epoch (read back from the inputs).
std::vector<std::vector<std::size_t>> epoch_batches(DataLoader& loader) {
    std::vector<std::vector<std::size_t>> out;
    Batch b;
    while (loader.next(b)) {
        std::vector<std::size_t> ids;
        for (std::size_t k = 0; k < b.target().size(); ++k) {
            const auto i = static_cast<std::size_t>(b.input()(k, 0, 0));
            CHECK(b.input()(k, 0, 1) == -b.input()(k, 0, 0));
            CHECK(b.target()(k) == static_cast<float>(i % 3));
            ids.push_back(i);
        }
        out.push_back(ids);
    }
    return out;
}

std::vector<std::size_t> flatten(const std::vector<std::vector<std::size_t>>& batches) {
    std::vector<std::size_t> out;
    for (const auto& b : batches) out.insert(out.end(), b.begin(), b.end());
    return out;
}

}  // namespace

TEST_CASE("a user-defined dataset through the DataLoader, in order, with a last partial batch") {
    DataLoader loader(std::make_shared<Counting>(10), {.batch_size = 4, .shuffle = false});
    CHECK(loader.num_batches() == 3);
    CHECK(loader.size() == 10);
    const auto batches = epoch_batches(loader);
    REQUIRE(batches.size() == 3);
    CHECK(batches[0] == std::vector<std::size_t>{0, 1, 2, 3});
    CHECK(batches[1] == std::vector<std::size_t>{4, 5, 6, 7});
    CHECK(batches[2] == std::vector<std::size_t>{8, 9});
    Batch b;
    CHECK_FALSE(loader.next(b));  // stays at the end until reset or set_epoch
    loader.reset();
    CHECK(loader.batch_index() == 0);
    REQUIRE(loader.next(b));
    CHECK(to_shape(b.input().shape()) == Shape{4, 1, 2});
    CHECK(b.input()(3, 0, 0) == 3.f);
}

TEST_CASE("drop_last and a batch larger than the dataset") {
    auto d = std::make_shared<Counting>(10);
    DataLoader dropping(d, {.batch_size = 4, .shuffle = false, .drop_last = true});
    CHECK(dropping.num_batches() == 2);
    CHECK(dropping.size() == 8);
    CHECK(flatten(epoch_batches(dropping)) == std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7});

    DataLoader big(d, {.batch_size = 32});
    CHECK(big.num_batches() == 1);
    CHECK(big.size() == 10);
    const auto batches = epoch_batches(big);
    REQUIRE(batches.size() == 1);
    CHECK(batches[0].size() == 10);

    DataLoader exact(d, {.batch_size = 5, .drop_last = true});
    CHECK(exact.num_batches() == 2);
    CHECK_ERROR_CONTAINS(std::invalid_argument,
                         DataLoader(d, {.batch_size = 11, .drop_last = true}),
                         "drop_last with batch_size 11 larger than the 10 examples");
}

TEST_CASE("DataLoader rejects batch_size 0, an empty dataset and null") {
    CHECK_THROWS_WITH_AS(DataLoader(std::make_shared<Counting>(3), {.batch_size = 0}),
                         "DataLoader: batch_size must be > 0", std::invalid_argument);
    CHECK_THROWS_WITH_AS(DataLoader(std::make_shared<Counting>(0)),
                         "DataLoader: the dataset is empty", std::invalid_argument);
    CHECK_THROWS_AS(DataLoader(nullptr), std::invalid_argument);
}

TEST_CASE("shuffling: the order of an epoch depends only on (seed, epoch)") {
    auto d = std::make_shared<Counting>(50);
    DataLoader a(d, {.batch_size = 8, .seed = 42});
    DataLoader b(d, {.batch_size = 8, .seed = 42});
    a.set_epoch(3);
    b.set_epoch(3);
    const auto a3 = flatten(epoch_batches(a));
    CHECK(flatten(epoch_batches(b)) == a3);
    auto sorted = a3;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 0; i < 50; ++i) CHECK(sorted[i] == i);  // each example once
    std::vector<std::size_t> identity(50);
    for (std::size_t i = 0; i < 50; ++i) identity[i] = i;
    CHECK(a3 != identity);

    a.set_epoch(4);
    const auto a4 = flatten(epoch_batches(a));
    CHECK(a4 != a3);
    // Resuming: a fresh loader jumped straight to epoch 4 sees the same order.
    DataLoader resumed(d, {.batch_size = 8, .seed = 42});
    resumed.set_epoch(4);
    CHECK(resumed.epoch() == 4);
    CHECK(flatten(epoch_batches(resumed)) == a4);
    a.reset();  // restarting an epoch repeats its order
    CHECK(flatten(epoch_batches(a)) == a4);

    DataLoader other_seed(d, {.batch_size = 8, .seed = 43});
    other_seed.set_epoch(3);
    CHECK(flatten(epoch_batches(other_seed)) != a3);
}

TEST_CASE("DataLoader reuses the caller's batch buffers between full batches") {
    DataLoader loader(std::make_shared<Counting>(12), {.batch_size = 4});
    Batch b;
    REQUIRE(loader.next(b));
    const float* p = b.input().data();
    REQUIRE(loader.next(b));
    CHECK(b.input().data() == p);
}

TEST_CASE("prefetch gives the same batches as no prefetch") {
    auto d = std::make_shared<Counting>(37);
    for (bool drop_last : {false, true}) {
        CAPTURE(drop_last);
        DataLoader plain(d, {.batch_size = 5, .seed = 9, .drop_last = drop_last});
        DataLoader ahead(d, {.batch_size = 5, .seed = 9, .drop_last = drop_last, .prefetch = true});
        for (std::uint64_t epoch : {0, 1, 5}) {
            plain.set_epoch(epoch);
            ahead.set_epoch(epoch);
            CHECK(epoch_batches(ahead) == epoch_batches(plain));
        }
        // Reset in the middle of an epoch, with a batch in flight.
        Batch b;
        ahead.set_epoch(2);
        REQUIRE(ahead.next(b));
        REQUIRE(ahead.next(b));
        ahead.reset();
        plain.set_epoch(2);
        CHECK(epoch_batches(ahead) == epoch_batches(plain));
        // A loader destroyed mid-epoch joins its thread (the test would hang otherwise).
        DataLoader abandoned(d, {.batch_size = 5, .prefetch = true});
        REQUIRE(abandoned.next(b));
    }
    DataLoader moved_from(d, {.batch_size = 5, .seed = 9, .prefetch = true});
    DataLoader moved = std::move(moved_from);
    DataLoader plain(d, {.batch_size = 5, .seed = 9});
    CHECK(epoch_batches(moved) == epoch_batches(plain));
}

TEST_CASE("prefetching loaders share one dataset of each kind across threads") {
    // Two worker threads and the caller read one dataset at once, as Dataset's contract allows
    // (immutable, every method const); scripts/test --tsan checks that no access races.
    const auto mnist =
        std::make_shared<MNIST>(test_data::write_mnist_dir("mnist_shared", true), Split::train);
    Tensor x = xt::arange<float>(40.f);
    x.reshape({20, 2});
    const std::vector<std::pair<std::string, std::shared_ptr<const Dataset>>> datasets = {
        {"MNIST", mnist},
        {"Subset", std::make_shared<Subset>(mnist, std::vector<std::size_t>{3, 1, 4, 15, 9, 2, 6})},
        {"TensorDataset",
         std::make_shared<TensorDataset>(x, IndexTensor(xt::arange<std::int64_t>(20) % 3))},
        {"Counting", std::make_shared<Counting>(37)},
    };
    for (const auto& item : datasets) {
        const std::string& name = item.first;
        const std::shared_ptr<const Dataset>& d = item.second;
        CAPTURE(name);
        DataLoader plain(d, {.batch_size = 3, .seed = 4});
        DataLoader a(d, {.batch_size = 3, .seed = 4, .prefetch = true});
        DataLoader b(d, {.batch_size = 3, .seed = 4, .prefetch = true});
        Batch expected, from_a, from_b;
        std::size_t batches = 0;
        while (plain.next(expected)) {
            REQUIRE(a.next(from_a));
            REQUIRE(b.next(from_b));
            CHECK(d->label(batches % d->size()) >= 0);  // the caller reads while both workers do
            CHECK(from_a.inputs == expected.inputs);
            CHECK(from_a.targets == expected.targets);
            CHECK(from_b.inputs == expected.inputs);
            CHECK(from_b.targets == expected.targets);
            ++batches;
        }
        CHECK(batches == plain.num_batches());
        CHECK_FALSE(a.next(from_a));
        CHECK_FALSE(b.next(from_b));
    }
}

TEST_CASE("an exception in the dataset reaches next(), with and without prefetch") {
    auto d = std::make_shared<Counting>(10, /*fail_at=*/6);
    for (bool prefetch : {false, true}) {
        CAPTURE(prefetch);
        DataLoader loader(d, {.batch_size = 4, .shuffle = false, .prefetch = prefetch});
        Batch b;
        REQUIRE(loader.next(b));
        CHECK_THROWS_WITH_AS(loader.next(b), "Counting: example 6 is unreadable",
                             std::runtime_error);
        CHECK(loader.batch_index() == 1);  // the failed batch is retried by the next call
        CHECK_THROWS_AS(loader.next(b), std::runtime_error);
        loader.reset();
        REQUIRE(loader.next(b));
        CHECK(b.input()(0, 0, 0) == 0.f);
    }
}

TEST_CASE("shards: disjoint equal slices of every global batch, together the whole epoch") {
    auto data = std::make_shared<Counting>(70);  // batches of 32, 32 and a last one of 6
    std::vector<std::vector<float>> whole;
    {
        DataLoader loader(data, {.batch_size = 32, .seed = 5});
        loader.set_epoch(3);
        Batch b;
        while (loader.next(b)) {
            whole.emplace_back();
            for (std::size_t k = 0; k < b.size(); ++k) whole.back().push_back(b.input()(k, 0, 0));
        }
    }
    REQUIRE(whole.size() == 3);
    std::vector<std::vector<float>> joined(3);
    for (std::size_t shard = 0; shard < 4; ++shard) {
        DataLoader loader(data, {.batch_size = 32, .seed = 5, .num_shards = 4, .shard = shard});
        CHECK(loader.num_batches() == 3);
        loader.set_epoch(3);
        Batch b;
        for (std::size_t i = 0; loader.next(b); ++i) {
            CHECK(b.size() == (i < 2 ? 8u : (shard % 2 == 0 ? 1u : 2u)));  // 6 = 1 + 2 + 1 + 2
            for (std::size_t k = 0; k < b.size(); ++k) joined[i].push_back(b.input()(k, 0, 0));
        }
    }
    CHECK(joined == whole);  // shard order within each batch: the batch itself
}

TEST_CASE("shards: a global batch not divisible by the shards, and a shard that does not exist") {
    auto data = std::make_shared<Counting>(10);
    CHECK_THROWS_WITH_AS(DataLoader(data, {.batch_size = 5, .num_shards = 2}),
                         "DataLoader: the global batch size 5 is not divisible by the 2 processes "
                         "(shards); choose a multiple of 2",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(DataLoader(data, {.batch_size = 4, .num_shards = 2, .shard = 2}),
                         "DataLoader: shard 2 of 2 shards does not exist", std::invalid_argument);
}
