// Computing with subnormal floats flushed to zero, as TensorFlow (and so Keras) does.
//
// Intel cores take on the order of a hundred cycles for an arithmetic operation on a subnormal
// (|x| < 1.18e-38 in float32); Adam's moments of weights whose gradient is always zero decay
// into that range, and training slowed down threefold. With the switch on (the default),
// FlushDenormalGuard sets flush-to-zero (FTZ: subnormal results become 0) and
// denormals-are-zero (DAZ: subnormal inputs are read as 0) in the calling thread's MXCSR.
// Trainer::fit/evaluate/predict, Optimizer::step and the DataLoader's prefetch thread hold one;
// wrap your own training loop in one as well:
//
//   xgrad::FlushDenormalGuard flush;   // FTZ + DAZ until the end of the scope
//   for (...) { loss = ...; loss.backward(); opt.step(); }
//
//   xgrad::set_flush_denormal(false);  // bit-exact IEEE subnormals everywhere (slower)
//
// x86 only (SSE's MXCSR); elsewhere the guard does nothing. The mode is per thread: threads
// started inside a guard inherit it, threads started before do not. OpenBLAS's worker threads
// are started when the library loads, so they keep the default mode: their share of a
// multi-threaded GEMM computes with subnormals (Debian's OpenBLAS is built without
// CONSISTENT_FPCSR, which would copy the caller's MXCSR into every job).
#pragma once

namespace xgrad {

// The process-wide switch, read by each guard when it is constructed. On by default.
void set_flush_denormal(bool enabled);
bool flush_denormal_enabled();

// RAII: while the switch is on, sets FTZ and DAZ for the calling thread and on destruction
// (also by an exception) puts the caller's two mode bits back; exception flags raised in
// between stay raised. With the switch off it leaves MXCSR alone.
class FlushDenormalGuard {
  public:
    FlushDenormalGuard();
    ~FlushDenormalGuard();
    FlushDenormalGuard(const FlushDenormalGuard&) = delete;
    FlushDenormalGuard& operator=(const FlushDenormalGuard&) = delete;

  private:
    unsigned previous_ = 0;  // the caller's FTZ and DAZ bits
    bool active_ = false;    // whether the constructor changed MXCSR
};

}  // namespace xgrad
