#!/usr/bin/python3
"""PyTorch DistributedDataParallel (gloo backend) on the seed MLP or the CNN of
bench/torch_mlp.py and bench/torch_cnn.py, the peer of bench/train_scaling: --procs processes of
one thread each on this machine, global batch --batch-size split evenly, Adam. Times --steps
steps after --warmup and prints (process 0) "images_per_s X". With --procs 1 the model runs
without DDP."""
import argparse
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import torch_fashion

p = argparse.ArgumentParser()
p.add_argument("--data-dir", default=torch_fashion.DATA_DIR)
p.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
p.add_argument("--batch-size", type=int, default=512)
p.add_argument("--procs", type=int, default=2)
p.add_argument("--steps", type=int, default=50)
p.add_argument("--warmup", type=int, default=3)
p.add_argument("--port", type=int, default=29517)
a = p.parse_args()


def make_model():
    layers = torch_fashion.mlp_layers() if a.model == "mlp" else torch_fashion.cnn_layers()
    return torch_fashion.keras_init(torch.nn.Sequential(*layers))


def worker(rank):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    if a.procs > 1:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{a.port}", rank=rank,
                                world_size=a.procs)
    x = torch_fashion.images(a.data_dir, "train", (1, 28, 28))
    y = torch_fashion.labels(a.data_dir, "train")
    model = make_model()
    if a.procs > 1:
        model = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch_fashion.keras_adam(model)
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
