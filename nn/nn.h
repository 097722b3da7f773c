// Everything in nn/, for the umbrella header xgrad.h.
#pragma once
