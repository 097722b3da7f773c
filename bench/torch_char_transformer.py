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

Prints the lines of bench/torch_char_common.train (the shared part of both twins).

  /usr/bin/python3 bench/torch_char_transformer.py [--steps 2000] [--threads 1] ..."""
import math

import torch
import torch.nn.functional as F

import torch_char_common as common


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


def main():
    p = common.parser(steps=2000, batch_size=12, learning_rate=1e-3)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--embedding", type=int, default=128)
    p.add_argument("--weight-decay", type=float, default=0.1)
    a = p.parse_args()

    text, chars, train, val = common.setup(a)
    model = CharTransformer(len(chars), a.block_size, a.layers, a.heads, a.embedding)
    params = list(model.parameters())
    if not a.quiet:
        print(f"corpus: {len(text)} characters, vocabulary {len(chars)}, train {len(train)}, "
              f"validation {len(val)}; {sum(q.numel() for q in params)} parameters")
    opt = torch.optim.AdamW(params, lr=a.learning_rate, betas=(0.9, 0.99), eps=1e-8,
                            weight_decay=a.weight_decay)
    common.train(model, params, opt, train, val, a)


if __name__ == "__main__":
    main()
