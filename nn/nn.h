// Everything in nn/, for the umbrella header xgrad.h.
#pragma once

#include "nn/activation_layer.h"
#include "nn/batch_normalization.h"
#include "nn/conv2d.h"
#include "nn/dense.h"
#include "nn/dropout_layer.h"
#include "nn/flatten.h"
#include "nn/global_average_pooling.h"
#include "nn/initializers.h"
#include "nn/model_file.h"
#include "nn/module.h"
#include "nn/pooling.h"
#include "nn/reshape_layer.h"
#include "nn/safetensors.h"
#include "nn/sequential.h"
#include "nn/summary.h"
