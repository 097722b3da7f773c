// Everything in optim/, for the umbrella header xgrad.h.
#pragma once
