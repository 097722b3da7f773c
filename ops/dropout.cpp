#include "ops/dropout.h"

namespace xgrad {}  // namespace xgrad
