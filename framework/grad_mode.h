// Whether ops record a graph. Off inside a NoGradGuard (inference, optimizer updates).
#pragma once

namespace xgrad {

bool is_grad_enabled();

// RAII: ops run inside its scope record no graph at all and allocate no nodes.
class NoGradGuard {
  public:
    NoGradGuard();
    ~NoGradGuard();
    NoGradGuard(const NoGradGuard&) = delete;
    NoGradGuard& operator=(const NoGradGuard&) = delete;

  private:
    bool previous_;
};

// RAII: turns graph recording back on inside a NoGradGuard (gradcheck uses it).
class EnableGradGuard {
  public:
    EnableGradGuard();
    ~EnableGradGuard();
    EnableGradGuard(const EnableGradGuard&) = delete;
    EnableGradGuard& operator=(const EnableGradGuard&) = delete;

  private:
    bool previous_;
};

}  // namespace xgrad
