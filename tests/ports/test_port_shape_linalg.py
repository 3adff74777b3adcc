"""A PyTorch program, unchanged but for its import: sliding-window features with ``Tensor.unfold``, a
least-squares fit with ``linalg.solve``, a k-nearest-neighbour vote with ``cdist``/``topk``/``bincount``,
and a two-layer model trained with ``addmm`` on stacked, split and unbound features.

Written as one would for PyTorch (``import minigrad as torch`` is the only change); its numbers are
checked against NumPy: the window features, the fitted coefficients and residual, the neighbours'
votes, and the model's gradients (the backward written out by hand).
"""

import numpy as np

import minigrad as torch

# --- the PyTorch program ----------------------------------------------------------------------------


def window_features(signal, size=4, step=2):
    """Mean, spread and slope of each window of a batch of 1-D signals (N, L) -> (N, windows, 3)."""
    windows = signal.unfold(-1, size, step)  # (N, W, size), a view
    mean = windows.mean(-1)
    spread = windows.std(-1)
    slope = torch.diff(windows, dim=-1).mean(-1)
    return torch.stack([mean, spread, slope], dim=-1)


def least_squares(features, targets):
    """Coefficients of targets ~ [features, 1] by the normal equations, and the residual norm."""
    design = torch.column_stack([features, torch.ones(features.shape[0], dtype=features.dtype)])
    gram = torch.mm(design.T, design)
    coef = torch.linalg.solve(gram, torch.mv(design.T, targets))
    residual = torch.dist(torch.mv(design, coef), targets)
    sign, logabsdet = torch.linalg.slogdet(gram)
    return coef, residual, sign * torch.exp(logabsdet)


def knn_predict(train_x, train_y, query, k=3, num_classes=3):
    dists = torch.cdist(query, train_x)  # (Q, N)
    nearest = dists.topk(k, dim=1, largest=False).indices
    votes = torch.stack([torch.bincount(train_y[row], minlength=num_classes) for row in nearest.unbind(0)])
    return votes.argmax(dim=1), votes


def model_loss(feats, w1, b1, w2, b2):
    flat = feats.flatten(1)  # (N, W * 3)
    left, right = flat.tensor_split(2, dim=1)
    x = torch.hstack([right, left])  # reorder the halves
    h = torch.addmm(b1, x, w1).tanh()
    out = torch.addmm(b2, h, w2, beta=0.5)
    first, *_ = out.movedim(1, 0).unbind(0)
    return (first.narrow(0, 0, out.shape[0]) ** 2).mean()


# --- the checks -----------------------------------------------------------------------------------------


def _data():
    rng = np.random.default_rng(0)
    signal = rng.standard_normal((6, 10))
    targets = rng.standard_normal(6)
    return rng, signal, targets


def _np_windows(signal, size=4, step=2):
    starts = range(0, signal.shape[1] - size + 1, step)
    w = np.stack([signal[:, s : s + size] for s in starts], axis=1)
    return np.stack([w.mean(-1), w.std(-1, ddof=1), np.diff(w, axis=-1).mean(-1)], axis=-1)


def test_window_features_match_numpy():
    _, signal, _ = _data()
    feats = window_features(torch.tensor(signal))
    assert feats.shape == (6, 4, 3)
    np.testing.assert_allclose(feats.numpy(), _np_windows(signal), rtol=1e-12)


def test_least_squares_fit_matches_numpy():
    _, signal, targets = _data()
    feats = window_features(torch.tensor(signal))[:, 0, :]  # the first window's three features
    coef, residual, det = least_squares(feats, torch.tensor(targets))
    design = np.column_stack([_np_windows(signal)[:, 0, :], np.ones(6)])
    want, *_ = np.linalg.lstsq(design, targets, rcond=None)
    np.testing.assert_allclose(coef.numpy(), want, rtol=1e-9)
    np.testing.assert_allclose(residual.item(), np.linalg.norm(design @ want - targets), rtol=1e-9)
    np.testing.assert_allclose(det.item(), np.linalg.det(design.T @ design), rtol=1e-9)


def test_knn_votes_match_numpy():
    rng = np.random.default_rng(1)
    centres = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    labels = np.repeat(np.arange(3), 5)
    train = centres[labels] + 0.5 * rng.standard_normal((15, 2))
    query = centres + 0.3 * rng.standard_normal((3, 2))
    pred, votes = knn_predict(torch.tensor(train), torch.tensor(labels), torch.tensor(query))
    d = np.linalg.norm(query[:, None] - train[None], axis=-1)
    nearest = np.argsort(d, axis=1)[:, :3]
    want_votes = np.stack([np.bincount(labels[r], minlength=3) for r in nearest])
    np.testing.assert_array_equal(votes.numpy(), want_votes)
    np.testing.assert_array_equal(pred.numpy(), want_votes.argmax(1))
    assert pred.tolist() == [0, 1, 2]


def test_model_gradients_match_a_hand_written_backward():
    rng, signal, _ = _data()
    feats = _np_windows(signal).reshape(6, 12)
    w1, b1 = rng.standard_normal((12, 5)) * 0.3, rng.standard_normal(5) * 0.1
    w2, b2 = rng.standard_normal((5, 2)) * 0.3, rng.standard_normal(2) * 0.1
    params = [torch.tensor(p, requires_grad=True) for p in (w1, b1, w2, b2)]
    loss = model_loss(torch.tensor(feats.reshape(6, 4, 3)), *params)
    loss.backward()
    # the same computation in NumPy, and its backward by hand
    x = np.hstack([feats[:, 6:], feats[:, :6]])
    h = np.tanh(x @ w1 + b1)
    out = 0.5 * b2 + h @ w2
    first = out[:, 0]
    np.testing.assert_allclose(loss.item(), (first**2).mean(), rtol=1e-12)
    g_out = np.zeros_like(out)
    g_out[:, 0] = 2 * first / first.size
    g_w2, g_b2 = h.T @ g_out, 0.5 * g_out.sum(0)
    g_pre = (g_out @ w2.T) * (1 - h**2)
    g_w1, g_b1 = x.T @ g_pre, g_pre.sum(0)
    for p, want in zip(params, (g_w1, g_b1, g_w2, g_b2)):
        np.testing.assert_allclose(p.grad.numpy(), want, rtol=1e-10, atol=1e-12)
