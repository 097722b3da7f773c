// The one CBLAS call behind matmul, linear and conv2d (internal; not installed).
#pragma once

#include <cblas.h>

#include <algorithm>
#include <cstddef>
#include <type_traits>

namespace xgrad {

// Row-major C = op(A) op(B) + beta C with C of shape (m, n) and leading dimension n; op(A) is
// (m, k) and op(B) is (k, n). The transpose flags let backward use A^T and B^T in place.
template <class T>
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, const T* a,
          const T* b, T beta, T* c) {
    if (m == 0 || n == 0) return;
    if (k == 0) {  // an empty sum; BLAS rejects a leading dimension of 0
        if (beta == T(0)) std::fill(c, c + m * n, T(0));
        return;
    }
    const auto ta = trans_a ? CblasTrans : CblasNoTrans;
    const auto tb = trans_b ? CblasTrans : CblasNoTrans;
    const auto lda = static_cast<blasint>(trans_a ? m : k);
    const auto ldb = static_cast<blasint>(trans_b ? k : n);
    const auto M = static_cast<blasint>(m), N = static_cast<blasint>(n);
    const auto K = static_cast<blasint>(k);
    if constexpr (std::is_same_v<T, float>) {
        cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, 1.0f, a, lda, b, ldb, beta, c, N);
    } else {
        cblas_dgemm(CblasRowMajor, ta, tb, M, N, K, 1.0, a, lda, b, ldb, beta, c, N);
    }
}

}  // namespace xgrad
