// The example programs under mpirun train data-parallel (dist/): process 0 alone prints and
// writes files, and a process that fails ends the whole run.
#pragma once

#include <iostream>

#include "dist/world.h"

namespace xgrad::examples {

// Process 0 alone prints to stdout; the others' std::cout goes nowhere while this lives.
class OnlyRootPrints {
  public:
    OnlyRootPrints() {
        if (!dist::is_root()) saved_ = std::cout.rdbuf(nullptr);
    }
    ~OnlyRootPrints() {
        if (saved_) std::cout.rdbuf(saved_);
    }
    OnlyRootPrints(const OnlyRootPrints&) = delete;
    OnlyRootPrints& operator=(const OnlyRootPrints&) = delete;

  private:
    std::streambuf* saved_ = nullptr;
};

// The exit status of a failed run. With several processes the failure ends all of them with
// that status (MPI_Abort), since the others may be waiting for this one.
inline int failed(int status) {
    if (dist::size() > 1) dist::abort(status);
    return status;
}

}  // namespace xgrad::examples
