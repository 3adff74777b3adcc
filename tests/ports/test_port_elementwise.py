"""A PyTorch program, unchanged but for its import: a hand-written Adam step, a robust loss with
nan-aware statistics, a Beta/Gamma log-likelihood and a masked metric.

Small training scripts write their optimizer with ``p.addcmul_``/``addcdiv_``, clip with ``clamp_``,
normalize with ``nanmean``/``quantile``, score probabilities with ``logit``/``xlogy``/``lgamma`` and build
masks with ``logical_and``/``isin``/``bitwise`` ops. The numbers are checked against NumPy (and math),
the gradients too.
"""

import math

import numpy as np

import minigrad as torch

# --- the PyTorch program ----------------------------------------------------------------------------


def adam_step(params, grads, state, lr=1e-2, betas=(0.9, 0.999), eps=1e-8):
    """torch.optim.Adam's update, as people write it by hand."""
    with torch.no_grad():
        state["step"] += 1
        b1, b2 = betas
        for p, g, m, v in zip(params, grads, state["m"], state["v"]):
            m.mul_(b1).add_(g, alpha=1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            bias1 = 1 - b1 ** state["step"]
            bias2 = 1 - b2 ** state["step"]
            denom = (v.sqrt() / math.sqrt(bias2)).add_(eps)
            p.addcdiv_(m, denom, value=-lr / bias1)
            p.clamp_(-3.0, 3.0)


def robust_standardize(x):
    """Center by the nan-median, scale by the inter-quartile range, zero the NaNs."""
    center = torch.nanmedian(x, dim=0, keepdim=True).values
    q = torch.nanquantile(x, torch.tensor([0.25, 0.75], dtype=x.dtype), dim=0, keepdim=True)
    iqr = (q[1] - q[0]).clamp_min(1e-6)
    filled = torch.where(torch.isnan(x), center, x)  # NaN entries become the center: 0 after centering
    return torch.nan_to_num((filled - center) / iqr)


def beta_log_likelihood(p, a, b):
    """sum of log Beta(p; a, b) = (a-1) log p + (b-1) log(1-p) - log B(a, b)."""
    log_beta = torch.lgamma(a) + torch.lgamma(b) - torch.lgamma(a + b)
    return (torch.xlogy(a - 1, p) + torch.xlogy(b - 1, 1 - p) - log_beta).sum()


def masked_accuracy(logits, target, ignore):
    pred = torch.sigmoid(logits).gt(0.5).long()
    keep = torch.logical_not(torch.isin(target, ignore))
    hit = torch.logical_and(pred.eq(target), keep)
    return hit.sum().item() / keep.sum().item()


# --- the check ---------------------------------------------------------------------------------------


def test_adam_by_hand_matches_the_numpy_update():
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((3, 2))
    w = torch.tensor(w0, requires_grad=True)
    state = {"step": 0, "m": [torch.zeros_like(w)], "v": [torch.zeros_like(w)]}
    m_np, v_np, w_np = np.zeros_like(w0), np.zeros_like(w0), w0.copy()
    for step in range(1, 4):
        loss = (w * w).sum() + torch.logaddexp(w, -w).sum()
        w.grad = None
        loss.backward()
        g = w.grad.numpy().copy()
        adam_step([w], [w.grad], state)
        m_np = 0.9 * m_np + 0.1 * g
        v_np = 0.999 * v_np + 0.001 * g * g
        w_np = np.clip(
            w_np - 1e-2 / (1 - 0.9**step) * m_np / (np.sqrt(v_np) / math.sqrt(1 - 0.999**step) + 1e-8), -3, 3
        )
        np.testing.assert_allclose(w.numpy(), w_np, rtol=1e-12)
    assert w.is_leaf and w._version == 6  # addcdiv_ and clamp_ per step, all under no_grad


def test_robust_standardize_and_its_gradient():
    x = np.array([[1.0, np.nan], [2.0, 4.0], [10.0, 5.0], [3.0, np.nan], [4.0, 7.0]])
    t = torch.tensor(x, requires_grad=True)
    out = robust_standardize(t)
    center = np.array([3.0, 5.0])
    iqr = np.nanquantile(x, 0.75, axis=0) - np.nanquantile(x, 0.25, axis=0)
    np.testing.assert_allclose(out.numpy(), np.nan_to_num((x - center) / iqr), rtol=1e-12)
    out.sum().backward()
    assert np.isfinite(t.grad.numpy()).all() and t.grad.numpy()[0, 1] == 0.0


def test_beta_log_likelihood_and_its_gradients():
    p = torch.tensor([0.2, 0.5, 0.9], dtype=torch.float64, requires_grad=True)
    a = torch.tensor([2.0, 1.0, 3.5], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([5.0, 1.0, 0.5], dtype=torch.float64, requires_grad=True)
    ll = beta_log_likelihood(p, a, b)
    want = sum(
        (ai - 1) * math.log(pi)
        + (bi - 1) * math.log(1 - pi)
        - (math.lgamma(ai) + math.lgamma(bi) - math.lgamma(ai + bi))
        for pi, ai, bi in zip([0.2, 0.5, 0.9], [2.0, 1.0, 3.5], [5.0, 1.0, 0.5])
    )
    assert abs(ll.item() - want) < 1e-12
    ll.backward()
    pn, an, bn = p.numpy(), a.numpy(), b.numpy()
    np.testing.assert_allclose(p.grad.numpy(), (an - 1) / pn - (bn - 1) / (1 - pn), rtol=1e-12)
    digamma = torch.digamma(torch.tensor(an + bn, dtype=torch.float64)).numpy()
    # xlogy's d/dx is 0 where x = 0 (PyTorch's convention): a = 1 gets no log p term
    d_xlogy = np.where(an == 1, 0.0, np.log(pn))
    np.testing.assert_allclose(a.grad.numpy(), d_xlogy - torch.digamma(a).detach().numpy() + digamma, rtol=1e-12)
    assert torch.isfinite(b.grad).all()


def test_masked_accuracy_and_bit_masks():
    logits = torch.tensor([2.0, -1.0, 0.5, -3.0, 1.0])
    target = torch.tensor([1, 0, 0, -1, 1])
    assert masked_accuracy(logits, target, torch.tensor([-1])) == 3 / 4
    flags = torch.tensor([0b0101, 0b0011])
    assert (flags & 1).tolist() == [1, 1] and (flags >> 1).tolist() == [2, 1]
    assert torch.bitwise_xor(flags, torch.tensor([1, 1])).tolist() == [4, 2]
    assert torch.equal(torch.square(torch.tensor([2, 3])), torch.tensor([4, 9]))
