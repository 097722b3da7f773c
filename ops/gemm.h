// The one CBLAS call behind matmul, linear and conv2d (internal; not installed).
#pragma once

#include <cblas.h>

#include <algorithm>
#include <cstddef>
#include <type_traits>

namespace xgrad {

// Products with fewer multiply-adds than this run on one thread whatever the BLAS thread
// count. Measured with OpenBLAS 0.3.21 on the 2-core build machine (bench/bench_ops,
// BM_sgemm_threads; the 2-thread figures vary from run to run): below about 10 million
// multiply-adds 2 threads gained little or lost, up to 3x as long for the 784 x 100 weight
// gradient of a batch of 32 (2.5 million); from about 13 million up they were 1.7x faster in
// most runs (a batch of 256 through 784 x 100 is 20 million).
constexpr double kThreadedGemmMin = 12e6;

// The number of threads BLAS runs on (openblas_set_num_threads, OPENBLAS_NUM_THREADS).
inline int blas_threads() {
    return std::max(1, openblas_get_num_threads());
}

// Row-major C = alpha op(A) op(B) + beta C with C of shape (m, n) and explicit leading
// dimensions (row strides), so that a matrix can be a column block of a wider one (one
// attention head of a (time, heads * dim) tensor).
template <class T>
void gemm_strided(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha,
                  const T* a, std::size_t lda, const T* b, std::size_t ldb, T beta, T* c,
                  std::size_t ldc) {
    if (m == 0 || n == 0) return;
    if (k == 0) {  // an empty sum; BLAS rejects a leading dimension of 0
        for (std::size_t i = 0; i < m; ++i) {
            for (std::size_t j = 0; j < n; ++j)
                c[i * ldc + j] = beta == T(0) ? T(0) : beta * c[i * ldc + j];
        }
        return;
    }
    const auto ta = trans_a ? CblasTrans : CblasNoTrans;
    const auto tb = trans_b ? CblasTrans : CblasNoTrans;
    const auto M = static_cast<blasint>(m), N = static_cast<blasint>(n);
    const auto K = static_cast<blasint>(k);
    // OpenBLAS splits every product above about 262,000 multiply-adds over all its threads.
    // For the products of a small batch (32 x 784 x 100) handing half to a second thread
    // costs more than it saves, so those run on the calling thread alone. (The count is
    // process-wide: like the rest of a training step, this assumes one thread drives BLAS.)
    const int threads = blas_threads();
    const bool alone = threads > 1 && double(m) * double(n) * double(k) < kThreadedGemmMin;
    if (alone) openblas_set_num_threads(1);
    if constexpr (std::is_same_v<T, float>) {
        cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, a, static_cast<blasint>(lda), b,
                    static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
    } else {
        cblas_dgemm(CblasRowMajor, ta, tb, M, N, K, alpha, a, static_cast<blasint>(lda), b,
                    static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
    }
    if (alone) openblas_set_num_threads(threads);
}

// Row-major C = op(A) op(B) + beta C with C of shape (m, n) and leading dimension n; op(A) is
// (m, k) and op(B) is (k, n). The transpose flags let backward use A^T and B^T in place.
template <class T>
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, const T* a,
          const T* b, T beta, T* c) {
    gemm_strided<T>(trans_a, trans_b, m, n, k, T(1), a, trans_a ? m : k, b, trans_b ? k : n, beta,
                    c, n);
}

}  // namespace xgrad
