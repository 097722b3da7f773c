#include "ops/shape.h"

namespace xgrad {}  // namespace xgrad
