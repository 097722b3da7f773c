"""What the PyTorch twins of the character models (bench/torch_char_lstm.py,
bench/torch_char_transformer.py) share, as examples/char_model_cli.h does for xgrad's: the
common flags, the corpus (the plain text files of the fortunes package, sorted by name, as
bytes), its vocabulary and split (last 10% for validation), the loss, the evaluation on evenly
spaced windows, and the training loop with its printed lines.

The training loop prints "step N train loss L val loss V (T ms/step)" lines and a last line
"final steps N step_time_ms T val_loss V"; the step time covers drawing the batch, forward,
backward, clipping and the optimizer step, not the evaluations."""
import argparse
import os
import time

import torch
import torch.nn.functional as F


def fortune_files(directory="/usr/share/games/fortunes"):
    names = sorted(n for n in os.listdir(directory)
                   if "." not in n and os.path.isfile(os.path.join(directory, n)))
    return [os.path.join(directory, n) for n in names]


def parser(steps, batch_size, learning_rate):
    """The shared flags, with the model's defaults for the first three; the model adds its
    own."""
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=steps)
    p.add_argument("--batch-size", type=int, default=batch_size)
    p.add_argument("--block-size", type=int, default=64)
    p.add_argument("--learning-rate", type=float, default=learning_rate)
    p.add_argument("--clip-norm", type=float, default=1.0)
    p.add_argument("--eval-interval", type=int, default=500)
    p.add_argument("--eval-windows", type=int, default=256)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--flush-denormal", type=int, default=0)
    p.add_argument("--quiet", action="store_true")
    return p


def setup(a):
    """Applies --threads, --flush-denormal and --seed, reads the corpus; returns its text, its
    characters (the vocabulary, sorted) and the train and validation ids."""
    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(bool(a.flush_denormal))
    torch.manual_seed(a.seed)
    text = b"".join(open(f, "rb").read() for f in fortune_files())
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.long)
    n_val = max(1, int(len(ids) * 0.1))
    return text, chars, ids[:len(ids) - n_val], ids[len(ids) - n_val:]


def loss_of(model, x, y):
    logits = model(x)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def evaluate(model, data, block, count, batch):
    """The loss over `count` windows at evenly spaced offsets (as xgrad's examples)."""
    windows = len(data) - block
    count = min(count, windows)
    offsets = [i * (windows - 1) // max(count - 1, 1) for i in range(count)]
    model.eval()
    total = 0.0
    with torch.no_grad():
        for start in range(0, count, batch):
            part = offsets[start:start + batch]
            x = torch.stack([data[o:o + block] for o in part])
            y = torch.stack([data[o + 1:o + block + 1] for o in part])
            total += loss_of(model, x, y).item() * len(part)
    model.train()
    return total / count


def train(model, params, opt, train_ids, val_ids, a):
    """a.steps steps on random windows drawn by PyTorch's generator, gradients clipped to
    a.clip_norm; evaluates every a.eval_interval steps and prints the lines above."""
    block, batch = a.block_size, a.batch_size
    seconds, loss_sum, count, val_loss = 0.0, 0.0, 0, float("nan")
    for step in range(1, a.steps + 1):
        start = time.perf_counter()
        offsets = torch.randint(len(train_ids) - block, (batch,))
        x = torch.stack([train_ids[o:o + block] for o in offsets])
        y = torch.stack([train_ids[o + 1:o + block + 1] for o in offsets])
        loss = loss_of(model, x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, a.clip_norm)
        opt.step()
        opt.zero_grad()
        seconds += time.perf_counter() - start
        loss_sum += loss.item()
        count += 1
        if step % a.eval_interval == 0 or step == a.steps:
            val_loss = evaluate(model, val_ids, block, a.eval_windows, batch)
            if not a.quiet:
                print(f"step {step:5d}  train loss {loss_sum / count:.4f}  val loss "
                      f"{val_loss:.4f}  ({1e3 * seconds / step:.1f} ms/step)", flush=True)
            loss_sum, count = 0.0, 0
    print(f"final steps {a.steps} step_time_ms {1e3 * seconds / a.steps:.3f} "
          f"val_loss {val_loss:.4f}")
