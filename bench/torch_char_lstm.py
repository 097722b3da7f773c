#!/usr/bin/python3
"""examples/char_lstm in PyTorch, for bench/compare_pytorch --model lstm: the same corpus (the
plain text files of the fortunes package, sorted by name, as bytes), the same vocabulary,
split (last 10% for validation), model (Embedding -> LSTM -> LSTM -> Linear), Keras' initial
weights (uniform(-0.05, 0.05) embeddings, glorot_uniform kernels, orthogonal recurrent
kernels, zero biases with the forget gate's at one; PyTorch's second LSTM bias is held at zero
so that the parameters are Keras' set), Adam with Keras' epsilon, gradient clipping, and the
same evenly spaced validation windows. Batches are drawn by PyTorch's own generator.

Prints the lines of bench/torch_char_common.train (the shared part of both twins).

  /usr/bin/python3 bench/torch_char_lstm.py [--steps 1500] [--threads 1] ..."""
import math

import torch

import torch_char_common as common


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


def main():
    p = common.parser(steps=1500, batch_size=32, learning_rate=2e-3)
    p.add_argument("--embedding", type=int, default=64)
    p.add_argument("--units", type=int, default=256)
    a = p.parse_args()

    text, chars, train, val = common.setup(a)
    if not a.quiet:
        print(f"corpus: {len(text)} characters, vocabulary {len(chars)}, train {len(train)}, "
              f"validation {len(val)}")
    model = CharLSTM(len(chars), a.embedding, a.units)
    params = [q for q in model.parameters() if q.requires_grad]
    if not a.quiet:
        print(f"trainable params: {sum(q.numel() for q in params)}")
    adam = torch.optim.Adam(params, lr=a.learning_rate, eps=1e-7)
    common.train(model, params, adam, train, val, a)


if __name__ == "__main__":
    main()
