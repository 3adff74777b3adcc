"""Losses (minigrad.ops.loss, minigrad.nn.loss): values against NumPy references and
PyTorch, stability at huge logits, gradients by gradcheck, and clear errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn

REDUCTIONS = ["mean", "sum", "none"]


def _t(a, requires_grad=False, device="cpu"):
    return mg.tensor(np.asarray(a), requires_grad=requires_grad, device=device)


def _host(t):
    return t.to("cpu").numpy()


def _log_softmax(x, axis=1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _reduce(per_sample, valid, reduction):
    if reduction == "none":
        return per_sample
    total = per_sample.sum()
    return total if reduction == "sum" else total / valid.sum()


def cross_entropy_ref(x, t, reduction="mean", label_smoothing=0.0, ignore_index=-100):
    """-sum_c q_c log softmax(x)_c with q = (1 - e) onehot(t) + e / C; ignored samples contribute 0."""
    c = x.shape[1]
    logp = _log_softmax(x)
    valid = t != ignore_index
    onehot = np.moveaxis(np.eye(c)[np.where(valid, t, 0)], -1, 1)
    q = (1 - label_smoothing) * onehot + label_smoothing / c
    per_sample = -(q * logp).sum(axis=1) * valid
    return _reduce(per_sample, valid, reduction)


def nll_ref(x, t, reduction="mean", ignore_index=-100):
    valid = t != ignore_index
    picked = np.take_along_axis(x, np.expand_dims(np.where(valid, t, 0), 1), axis=1).squeeze(1)
    return _reduce(-picked * valid, valid, reduction)


def bce_ref(x, t, reduction="mean"):
    loss = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
    return loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.mean()


@st.composite
def classification_cases(draw, with_smoothing=True):
    """Logits (N, C) or (N, C, d1[, d2]) in float64 with integer targets, some of them ignored (never all)."""
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 5))
    extra = draw(st.lists(st.integers(1, 3), min_size=0, max_size=2))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal((n, c, *extra)) * draw(st.sampled_from([1.0, 5.0]))
    ignore_index = draw(st.sampled_from([-100, 1, 7]))
    t = rng.integers(0, c, (n, *extra))
    if draw(st.booleans()):  # ignore some targets, keeping at least one
        drop = rng.random(t.shape) < 0.4
        drop.flat[0] = False
        t = np.where(drop, ignore_index, t)
    t.flat[0] = 0 if ignore_index != 0 else 1
    smoothing = draw(st.sampled_from([0.0, 0.1, 0.35])) if with_smoothing else 0.0
    return x, t, draw(st.sampled_from(REDUCTIONS)), smoothing, ignore_index


# --- cross-entropy --------------------------------------------------------------------------


@given(classification_cases())
def test_cross_entropy_matches_numpy(case):
    x, t, reduction, smoothing, ignore_index = case
    out = F.cross_entropy(_t(x), _t(t), reduction=reduction, label_smoothing=smoothing, ignore_index=ignore_index)
    expected = cross_entropy_ref(x, t, reduction, smoothing, ignore_index)
    assert out.shape == np.shape(expected) and out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    module = nn.CrossEntropyLoss(reduction=reduction, label_smoothing=smoothing, ignore_index=ignore_index)
    np.testing.assert_array_equal(module(_t(x), _t(t)).numpy(), out.numpy())


@given(classification_cases())
def test_cross_entropy_gradients(case):
    x, t, reduction, smoothing, ignore_index = case
    # The forward sums exp(x - max) terms of size up to 1 inside a log: its rounding error is ~eps absolute
    # even where the loss itself is ~1e-5 (a confident right answer), which gradcheck's noise estimate
    # (from |f|) cannot see. A floor of 1e-2 compares entries below it with an absolute 1e-9 instead.
    report = mg.gradcheck(
        lambda x: F.cross_entropy(x, _t(t), reduction=reduction, label_smoothing=smoothing, ignore_index=ignore_index),
        _t(x, True),
        fast_mode=x.size > 60,
        floor=1e-2,
    )
    assert report.passed


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_gathers_plain_targets_as_the_one_hot_path_would(reduction, dtype):
    """Plain targets (every one a class, none ignored) of 2-D logits take a gather path; an ignore_index that
    is itself a class (but absent from the targets) sends the same problem down the one-hot path."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 4)).astype(dtype) * 3
    t = rng.integers(0, 3, 6)  # never class 3
    results = []
    for ignore_index in (-100, 3):
        logits = _t(x, True)
        loss = F.cross_entropy(logits, _t(t), reduction=reduction, ignore_index=ignore_index)
        loss.sum().backward()
        results.append((loss.numpy(), logits.grad.numpy()))
    (loss_plain, grad_plain), (loss_onehot, grad_onehot) = results
    assert loss_plain.dtype == grad_plain.dtype == dtype
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(loss_plain, loss_onehot, rtol=8 * eps)
    np.testing.assert_allclose(grad_plain, grad_onehot, rtol=8 * eps, atol=8 * eps)
    np.testing.assert_allclose(loss_plain, cross_entropy_ref(x.astype(np.float64), t, reduction), rtol=8 * eps)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_the_mean_of_1d_logits_divides_by_a_0d_array_of_their_dtype(dtype):
    """A 0-d target's valid mask is a NumPy scalar (np.bool_), not an array; the divisor of its mean must still be a
    0-d array of the logits' dtype. As np.maximum(np.float32 scalar, 1) it was a scalar that NumPy 1.x promotes to
    float64, which made the mean loss of 1-D logits float64 there."""
    from minigrad.ops.loss import _count

    count = _count(np.array(3) != -100, dtype)
    assert isinstance(count, np.ndarray) and count.shape == () and count.dtype == dtype and count == 1
    logits = _t(np.ones(4, dtype), True)
    loss = F.cross_entropy(logits, _t(np.array(1)))
    loss.backward()
    assert loss.dtype == logits.grad.dtype == dtype


@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss])
def test_a_class_target_may_be_a_python_or_numpy_integer(loss):
    x = np.array([0.5, -1.0, 2.0])
    expected = loss(_t(x), _t(np.int64(2))).numpy()
    for target in (2, np.int64(2), np.int32(2)):
        np.testing.assert_array_equal(loss(_t(x), target).numpy(), expected)
    with pytest.raises(mg.DTypeError, match="integer class indices"):
        loss(_t(x), 2.0)


def test_changing_the_target_array_after_the_forward_leaves_the_gradient_alone():
    x, t = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]]), np.array([0, 2])
    expected = _t(x, True)
    F.cross_entropy(expected, _t(t)).backward()
    logits, target = _t(x, True), mg.from_numpy(t.copy())
    loss = F.cross_entropy(logits, target)
    target.array[:] = [1, 1]  # say, a loader refilling its batch buffer before backward
    loss.backward()
    np.testing.assert_array_equal(logits.grad.numpy(), expected.grad.numpy())


def test_cross_entropy_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for shape in [(5, 4), (3, 4, 2), (2, 3, 2, 3)]:
        x = rng.standard_normal(shape)
        t = rng.integers(0, shape[1], (shape[0], *shape[2:]))
        t.flat[1] = -100
        for reduction in REDUCTIONS:
            for smoothing in (0.0, 0.2):
                x_ours, x_theirs = _t(x, True), torch.tensor(x, requires_grad=True)
                ours = F.cross_entropy(x_ours, _t(t), reduction=reduction, label_smoothing=smoothing)
                theirs = torch.nn.functional.cross_entropy(
                    x_theirs, torch.from_numpy(t), reduction=reduction, label_smoothing=smoothing
                )
                np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
                g = rng.standard_normal(ours.shape)
                ours.backward(_t(g))
                theirs.backward(torch.from_numpy(np.asarray(g)))
                np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), rtol=1e-10, atol=1e-12)
        t[t == -100] = 0
        theirs = torch.nn.functional.cross_entropy(torch.tensor(x), torch.from_numpy(t), ignore_index=2)
        np.testing.assert_allclose(F.cross_entropy(_t(x), _t(t), ignore_index=2).numpy(), theirs.numpy(), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_is_finite_and_exact_for_huge_logits(dtype, device):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0], [0.0, 0.0, 1e4], [1e4, 1e4, -1e4]], dtype=dtype)
    t = np.array([1, 1, 2, 0])
    logits = _t(x, True, device)
    out = F.cross_entropy(logits, _t(t, device=device), reduction="none")
    assert out.dtype == dtype
    # Exactly: 2e4, log(1 + e^-9995) = 0, 0, log 2.
    np.testing.assert_allclose(_host(out), [2e4, 0.0, 0.0, np.log(2.0)], rtol=1e-6, atol=1e-6)
    out.sum().backward()
    grad = _host(logits.grad)
    assert np.isfinite(grad).all()
    np.testing.assert_allclose(grad, [[1, -1, 0], [0, 0, 0], [0, 0, 0], [-0.5, 0.5, 0]], atol=1e-6)  # softmax - onehot
    mean = F.cross_entropy(_t(x, device=device), _t(t, device=device), label_smoothing=0.1)
    assert np.isfinite(_host(mean))


def test_cross_entropy_on_a_single_sample_of_shape_c():
    x = np.array([0.5, -1.0, 2.0])
    out = F.cross_entropy(_t(x, True), _t(np.int64(2)))
    np.testing.assert_allclose(out.numpy(), -_log_softmax(x[None])[0, 2])
    mg.gradcheck(lambda x: F.cross_entropy(x, _t(np.int64(2)), label_smoothing=0.2), _t(x, True))


def test_cross_entropy_second_derivatives():
    rng = np.random.default_rng(3)
    x = _t(rng.standard_normal((3, 4)), True)
    t = _t(np.array([0, 3, 1]))
    mg.gradgradcheck(lambda x: F.cross_entropy(x, t, label_smoothing=0.1), x)
    mg.gradgradcheck(lambda x: F.cross_entropy(x, t, reduction="none"), x)


@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss])
def test_class_target_errors(loss):
    x = _t(np.zeros((2, 3)))
    with pytest.raises(mg.DTypeError, match="integer class indices, got dtype float64"):
        loss(x, _t(np.array([0.0, 1.0])))
    with pytest.raises(TypeError):  # DTypeError is a TypeError
        loss(x, _t(np.array([0.0, 1.0])))
    with pytest.raises(mg.IndexOutOfRange, match="target 3 is out of range for 3 classes"):
        loss(x, _t(np.array([0, 3])))
    with pytest.raises(mg.IndexOutOfRange, match="target -1 is out of range"):
        loss(x, _t(np.array([-1, 0])))
    with pytest.raises(mg.ShapeError, match=r"needs a target of shape \(2,\), got \(2, 1\)"):
        loss(x, _t(np.array([[0], [1]])))
    with pytest.raises(mg.ShapeError, match=r"got \(3,\)"):
        loss(x, _t(np.array([0, 1, 2])))
    with pytest.raises(mg.ShapeError, match=r"needs a target of shape \(2, 4\)"):
        loss(_t(np.zeros((2, 3, 4))), _t(np.array([0, 1])))
    with pytest.raises(ValueError, match="reduction must be"):
        loss(x, _t(np.array([0, 1])), reduction="average")


def test_loss_module_arguments_are_checked():
    with pytest.raises(ValueError, match="reduction must be"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        F.cross_entropy(_t(np.zeros((1, 2))), _t(np.array([0])), label_smoothing=1.5)
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"


# --- NLL ------------------------------------------------------------------------------------


@given(classification_cases(with_smoothing=False))
def test_nll_loss_matches_numpy_and_gradcheck(case):
    x, t, reduction, _, ignore_index = case
    logp = _log_softmax(x)
    out = F.nll_loss(_t(logp), _t(t), reduction=reduction, ignore_index=ignore_index)
    np.testing.assert_allclose(out.numpy(), nll_ref(logp, t, reduction, ignore_index), rtol=1e-12, atol=1e-12)
    module = nn.NLLLoss(reduction=reduction, ignore_index=ignore_index)
    np.testing.assert_array_equal(module(_t(logp), _t(t)).numpy(), out.numpy())
    mg.gradcheck(
        lambda x: F.nll_loss(x, _t(t), reduction=reduction, ignore_index=ignore_index),
        _t(logp, True),
        fast_mode=x.size > 60,
    )


def test_nll_of_log_softmax_is_cross_entropy():
    x = np.random.default_rng(0).standard_normal((4, 5, 2))
    t = np.random.default_rng(1).integers(0, 5, (4, 2))
    a = F.nll_loss(F.log_softmax(_t(x), dim=1), _t(t))
    np.testing.assert_allclose(a.numpy(), F.cross_entropy(_t(x), _t(t)).numpy(), rtol=1e-12)


def test_nll_loss_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((4, 3, 2))
    t = np.array([[0, 2], [1, -100], [2, 2], [0, 1]])
    for reduction in REDUCTIONS:
        theirs = torch.nn.functional.nll_loss(torch.tensor(x), torch.from_numpy(t), reduction=reduction)
        np.testing.assert_allclose(F.nll_loss(_t(x), _t(t), reduction=reduction).numpy(), theirs.numpy(), rtol=1e-12)


# --- MSE ------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_loss(reduction, device):
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    out = nn.MSELoss(reduction=reduction)(_t(x, device=device), _t(t, device=device))
    squared = (x - t) ** 2
    expected = {"mean": squared.mean(), "sum": squared.sum(), "none": squared}[reduction]
    np.testing.assert_allclose(_host(out), expected, rtol=1e-12)
    xs = _t(x, True)
    F.mse_loss(xs, _t(t), reduction).sum().backward()
    scale = 1 / x.size if reduction == "mean" else 1.0
    np.testing.assert_allclose(xs.grad.numpy(), 2 * (x - t) * scale, rtol=1e-12)
    mg.gradcheck(lambda x, t: F.mse_loss(x, t, reduction), (_t(x, True), _t(t, True)))


def test_mse_loss_errors():
    with pytest.raises(mg.ShapeError, match=r"input shape \(2,\) and target shape \(3,\) differ"):
        F.mse_loss(_t([1.0, 2.0]), _t([0.0, 0.0, 1.0]))
    with pytest.raises(mg.ShapeError, match=r"target shape \(\) differ"):
        F.mse_loss(_t([1.0, 2.0]), 1.0)
    with pytest.raises(ValueError, match="reduction must be"):
        F.mse_loss(_t([1.0]), _t([1.0]), reduction="max")


# --- BCE with logits ------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_matches_numpy_and_gradcheck(reduction):
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((3, 4)) * 3, rng.random((3, 4))
    out = nn.BCEWithLogitsLoss(reduction=reduction)(_t(x), _t(t))
    np.testing.assert_allclose(out.numpy(), bce_ref(x, t, reduction), rtol=1e-12)
    mg.gradcheck(lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction=reduction), (_t(x, True), _t(t, True)))
    mg.gradgradcheck(lambda x: F.binary_cross_entropy_with_logits(x, _t(t), reduction=reduction), _t(x, True))


def test_bce_with_logits_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.array([-1e4, -30.0, -2.0, 0.0, 0.5, 40.0, 1e4])
    t = np.array([1.0, 0.0, 0.3, 1.0, 0.0, 1.0, 0.0])
    for reduction in REDUCTIONS:
        x_ours, x_theirs = _t(x, True), torch.tensor(x, requires_grad=True)
        ours = F.binary_cross_entropy_with_logits(x_ours, _t(t), reduction=reduction)
        theirs = torch.nn.functional.binary_cross_entropy_with_logits(x_theirs, torch.tensor(t), reduction=reduction)
        # atol: at x = -30 PyTorch's formula loses digits of log1p(e^-30) = 9.3576e-14 that ours keeps.
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-14)
        ours.sum().backward()
        theirs.sum().backward()
        np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bce_with_logits_is_stable_at_huge_logits(dtype, device):
    x = np.array([1e4, -1e4, 1e4, -1e4], dtype=dtype)
    t = np.array([0.0, 1.0, 1.0, 0.0], dtype=dtype)
    logits = _t(x, True, device)
    out = F.binary_cross_entropy_with_logits(logits, _t(t, device=device), reduction="none")
    np.testing.assert_array_equal(_host(out), [1e4, 1e4, 0.0, 0.0])
    out.sum().backward()
    np.testing.assert_array_equal(_host(logits.grad), [1.0, -1.0, 0.0, 0.0])  # sigmoid(x) - t


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_bce_with_logits_gradient_at_zero_is_sigmoid_zero_minus_t(reduction):
    t = np.array([0.0, 0.25, 0.5, 1.0])
    x = _t(np.zeros(4), True)
    F.binary_cross_entropy_with_logits(x, _t(t), reduction=reduction).backward()
    expected = 0.5 - t  # sigmoid(0) - t: no kink at 0 (not relu/abs composed)
    np.testing.assert_array_equal(x.grad.numpy(), expected if reduction == "sum" else expected / 4)
    report = mg.gradcheck(
        lambda x: F.binary_cross_entropy_with_logits(x, _t(t), reduction=reduction), _t(np.zeros(4), True)
    )
    assert report.passed and not report.kinks


def test_bce_with_logits_errors():
    with pytest.raises(mg.ShapeError, match=r"input shape \(2,\) and target shape \(2, 1\) differ"):
        F.binary_cross_entropy_with_logits(_t([0.0, 1.0]), _t([[0.0], [1.0]]))
    with pytest.raises(ValueError, match="reduction must be"):
        nn.BCEWithLogitsLoss(reduction="batchmean")
