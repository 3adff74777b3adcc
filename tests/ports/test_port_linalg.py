"""A PyTorch program, unchanged but for its import: causal self-attention with einsum, a triu mask,
a relative-position bias from meshgrid, bmm, and gradient clipping by the global norm.

The snippet below is written as one would for PyTorch (``import minigrad as torch`` is the only
change); its numbers are checked against NumPy: the forward, every gradient (the backward written
out by hand), the clipped gradients and the SGD step.
"""

import math

import numpy as np
import pytest

import minigrad as torch

T, D = 4, 6


# --- the PyTorch program ----------------------------------------------------------------------------


def causal_attention(x, wq, wk, wv, bias_table):
    q = torch.einsum("btd,de->bte", x, wq)
    k = torch.einsum("...td,de->...te", x, wk)
    v = torch.bmm(x, wv.expand(x.shape[0], D, D))
    scores = torch.einsum("bqd,bkd->bqk", q, k) / math.sqrt(q.shape[-1])
    i, j = torch.meshgrid(torch.arange(T), torch.arange(T), indexing="ij")
    scores = scores + bias_table[i - j + T - 1]  # a learned bias per relative position
    mask = torch.triu(torch.ones(T, T), diagonal=1).bool()
    scores = scores.masked_fill(mask, float("-inf"))
    attn = torch.softmax(scores, dim=-1)
    return torch.bmm(attn, v)


def train_step(params, x, lr=0.1, max_norm=0.5):
    out = causal_attention(x, *params)
    loss = out.pow(2).mean()
    loss.backward()
    total = torch.norm(torch.stack([torch.norm(p.grad, 2) for p in params]), 2)
    clip = max_norm / (total.item() + 1e-6)
    with torch.no_grad():
        for p in params:
            if clip < 1:
                p.grad.mul_(clip)
            p.sub_(lr * p.grad)
    return out, loss, total


# --- the same in NumPy --------------------------------------------------------------------------------


def numpy_attention(x, wq, wk, wv, table):
    q, k, v = x @ wq, x @ wk, x @ wv
    rel = np.subtract.outer(np.arange(T), np.arange(T)) + T - 1
    s = q @ k.transpose(0, 2, 1) / math.sqrt(D) + table[rel]
    s = np.where(np.triu(np.ones((T, T)), 1) > 0, -np.inf, s)
    e = np.exp(s - s.max(-1, keepdims=True))
    a = e / e.sum(-1, keepdims=True)
    return q, k, v, rel, a, a @ v


def numpy_gradients(x, wq, wk, wv, table):
    """d mean(o^2) / d params, by the chain rule written out."""
    q, k, v, rel, a, o = numpy_attention(x, wq, wk, wv, table)
    d_o = 2 * o / o.size
    d_a = d_o @ v.transpose(0, 2, 1)
    d_v = a.transpose(0, 2, 1) @ d_o
    d_s = a * (d_a - (d_a * a).sum(-1, keepdims=True))  # masked entries have a = 0
    d_table = np.zeros_like(table)
    np.add.at(d_table, rel, d_s.sum(0))
    d_s = d_s / math.sqrt(D)
    d_q, d_k = d_s @ k, d_s.transpose(0, 2, 1) @ q
    flat = x.reshape(-1, D)
    return [flat.T @ d.reshape(-1, D) for d in (d_q, d_k, d_v)] + [d_table]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_attention_program_gives_numpys_numbers(dtype):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(dtype) for s in ((D, D), (D, D), (D, D), (2 * T - 1,))]
    x = rng.standard_normal((2, T, D)).astype(dtype)
    params = [torch.tensor(a, requires_grad=True) for a in arrays]
    rtol = 1e-10 if dtype == np.float64 else 2e-4

    out, loss, total = train_step(params, torch.tensor(x))

    want_out = numpy_attention(*(a.astype(np.float64) for a in [x, *arrays]))[-1]
    np.testing.assert_allclose(out.numpy(), want_out, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(loss.item(), np.mean(want_out**2), rtol=rtol)
    grads = numpy_gradients(*(a.astype(np.float64) for a in [x, *arrays]))
    want_total = np.sqrt(sum(np.sum(g**2) for g in grads))
    np.testing.assert_allclose(total.item(), want_total, rtol=rtol)
    clip = min(1.0, 0.5 / (want_total + 1e-6))
    for p, a, g in zip(params, arrays, grads):
        assert p.dtype == dtype and p.grad.dtype == dtype
        np.testing.assert_allclose(p.grad.numpy(), g * clip, rtol=rtol, atol=rtol)
        np.testing.assert_allclose(p.detach().numpy(), a - 0.1 * clip * g, rtol=rtol, atol=rtol)
    assert want_total > 0.5  # the clipping did something


def test_the_attention_program_passes_gradcheck():
    rng = np.random.default_rng(1)
    x = torch.tensor(rng.standard_normal((2, T, D)))
    params = [torch.tensor(rng.standard_normal(s), requires_grad=True) for s in ((D, D), (D, D), (D, D), (2 * T - 1,))]
    assert torch.gradcheck(lambda *ps: causal_attention(x, *ps).pow(2).sum(), params)
