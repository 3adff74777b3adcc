"""The practitioner's sanity checks, on a small hand-built classifier."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import checks


class TinyMLP:
    """Two layers, written with core ops; any object with __call__ and parameters() works."""

    def __init__(self, n_in=5, hidden=8, n_out=10, scale=0.1, seed=0, activation=None):
        rng = np.random.default_rng(seed)
        self.w1 = mg.tensor(rng.standard_normal((n_in, hidden)) * scale, requires_grad=True)
        self.b1 = mg.tensor(np.zeros(hidden), requires_grad=True)
        self.w2 = mg.tensor(rng.standard_normal((hidden, n_out)) * scale, requires_grad=True)
        self.b2 = mg.tensor(np.zeros(n_out), requires_grad=True)
        self.activation = activation or (lambda h: h.tanh())

    def parameters(self):
        return [self.w1, self.b1, self.w2, self.b2]

    def __call__(self, x):
        return self.activation(x @ self.w1 + self.b1) @ self.w2 + self.b2


class SGD:
    def __init__(self, params, lr=0.5):
        self.params, self.lr = list(params), lr

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        with mg.no_grad():
            for p in self.params:
                if p.grad is not None:
                    p.sub_(p.grad, alpha=self.lr)


def cross_entropy(logits, targets):
    n = logits.shape[0]
    return -(logits.log_softmax(axis=1)[np.arange(n), targets.numpy()]).mean()


def l2(model):
    return sum((p * p).sum() for p in model.parameters())


def _data(n=40, seed=1):
    rng = np.random.default_rng(seed)
    return mg.tensor(rng.standard_normal((n, 5))), mg.tensor(rng.integers(0, 10, n))


class BadSquare(mg.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2.2 * x * g  # wrong by 10%


def test_gradcheck_model_passes_and_restores_the_parameters():
    model = TinyMLP()
    before = [p.numpy().copy() for p in model.parameters()]
    x, y = _data()
    result = checks.gradcheck_model(model, cross_entropy, x, y)
    assert result.passed, str(result)
    assert list(result.reports) == ["data loss"]
    for p, b in zip(model.parameters(), before):
        assert p.dtype == b.dtype and np.array_equal(p.numpy(), b)


def test_data_loss_and_regularization_are_checked_separately():
    model = TinyMLP(activation=lambda h: BadSquare.apply(h))
    x, y = _data()
    result = checks.gradcheck_model(model, cross_entropy, x, y, regularization=lambda m: 1e-2 * l2(m))
    assert not result.passed
    assert not result.reports["data loss"].passed
    assert result.reports["regularization"].passed
    assert "data loss" in str(result) and "regularization" in str(result)


def test_a_wrong_regularizer_gradient_is_attributed_to_it():
    model = TinyMLP()
    x, y = _data()
    result = checks.gradcheck_model(
        model, cross_entropy, x, y, regularization=lambda m: sum(BadSquare.apply(p).sum() for p in m.parameters())
    )
    assert result.reports["data loss"].passed and not result.reports["regularization"].passed


def test_burn_in_steps_train_before_the_check():
    model = TinyMLP()
    x, y = _data()
    w_before = model.w1.numpy().copy()
    result = checks.gradcheck_model(model, cross_entropy, x, y, burn_in_steps=5, make_optimizer=SGD)
    assert result.passed
    assert not np.array_equal(model.w1.numpy(), w_before)


def test_a_tiny_loss_gets_a_warning_with_a_scale_factor():
    model = TinyMLP()
    x, y = _data()
    with pytest.warns(UserWarning, match="scale=1e"):
        result = checks.gradcheck_model(model, lambda out, t: (out * out).mean() * 1e-12, x, y)
    assert "scale=" in result.message


def test_initial_loss():
    x, y = _data()
    good = checks.initial_loss(TinyMLP(scale=0.01), cross_entropy, x, y, num_classes=10)
    assert good.passed and "ln(10) = 2.3026" in good.message
    bad = checks.initial_loss(TinyMLP(scale=10.0), cross_entropy, x, y, num_classes=10)
    assert not bad.passed and "too high" in bad.message


def test_regularization_raises_loss():
    x, y = _data()
    assert checks.regularization_raises_loss(TinyMLP(), cross_entropy, x, y, l2).passed
    broken = checks.regularization_raises_loss(TinyMLP(), cross_entropy, x, y, lambda m: l2(m) * 0)
    assert not broken.passed and "does not raise" in broken.message


def test_overfit_small():
    x, y = _data()
    fast = lambda params: SGD(params, lr=2.0)  # noqa: E731
    assert checks.overfit_small(TinyMLP(hidden=32), cross_entropy, fast, x, y, n=20, steps=300).passed
    stuck = checks.overfit_small(TinyMLP(), cross_entropy, lambda p: SGD(p, lr=0.0), x, y, n=20, steps=5)
    assert not stuck.passed and "cannot overfit" in stuck.message


def test_run_all_prints_one_report(capsys):
    x, y = _data()
    model = TinyMLP(hidden=32, scale=0.01)
    w_before = model.w1.numpy().copy()
    report = checks.run_all(
        model, cross_entropy, x, y, num_classes=10, make_optimizer=lambda p: SGD(p, lr=2.0),
        regularization=lambda m: 1e-3 * l2(m),
        overfit_steps=300,
    )  # fmt: skip
    assert report.passed, str(report)
    printed = capsys.readouterr().out
    assert printed.startswith("sanity checks: 4/4 passed")
    for name in ("initial_loss", "regularization_raises_loss", "gradcheck_model", "overfit_small"):
        assert name in printed
    assert np.array_equal(model.w1.numpy(), w_before)  # overfitting trained a copy
