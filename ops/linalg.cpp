#include "ops/linalg.h"

namespace xgrad {}  // namespace xgrad
