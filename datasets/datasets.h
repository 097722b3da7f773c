// Everything in datasets/, for the umbrella header xgrad.h.
#pragma once

#include "datasets/csv.h"
#include "datasets/csv_dataset.h"
#include "datasets/dataloader.h"
#include "datasets/dataset.h"
#include "datasets/idx.h"
#include "datasets/mnist.h"
#include "datasets/registry.h"
#include "datasets/text.h"
