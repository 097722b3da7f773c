#!/usr/bin/python3
"""The PyTorch twin of examples/fashion_mnist_autoencoder: the autoencoder of TensorFlow's
"Intro to Autoencoders" (encoder Flatten -> Linear(784, 64) -> ReLU, decoder Linear(64, 784) ->
Sigmoid -> reshape to 28x28), Keras' initialisation (Glorot uniform, zero biases), Adam with
Keras' epsilon, mean squared error with the images as their own targets. Prints one line per
epoch: its training time, the mean training loss and the test reconstruction MSE."""
import argparse
import gzip
import time

import numpy as np
import torch

p = argparse.ArgumentParser()
p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
p.add_argument("--epochs", type=int, default=10)
p.add_argument("--batch-size", type=int, default=32)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--seed", type=int, default=0)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)


def images(name):
    with gzip.open(f"{a.data_dir}/{name}", "rb") as f:
        return torch.tensor(np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28))


x_train = images("train-images-idx3-ubyte.gz")
x_test = images("t10k-images-idx3-ubyte.gz").float() / 255


class Autoencoder(torch.nn.Module):
    def __init__(self, latent_dim=64):
        super().__init__()
        self.encoder = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, latent_dim),
                                           torch.nn.ReLU())
        self.decoder = torch.nn.Sequential(torch.nn.Linear(latent_dim, 784), torch.nn.Sigmoid(),
                                           torch.nn.Unflatten(1, (28, 28)))

    def forward(self, x):
        return self.decoder(self.encoder(x))


model = Autoencoder()
for m in model.modules():
    if isinstance(m, torch.nn.Linear):
        torch.nn.init.xavier_uniform_(m.weight)
        torch.nn.init.zeros_(m.bias)
opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
loss_fn = torch.nn.MSELoss()
n = x_train.shape[0]
for epoch in range(a.epochs):
    start = time.perf_counter()
    order = torch.randperm(n)
    total = 0.0
    for i in range(0, n, a.batch_size):
        # Batches are scaled from uint8 per step, as xgrad does.
        x = x_train[order[i:i + a.batch_size]].float() / 255
        loss = loss_fn(model(x), x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(x)
    seconds = time.perf_counter() - start
    with torch.no_grad():
        test_mse = loss_fn(model(x_test), x_test).item()
    print(f"epoch {epoch + 1} train_time {seconds:.3f}s loss {total / n:.5f} "
          f"test_mse {test_mse:.5f}", flush=True)
