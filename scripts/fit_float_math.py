#!/usr/bin/python3
"""Derives the coefficients of the branchless float functions in ops/float_math.h (exp, tanh,
erf) and checks them in float32 arithmetic against float64 references.

Each fit is near-minimax: weighted least squares on Chebyshev-spaced points, reweighted by
Lawson's iteration (linear fits), and for erf's rational form linearised as Sanathanan and
Koerner do (x P(x^2) - erf(x) Q(x^2), scaled by the previous Q). Run it to see the figures the
header's comments quote:  /usr/bin/python3 scripts/fit_float_math.py"""
import numpy as np
from scipy.special import erf as erf64

f32 = np.float32


def lawson(A, b, iterations=200):
    """The c that makes max |A c - b| smallest (approximately): least squares whose row weights
    grow with each row's error."""
    w = np.full(len(b), 1.0 / len(b))
    for _ in range(iterations):
        s = np.sqrt(w)
        c, *_ = np.linalg.lstsq(A * s[:, None], b * s, rcond=None)
        w *= np.abs(A @ c - b) + 1e-300
        w /= w.sum()
    return c


def chebyshev_points(lo, hi, n=4000):
    return lo + (np.cos(np.linspace(0, np.pi, n)) + 1) / 2 * (hi - lo)


def fit_exp():
    """e^r = 1 + r + r^2 P(r) on the reduced range |r| <= ln(2)/2, relative error."""
    r = chebyshev_points(-np.log(2) / 2, np.log(2) / 2)
    r = r[np.abs(r) > 1e-6]
    e = np.exp(r)
    A = np.stack([r ** (k + 2) for k in range(6)], 1) / e[:, None]
    return lawson(A, (e - 1 - r) / e)


TANH_CLAMP = 7.90531110763549805  # tanh there is 1 - 2.7e-7; beyond, the clamp errs a few ulp


def fit_tanh():
    """tanh(x) = x P(x^2) / Q(x^2) on [0, TANH_CLAMP], Q(0) = 1, relative error. Fitted in
    u = x^2 / 64, where the linear systems are well conditioned (in x^2 itself the fit finds
    a Q with a root inside the range), then scaled back to x^2."""
    x = chebyshev_points(0, TANH_CLAMP, 8000)
    x = x[x > 1e-4]
    g = np.tanh(x) / x
    u = x * x / 64
    q_previous = np.ones_like(u)
    for _ in range(25):
        scale = g * q_previous
        A = np.stack([u ** k for k in range(7)] + [-g * u ** k for k in range(1, 4)],
                     1) / scale[:, None]
        c = lawson(A, g / scale, 80)
        p, q = c[:7], np.concatenate([[1.0], c[7:]])
        q_previous = np.polyval(q[::-1], u)
    assert np.all(np.roots(q[::-1]).real < 0), "Q has a root in the range"
    return [p[k] / 64 ** k for k in range(7)], [q[k] / 64 ** k for k in range(4)]


def fit_erf(p_terms=7, q_terms=5, rounds=12):
    """erf(x) = x P(x^2) / Q(x^2) on [0, 4] (erf is 1 in float beyond), Q(0) = 1, relative
    error."""
    x = chebyshev_points(0, 4, 6000)
    x = x[x > 1e-4]
    y = erf64(x)
    z = x * x
    q_previous = np.ones_like(x)
    for _ in range(rounds):
        scale = y * q_previous
        A = np.stack([x * z ** k for k in range(p_terms)] +
                     [-y * z ** k for k in range(1, q_terms)], 1) / scale[:, None]
        c = lawson(A, y / scale, 60)
        p, q = list(c[:p_terms]), [1.0] + list(c[p_terms:])
        q_previous = np.polyval(q[::-1], z)
    return p, q


# float32 versions, operation by operation as ops/float_math.h computes them (without FMA).
def exp_f(x, p):
    x = np.clip(x, f32(-87), f32(88)).astype(f32)
    shifter = f32(12582912.0)
    t = (x * f32(1.44269504088896341) + shifter).astype(f32)
    n = (t - shifter).astype(f32)
    k = t.view(np.int32) - np.array([shifter], f32).view(np.int32)[0]
    r = ((x - n * f32(0.693359375)) - n * f32(-2.12194440e-4)).astype(f32)
    s = f32(p[-1])
    for c in reversed(p[:-1]):
        s = (s * r + f32(c)).astype(f32)
    y = (s * r * r + r + f32(1)).astype(f32)
    return (y * ((k + 127) << 23).astype(np.int32).view(f32)).astype(f32)


def odd_rational(x, p, q):
    z = (x * x).astype(f32)

    def horner(coefficients):
        s = f32(coefficients[-1])
        for c in reversed(coefficients[:-1]):
            s = (z * s + f32(c)).astype(f32)
        return s

    return (x * horner(p) / horner(q)).astype(f32)


def tanh_f(a, p, q):
    return odd_rational(np.clip(a, f32(-TANH_CLAMP), f32(TANH_CLAMP)).astype(f32), p, q)


def erf_f(a, p, q):
    return odd_rational(np.clip(a, f32(-4), f32(4)).astype(f32), p, q)


def floats(lo, hi, stride):
    """Every `stride`-th float32 from lo to hi."""
    a, b = np.array([lo, hi], f32).view(np.int32)
    return np.arange(a, b, stride, dtype=np.int32).view(f32)


def ulps(approx, exact):
    return np.max(np.abs(approx.astype(np.float64) - exact) /
                  np.spacing(np.abs(exact.astype(f32))).astype(np.float64))


def show(name, coefficients):
    print(f"{name}: " + ", ".join(f"{c:.10e}f" for c in coefficients))


def main():
    exp_p = fit_exp()
    tanh_p, tanh_q = fit_tanh()
    erf_p, erf_q = fit_erf()
    show("exp P (r^2, r^3, ...)", exp_p)
    show("tanh P (x, x^3, ...)", tanh_p)
    show("tanh Q (1, x^2, ...)", tanh_q)
    show("erf P (x, x^3, ...)", erf_p)
    show("erf Q (1, x^2, ...)", erf_q)
    x = floats(1e-30, 87.0, 7)
    print(f"exp_f:  at most {max(ulps(exp_f(x, exp_p), np.exp(x.astype(np.float64))), ulps(exp_f(-x, exp_p), np.exp(-x.astype(np.float64)))):.2f} ulp over every 7th float in +-[1e-30, 87]")
    x = floats(1e-30, 12.0, 5)
    print(f"tanh_f: at most {ulps(tanh_f(x, tanh_p, tanh_q), np.tanh(x.astype(np.float64))):.2f} ulp over every 5th float in [1e-30, 12] (odd)")
    x = floats(1e-30, 6.0, 5)
    exact = erf64(x.astype(np.float64))
    approx = erf_f(x, erf_p, erf_q).astype(np.float64)
    print(f"erf_f:  at most {ulps(approx.astype(f32), exact):.2f} ulp, {np.max(np.abs(approx - exact)):.2e} absolute, {np.max(np.abs(approx - exact) / exact):.2e} relative over every 5th float in [1e-30, 6] (odd)")


if __name__ == "__main__":
    main()
