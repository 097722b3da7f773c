// Everything in optim/, for the umbrella header xgrad.h.
#pragma once

#include "optim/adagrad.h"
#include "optim/adam.h"
#include "optim/clip.h"
#include "optim/lbfgs.h"
#include "optim/optimizer.h"
#include "optim/rmsprop.h"
#include "optim/schedule.h"
#include "optim/sgd.h"
