#!/usr/bin/python3
"""The CNN of examples/fashion_mnist_cnn (Conv2D(32, 3x3, relu) -> MaxPool 2x2 -> Conv2D(64, 3x3,
relu) -> MaxPool 2x2 -> Flatten -> Dropout(0.5) -> Dense(128, relu) -> Dense(10), softmax
cross-entropy, Adam with Keras' epsilon) in PyTorch, trained the way bench/train_cnn trains it:
Glorot-uniform weights, zero biases, batches scaled from uint8 per step. PyTorch needs
channels-first (N, 1, 28, 28) input. Prints one line per epoch in the format
bench/compare_pytorch parses."""
import argparse
import gzip
import time

import numpy as np
import torch

p = argparse.ArgumentParser()
p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
p.add_argument("--epochs", type=int, default=3)
p.add_argument("--batch-size", type=int, default=32)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--flush-denormal", type=int, choices=[0, 1], default=0,
               help="1: torch.set_flush_denormal(True); 0 (PyTorch's default): IEEE subnormals")
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.set_flush_denormal(bool(a.flush_denormal))
torch.manual_seed(a.seed)


def idx(name, header):
    with gzip.open(f"{a.data_dir}/{name}", "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=header)


x_train = torch.tensor(idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28))
y_train = torch.tensor(idx("train-labels-idx1-ubyte.gz", 8), dtype=torch.long)
x_test = torch.tensor(idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28)).float() / 255
y_test = torch.tensor(idx("t10k-labels-idx1-ubyte.gz", 8), dtype=torch.long)

model = torch.nn.Sequential(torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                            torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                            torch.nn.Flatten(), torch.nn.Dropout(0.5), torch.nn.Linear(1600, 128),
                            torch.nn.ReLU(), torch.nn.Linear(128, 10))
for m in model:
    if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)):
        torch.nn.init.xavier_uniform_(m.weight)
        torch.nn.init.zeros_(m.bias)
opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
loss_fn = torch.nn.CrossEntropyLoss()
n = x_train.shape[0]
for epoch in range(a.epochs):
    start = time.perf_counter()
    order = torch.randperm(n)
    total = 0.0
    for i in range(0, n, a.batch_size):
        idx_b = order[i:i + a.batch_size]
        # Batches are scaled from uint8 per step, as xgrad does.
        out = model(x_train[idx_b].float() / 255)
        loss = loss_fn(out, y_train[idx_b])
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(idx_b)
    seconds = time.perf_counter() - start
    infer_start = time.perf_counter()
    model.eval()
    with torch.no_grad():
        predicted = torch.cat([model(x_test[i:i + 256]).argmax(1) for i in range(0, 10000, 256)])
    infer = time.perf_counter() - infer_start
    model.train()
    acc = (predicted == y_test).float().mean().item()
    print(f"epoch {epoch + 1} train_time {seconds:.3f}s loss {total / n:.4f} test_acc {acc:.4f} "
          f"infer_images_per_s {10000 / infer:.0f}", flush=True)
