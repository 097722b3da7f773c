// Data-parallel training over MPI: the processes of a run, broadcasting the starting state,
// and averaging gradients during backward. nn::Trainer uses all of it by itself under mpirun.
#pragma once

#include "dist/broadcast.h"
#include "dist/gradient_reducer.h"
#include "dist/world.h"
