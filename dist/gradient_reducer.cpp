#include "dist/gradient_reducer.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "dist/world.h"
#include "framework/backward.h"

namespace xgrad::dist {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct Bucket {
    std::vector<std::size_t> params;  // indices into Impl::params, in order
    std::vector<float> buffer;        // the gradients packed one after the other
    std::size_t waiting = 0;          // gradients of this step not yet packed
    AsyncAllreduce allreduce;
};

}  // namespace

struct GradientReducer::Impl {
    std::vector<Variable> params;
    ReducerOptions options;
    std::vector<Bucket> buckets;
    std::vector<std::size_t> bucket_of, offset_of;  // per parameter
    std::vector<bool> packed;                       // per parameter, this step
    std::unordered_map<const Node<float>*, std::size_t> index_of;
    std::size_t next_to_start = 0;  // buckets start in order, so in the same order everywhere
    float weight = 1;
    ReducerStats stats;

    void pack(std::size_t p) {
        const Node<float>& node = *params[p].node();
        float* out = buckets[bucket_of[p]].buffer.data() + offset_of[p];
        const std::size_t n = node.value.size();
        if (node.has_grad) {
            const float* g = node.grad.data();
            for (std::size_t i = 0; i < n; ++i) out[i] = weight * g[i];
        } else {
            std::fill(out, out + n, 0.0f);
        }
        packed[p] = true;
        --buckets[bucket_of[p]].waiting;
    }

    void start_ready_buckets() {
        while (next_to_start < buckets.size() && buckets[next_to_start].waiting == 0) {
            Bucket& b = buckets[next_to_start++];
            b.allreduce.start(b.buffer.data(), b.buffer.size());
        }
    }

    // Lets MPI progress the reductions in flight (it moves them on inside MPI calls only).
    void progress() {
        for (std::size_t k = 0; k < next_to_start; ++k) buckets[k].allreduce.done();
    }

    void on_leaf_ready(Node<float>& leaf) {
        auto found = index_of.find(&leaf);
        if (found == index_of.end() || packed[found->second]) return;
        const auto start = std::chrono::steady_clock::now();
        pack(found->second);
        if (options.overlap) {
            start_ready_buckets();
            progress();
        }
        stats.exposed_seconds += seconds_since(start);
    }

    void unpack() {
        for (std::size_t p = 0; p < params.size(); ++p) {
            Node<float>& node = *params[p].node();
            const float* in = buckets[bucket_of[p]].buffer.data() + offset_of[p];
            if (!node.has_grad || node.grad.shape() != node.value.shape()) {
                node.grad = Tensor::from_shape(node.value.shape());
            }
            std::copy(in, in + node.value.size(), node.grad.data());
            node.has_grad = true;
            node.grad_node.reset();
        }
    }
};

GradientReducer::GradientReducer(std::vector<Variable> params, ReducerOptions options)
    : impl_(std::make_unique<Impl>()) {
    Impl& s = *impl_;
    if (params.empty()) throw std::invalid_argument("GradientReducer: the parameter list is empty");
    for (std::size_t p = 0; p < params.size(); ++p) {
        if (!params[p].defined()) {
            throw std::invalid_argument("GradientReducer: parameter " + std::to_string(p) +
                                        " is an empty handle");
        }
        if (!params[p].requires_grad()) {
            throw std::invalid_argument("GradientReducer: parameter " + std::to_string(p) +
                                        " does not require a gradient");
        }
        if (!s.index_of.emplace(params[p].node().get(), p).second) {
            throw std::invalid_argument("GradientReducer: parameter " + std::to_string(p) +
                                        " is listed twice");
        }
    }
    s.params = std::move(params);
    s.options = options;
    s.bucket_of.resize(s.params.size());
    s.offset_of.resize(s.params.size());
    s.packed.assign(s.params.size(), false);
    // Last parameters first: backward makes their gradients first.
    std::size_t bytes = 0;
    for (std::size_t p = s.params.size(); p-- > 0;) {
        if (s.buckets.empty() || bytes >= options.bucket_bytes) {
            s.buckets.emplace_back();
            bytes = 0;
        }
        Bucket& b = s.buckets.back();
        s.bucket_of[p] = s.buckets.size() - 1;
        s.offset_of[p] = b.buffer.size();
        b.params.push_back(p);
        b.buffer.resize(b.buffer.size() + s.params[p].size());
        bytes += s.params[p].size() * sizeof(float);
    }
}

GradientReducer::~GradientReducer() = default;

void GradientReducer::backward(const Variable& loss, double weight) {
    Impl& s = *impl_;
    s.weight = float(weight);
    s.next_to_start = 0;
    std::fill(s.packed.begin(), s.packed.end(), false);
    for (auto& b : s.buckets) b.waiting = b.params.size();
    if (loss.defined()) {
        LeafGradReadyHook<float> hook([&s](Node<float>& leaf) { s.on_leaf_ready(leaf); });
        loss.backward();
    }
    const auto start = std::chrono::steady_clock::now();
    // Gradients backward did not reach (unused parameters, or no examples here) add zeros.
    for (std::size_t p = 0; p < s.params.size(); ++p) {
        if (!s.packed[p]) s.pack(p);
    }
    s.start_ready_buckets();
    for (auto& b : s.buckets) b.allreduce.wait();
    s.unpack();
    s.stats.exposed_seconds += seconds_since(start);
    ++s.stats.steps;
}

std::size_t GradientReducer::num_buckets() const {
    return impl_->buckets.size();
}

const ReducerStats& GradientReducer::stats() const {
    return impl_->stats;
}

}  // namespace xgrad::dist
