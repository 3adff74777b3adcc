"""Every loss and option against PyTorch in float64: values, and gradients of every differentiable input."""

import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional

REDUCTIONS = ["none", "sum", "mean"]
RNG = np.random.default_rng(0)


def _compare(ours, theirs, arrays, grad=(0,), rtol=1e-10, atol=1e-12):
    """Call both with the same float64 arrays; compare the values and the gradients for a random cotangent."""
    mine = [mg.tensor(a, requires_grad=i in grad and a.dtype.kind == "f") for i, a in enumerate(arrays)]
    them = [torch.tensor(a, requires_grad=i in grad and a.dtype.kind == "f") for i, a in enumerate(arrays)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = ours(*mine), theirs(*them)
    np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=rtol, atol=atol)
    g = np.random.default_rng(1).standard_normal(tuple(b.shape))
    a.backward(mg.tensor(g))
    b.backward(torch.tensor(g))
    for i in grad:
        np.testing.assert_allclose(mine[i].grad.numpy(), them[i].grad.numpy(), rtol=rtol, atol=atol)


def _both(name, **kwargs):
    return (lambda *a: getattr(F, name)(*a, **kwargs)), (lambda *a: getattr(TF, name)(*a, **kwargs))


X = RNG.standard_normal((5, 4))
T = np.array([0, 1, -100, 3, 1])
W = RNG.random(4) + 0.5
P = RNG.random((5, 4))
X3 = RNG.standard_normal((2, 4, 3))
T3 = np.array([[0, -100, 2], [3, 1, 1]])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_cross_entropy_weight_smoothing_ignore(reduction, smoothing):
    for x, t in [(X, T), (X3, T3), (X[0], np.array(2))]:
        _compare(*_both("cross_entropy", weight=None, reduction=reduction, label_smoothing=smoothing), [x, t])
        ours, theirs = _both("cross_entropy", reduction=reduction, label_smoothing=smoothing)
        _compare(lambda x, t, w, f=ours: f(x, t, w), lambda x, t, w, f=theirs: f(x, t, w), [x, t, W])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_cross_entropy_probability_targets(reduction, smoothing):
    ours, theirs = _both("cross_entropy", reduction=reduction, label_smoothing=smoothing)
    _compare(ours, theirs, [X, P], grad=(0, 1))
    _compare(ours, theirs, [X3, RNG.random((2, 4, 3))], grad=(0, 1))
    _compare(lambda x, p, w: ours(x, p, w), lambda x, p, w: theirs(x, p, w), [X, P, W], grad=(0, 1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_weight(reduction):
    ours, theirs = _both("nll_loss", reduction=reduction)
    _compare(lambda x, t, w: ours(x, t, w), lambda x, t, w: theirs(x, t, w), [X, T, W])
    _compare(*_both("nll_loss", reduction=reduction, ignore_index=2), [X3, np.abs(T3) % 4, W])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_weight_pos_weight(reduction):
    t, w, pw = RNG.random((5, 4)), RNG.random((5, 4)), RNG.random(4) * 3
    f = "binary_cross_entropy_with_logits"
    _compare(*_both(f, reduction=reduction), [X, t], grad=(0, 1))
    ours, theirs = _both(f, reduction=reduction)
    _compare(lambda x, t, w: ours(x, t, w), lambda x, t, w: theirs(x, t, w), [X, t, w[0]], grad=(0, 1))
    ours = lambda x, t, p: F.binary_cross_entropy_with_logits(x, t, reduction=reduction, pos_weight=p)  # noqa: E731
    theirs = lambda x, t, p: TF.binary_cross_entropy_with_logits(x, t, reduction=reduction, pos_weight=p)  # noqa: E731
    _compare(ours, theirs, [X, t, pw], grad=(0, 1))
    _compare(ours, theirs, [X * 30, t, pw], grad=(0, 1))  # stable at large logits
    _compare(*_both(f, reduction=reduction), [X, t, w], grad=(0, 1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses(reduction):
    a, b = RNG.standard_normal((3, 4)) * 2, RNG.standard_normal((3, 4)) * 2
    w = RNG.random((3, 4))
    _compare(*_both("l1_loss", reduction=reduction), [a, b], grad=(0, 1))
    _compare(*_both("l1_loss", reduction=reduction), [a, b[0]], grad=(0, 1))  # broadcasts, with a warning
    ours, theirs = (
        (lambda x, y, w: F.l1_loss(x, y, reduction=reduction, weight=w)),
        (lambda x, y, w: TF.l1_loss(x, y, reduction=reduction, weight=w)),
    )
    _compare(ours, theirs, [a, b, w], grad=(0, 1))
    for beta in [1.0, 0.5, 0.0]:
        _compare(*_both("smooth_l1_loss", reduction=reduction, beta=beta), [a, b], grad=(0, 1))
    for delta in [1.0, 0.5, 2.5]:
        _compare(*_both("huber_loss", reduction=reduction, delta=delta), [a, b], grad=(0, 1))
        ours, theirs = (
            (lambda x, y, w, d=delta: F.huber_loss(x, y, reduction, d, w)),
            (lambda x, y, w, d=delta: TF.huber_loss(x, y, reduction, d, w)),
        )
        _compare(ours, theirs, [a, b, w], grad=(0, 1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction):
    x, t, w = RNG.uniform(0.02, 0.98, (3, 4)), RNG.random((3, 4)), RNG.random(4)
    _compare(*_both("binary_cross_entropy", reduction=reduction), [x, t], grad=(0, 1))
    ours, theirs = _both("binary_cross_entropy", reduction=reduction)
    _compare(lambda x, t, w: ours(x, t, w), lambda x, t, w: theirs(x, t, w), [x, t, w], grad=(0, 1))
    edge = np.array([0.0, 1.0, 0.5, 1e-50])
    _compare(ours, theirs, [edge, np.array([1.0, 0.0, 0.3, 1.0])], grad=(0,), rtol=1e-12, atol=0)


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    logq = np.log(RNG.dirichlet(np.ones(4), 3))
    p = RNG.dirichlet(np.ones(4), 3)
    target = np.log(p) if log_target else p
    _compare(*_both("kl_div", reduction=reduction, log_target=log_target), [logq, target], grad=(0, 1))
    if not log_target:
        zeroed = p.copy()
        zeroed[0, 1] = 0.0  # 0 log 0 = 0 in the value (the target's gradient there is PyTorch's NaN, not compared)
        _compare(*_both("kl_div", reduction=reduction), [logq, zeroed], grad=(0,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_and_embedding_losses(reduction):
    a, b = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 3))
    y = np.array([1.0, -1.0, 1.0, -1.0, -1.0])
    for margin in [0.0, 0.3]:
        _compare(*_both("cosine_embedding_loss", margin=margin, reduction=reduction), [a, b, y], grad=(0, 1))
    _compare(*_both("cosine_embedding_loss", reduction=reduction), [a[0], b[0], np.array(-1.0)], grad=(0, 1))
    x1, x2, s = RNG.standard_normal(6), RNG.standard_normal(6), np.sign(RNG.standard_normal(6))
    for margin in [0.0, 0.5]:
        _compare(*_both("margin_ranking_loss", margin=margin, reduction=reduction), [x1, x2, s], grad=(0, 1))
        _compare(*_both("hinge_embedding_loss", margin=margin + 1, reduction=reduction), [a, np.sign(b)])
    _compare(*_both("soft_margin_loss", reduction=reduction), [a, np.sign(b)])
    _compare(*_both("soft_margin_loss", reduction=reduction), [a, b])
    multi = (RNG.random((5, 3)) > 0.5).astype(np.float64)
    _compare(*_both("multilabel_soft_margin_loss", reduction=reduction), [a, multi], grad=(0, 1))
    ours, theirs = _both("multilabel_soft_margin_loss", reduction=reduction)
    _compare(lambda x, t, w: ours(x, t, w), lambda x, t, w: theirs(x, t, w), [a, multi, RNG.random(3)], grad=(0, 1))
    labels = np.array([0, 2, 1, 1, 0])
    for p in (1, 2):
        for margin in (1.0, 0.4):
            _compare(*_both("multi_margin_loss", p=p, margin=margin, reduction=reduction), [a, labels])
            _compare(*_both("multi_margin_loss", p=p, weight=None, reduction=reduction), [a[1], np.array(2)])
            _compare(
                lambda x, t, w, p=p, m=margin: F.multi_margin_loss(x, t, p, m, w, reduction=reduction),
                lambda x, t, w, p=p, m=margin: TF.multi_margin_loss(x, t, p, m, w, reduction=reduction),
                [a, labels, W[:3]],
            )
    listed = np.array([[2, 0, -1], [1, -1, 0], [-1, 1, 2], [0, 1, 2], [1, 1, -1]])
    _compare(*_both("multilabel_margin_loss", reduction=reduction), [a, listed])
    _compare(*_both("multilabel_margin_loss", reduction=reduction), [a[0], listed[0]])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_triplet_margin_loss(reduction):
    anchor, pos, neg = (RNG.standard_normal((4, 3)) for _ in range(3))
    for p in (2, 1, 3.0):
        for swap in (False, True):
            ours, theirs = _both("triplet_margin_loss", margin=0.7, p=p, swap=swap, reduction=reduction)
            _compare(ours, theirs, [anchor, pos, neg], grad=(0, 1, 2))
    _compare(*_both("triplet_margin_loss", reduction=reduction), [anchor[0], pos[0], neg[0]], grad=(0, 1, 2))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_poisson_and_gaussian_nll(reduction):
    x, t = RNG.standard_normal((3, 4)), RNG.poisson(2.0, (3, 4)) + 0.5  # targets at or below 1 and above
    for log_input in (True, False):
        for full in (False, True):
            xi = x if log_input else np.exp(x)
            ours, theirs = _both("poisson_nll_loss", log_input=log_input, full=full, reduction=reduction)
            _compare(ours, theirs, [xi, t], grad=(0, 1))
    mu, y = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))
    for var in [
        RNG.random((3, 4)) + 0.1,
        RNG.random(3) + 0.1,
        RNG.random((3, 1)) + 0.1,
        np.array([[1e-9, 0.5, 2, 3]] * 3),
    ]:
        for full in (False, True):
            _compare(*_both("gaussian_nll_loss", full=full, reduction=reduction), [mu, y, var], grad=(0, 1, 2))
    ours = lambda m, t: F.gaussian_nll_loss(m, t, 0.5, reduction=reduction)  # noqa: E731
    theirs = lambda m, t: TF.gaussian_nll_loss(m, t, 0.5, reduction=reduction)  # noqa: E731
    _compare(ours, theirs, [mu, y], grad=(0, 1))


MODULES = [
    ("CrossEntropyLoss", {"weight": W, "label_smoothing": 0.1}, [X, T]),
    ("CrossEntropyLoss", {"ignore_index": 1, "reduction": "sum"}, [X, np.abs(T) % 4]),
    ("NLLLoss", {"weight": W}, [X, T]),
    ("BCEWithLogitsLoss", {"pos_weight": W, "weight": W}, [X, P]),
    ("BCELoss", {"weight": W}, [P, P[::-1].copy()]),
    ("MSELoss", {}, [X, P]),
    ("L1Loss", {"reduction": "sum"}, [X, P]),
    ("SmoothL1Loss", {"beta": 0.5}, [X, P]),
    ("HuberLoss", {"delta": 0.5}, [X, P]),
    ("KLDivLoss", {"reduction": "batchmean", "log_target": True}, [X, P]),
    ("SoftMarginLoss", {}, [X, np.sign(P - 0.5)]),
    ("MultiLabelSoftMarginLoss", {"weight": W}, [X, (P > 0.5) * 1.0]),
    ("MultiMarginLoss", {"p": 2, "margin": 0.5, "weight": W}, [X, np.abs(T) % 4]),
    ("MultiLabelMarginLoss", {}, [X, np.array([[0, 1, -1, 0]] * 5)]),
    ("HingeEmbeddingLoss", {"margin": 2.0}, [X, np.sign(P - 0.5)]),
    ("PoissonNLLLoss", {"full": True}, [X, P * 4]),
    ("GaussianNLLLoss", {"full": True}, [X, P, P + 0.1]),
    ("CosineEmbeddingLoss", {"margin": 0.2}, [X, P, np.array([1.0, -1, 1, -1, -1])]),
    ("MarginRankingLoss", {"margin": 0.2}, [X[:, 0].copy(), P[:, 0].copy(), np.array([1.0, -1, 1, -1, -1])]),
    ("TripletMarginLoss", {"margin": 0.5, "swap": True}, [X, P, X[::-1].copy()]),
]


@pytest.mark.parametrize("name, kwargs, arrays", MODULES, ids=[m[0] for m in MODULES])
def test_modules_match_torch(name, kwargs, arrays):
    ours = getattr(nn, name)(**{k: mg.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()})
    theirs = getattr(torch.nn, name)(
        **{k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    )
    _compare(ours, theirs, arrays, grad=(0,))
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
