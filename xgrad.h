// xgrad: the umbrella header. Users include this one file.
#pragma once

#include "framework/errors.h"
#include "framework/grad_mode.h"
#include "framework/gradcheck.h"
#include "framework/record.h"
#include "framework/tensor.h"
#include "framework/variable.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
