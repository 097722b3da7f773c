#!/usr/bin/python3
"""The CNN of examples/fashion_mnist_cnn (Conv2D(32, 3x3, relu) -> MaxPool 2x2 -> Conv2D(64, 3x3,
relu) -> MaxPool 2x2 -> Flatten -> Dropout(0.5) -> Dense(128, relu) -> Dense(10), softmax
cross-entropy, Adam with Keras' epsilon) in PyTorch, trained the way bench/train_cnn trains it:
Glorot-uniform weights, zero biases, batches scaled from uint8 per step. PyTorch needs
channels-first (N, 1, 28, 28) input. Prints one line per epoch in the format
bench/compare_pytorch parses."""
import torch

import torch_fashion

a = torch_fashion.parse_args(epochs=3)
model = torch_fashion.keras_init(torch.nn.Sequential(*torch_fashion.cnn_layers()))
torch_fashion.train_classifier(model, a, (1, 28, 28))
