// Everything in nn/, for the umbrella header xgrad.h.
#pragma once

#include "nn/mode_guard.h"
#include "nn/module.h"

#include "nn/layers/activation_layer.h"
#include "nn/layers/batch_normalization.h"
#include "nn/layers/conv2d.h"
#include "nn/layers/dense.h"
#include "nn/layers/dropout_layer.h"
#include "nn/layers/flatten.h"
#include "nn/layers/global_average_pooling.h"
#include "nn/layers/initializers.h"
#include "nn/layers/merge.h"
#include "nn/layers/normalization.h"
#include "nn/layers/pooling.h"
#include "nn/layers/reshape_layer.h"

#include "nn/models/input.h"
#include "nn/models/model.h"
#include "nn/models/sequential.h"
#include "nn/models/summary.h"

#include "nn/io/atomic_file.h"
#include "nn/io/checkpoint.h"
#include "nn/io/layer_registry.h"
#include "nn/io/model_file.h"
#include "nn/io/safetensors.h"
#include "nn/io/svg.h"

#include "nn/training/callbacks.h"
#include "nn/training/confusion_matrix.h"
#include "nn/training/learning_curves.h"
#include "nn/training/losses.h"
#include "nn/training/metrics.h"
#include "nn/training/progress_bar.h"
#include "nn/training/trainer.h"
