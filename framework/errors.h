// Exception types: every error message is one sentence naming what, where and the values.
#pragma once

#include <stdexcept>
#include <string>

namespace xgrad {

// Raised when the shapes given to an op do not fit; the message names the op and the shapes.
class ShapeError : public std::invalid_argument {
  public:
    ShapeError(const std::string& op, const std::string& what)
        : std::invalid_argument(op + ": " + what) {}
};

// Misuse of the autograd graph (backward twice, non-scalar without a seed, ...).
class GraphError : public std::logic_error {
  public:
    explicit GraphError(const std::string& what) : std::logic_error(what) {}
};

}  // namespace xgrad
