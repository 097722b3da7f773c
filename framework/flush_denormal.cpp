#include "framework/flush_denormal.h"

#include <atomic>

#if defined(__SSE__) || defined(_M_X64)
#include <xmmintrin.h>
#define XGRAD_HAS_MXCSR 1
#endif

namespace xgrad {

namespace {

std::atomic<bool> flush_enabled{true};

#ifdef XGRAD_HAS_MXCSR
constexpr unsigned kFlushToZero = 0x8000;       // MXCSR bit 15 (_MM_FLUSH_ZERO_ON)
constexpr unsigned kDenormalsAreZero = 0x0040;  // MXCSR bit 6 (_MM_DENORMALS_ZERO_ON)
constexpr unsigned kModeBits = kFlushToZero | kDenormalsAreZero;
#endif

}  // namespace

void set_flush_denormal(bool enabled) {
    flush_enabled.store(enabled, std::memory_order_relaxed);
}

bool flush_denormal_enabled() {
    return flush_enabled.load(std::memory_order_relaxed);
}

FlushDenormalGuard::FlushDenormalGuard() {
#ifdef XGRAD_HAS_MXCSR
    if (!flush_denormal_enabled()) return;
    const unsigned csr = _mm_getcsr();
    previous_ = csr & kModeBits;
    active_ = previous_ != kModeBits;
    if (active_) _mm_setcsr(csr | kModeBits);
#endif
}

FlushDenormalGuard::~FlushDenormalGuard() {
#ifdef XGRAD_HAS_MXCSR
    // Only the mode bits go back: the rest of MXCSR (exception flags) reports what happened.
    if (active_) _mm_setcsr((_mm_getcsr() & ~kModeBits) | previous_);
#endif
}

}  // namespace xgrad
