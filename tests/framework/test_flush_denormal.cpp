#include "framework/flush_denormal.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "xgrad.h"

#if defined(__SSE__) || defined(_M_X64)
#include <xmmintrin.h>
#define XGRAD_TEST_MXCSR 1
#endif

using namespace xgrad;

namespace {

// Sets the switch for one test and puts the default (on) back afterwards.
struct FlushSwitch {
    explicit FlushSwitch(bool on) { set_flush_denormal(on); }
    ~FlushSwitch() { set_flush_denormal(true); }
};

// Half the smallest normal float: a subnormal.
constexpr float kSubnormal = std::numeric_limits<float>::min() / 2;

// What the hardware does now with a subnormal input and a result that underflows (volatile,
// so that the compiler cannot fold the arithmetic away).
float times_one(float x) {
    volatile float a = x, b = 1.0f;
    return a * b;
}
float tiny_product() {
    volatile float a = std::numeric_limits<float>::min(), b = 0.5f;
    return a * b;
}

#ifdef XGRAD_TEST_MXCSR
constexpr unsigned kFtz = 0x8000, kDaz = 0x0040;

unsigned mode_bits() {
    return _mm_getcsr() & (kFtz | kDaz);
}

// Runs a test from a known caller mode and puts the test thread's MXCSR back afterwards.
struct CallerMode {
    unsigned saved = _mm_getcsr();
    explicit CallerMode(unsigned bits) { _mm_setcsr((saved & ~(kFtz | kDaz)) | bits); }
    ~CallerMode() { _mm_setcsr(saved); }
};

// Reads the mode on the thread each batch is gathered on.
class ModeRecordingDataset : public data::TensorDataset {
  public:
    using data::TensorDataset::TensorDataset;
    void get_batch(const std::vector<std::size_t>& indices, data::Batch& out) const override {
        bits = mode_bits();
        data::TensorDataset::get_batch(indices, out);
    }
    mutable unsigned bits = ~0u;  // not yet called
};

// Reads the mode inside fit, where callbacks run.
struct ModeRecordingCallback : nn::Callback {
    unsigned bits = ~0u;  // not yet called
    void on_epoch_end(nn::Trainer&, std::size_t, const nn::Logs&) override { bits = mode_bits(); }
};
#endif

// Three classes decided by the first 4 features; features 4..7 are tiny (1e-36), so their
// weight gradients are subnormal and flushing changes Adam's moments for them.
std::shared_ptr<data::TensorDataset> tiny_feature_problem(std::size_t n) {
    Rng rng(7);
    std::normal_distribution<float> normal(0.f, 1.f);
    Tensor x = Tensor::from_shape({n, 8});
    IndexTensor y = IndexTensor::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < 8; ++j) x(i, j) = normal(rng) * (j < 4 ? 1.0f : 1e-36f);
        const float s0 = x(i, 0) + x(i, 1), s1 = x(i, 2) - x(i, 3);
        y(i) = s0 > 0.5f ? 0 : (s1 > 0 ? 1 : 2);
    }
    return std::make_shared<data::TensorDataset>(x, y, 3);
}

struct TrainResult {
    double accuracy;
    std::size_t subnormal_moments;  // first-layer Adam moments (m, v) that are subnormal
};

TrainResult train_tiny_feature_problem() {
    manual_seed(3);
    nn::Sequential model;
    model.add(nn::Dense(16, "relu"));
    model.add(nn::Dense(3, "softmax"));
    model.build({8});
    nn::Trainer trainer(model, optim::make_optimizer("adam", model.trainable_parameters(), 0.01),
                        "sparse_categorical_crossentropy", {"accuracy"});
    auto data = tiny_feature_problem(300);
    nn::FitOptions o;
    o.epochs = 15;
    o.batch_size = 16;
    o.verbose = 0;
    trainer.fit(data, o);
    TrainResult r{trainer.evaluate(*data).at("accuracy"), 0};
    for (const auto& [name, t] : trainer.optimizer().state_dict()) {
        if (name.rfind("param.0.", 0) != 0) continue;  // the first kernel's slots
        for (float v : t) r.subnormal_moments += std::fpclassify(v) == FP_SUBNORMAL;
    }
    return r;
}

}  // namespace

TEST_CASE("the flush switch is on by default and can be turned off") {
    CHECK(flush_denormal_enabled());
    {
        FlushSwitch off(false);
        CHECK_FALSE(flush_denormal_enabled());
    }
    CHECK(flush_denormal_enabled());
}

#ifdef XGRAD_TEST_MXCSR

TEST_CASE("FlushDenormalGuard sets FTZ and DAZ and restores the caller's mode") {
    CallerMode caller(0);
    REQUIRE(times_one(kSubnormal) == kSubnormal);  // IEEE gradual underflow outside the guard
    {
        FlushDenormalGuard flush;
        CHECK(mode_bits() == (kFtz | kDaz));
        CHECK(times_one(kSubnormal) == 0.0f);  // DAZ: a subnormal input reads as 0
        CHECK(tiny_product() == 0.0f);         // FTZ: a subnormal result becomes 0
        {
            FlushDenormalGuard nested;
            CHECK(mode_bits() == (kFtz | kDaz));
        }
        CHECK(mode_bits() == (kFtz | kDaz));  // the inner guard restores the outer one's mode
    }
    CHECK(mode_bits() == 0);
    CHECK(times_one(kSubnormal) == kSubnormal);
    CHECK(tiny_product() == std::numeric_limits<float>::min() / 2);
}

TEST_CASE("FlushDenormalGuard restores the caller's mode when an exception passes") {
    CallerMode caller(0);
    CHECK_THROWS_AS(
        [] {
            FlushDenormalGuard flush;
            CHECK(mode_bits() == (kFtz | kDaz));
            throw std::runtime_error("boom");
        }(),
        std::runtime_error);
    CHECK(mode_bits() == 0);
}

TEST_CASE("FlushDenormalGuard puts back exactly the caller's bits, keeping the rest") {
    CallerMode caller(kFtz);  // a caller that flushes results but not inputs
    const unsigned rounding_before = _mm_getcsr() & 0x6000;
    {
        FlushDenormalGuard flush;
        CHECK(mode_bits() == (kFtz | kDaz));
    }
    CHECK(mode_bits() == kFtz);
    CHECK((_mm_getcsr() & 0x6000) == rounding_before);
}

TEST_CASE("with the switch off the guard leaves MXCSR alone") {
    FlushSwitch off(false);
    for (unsigned bits : {0u, kFtz | kDaz}) {
        CallerMode caller(bits);
        const unsigned before = _mm_getcsr();
        {
            FlushDenormalGuard flush;
            CHECK(_mm_getcsr() == before);
        }
        CHECK(_mm_getcsr() == before);
    }
    CallerMode caller(0);
    FlushDenormalGuard flush;
    CHECK(times_one(kSubnormal) == kSubnormal);
}

TEST_CASE("fit runs with subnormals flushed, and restores the caller's mode") {
    CallerMode caller(0);
    for (bool on : {true, false}) {
        FlushSwitch sw(on);
        manual_seed(1);
        nn::Sequential model;
        model.add(nn::Dense(3, "softmax"));
        model.build({8});
        nn::Trainer trainer(model, optim::make_optimizer("adam", model.trainable_parameters()),
                            "sparse_categorical_crossentropy");
        auto callback = std::make_shared<ModeRecordingCallback>();
        nn::FitOptions o;
        o.epochs = 1;
        o.batch_size = 32;
        o.verbose = 0;
        o.callbacks.push_back(callback);
        trainer.fit(tiny_feature_problem(64), o);
        CHECK(callback->bits == (on ? kFtz | kDaz : 0u));
        CHECK(mode_bits() == 0);
    }
}

TEST_CASE("the DataLoader's prefetch thread runs with subnormals flushed") {
    CallerMode caller(0);  // the loader is made outside any guard
    auto base = tiny_feature_problem(8);
    for (bool on : {true, false}) {
        FlushSwitch sw(on);
        auto data = std::make_shared<ModeRecordingDataset>(base->inputs(), base->targets());
        data::DataLoader loader(data, {.batch_size = 4, .shuffle = false, .prefetch = true});
        data::Batch batch;
        REQUIRE(loader.next(batch));
        CHECK(data->bits == (on ? kFtz | kDaz : 0u));
    }
}

TEST_CASE("training with and without flushing reaches the same accuracy") {
    TrainResult flushed, exact;
    {
        FlushSwitch on(true);
        flushed = train_tiny_feature_problem();
    }
    {
        FlushSwitch off(false);
        exact = train_tiny_feature_problem();
    }
    // The problem does exercise subnormals: without flushing, Adam keeps some moments of the
    // tiny features' weights in the subnormal range; with it, none.
    CHECK(exact.subnormal_moments > 0);
    CHECK(flushed.subnormal_moments == 0);
    CHECK(flushed.accuracy > 0.9);
    CHECK(flushed.accuracy == exact.accuracy);
}

#endif
