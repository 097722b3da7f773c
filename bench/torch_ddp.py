#!/usr/bin/python3
"""PyTorch DistributedDataParallel (gloo backend) on the seed MLP or the CNN of
bench/torch_mlp.py and bench/torch_cnn.py, the peer of bench/train_scaling: --procs processes of
one thread each on this machine, global batch --batch-size split evenly, Adam. Times --steps
steps after --warmup and prints (process 0) "images_per_s X". With --procs 1 the model runs
without DDP."""
import argparse
import gzip
import os
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

p = argparse.ArgumentParser()
p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
p.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
p.add_argument("--batch-size", type=int, default=512)
p.add_argument("--procs", type=int, default=2)
p.add_argument("--steps", type=int, default=50)
p.add_argument("--warmup", type=int, default=3)
p.add_argument("--port", type=int, default=29517)
a = p.parse_args()


def make_model():
    if a.model == "mlp":
        layers = [torch.nn.Flatten(), torch.nn.Linear(784, 100), torch.nn.ReLU(),
                  torch.nn.Linear(100, 10)]
    else:
        layers = [torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                  torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                  torch.nn.Flatten(), torch.nn.Dropout(0.5), torch.nn.Linear(1600, 128),
                  torch.nn.ReLU(), torch.nn.Linear(128, 10)]
    model = torch.nn.Sequential(*layers)
    for m in model:
        if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)):
            torch.nn.init.xavier_uniform_(m.weight)
            torch.nn.init.zeros_(m.bias)
    return model


def worker(rank):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    if a.procs > 1:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{a.port}", rank=rank,
                                world_size=a.procs)
    with gzip.open(f"{a.data_dir}/train-images-idx3-ubyte.gz", "rb") as f:
        x = torch.tensor(np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28))
    with gzip.open(f"{a.data_dir}/train-labels-idx1-ubyte.gz", "rb") as f:
        y = torch.tensor(np.frombuffer(f.read(), np.uint8, offset=8), dtype=torch.long)
    model = make_model()
    if a.procs > 1:
        model = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    local = a.batch_size // a.procs
    order = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(0))
    start = None
    for step in range(a.warmup + a.steps):
        if step == a.warmup:
            if a.procs > 1:
                dist.barrier()
            start = time.perf_counter()
        first = (step * a.batch_size) % (x.shape[0] - a.batch_size) + rank * local
        idx = order[first:first + local]
        out = model(x[idx].float() / 255)  # scaled from uint8 per step, as xgrad does
        loss = loss_fn(out, y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - start
    if rank == 0:
        print(f"images_per_s {a.steps * a.batch_size / seconds:.1f}", flush=True)
    if a.procs > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    if a.procs == 1:
        worker(0)
    else:
        mp.spawn(worker, nprocs=a.procs)
