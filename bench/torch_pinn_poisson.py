#!/usr/bin/python3
"""The PyTorch twin of examples/pinn_poisson: the same tanh MLP u(x, y), the same collocation
points and initial weights (drawn from the same splitmix64 stream as the C++ program), the
same loss and the same Adam then L-BFGS (strong Wolfe) steps, in float32.

  -(u_xx + u_yy) = 2 pi^2 sin(pi x) sin(pi y) on the unit square, u = 0 on the boundary;
  loss = mean(residual^2) at the interior points + w mean(u^2) at the boundary points (w = 10,
  --boundary-weight).

Prints one line that bench/compare_pinn parses:
  train_time <s> adam_time <s> lbfgs_time <s> evaluations <n> loss <x> rel_l2 <x> initial_loss <x>"""
import argparse
import math
import time

import torch

MASK = (1 << 64) - 1


class SplitMix64:
    """splitmix64 (Steele, Lea, Flood), as examples/pinn_poisson.cpp has it: uniform doubles
    in [0, 1) from the top 53 bits."""

    def __init__(self, seed):
        self.state = seed & MASK

    def uniform(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        z ^= z >> 31
        return (z >> 11) * (1.0 / (1 << 53))


def make_problem(seed, width, depth, interior, boundary):
    """Initial weights (Glorot uniform kernels of shape (in, out), zero biases, layer by
    layer), then the interior points, then `boundary` points on each side."""
    rng = SplitMix64(seed)
    sizes = [2] + [width] * depth + [1]
    weights = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        w = [(2 * rng.uniform() - 1) * limit for _ in range(fan_in * fan_out)]
        weights.append(torch.tensor(w, dtype=torch.float64).reshape(fan_in, fan_out).float())
        weights.append(torch.zeros(fan_out))
    inside = [[rng.uniform(), rng.uniform()] for _ in range(interior)]
    edge = []
    for _ in range(boundary):
        t = rng.uniform()
        edge += [[t, 0.0], [t, 1.0], [0.0, t], [1.0, t]]
    return (weights, torch.tensor(inside, dtype=torch.float64).float(),
            torch.tensor(edge, dtype=torch.float64).float())


def mlp(params, x):
    for i in range(0, len(params) - 2, 2):
        x = torch.tanh(x @ params[i] + params[i + 1])
    return x @ params[-2] + params[-1]


def pde_loss(params, inside, edge, boundary_weight):
    x = inside.clone().requires_grad_(True)
    u = mlp(params, x)
    (du,) = torch.autograd.grad(u.sum(), x, create_graph=True)
    (d2x,) = torch.autograd.grad(du[:, 0].sum(), x, create_graph=True)
    (d2y,) = torch.autograd.grad(du[:, 1].sum(), x, create_graph=True)
    laplacian = d2x[:, 0:1] + d2y[:, 1:2]
    f = 2 * math.pi ** 2 * torch.sin(math.pi * inside[:, 0:1]) * torch.sin(math.pi * inside[:, 1:2])
    residual = laplacian + f
    return (residual * residual).mean() + boundary_weight * (mlp(params, edge) ** 2).mean()


def relative_l2(params, n=101):
    g = torch.linspace(0, 1, n, dtype=torch.float64)
    xs, ys = torch.meshgrid(g, g, indexing="ij")
    grid = torch.stack([xs.reshape(-1), ys.reshape(-1)], 1)
    with torch.no_grad():
        u = mlp(params, grid.float()).double().reshape(-1)
    exact = torch.sin(math.pi * grid[:, 0]) * torch.sin(math.pi * grid[:, 1])
    return (torch.linalg.norm(u - exact) / torch.linalg.norm(exact)).item()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--adam-steps", type=int, default=1000)
    p.add_argument("--lbfgs-steps", type=int, default=4000)
    p.add_argument("--learning-rate", type=float, default=0.001)
    p.add_argument("--width", type=int, default=20)
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--interior", type=int, default=1000)
    p.add_argument("--boundary", type=int, default=50)
    p.add_argument("--boundary-weight", type=float, default=10.0)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)

    weights, inside, edge = make_problem(a.seed, a.width, a.depth, a.interior, a.boundary)
    params = [w.requires_grad_(True) for w in weights]

    initial_loss = pde_loss(params, inside, edge, a.boundary_weight).item()
    start = time.perf_counter()
    adam = torch.optim.Adam(params, lr=a.learning_rate, eps=1e-7)
    for _ in range(a.adam_steps):
        adam.zero_grad()
        loss = pde_loss(params, inside, edge, a.boundary_weight)
        loss.backward()
        adam.step()
    adam_time = time.perf_counter() - start

    evaluations = 0
    lbfgs = torch.optim.LBFGS(params, lr=1, max_iter=a.lbfgs_steps,
                              max_eval=a.lbfgs_steps * 5 // 4, tolerance_grad=1e-9,
                              tolerance_change=1e-12, history_size=50,
                              line_search_fn="strong_wolfe")

    def closure():
        nonlocal evaluations
        evaluations += 1
        lbfgs.zero_grad()
        loss = pde_loss(params, inside, edge, a.boundary_weight)
        loss.backward()
        return loss

    if a.lbfgs_steps > 0:
        lbfgs.step(closure)
    train_time = time.perf_counter() - start
    loss = pde_loss(params, inside, edge, a.boundary_weight).item()
    print(f"train_time {train_time:.3f}s adam_time {adam_time:.3f}s "
          f"lbfgs_time {train_time - adam_time:.3f}s evaluations {evaluations} "
          f"loss {loss:.3e} rel_l2 {relative_l2(params):.3e} initial_loss {initial_loss:.6e}")


if __name__ == "__main__":
    main()
