"""What the PyTorch twins of the Fashion-MNIST programs share: the command line, the data read
from Debian's idx files, the models of bench/train_mlp and bench/train_cnn with Keras'
initialisation, Adam with Keras' epsilon, and the epoch loop that prints the lines
bench/compare_pytorch parses. Batches are scaled from uint8 per step, as xgrad does."""
import argparse
import gzip
import time

import numpy as np
import torch

DATA_DIR = "/usr/share/datasets/fashion-mnist"


def parse_args(epochs, flush_denormal=True, extra=None):
    """The common flags (and `extra(parser)`'s), applied: threads, subnormal mode, seed."""
    p = argparse.ArgumentParser()
    p.add_argument("--data-dir", default=DATA_DIR)
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    if flush_denormal:
        p.add_argument("--flush-denormal", type=int, choices=[0, 1], default=0,
                       help="1: torch.set_flush_denormal(True); "
                            "0 (PyTorch's default): IEEE subnormals")
    if extra:
        extra(p)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if flush_denormal:
        torch.set_flush_denormal(bool(a.flush_denormal))
    torch.manual_seed(a.seed)
    return a


def idx(data_dir, name, header):
    with gzip.open(f"{data_dir}/{name}", "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=header)


def images(data_dir, part, shape):
    """`part` "train" (uint8, scaled per batch later) or "t10k" (float in [0, 1])."""
    x = torch.tensor(idx(data_dir, f"{part}-images-idx3-ubyte.gz", 16).reshape(-1, *shape))
    return x if part == "train" else x.float() / 255


def labels(data_dir, part):
    return torch.tensor(idx(data_dir, f"{part}-labels-idx1-ubyte.gz", 8), dtype=torch.long)


def mlp_layers():
    return [torch.nn.Flatten(), torch.nn.Linear(784, 100), torch.nn.ReLU(),
            torch.nn.Linear(100, 10)]


def cnn_layers():
    return [torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Flatten(), torch.nn.Dropout(0.5), torch.nn.Linear(1600, 128),
            torch.nn.ReLU(), torch.nn.Linear(128, 10)]


def keras_init(model):
    """Glorot-uniform weights and zero biases, as Keras initialises Dense and Conv2D."""
    for m in model.modules():
        if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)):
            torch.nn.init.xavier_uniform_(m.weight)
            torch.nn.init.zeros_(m.bias)
    return model


def keras_adam(model):
    return torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)


def train_epoch(model, opt, loss_fn, x_train, targets, batch_size):
    """One epoch over a random order; `targets` None: the inputs are their own targets.
    Returns the seconds it took and the mean loss."""
    start = time.perf_counter()
    n = x_train.shape[0]
    order = torch.randperm(n)
    total = 0.0
    for i in range(0, n, batch_size):
        batch = order[i:i + batch_size]
        x = x_train[batch].float() / 255
        loss = loss_fn(model(x), x if targets is None else targets[batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(batch)
    return time.perf_counter() - start, total / n


def train_classifier(model, a, image_shape):
    """Trains `model` with softmax cross-entropy and prints, per epoch, its training time, loss,
    test accuracy and inference speed over the 10,000 test images."""
    x_train, y_train = images(a.data_dir, "train", image_shape), labels(a.data_dir, "train")
    x_test, y_test = images(a.data_dir, "t10k", image_shape), labels(a.data_dir, "t10k")
    opt = keras_adam(model)
    loss_fn = torch.nn.CrossEntropyLoss()
    for epoch in range(a.epochs):
        seconds, loss = train_epoch(model, opt, loss_fn, x_train, y_train, a.batch_size)
        infer_start = time.perf_counter()
        model.eval()
        with torch.no_grad():
            predicted = torch.cat([model(x_test[i:i + 256]).argmax(1)
                                   for i in range(0, 10000, 256)])
        infer = time.perf_counter() - infer_start
        model.train()
        acc = (predicted == y_test).float().mean().item()
        print(f"epoch {epoch + 1} train_time {seconds:.3f}s loss {loss:.4f} test_acc {acc:.4f} "
              f"infer_images_per_s {10000 / infer:.0f}", flush=True)
