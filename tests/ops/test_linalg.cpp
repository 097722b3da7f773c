#include <doctest/doctest.h>

#include "framework/testing.h"
#include "xgrad.h"

using namespace xgrad;
