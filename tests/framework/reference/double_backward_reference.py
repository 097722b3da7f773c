#!/usr/bin/python3
"""Writes double_backward_reference.txt: inputs and PyTorch's first and second derivatives of a
few composed float64 expressions, for tests/framework/test_autograd_torch.cpp. Run once with
Debian's python3-torch:

  /usr/bin/python3 tests/framework/reference/double_backward_reference.py \
      > tests/framework/reference/double_backward_reference.txt

Format: one tensor per two lines, "<case>/<name> <rank> <dims...>" then its values in row-major
order (17 significant digits). Images are channels-last (batch, height, width, channels) and
conv kernels (kh, kw, in, out), as xgrad has them; they are permuted for torch's NCHW here."""
import torch
import torch.nn.functional as F

torch.manual_seed(17)
torch.set_default_dtype(torch.float64)
out = []


def emit(case, name, t):
    t = t.detach().to(torch.float64).contiguous()
    dims = list(t.shape)
    out.append(f"{case}/{name} {len(dims)} {' '.join(str(d) for d in dims)}".rstrip())
    out.append(" ".join(f"{v:.17g}" for v in t.reshape(-1).tolist()))


def leaf(*shape, scale=1.0):
    return (torch.randn(*shape) * scale).requires_grad_(True)


def grad(y, xs, create_graph=True):
    return torch.autograd.grad(y, xs, create_graph=create_graph)


# 1. A tanh MLP's derivatives with respect to its input (a PINN's u_x and u_xx), and the
#    gradient of a penalty on them with respect to the weights (third-order paths).
c = "tanh_mlp"
x, w1, b1, w2, b2, w3 = leaf(5, 2), leaf(2, 4), leaf(4), leaf(4, 3), leaf(3), leaf(3, 1)
u = torch.tanh(torch.tanh(x @ w1 + b1) @ w2 + b2) @ w3
(du,) = grad(u.sum(), x)
(d2x,) = grad(du[:, 0].sum(), x)
(d2y,) = grad(du[:, 1].sum(), x)
lap = d2x[:, 0] + d2y[:, 1]
penalty = (lap * lap).mean() + (du * du).sum()
gw = grad(penalty, [w1, b1, w2, b2, w3], create_graph=False)
for n, t in [("x", x), ("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2), ("w3", w3), ("du", du),
             ("laplacian", lap), ("d_w1", gw[0]), ("d_b1", gw[1]), ("d_w2", gw[2]),
             ("d_b2", gw[3]), ("d_w3", gw[4])]:
    emit(c, n, t)

# 2. Softmax cross-entropy of a linear model: gradient and Hessian-vector product wrt (W, b).
c = "softmax_xent_hvp"
x, w, b = torch.randn(6, 4), leaf(4, 3), leaf(3)
labels = torch.tensor([0, 2, 1, 2, 0, 1])
vw, vb = torch.randn(4, 3), torch.randn(3)
loss = F.cross_entropy(x @ w + b, labels)
gw, gb = grad(loss, [w, b])
hw, hb = grad((gw * vw).sum() + (gb * vb).sum(), [w, b], create_graph=False)
for n, t in [("x", x), ("w", w), ("b", b), ("labels", labels), ("vw", vw), ("vb", vb),
             ("loss", loss), ("gw", gw), ("gb", gb), ("hw", hw), ("hb", hb)]:
    emit(c, n, t)

# 3. conv2d -> tanh -> max pool and average pool, and a gradient penalty: the squared norm of
#    the input gradient, differentiated with respect to the kernel, the bias and the input.
c = "conv_pool_penalty"
x, k, kb = leaf(2, 5, 5, 2), leaf(3, 3, 2, 3, scale=0.5), leaf(3)
wmax, wavg = torch.randn(2, 2, 2, 3), torch.randn(2, 2, 2, 3)
h = torch.tanh(F.conv2d(x.permute(0, 3, 1, 2), k.permute(3, 2, 0, 1), kb))  # (2, 3, 3, 3) NCHW
pmax = F.max_pool2d(h, 2, 1).permute(0, 2, 3, 1)
pavg = F.avg_pool2d(h, 2, 1).permute(0, 2, 3, 1)
f = (pmax * wmax).sum() + (pavg * wavg).sum()
(gx,) = grad(f, x)
penalty = (gx * gx).sum()
dk, db, dx = grad(penalty, [k, kb, x], create_graph=False)
for n, t in [("x", x), ("kernel", k), ("bias", kb), ("wmax", wmax), ("wavg", wavg), ("gx", gx),
             ("d_kernel", dk), ("d_bias", db), ("d_x", dx)]:
    emit(c, n, t)

# 4. Batch normalisation (training mode, biased variance, epsilon 1e-3) under tanh: input
#    gradient, then the gradient of its squared norm wrt the input, gamma and beta.
c = "batch_norm"
x, gamma, beta = leaf(6, 3), leaf(3), leaf(3)
w = torch.randn(6, 3)
y = F.batch_norm(x, None, None, gamma, beta, training=True, eps=1e-3)
(gx,) = grad((torch.tanh(y) * w).sum(), x)
dx, dgamma, dbeta = grad((gx * gx).sum(), [x, gamma, beta], create_graph=False)
for n, t in [("x", x), ("gamma", gamma), ("beta", beta), ("w", w), ("gx", gx), ("d_x", dx),
             ("d_gamma", dgamma), ("d_beta", dbeta)]:
    emit(c, n, t)

# 5. Layer normalisation over the last axis (epsilon 1e-5), which xgrad composes from mean,
#    var and sqrt: torch's fused F.layer_norm is the reference.
c = "layer_norm"
x, gamma, beta = leaf(4, 5), leaf(5), leaf(5)
w = torch.randn(4, 5)
y = F.layer_norm(x, (5,), gamma, beta, eps=1e-5)
(gx,) = grad((torch.tanh(y) * w).sum(), x)
dx, dgamma, dbeta = grad((gx * gx).sum(), [x, gamma, beta], create_graph=False)
for n, t in [("x", x), ("gamma", gamma), ("beta", beta), ("w", w), ("y", y), ("gx", gx),
             ("d_x", dx), ("d_gamma", dgamma), ("d_beta", dbeta)]:
    emit(c, n, t)

# 6. log_softmax: the Hessian of sum(w * log_softmax(x)) times v, with respect to x.
c = "log_softmax_hvp"
x = leaf(3, 5, scale=2.0)
w, v = torch.randn(3, 5), torch.randn(3, 5)
(gx,) = grad((F.log_softmax(x, -1) * w).sum(), x)
(hv,) = grad((gx * v).sum(), x, create_graph=False)
for n, t in [("x", x), ("w", w), ("v", v), ("gx", gx), ("hv", hv)]:
    emit(c, n, t)

print(f"# Generated by tests/framework/reference/double_backward_reference.py with torch "
      f"{torch.__version__}; do not edit.")
print("\n".join(out))
