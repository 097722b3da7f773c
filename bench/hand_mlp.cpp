// The practical floor: the seed model (784-100-10, relu, softmax cross-entropy, Adam) trained
// by a hand-written loop over CBLAS sgemm, with no framework. bench/compare_pytorch runs it
// beside xgrad and PyTorch.
//
//   hand_mlp [--data-dir DIR] [--epochs N] [--batch-size N] [--threads N] [--seed N]
//            [--flush-denormal 0|1]
#include <cblas.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/bench_flags.h"

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

namespace {

std::vector<std::uint8_t> read_gz(const std::string& path, std::size_t header_bytes) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) throw std::runtime_error("cannot open " + path);
    std::vector<std::uint8_t> data;
    std::vector<std::uint8_t> chunk(1 << 20);
    int n;
    while ((n = gzread(f, chunk.data(), static_cast<unsigned>(chunk.size()))) > 0) {
        data.insert(data.end(), chunk.begin(), chunk.begin() + n);
    }
    gzclose(f);
    if (data.size() < header_bytes) throw std::runtime_error("truncated " + path);
    return std::vector<std::uint8_t>(data.begin() + header_bytes, data.end());
}

// Adam with the Keras formulation (epsilon outside the square root, bias-corrected rate).
struct AdamState {
    std::vector<float> m, v;
    void step(float* w, const float* g, std::size_t n, long t) {
        if (m.empty()) m.assign(n, 0.f), v.assign(n, 0.f);
        const float b1 = 0.9f, b2 = 0.999f, eps = 1e-7f;
        const float rate =
            1e-3f * std::sqrt(1.f - std::pow(b2, float(t))) / (1.f - std::pow(b1, float(t)));
        for (std::size_t i = 0; i < n; ++i) {
            m[i] = b1 * m[i] + (1 - b1) * g[i];
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
            w[i] -= rate * m[i] / (std::sqrt(v[i]) + eps);
        }
    }
};

struct Mlp {
    static constexpr int D = 784, H = 100, C = 10;
    std::vector<float> w1 = std::vector<float>(D * H), b1 = std::vector<float>(H),
                       w2 = std::vector<float>(H * C), b2 = std::vector<float>(C);

    // hidden = relu(x w1 + b1), out = hidden w2 + b2, for `rows` rows.
    void forward(const float* x, int rows, float* hidden, float* out) const {
        for (int r = 0; r < rows; ++r) std::copy(b1.begin(), b1.end(), hidden + r * H);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, H, D, 1.f, x, D, w1.data(), H,
                    1.f, hidden, H);
        for (int i = 0; i < rows * H; ++i) hidden[i] = std::max(hidden[i], 0.f);
        for (int r = 0; r < rows; ++r) std::copy(b2.begin(), b2.end(), out + r * C);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, C, H, 1.f, hidden, H,
                    w2.data(), C, 1.f, out, C);
    }
};

int argmax_row(const float* p, int n) {
    return int(std::max_element(p, p + n) - p);
}

}  // namespace

int main(int argc, char** argv) {
    xgrad::bench::BenchFlags flags;
    if (!xgrad::bench::parse_bench_flags(argc, argv, flags)) return 2;
    if (flags.train_images != 0) {
        std::fprintf(stderr, "error: hand_mlp has no --train-images (it trains on all images)\n");
        return 2;
    }
    const std::string dir =
        flags.data_dir.empty() ? "/usr/share/datasets/fashion-mnist" : flags.data_dir;
    const int epochs = flags.epochs, batch = flags.batch_size, threads = flags.threads;
    const auto seed = unsigned(flags.seed);
    openblas_set_num_threads(threads);
    // The same arithmetic as xgrad's default: flush-to-zero and denormals-are-zero in MXCSR.
#if defined(__SSE__)
    if (flags.flush_denormal) _mm_setcsr(_mm_getcsr() | 0x8040);
#endif
    const auto train_x = read_gz(dir + "/train-images-idx3-ubyte.gz", 16);
    const auto train_y = read_gz(dir + "/train-labels-idx1-ubyte.gz", 8);
    const auto test_x8 = read_gz(dir + "/t10k-images-idx3-ubyte.gz", 16);
    const auto test_y = read_gz(dir + "/t10k-labels-idx1-ubyte.gz", 8);
    const int n = int(train_y.size()), n_test = int(test_y.size());
    constexpr int D = Mlp::D, H = Mlp::H, C = Mlp::C;

    Mlp net;
    std::mt19937 rng(seed);
    auto glorot = [&](std::vector<float>& w, int fan_in, int fan_out) {
        const float limit = std::sqrt(6.f / float(fan_in + fan_out));
        std::uniform_real_distribution<float> u(-limit, limit);
        for (auto& v : w) v = u(rng);
    };
    glorot(net.w1, D, H);
    glorot(net.w2, H, C);

    std::vector<float> x(batch * D), hidden(batch * H), out(batch * C), d_hidden(batch * H);
    std::vector<float> g_w1(D * H), g_b1(H), g_w2(H * C), g_b2(C);
    AdamState a_w1, a_b1, a_w2, a_b2;
    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    long t = 0;
    for (int epoch = 0; epoch < epochs; ++epoch) {
        const auto start = std::chrono::steady_clock::now();
        std::shuffle(order.begin(), order.end(), rng);
        double loss_sum = 0;
        for (int s = 0; s < n; s += batch) {
            const int b = std::min(batch, n - s);
            for (int r = 0; r < b; ++r) {
                const std::uint8_t* src = &train_x[std::size_t(order[s + r]) * D];
                for (int k = 0; k < D; ++k) x[r * D + k] = src[k] * (1.f / 255.f);
            }
            net.forward(x.data(), b, hidden.data(), out.data());
            // Softmax cross-entropy; `out` becomes d loss / d logits.
            for (int r = 0; r < b; ++r) {
                float* z = &out[r * C];
                const float m = *std::max_element(z, z + C);
                float sum = 0;
                for (int c = 0; c < C; ++c) sum += (z[c] = std::exp(z[c] - m));
                const int y = train_y[order[s + r]];
                loss_sum -= std::log(z[y] / sum);
                for (int c = 0; c < C; ++c) z[c] = (z[c] / sum - (c == y ? 1.f : 0.f)) / float(b);
            }
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, C, b, 1.f, hidden.data(), H,
                        out.data(), C, 0.f, g_w2.data(), C);
            std::fill(g_b2.begin(), g_b2.end(), 0.f);
            for (int r = 0; r < b; ++r)
                for (int c = 0; c < C; ++c) g_b2[c] += out[r * C + c];
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, H, C, 1.f, out.data(), C,
                        net.w2.data(), C, 0.f, d_hidden.data(), H);
            for (int i = 0; i < b * H; ++i)
                if (hidden[i] <= 0) d_hidden[i] = 0;
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, D, H, b, 1.f, x.data(), D,
                        d_hidden.data(), H, 0.f, g_w1.data(), H);
            std::fill(g_b1.begin(), g_b1.end(), 0.f);
            for (int r = 0; r < b; ++r)
                for (int c = 0; c < H; ++c) g_b1[c] += d_hidden[r * H + c];
            ++t;
            a_w1.step(net.w1.data(), g_w1.data(), g_w1.size(), t);
            a_b1.step(net.b1.data(), g_b1.data(), g_b1.size(), t);
            a_w2.step(net.w2.data(), g_w2.data(), g_w2.size(), t);
            a_b2.step(net.b2.data(), g_b2.data(), g_b2.size(), t);
        }
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

        // Test accuracy, batched through the same forward.
        const auto infer_start = std::chrono::steady_clock::now();
        std::vector<float> tx(std::size_t(n_test) * D), th(std::size_t(n_test) * H),
            to(std::size_t(n_test) * C);
        for (std::size_t i = 0; i < tx.size(); ++i) tx[i] = test_x8[i] * (1.f / 255.f);
        net.forward(tx.data(), n_test, th.data(), to.data());
        int correct = 0;
        for (int r = 0; r < n_test; ++r)
            correct += argmax_row(&to[std::size_t(r) * C], C) == test_y[r];
        const double infer =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - infer_start).count();
        std::printf("epoch %d train_time %.3fs loss %.4f test_acc %.4f infer_images_per_s %.0f\n",
                    epoch + 1, seconds, loss_sum / n, double(correct) / n_test, n_test / infer);
        std::fflush(stdout);
    }
    return 0;
}
