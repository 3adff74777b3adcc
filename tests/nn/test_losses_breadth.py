"""The losses of issue #17 against their NumPy formulas: values for every reduction, gradients by gradcheck
(float64, hypothesis shapes, broadcasting where PyTorch broadcasts), second order, and the errors.

Covers minigrad.nn.losses_functional (and the modules in minigrad.nn.loss), the binary_cross_entropy
primitive of minigrad.ops.loss_breadth, and the new options of cross_entropy, nll_loss and
binary_cross_entropy_with_logits (weight, label smoothing with weight, probability targets, pos_weight).
PyTorch's own numbers are checked in tests/parity/test_torch_losses.py.
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn

REDUCTIONS = ["mean", "sum", "none"]
FEW = settings(max_examples=12, deadline=None)


def _t(a, requires_grad=False, device="cpu"):
    return mg.tensor(np.asarray(a), requires_grad=requires_grad, device=device)


def _reduce(loss, reduction):
    return loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.mean()


def _log_softmax(x, axis=1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _check(fn, arrays, expected, grad=(0,), second_order=True, device="cpu"):
    """fn on tensors of ``arrays`` equals ``expected``; gradcheck (and gradgradcheck) for the inputs in ``grad``."""
    tensors = [_t(a, i in grad, device) for i, a in enumerate(arrays)]
    out = fn(*tensors)
    np.testing.assert_allclose(out.to("cpu").numpy(), expected, rtol=1e-10, atol=1e-12)
    if np.ndim(expected) == 0 and np.isnan(expected):
        return  # the mean of an empty loss is NaN (as PyTorch): no derivative for differences to check
    mg.gradcheck(fn, tensors)
    if second_order:
        mg.gradgradcheck(fn, tensors)


def _floats(shape, lo=-2.0, hi=2.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(lo, hi, allow_nan=False))


@st.composite
def _pair(draw, broadcast=True, lo=-2.0, hi=2.0):
    """Two float64 arrays whose shapes broadcast (or are equal), some dims empty now and then."""
    if broadcast:
        shapes = draw(
            hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=3)
        ).input_shapes
    else:
        shapes = [draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))] * 2
    return tuple(draw(_floats(s, lo, hi)) for s in shapes)


def _away(a, b, points, gap=1e-3):
    """Shift ``a`` so that a - b stays ``gap`` away from every kink point (gradcheck's step is 1e-6)."""
    a = np.array(a, dtype=np.float64)
    d = np.broadcast_to(a - b, np.broadcast_shapes(a.shape, np.shape(b)))
    for p in points:
        if np.any(np.abs(np.abs(d) - p) < gap):
            return None
    return a


# --- regression losses -------------------------------------------------------------------------


@FEW
@given(_pair(), st.sampled_from(REDUCTIONS))
def test_l1_loss(pair, reduction):
    a, b = pair
    assume(_away(a, b, [0.0]) is not None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # broadcasting shapes warn, as PyTorch
        _check(lambda x, y: F.l1_loss(x, y, reduction=reduction), (a, b), _reduce(np.abs(a - b), reduction), (0, 1))


@FEW
@given(_pair(), st.sampled_from(REDUCTIONS), st.sampled_from([1.0, 0.5, 2.0]))
def test_smooth_l1_and_huber(pair, reduction, beta):
    a, b = pair
    assume(_away(a, b, [0.0, beta]) is not None)
    d = a - b
    smooth = np.where(np.abs(d) < beta, 0.5 * d * d / beta, np.abs(d) - 0.5 * beta)
    huber = np.where(np.abs(d) < beta, 0.5 * d * d, beta * (np.abs(d) - 0.5 * beta))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _check(lambda x, y: F.smooth_l1_loss(x, y, reduction=reduction, beta=beta), (a, b), _reduce(smooth, reduction))
        _check(lambda x, y: F.huber_loss(x, y, reduction=reduction, delta=beta), (a, b), _reduce(huber, reduction))
        np.testing.assert_allclose(
            F.huber_loss(_t(a), _t(b), delta=beta).numpy(), beta * F.smooth_l1_loss(_t(a), _t(b), beta=beta).numpy()
        )


def test_weighted_l1_and_huber():
    rng = np.random.default_rng(0)
    a, b, w = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.random((3, 4))
    _check(lambda x, y: F.l1_loss(x, y, weight=_t(w)), (a, b), (np.abs(a - b) * w).sum() / w.sum(), (0, 1))
    d = a - b
    huber = np.where(np.abs(d) < 1, 0.5 * d * d, np.abs(d) - 0.5) * w
    for reduction in REDUCTIONS:
        fn = lambda x, y, r=reduction: F.huber_loss(x, y, r, 1.0, _t(w))  # noqa: E731
        _check(fn, (a, b), _reduce(huber, reduction), (0, 1))


def test_smooth_l1_with_beta_zero_is_l1():
    a, b = np.array([0.5, -2.0, 3.0]), np.array([0.0, 1.0, 3.5])
    np.testing.assert_allclose(F.smooth_l1_loss(_t(a), _t(b), beta=0.0).numpy(), np.abs(a - b).mean())


def test_l1_declares_its_kink_at_zero():
    """gradcheck flags a difference that crosses 0 as a kink (abs's signature), not a wrong gradient."""
    report = mg.gradcheck(lambda x: F.l1_loss(x, _t(np.zeros(3))), _t(np.array([0.0, 1.0, -1.0]), True))
    assert report.kinks


# --- binary cross-entropy of probabilities ------------------------------------------------------------


def _bce(x, t):
    return -(t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log1p(-x), -100))


@FEW
@given(_pair(broadcast=False, lo=0.05, hi=0.95), st.sampled_from(REDUCTIONS), st.booleans())
def test_binary_cross_entropy(pair, reduction, weighted):
    device = "cpu"
    x, t = pair
    w = np.linspace(0.5, 1.5, x.shape[-1]) if weighted and x.ndim else None
    expected = _bce(x, t) * (1 if w is None else w)
    weight = None if w is None else _t(w, device=device)
    _check(
        lambda x, t: F.binary_cross_entropy(x, t, weight, reduction=reduction),
        (x, t),
        _reduce(expected, reduction),
        (0, 1),
        device=device,
    )


def test_binary_cross_entropy_at_zero_and_one_is_clamped():
    x = _t(np.array([0.0, 1.0, 0.0, 1.0]), True)
    t = _t(np.array([1.0, 0.0, 0.0, 1.0]))
    loss = F.binary_cross_entropy(x, t, reduction="none")
    np.testing.assert_array_equal(loss.numpy(), [100.0, 100.0, 0.0, 0.0])
    loss.sum().backward()
    eps = float(np.float32(1e-12))  # PyTorch's floor of x (1 - x), a C float
    np.testing.assert_allclose(x.grad.numpy(), [-1 / eps, 1 / eps, 0.0, 0.0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_new_losses_on_every_device(device, reduction):
    x, t = np.array([[0.2, 0.7], [0.9, 0.4]]), np.array([[0.0, 1.0], [1.0, 0.5]])
    w = np.array([0.5, 2.0])
    _check(
        lambda x, t: F.binary_cross_entropy(x, t, _t(w, device=device), reduction=reduction),
        (x, t),
        _reduce(_bce(x, t) * w, reduction),
        (0, 1),
        device=device,
    )
    _check(
        lambda x, t: F.smooth_l1_loss(x, t, reduction=reduction, beta=0.25),
        (x, t),
        _reduce(np.where(np.abs(x - t) < 0.25, 2 * (x - t) ** 2, np.abs(x - t) - 0.125), reduction),
        (0, 1),
        device=device,
    )
    labels = np.array([1, 0])
    picked = x[np.arange(2), labels][:, None]
    margins = np.maximum(1 - picked + x, 0) * (np.arange(2) != labels[:, None])
    _check(
        lambda x: F.multi_margin_loss(x, _t(labels, device=device), reduction=reduction),
        (x,),
        _reduce(margins.sum(1) / 2, reduction),
        device=device,
        second_order=False,
    )
    logits = np.array([[1.0, -0.5], [0.2, 0.3]])
    _check(
        lambda x: F.cross_entropy(x, _t(labels, device=device), weight=_t(w, device=device), reduction=reduction),
        (logits,),
        _weighted_ce_ref(logits, labels, w, reduction, 0.0),
        device=device,
    )


def test_bce_loss_module_and_its_weight_buffer():
    w = _t(np.array([1.0, 2.0]))
    module = nn.BCELoss(weight=w, reduction="sum")
    x, t = np.array([[0.2, 0.7], [0.9, 0.4]]), np.array([[0.0, 1.0], [1.0, 1.0]])
    np.testing.assert_allclose(module(_t(x), _t(t)).numpy(), (_bce(x, t) * [1.0, 2.0]).sum())
    assert list(module.state_dict()) == ["weight"]
    assert list(nn.BCELoss().state_dict()) == []


# --- KL divergence, Poisson and Gaussian NLL ------------------------------------------------------


@FEW
@given(st.integers(1, 3), st.integers(1, 4), st.sampled_from(REDUCTIONS + ["batchmean"]), st.booleans(), st.data())
def test_kl_div(n, c, reduction, log_target, data):
    logq = data.draw(_floats((n, c), -3.0, 0.0))
    p = data.draw(_floats((n, c), 0.05, 1.0))
    target = np.log(p) if log_target else p
    pointwise = np.exp(target) * (target - logq) if log_target else p * (np.log(p) - logq)
    expected = pointwise.sum() / n if reduction == "batchmean" else _reduce(pointwise, reduction)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _check(
            lambda x, t: F.kl_div(x, t, reduction=reduction, log_target=log_target), (logq, target), expected, (0, 1)
        )


def test_kl_div_mean_warns_and_zero_targets_count_zero():
    logq, p = np.log(np.array([[0.5, 0.5]])), np.array([[1.0, 0.0]])
    with pytest.warns(UserWarning, match="batchmean"):
        value = F.kl_div(_t(logq), _t(p))
    np.testing.assert_allclose(value.numpy(), (1.0 * (0 - logq[0, 0])) / 2)
    x = _t(logq, True)
    F.kl_div(x, _t(p), reduction="sum").backward()
    np.testing.assert_array_equal(x.grad.numpy(), -p)


@FEW
@given(st.sampled_from(REDUCTIONS), st.booleans(), st.booleans(), st.data())
def test_poisson_nll_loss(reduction, log_input, full, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=3))
    x = data.draw(_floats(shape, -1.0, 1.0)) if log_input else data.draw(_floats(shape, 0.2, 3.0))
    t = data.draw(_floats(shape, 0.0, 4.0))
    assume(not (full and np.any(np.abs(t - 1) < 1e-3)))
    loss = np.exp(x) - t * x if log_input else x - t * np.log(x + 1e-8)
    if full:
        safe = np.where(t > 1, t, 2.0)
        loss = loss + np.where(t > 1, safe * np.log(safe) - safe + 0.5 * np.log(2 * np.pi * safe), 0.0)
    _check(
        lambda x, t: F.poisson_nll_loss(x, t, log_input=log_input, full=full, reduction=reduction),
        (x, t),
        _reduce(loss, reduction),
        (0, 1),
    )


@FEW
@given(st.sampled_from(REDUCTIONS), st.booleans(), st.sampled_from(["same", "short", "one"]), st.data())
def test_gaussian_nll_loss(reduction, full, var_shape, data):
    mu, y = data.draw(_floats((2, 3))), data.draw(_floats((2, 3)))
    shape = {"same": (2, 3), "short": (2,), "one": (2, 1)}[var_shape]
    var = data.draw(_floats(shape, 0.1, 2.0))
    v = var.reshape(2, -1)
    loss = 0.5 * (np.log(v) + (mu - y) ** 2 / v) + (0.5 * math.log(2 * math.pi) if full else 0.0)
    _check(
        lambda m, t, v: F.gaussian_nll_loss(m, t, v, full=full, reduction=reduction),
        (mu, y, var),
        _reduce(loss, reduction),
        (0, 1, 2),
    )


def test_gaussian_nll_clamps_the_variance_value_not_its_gradient():
    var = _t(np.array([1e-9, 1.0]), True)
    loss = F.gaussian_nll_loss(_t(np.zeros(2)), _t(np.ones(2)), var, reduction="sum")
    np.testing.assert_allclose(loss.numpy(), 0.5 * (np.log(1e-6) + 1 / 1e-6) + 0.5)
    loss.backward()
    np.testing.assert_allclose(var.grad.numpy(), 0.5 * (1 / np.array([1e-6, 1.0]) - 1 / np.array([1e-6, 1.0]) ** 2))
    assert F.gaussian_nll_loss(_t(np.zeros(2)), _t(np.ones(2)), 0.5).item() == pytest.approx(0.5 * (np.log(0.5) + 2))


# --- margins and embeddings ------------------------------------------------------------------------


@FEW
@given(st.integers(1, 4), st.integers(1, 4), st.sampled_from(REDUCTIONS), st.sampled_from([0.0, 0.3]), st.data())
def test_cosine_embedding_loss(n, d, reduction, margin, data):
    a, b = data.draw(_floats((n, d), 0.2, 2.0)), data.draw(_floats((n, d), -2.0, 2.0))
    y = data.draw(hnp.arrays(np.float64, (n,), elements=st.sampled_from([1.0, -1.0])))
    cos = (a * b).sum(1) / np.sqrt(((a * a).sum(1) + 1e-12) * ((b * b).sum(1) + 1e-12))
    assume(
        not (np.any(np.linalg.norm(b, axis=1) < 0.2))
    )  # the cosine of a (near) zero vector is not defined: its gradient is ~1 / |b|
    assume(
        not (np.any(np.abs(cos - margin) < 1e-4) or np.any(np.abs(np.abs(cos) - 1) < 1e-3))
    )  # at the margin's kink; or (anti)parallel, where the gradient is 0 and differences are rounding noise
    loss = np.where(y == 1, 1 - cos, np.maximum(cos - margin, 0))
    # Second order on fixed vectors (test_cosine_embedding_loss_second_order): on drawn ones, Hessian entries
    # that are 0 in exact arithmetic come out as rounding noise on both sides.
    _check(
        lambda x1, x2: F.cosine_embedding_loss(x1, x2, _t(y), margin=margin, reduction=reduction),
        (a, b),
        _reduce(loss, reduction),
        (0, 1),
        second_order=False,
    )


def test_cosine_embedding_loss_second_order():
    a = _t(np.array([[1.0, -0.5, 2.0], [0.3, 0.8, -1.2]]), True)
    b = _t(np.array([[0.4, 1.5, -0.7], [-1.1, 0.2, 0.9]]), True)
    for y in ([1.0, -1.0], [-1.0, 1.0]):
        mg.gradgradcheck(lambda a, b, y=y: F.cosine_embedding_loss(a, b, _t(np.array(y)), margin=-0.5), (a, b))


@FEW
@given(_pair(), st.sampled_from(REDUCTIONS), st.sampled_from([0.0, 0.5]), st.data())
def test_margin_ranking_loss(pair, reduction, margin, data):
    a, b = pair
    ndim = max(a.ndim, b.ndim)  # the loss takes inputs of one ndim (broadcasting sizes of 1): pad with leading 1s
    a, b = a.reshape((1,) * (ndim - a.ndim) + a.shape), b.reshape((1,) * (ndim - b.ndim) + b.shape)
    shape = np.broadcast_shapes(a.shape, b.shape)
    y = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([1.0, -1.0])))
    z = -y * (a - b) + margin
    assume(not (np.any(np.abs(z) < 1e-3)))
    fn = lambda x1, x2: F.margin_ranking_loss(x1, x2, _t(y), margin=margin, reduction=reduction)  # noqa: E731
    _check(fn, (a, b), _reduce(np.maximum(z, 0), reduction), (0, 1))


@FEW
@given(st.sampled_from(REDUCTIONS), st.sampled_from([1.0, 0.5]), st.data())
def test_hinge_soft_margin_and_multilabel_soft_margin(reduction, margin, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=3))
    x = data.draw(_floats(shape))
    y = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([1.0, -1.0])))
    if not np.any(np.abs(margin - x) < 1e-3):
        hinge = np.where(y == 1, x, np.maximum(margin - x, 0))
        _check(
            lambda x: F.hinge_embedding_loss(x, _t(y), margin=margin, reduction=reduction),
            (x,),
            _reduce(hinge, reduction),
        )
    _check(
        lambda x: F.soft_margin_loss(x, _t(y), reduction=reduction), (x,), _reduce(np.log1p(np.exp(-y * x)), reduction)
    )
    labels = (y > 0) * 1.0
    w = np.linspace(0.5, 1.5, shape[-1])
    per = -(labels * np.log(1 / (1 + np.exp(-x))) + (1 - labels) * np.log(1 / (1 + np.exp(x)))) * w
    _check(
        lambda x, t: F.multilabel_soft_margin_loss(x, t, _t(w), reduction=reduction),
        (x, labels),
        _reduce(per.mean(-1), reduction),
        (0, 1),
    )


def _multi_margin_ref(x, t, p, margin, w):
    x2 = x.reshape(-1, x.shape[-1])
    t2 = np.asarray(t).reshape(-1)
    out = []
    for row, y in zip(x2, t2):
        z = np.maximum(margin - row[y] + row, 0) ** p * (1.0 if w is None else w[y])
        out.append((z.sum() - z[y]) / x.shape[-1])
    return np.array(out).reshape(np.shape(t))


@FEW
@given(
    st.integers(1, 3), st.integers(2, 4), st.sampled_from([1, 2]), st.sampled_from(REDUCTIONS), st.booleans(), st.data()
)
def test_multi_margin_loss(n, c, p, reduction, weighted, data):
    x = data.draw(_floats((n, c)))
    t = data.draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    picked = np.take_along_axis(x, t[:, None], 1)
    assume(not (np.any(np.abs(1.0 - picked + x) < 1e-3)))
    w = np.linspace(0.5, 2.0, c) if weighted else None
    expected = _reduce(_multi_margin_ref(x, t, p, 1.0, w), reduction)
    fn = lambda x: F.multi_margin_loss(x, _t(t), p=p, weight=None if w is None else _t(w), reduction=reduction)  # noqa: E731
    _check(fn, (x,), expected, second_order=p == 2)


def _multilabel_margin_ref(x, t):
    x2, t2 = x.reshape(-1, x.shape[-1]), t.reshape(-1, x.shape[-1])
    out = []
    for row, ys in zip(x2, t2):
        listed = []
        for y in ys:
            if y < 0:
                break
            listed.append(y)
        others = [i for i in range(len(row)) if i not in listed]
        out.append(sum(max(0.0, 1 - (row[j] - row[i])) for j in listed for i in others) / len(row))
    return np.array(out).reshape(x.shape[:-1])


@FEW
@given(st.integers(1, 3), st.integers(2, 4), st.sampled_from(REDUCTIONS), st.data())
def test_multilabel_margin_loss(n, c, reduction, data):
    x = data.draw(_floats((n, c)))
    assume(not (np.any(np.abs(1 - (x[:, :, None] - x[:, None, :])) < 1e-3)))
    t = data.draw(hnp.arrays(np.int64, (n, c), elements=st.integers(-1, c - 1)))
    _check(
        lambda x: F.multilabel_margin_loss(x, _t(t), reduction=reduction),
        (x,),
        _reduce(_multilabel_margin_ref(x, t), reduction),
    )


@FEW
@given(
    st.integers(1, 3),
    st.integers(1, 3),
    st.sampled_from(REDUCTIONS),
    st.sampled_from([2, 1, 3.0]),
    st.booleans(),
    st.data(),
)
def test_triplet_margin_loss(n, d, reduction, p, swap, data):
    a, pos, neg = (data.draw(_floats((n, d))) for _ in range(3))

    def dist(u, v):
        return (np.abs(u - v + 1e-6) ** p).sum(-1) ** (1 / p)

    d_neg = np.minimum(dist(a, neg), dist(pos, neg)) if swap else dist(a, neg)
    z = 1.0 + dist(a, pos) - d_neg
    assume(
        not (np.any(np.abs(z) < 1e-3) or np.any(np.abs(a - pos + 1e-6) < 1e-3) or np.any(np.abs(a - neg + 1e-6) < 1e-3))
    )
    assume(not (swap and np.any(np.abs(dist(a, neg) - dist(pos, neg)) < 1e-3)))
    assume(not (swap and np.any(np.abs(pos - neg + 1e-6) < 1e-3)))
    fn = lambda a, b, c: F.triplet_margin_loss(a, b, c, p=p, swap=swap, reduction=reduction)  # noqa: E731
    # second order for the 2-norm of vectors (for D = 1 it is |d|, whose second derivative is exactly 0)
    _check(fn, (a, pos, neg), _reduce(np.maximum(z, 0), reduction), (0, 1, 2), second_order=p == 2 and d > 1)


# --- cross-entropy, nll and BCE-with-logits: weights, smoothing, probabilities -----------------------


@st.composite
def _weighted_classification(draw):
    n, c = draw(st.integers(1, 3)), draw(st.integers(2, 4))
    extra = draw(st.lists(st.integers(1, 2), max_size=1))
    x = draw(_floats((n, c, *extra), -3.0, 3.0))
    t = draw(hnp.arrays(np.int64, (n, *extra), elements=st.integers(0, c - 1)))
    ignore = draw(hnp.arrays(np.bool_, t.shape))
    ignore.flat[0] = False
    t = np.where(ignore, -100, t)
    w = draw(_floats((c,), 0.2, 2.0))
    return x, t, w


def _weighted_ce_ref(x, t, w, reduction, e):
    c = x.shape[1]
    logp = _log_softmax(x)
    valid = t != -100
    safe = np.where(valid, t, 0)
    onehot = np.moveaxis(np.eye(c)[safe], -1, 1)
    wt = w[safe] * valid
    wc = w.reshape((c,) + (1,) * (x.ndim - 2))
    per = -((1 - e) * (onehot * logp).sum(1) * wt + e / c * (wc * logp).sum(1) * valid)
    if reduction == "none":
        return per
    return per.sum() if reduction == "sum" else per.sum() / wt.sum()


@FEW
@given(_weighted_classification(), st.sampled_from(REDUCTIONS), st.sampled_from([0.0, 0.2]))
def test_cross_entropy_and_nll_with_weight(case, reduction, e):
    x, t, w = case
    _check(
        lambda x: F.cross_entropy(x, _t(t), weight=_t(w), reduction=reduction, label_smoothing=e),
        (x,),
        _weighted_ce_ref(x, t, w, reduction, e),
    )
    logp = _log_softmax(x)
    _check(
        lambda x: F.nll_loss(x, _t(t), _t(w), reduction=reduction),
        (logp,),
        _weighted_ce_ref(logp, t, w, reduction, 0.0),
    )
    module = nn.CrossEntropyLoss(weight=_t(w), reduction=reduction, label_smoothing=e)
    np.testing.assert_allclose(module(_t(x), _t(t)).numpy(), _weighted_ce_ref(x, t, w, reduction, e), rtol=1e-12)


@FEW
@given(_weighted_classification(), st.sampled_from(REDUCTIONS), st.sampled_from([0.0, 0.3]), st.booleans(), st.data())
def test_cross_entropy_with_probability_targets(case, reduction, e, weighted, data):
    x, _, w = case
    q = data.draw(_floats(x.shape, 0.0, 1.0))
    c = x.shape[1]
    wc = w.reshape((c,) + (1,) * (x.ndim - 2)) if weighted else 1.0
    per = -(_log_softmax(x) * ((1 - e) * q + e / c) * wc).sum(1)
    expected = per if reduction == "none" else per.sum() if reduction == "sum" else per.mean()
    weight = _t(w) if weighted else None
    _check(lambda x, q: F.cross_entropy(x, q, weight, reduction=reduction, label_smoothing=e), (x, q), expected, (0, 1))


@FEW
@given(st.sampled_from(REDUCTIONS), st.booleans(), st.booleans(), st.data())
def test_bce_with_logits_weight_and_pos_weight(reduction, weighted, pos_weighted, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
    x, t = data.draw(_floats(shape, -4.0, 4.0)), data.draw(_floats(shape, 0.0, 1.0))
    w = data.draw(_floats(shape[1:], 0.2, 2.0)) if weighted else None
    pw = data.draw(_floats(shape[-1:], 0.2, 3.0)) if pos_weighted else None
    softplus = lambda z: np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))  # noqa: E731
    loss = (1 if pw is None else pw) * t * softplus(-x) + (1 - t) * softplus(x)
    loss = loss * (1 if w is None else w)

    def fn(x, t):
        weight = None if w is None else _t(w)
        pos = None if pw is None else _t(pw)
        return F.binary_cross_entropy_with_logits(x, t, weight, reduction=reduction, pos_weight=pos)

    _check(fn, (x, t), _reduce(loss, reduction), (0, 1))


def test_the_plain_cases_keep_the_fused_primitives():
    """No weight: cross_entropy, nll_loss and BCE-with-logits stay one node (the MLP step's speed)."""
    x = _t(np.zeros((2, 3)), True)
    assert F.cross_entropy(x, _t(np.array([0, 1]))).grad_fn.node.op.name == "cross_entropy"
    assert F.cross_entropy(x, _t(np.array([0, 1])), label_smoothing=0.1).grad_fn.node.op.name == "cross_entropy"
    assert F.nll_loss(x, _t(np.array([0, 1]))).grad_fn.node.op.name == "nll_loss"
    assert (
        F.binary_cross_entropy_with_logits(x, _t(np.zeros((2, 3)))).grad_fn.node.op.name
        == "binary_cross_entropy_with_logits"
    )


def test_all_ignored_weighted_mean_is_nan_as_pytorch():
    x, t = _t(np.zeros((2, 3))), _t(np.array([-100, -100]))
    with np.errstate(invalid="ignore"):
        assert np.isnan(F.cross_entropy(x, t, weight=_t(np.ones(3))).item())


def test_legacy_size_average_and_reduce_map_to_reduction():
    x, t = _t(np.array([[1.0, 2.0], [0.5, -1.0]])), _t(np.array([0, 1]))
    with pytest.warns(UserWarning, match="reduction='sum'"):
        total = F.cross_entropy(x, t, None, False)
    np.testing.assert_allclose(total.numpy(), F.cross_entropy(x, t, reduction="sum").numpy())
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert F.l1_loss(x, x, reduce=False).shape == (2, 2)
    with pytest.warns(UserWarning):
        assert nn.NLLLoss(size_average=False).reduction == "sum"


# --- errors ------------------------------------------------------------------------------------------


def test_errors_name_the_loss_and_shapes_and_leave_inputs_alone():
    x = _t(np.array([[0.2, 0.7], [0.9, 0.4]]), True)
    before = x.numpy().copy()
    with pytest.raises(mg.ShapeError, match=r"binary_cross_entropy: .*\(3,\).*\(2, 2\)"):
        F.binary_cross_entropy(x, _t(np.zeros(3)))
    with pytest.raises(mg.ArgumentError, match="binary_cross_entropy: .*between 0 and 1"):
        F.binary_cross_entropy(x * 2, _t(np.zeros((2, 2))))
    with pytest.raises(mg.ShapeError, match=r"cross_entropy: weight .* 2 classes .* \(3,\)"):
        F.cross_entropy(x, _t(np.array([0, 1])), weight=_t(np.ones(3)))
    with pytest.raises(mg.ShapeError, match=r"nll_loss: weight"):
        F.nll_loss(x, _t(np.array([0, 1])), weight=_t(np.ones((2, 1))))
    with pytest.raises(mg.IndexOutOfRange, match="nll_loss: target 5"):
        F.nll_loss(x, _t(np.array([0, 5])), weight=_t(np.ones(2)))
    with pytest.raises(mg.ShapeError, match=r"cross_entropy: .*needs a target of shape \(2,\)"):
        F.cross_entropy(x, _t(np.array([0, 1, 1])), weight=_t(np.ones(2)))
    with pytest.raises(mg.DTypeError, match=r"cross_entropy: .*class probabilities need the input's shape \(2, 2\)"):
        F.cross_entropy(x, _t(np.zeros((2, 3))))
    with pytest.raises(mg.ArgumentError, match="cross_entropy: ignore_index is not supported"):
        F.cross_entropy(x, _t(np.zeros((2, 2))), ignore_index=0)
    with pytest.raises(mg.ShapeError, match=r"binary_cross_entropy_with_logits: weight \(3,\)"):
        F.binary_cross_entropy_with_logits(x, _t(np.zeros((2, 2))), weight=_t(np.ones(3)))
    with pytest.raises(mg.ShapeError, match=r"l1_loss: .*input \(2, 2\), target \(3,\)"):
        F.l1_loss(x, _t(np.zeros(3)))
    with pytest.raises(mg.ShapeError, match="l1_loss: weight"):
        F.l1_loss(x, x, weight=_t(np.ones(2)))
    with pytest.raises(mg.ShapeError, match="cosine_embedding_loss: .*target \\(3,\\)"):
        F.cosine_embedding_loss(x, x, _t(np.ones(3)))
    with pytest.raises(mg.ShapeError, match="margin_ranking_loss: .*same number of dimensions"):
        F.margin_ranking_loss(x, x[0], _t(np.ones((2, 2))))
    with pytest.raises(mg.ArgumentError, match="multi_margin_loss: only p == 1 and p == 2"):
        F.multi_margin_loss(x, _t(np.array([0, 1])), p=3)
    with pytest.raises(mg.DTypeError, match="multi_margin_loss: target must hold integer"):
        F.multi_margin_loss(x, _t(np.array([0.0, 1.0])))
    with pytest.raises(mg.ShapeError, match=r"multilabel_margin_loss: .*shape \(2, 2\), got \(2,\)"):
        F.multilabel_margin_loss(x, _t(np.array([0, 1])))
    with pytest.raises(mg.ShapeError, match="triplet_margin_loss"):
        F.triplet_margin_loss(x, x, x[0])
    with pytest.raises(mg.ArgumentError, match="gaussian_nll_loss: var has negative"):
        F.gaussian_nll_loss(x, x, _t(-np.ones((2, 2))))
    with pytest.raises(mg.ShapeError, match="gaussian_nll_loss: var of shape \\(3,\\)"):
        F.gaussian_nll_loss(x, x, _t(np.ones(3)))
    with pytest.raises(mg.ArgumentError, match="smooth_l1_loss: beta"):
        F.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(mg.ArgumentError, match="huber_loss: delta"):
        F.huber_loss(x, x, delta=0.0)
    for fn in (F.l1_loss, F.smooth_l1_loss, F.soft_margin_loss, F.binary_cross_entropy, F.kl_div, F.poisson_nll_loss):
        with pytest.raises(mg.ArgumentError, match=f"{fn.__name__}: reduction must be"):
            fn(x, _t(np.full((2, 2), 0.5)), reduction="avg")
    with pytest.raises(mg.ArgumentError, match="L1Loss: reduction must be"):
        nn.L1Loss(reduction="avg")
    np.testing.assert_array_equal(x.numpy(), before)
    assert x.grad is None


def test_module_reprs_and_defaults_are_pytorchs():
    assert nn.SmoothL1Loss().beta == 1.0 and nn.HuberLoss().delta == 1.0
    assert nn.TripletMarginLoss().margin == 1.0 and nn.TripletMarginLoss().eps == 1e-6
    assert nn.PoissonNLLLoss().log_input and nn.PoissonNLLLoss().eps == 1e-8
    assert nn.GaussianNLLLoss().eps == 1e-6 and nn.KLDivLoss(reduction="batchmean").reduction == "batchmean"
    assert nn.MultiMarginLoss().p == 1 and nn.HingeEmbeddingLoss().margin == 1.0
    assert repr(nn.L1Loss(reduction="sum")) == "L1Loss(reduction='sum')"
    loss = nn.BCEWithLogitsLoss(pos_weight=_t(np.ones(2)))
    assert sorted(loss.state_dict()) == ["pos_weight"]
