#!/usr/bin/python3
"""examples/char_lstm in PyTorch, for bench/compare_pytorch --model lstm: the same corpus (the
plain text files of the fortunes package, sorted by name, as bytes), the same vocabulary,
split (last 10% for validation), model (Embedding -> LSTM -> LSTM -> Linear), Keras' initial
weights (uniform(-0.05, 0.05) embeddings, glorot_uniform kernels, orthogonal recurrent
kernels, zero biases with the forget gate's at one; PyTorch's second LSTM bias is held at zero
so that the parameters are Keras' set), Adam with Keras' epsilon, gradient clipping, and the
same evenly spaced validation windows. Batches are drawn by PyTorch's own generator.

Prints "step N train loss L val loss V (T ms/step)" lines and a last line
"final steps N step_time_ms T val_loss V"; the step time covers drawing the batch, forward,
backward, clipping and the Adam step, not the evaluations.

  /usr/bin/python3 bench/torch_char_lstm.py [--steps 1500] [--threads 1] ..."""
import argparse
import math
import os
import time

import torch
import torch.nn.functional as F


def fortune_files(directory="/usr/share/games/fortunes"):
    names = sorted(n for n in os.listdir(directory)
                   if "." not in n and os.path.isfile(os.path.join(directory, n)))
    return [os.path.join(directory, n) for n in names]


class CharLSTM(torch.nn.Module):
    def __init__(self, vocab, embedding, units):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocab, embedding)
        self.lstm = torch.nn.LSTM(embedding, units, num_layers=2, batch_first=True)
        self.head = torch.nn.Linear(units, vocab)
        with torch.no_grad():  # Keras' initialisers
            torch.nn.init.uniform_(self.embedding.weight, -0.05, 0.05)
            for layer in range(2):
                w_ih = getattr(self.lstm, f"weight_ih_l{layer}")
                limit = math.sqrt(6.0 / (w_ih.shape[1] + w_ih.shape[0]))
                torch.nn.init.uniform_(w_ih, -limit, limit)
                torch.nn.init.orthogonal_(getattr(self.lstm, f"weight_hh_l{layer}"))
                b_ih = getattr(self.lstm, f"bias_ih_l{layer}")
                b_ih.zero_()
                b_ih[units:2 * units] = 1.0  # unit_forget_bias
                b_hh = getattr(self.lstm, f"bias_hh_l{layer}")
                b_hh.zero_()
                b_hh.requires_grad_(False)  # Keras has one bias per gate
            limit = math.sqrt(6.0 / (units + vocab))
            torch.nn.init.uniform_(self.head.weight, -limit, limit)
            self.head.bias.zero_()

    def forward(self, ids):
        out, _ = self.lstm(self.embedding(ids))
        return self.head(out)


def loss_of(model, x, y):
    logits = model(x)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def evaluate(model, data, block, count, batch):
    """The loss over `count` windows at evenly spaced offsets (as examples/char_lstm)."""
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


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--block-size", type=int, default=64)
    p.add_argument("--embedding", type=int, default=64)
    p.add_argument("--units", type=int, default=256)
    p.add_argument("--learning-rate", type=float, default=2e-3)
    p.add_argument("--clip-norm", type=float, default=1.0)
    p.add_argument("--eval-interval", type=int, default=500)
    p.add_argument("--eval-windows", type=int, default=256)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--flush-denormal", type=int, default=0)
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(bool(a.flush_denormal))
    torch.manual_seed(a.seed)
    text = b"".join(open(f, "rb").read() for f in fortune_files())
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.long)
    n_val = max(1, int(len(ids) * 0.1))
    train, val = ids[:len(ids) - n_val], ids[len(ids) - n_val:]
    if not a.quiet:
        print(f"corpus: {len(text)} characters, vocabulary {len(chars)}, train {len(train)}, "
              f"validation {len(val)}")

    model = CharLSTM(len(chars), a.embedding, a.units)
    params = [q for q in model.parameters() if q.requires_grad]
    if not a.quiet:
        print(f"trainable params: {sum(q.numel() for q in params)}")
    adam = torch.optim.Adam(params, lr=a.learning_rate, eps=1e-7)
    block, batch = a.block_size, a.batch_size
    seconds, loss_sum, count, val_loss = 0.0, 0.0, 0, float("nan")
    for step in range(1, a.steps + 1):
        start = time.perf_counter()
        offsets = torch.randint(len(train) - block, (batch,))
        x = torch.stack([train[o:o + block] for o in offsets])
        y = torch.stack([train[o + 1:o + block + 1] for o in offsets])
        loss = loss_of(model, x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, a.clip_norm)
        adam.step()
        adam.zero_grad()
        seconds += time.perf_counter() - start
        loss_sum += loss.item()
        count += 1
        if step % a.eval_interval == 0 or step == a.steps:
            val_loss = evaluate(model, val, block, a.eval_windows, batch)
            if not a.quiet:
                print(f"step {step:5d}  train loss {loss_sum / count:.4f}  val loss "
                      f"{val_loss:.4f}  ({1e3 * seconds / step:.1f} ms/step)", flush=True)
            loss_sum, count = 0.0, 0
    print(f"final steps {a.steps} step_time_ms {1e3 * seconds / a.steps:.3f} "
          f"val_loss {val_loss:.4f}")


if __name__ == "__main__":
    main()
