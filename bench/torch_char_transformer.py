#!/usr/bin/python3
"""examples/char_transformer in PyTorch, for bench/compare_pytorch --model transformer: the same
corpus (the plain text files of the fortunes package, sorted by name, as bytes), vocabulary,
split (last 10% for validation), model (token and position embeddings, pre-norm blocks of
LayerNorm -> causal multi-head attention with separate query/key/value/output projections ->
residual, LayerNorm -> Linear 4C GELU -> Linear C -> residual, a final LayerNorm and a Linear
head: nanoGPT's model.py with Keras' layer layout), Keras' initial weights (uniform(-0.05, 0.05)
embeddings, glorot_uniform kernels with the fans Keras computes for MultiHeadAttention's
(features, heads, dim) kernels, zero biases), AdamW (betas 0.9, 0.99, eps 1e-8, weight decay
0.1 on every parameter), gradient clipping, and the same evenly spaced validation windows.
Batches are drawn by PyTorch's own generator. Attention is written out as nanoGPT's fallback
path (PyTorch 1.13 has no scaled_dot_product_attention).

Prints "step N train loss L val loss V (T ms/step)" lines and a last line
"final steps N step_time_ms T val_loss V"; the step time covers drawing the batch, forward,
backward, clipping and the AdamW step, not the evaluations.

  /usr/bin/python3 bench/torch_char_transformer.py [--steps 2000] [--threads 1] ..."""
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


def glorot_(linear, fan_in, fan_out):
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    torch.nn.init.uniform_(linear.weight, -limit, limit)
    torch.nn.init.zeros_(linear.bias)


class Block(torch.nn.Module):
    def __init__(self, c, heads):
        super().__init__()
        self.heads = heads
        self.norm1 = torch.nn.LayerNorm(c)
        self.query = torch.nn.Linear(c, c)
        self.key = torch.nn.Linear(c, c)
        self.value = torch.nn.Linear(c, c)
        self.out = torch.nn.Linear(c, c)
        self.norm2 = torch.nn.LayerNorm(c)
        self.fc = torch.nn.Linear(c, 4 * c)
        self.proj = torch.nn.Linear(4 * c, c)
        d = c // heads
        with torch.no_grad():  # Keras' fans: (c, heads, d) and (heads, d, c) kernels
            for lin in (self.query, self.key, self.value):
                glorot_(lin, heads * c, d * c)
            glorot_(self.out, d * heads, c * heads)
            glorot_(self.fc, c, 4 * c)
            glorot_(self.proj, 4 * c, c)

    def attention(self, x):
        b, t, c = x.shape
        h = self.heads
        q = self.query(x).view(b, t, h, c // h).transpose(1, 2)
        k = self.key(x).view(b, t, h, c // h).transpose(1, 2)
        v = self.value(x).view(b, t, h, c // h).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        mask = torch.ones(t, t, dtype=torch.bool).tril()
        att = F.softmax(att.masked_fill(~mask, float("-inf")), dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
        return self.out(y)

    def forward(self, x):
        x = x + self.attention(self.norm1(x))
        return x + self.proj(F.gelu(self.fc(self.norm2(x))))


class CharTransformer(torch.nn.Module):
    def __init__(self, vocab, block, layers, heads, c):
        super().__init__()
        self.tokens = torch.nn.Embedding(vocab, c)
        self.positions = torch.nn.Embedding(block, c)
        self.blocks = torch.nn.ModuleList([Block(c, heads) for _ in range(layers)])
        self.norm = torch.nn.LayerNorm(c)
        self.head = torch.nn.Linear(c, vocab)
        with torch.no_grad():
            torch.nn.init.uniform_(self.tokens.weight, -0.05, 0.05)
            torch.nn.init.uniform_(self.positions.weight, -0.05, 0.05)
            glorot_(self.head, c, vocab)

    def forward(self, ids):
        x = self.tokens(ids) + self.positions(torch.arange(ids.shape[1]))
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))


def loss_of(model, x, y):
    logits = model(x)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def evaluate(model, data, block, count, batch):
    """The loss over `count` windows at evenly spaced offsets (as examples/char_transformer)."""
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
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch-size", type=int, default=12)
    p.add_argument("--block-size", type=int, default=64)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--embedding", type=int, default=128)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.1)
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
    model = CharTransformer(len(chars), a.block_size, a.layers, a.heads, a.embedding)
    params = list(model.parameters())
    if not a.quiet:
        print(f"corpus: {len(text)} characters, vocabulary {len(chars)}, train {len(train)}, "
              f"validation {len(val)}; {sum(q.numel() for q in params)} parameters")
    opt = torch.optim.AdamW(params, lr=a.learning_rate, betas=(0.9, 0.99), eps=1e-8,
                            weight_decay=a.weight_decay)
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
        opt.step()
        opt.zero_grad()
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
