#include "ops/activation.h"

namespace xgrad {}  // namespace xgrad
