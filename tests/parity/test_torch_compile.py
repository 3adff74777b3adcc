"""minigrad.compile against torch.compile: the same keywords, and the same results as eager on both sides."""

import inspect

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import minigrad as mg  # noqa: E402


def test_keywords_match_torch_compile():
    ours = inspect.signature(mg.compile).parameters
    theirs = inspect.signature(torch.compile).parameters
    assert list(ours) == list(theirs)
    for name, p in theirs.items():
        if name == "fullgraph":  # minigrad refuses by default what it cannot capture (documented)
            assert ours[name].default is True and p.default is False
            continue
        assert ours[name].default == p.default, name
        assert ours[name].kind == p.kind, name


def test_compiled_step_matches_torch_eager():
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((4, 3))
    xs = [rng.standard_normal((5, 3)) for _ in range(3)]

    def run(lib, compiled):
        w = lib.tensor(w0.copy(), requires_grad=True)

        def step(x):
            loss = ((x @ w.T).relu() * 2 + 1).sum()
            loss.backward()
            with lib.no_grad():
                w.sub_(w.grad * 0.01)
                w.grad = None
            return loss

        fn = mg.compile(_MgStep(w, 0.01)) if compiled else step
        return [fn(lib.tensor(x)).item() for x in xs * 2], w.detach().numpy()

    (lt, wt), (lm, wm) = run(torch, False), run(mg, True)
    np.testing.assert_allclose(lm, lt, rtol=1e-12)
    np.testing.assert_allclose(wm, wt, rtol=1e-12)


class _MgStep:
    """The same step for minigrad, with the update as an optimizer does it (in-place array code is refused)."""

    def __init__(self, w, lr):
        self.opt = mg.optim.SGD([w], lr=lr)
        self.w = w

    def __call__(self, x):
        self.opt.zero_grad()
        loss = ((x @ self.w.T).relu() * 2 + 1).sum()
        loss.backward()
        self.opt.step()
        return loss
