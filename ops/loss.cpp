#include "ops/loss.h"

namespace xgrad {}  // namespace xgrad
