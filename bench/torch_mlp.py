#!/usr/bin/python3
"""The seed model (784-100-10, relu, softmax cross-entropy, Adam with Keras' epsilon) in
PyTorch, trained the way xgrad's benchmark trains it. Prints one line per epoch in the format
bench/compare_pytorch parses."""
import torch

import torch_fashion

a = torch_fashion.parse_args(epochs=3)
model = torch_fashion.keras_init(torch.nn.Sequential(*torch_fashion.mlp_layers()))
torch_fashion.train_classifier(model, a, (28, 28))
