"""Port test: a PyTorch-style program using the autograd names of issue #16, run with ``import minigrad as torch``.

Written for minigrad in the spirit of pytorch/examples (no copied code); only the imports differ from
what one would write for PyTorch (``torch.utils.data`` is spelled ``minigrad.utils.data`` in a
``from`` import, since ``import minigrad as torch`` does not create a module named ``torch``). It uses a
custom ``torch.autograd.Function``, ``torch.autograd.gradcheck``, a hook that clips gradients,
``retain_grad``, ``grad_fn.name()``, ``random_split`` + ``DataLoader``,
``torch.autograd.functional.hessian`` / ``hvp`` and ``torch.nn.utils.parameters_to_vector``; the
numbers are checked against NumPy formulas.
"""

import numpy as np

import minigrad as torch
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.utils.data import DataLoader, TensorDataset, random_split


class SoftCube(torch.autograd.Function):
    """f(x) = x + x^3 / 3, f'(x) = 1 + x^2 (an activation with a hand-written backward)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x + x**3 / 3

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (1 + x**2)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 8)
        self.fc2 = nn.Linear(8, 1)

    def forward(self, x):
        return self.fc2(SoftCube.apply(torch.tanh(self.fc1(x))))


def _program():
    torch.manual_seed(0)
    x = torch.randn(120, 2)
    y = (x[:, :1] * 0.5 - x[:, 1:] * 0.25).tanh()
    train, val = random_split(TensorDataset(x, y), [0.75, 0.25])
    loader = DataLoader(train, batch_size=30, shuffle=True)

    model = Net()
    clipped = []  # the largest gradient entry after each backward
    for p in model.parameters():
        p.register_hook(lambda grad: torch.clamp(grad, -0.05, 0.05))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def val_loss():
        with torch.no_grad():
            xs, ys = zip(*[val[i] for i in range(len(val))])
            return F.mse_loss(model(torch.stack(list(xs))), torch.stack(list(ys))).item()

    before = val_loss()
    for _epoch in range(15):
        for xb, yb in loader:
            opt.zero_grad()
            hidden = model.fc1(xb)
            hidden.retain_grad()
            loss = F.mse_loss(model.fc2(SoftCube.apply(torch.tanh(hidden))), yb)
            loss.backward()
            clipped.append(max(float(np.abs(p.grad.numpy()).max()) for p in model.parameters()))
            assert hidden.grad is not None and hidden.grad.shape == hidden.shape
            opt.step()
    return model, before, val_loss(), clipped, loss


def test_training_with_a_custom_function_a_clipping_hook_and_random_split():
    model, before, after, clipped, loss = _program()
    assert after < 0.5 * before
    assert max(clipped) <= 0.05 + 1e-7  # every gradient went through the clipping hook
    assert loss.grad_fn.name() == "MeanBackward0"  # minigrad's mse_loss is a composite ending in a mean
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert vec.shape == (2 * 8 + 8 + 8 * 1 + 1,)


def test_the_custom_function_passes_gradcheck():
    x = torch.randn(5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(SoftCube.apply, (x,))


def test_hessian_and_hvp_of_a_logistic_loss_match_the_formula():
    torch.manual_seed(1)
    X = torch.randn(40, 3, dtype=torch.float64)
    t = (torch.randn(40, dtype=torch.float64) > 0).double()

    def loss(w):
        z = X @ w
        return (torch.log(1 + torch.exp(z)) - t * z).mean()

    w = torch.randn(3, dtype=torch.float64)
    H = torch.autograd.functional.hessian(loss, w)
    p = 1 / (1 + np.exp(-(X.numpy() @ w.numpy())))
    want = (X.numpy().T * (p * (1 - p))) @ X.numpy() / 40
    np.testing.assert_allclose(H.numpy(), want, rtol=1e-10, atol=1e-12)
    v = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    value, Hv = torch.autograd.functional.hvp(loss, w, v)
    np.testing.assert_allclose(Hv.numpy(), want @ v.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(value.item(), loss(w).item())
    # one Newton step from w lands closer to the minimum (the gradient shrinks)
    wg = w.detach().requires_grad_()
    (g,) = torch.autograd.grad(loss(wg), wg)
    step = np.linalg.solve(H.numpy(), g.numpy())
    w2 = torch.tensor(w.numpy() - step, requires_grad=True)
    (g2,) = torch.autograd.grad(loss(w2), w2)
    assert np.linalg.norm(g2.numpy()) < 0.5 * np.linalg.norm(g.numpy())


def test_anomaly_mode_as_pytorch_spells_it():
    torch.autograd.set_detect_anomaly(True)
    try:
        assert torch.is_anomaly_enabled()
    finally:
        torch.autograd.set_detect_anomaly(False)
    assert not torch.is_anomaly_enabled()
    with torch.autograd.set_detect_anomaly(True):
        assert torch.is_anomaly_enabled()
    assert not torch.is_anomaly_enabled()
