// Everything in datasets/, for the umbrella header xgrad.h.
#pragma once
