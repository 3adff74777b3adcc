"""A reference gradient for the op tests: centered differences in float64.

This stays deliberately naive (one coordinate at a time, no kink handling):
it is the independent reference the engine's gradients are compared with.
"""

import numpy as np

import minigrad


def numerical_vjp(fn, inputs, cotangent, eps=1e-6):
    """d <cotangent, fn(inputs)> / d input, for each input, by centered differences."""
    grads = []
    for k, x in enumerate(inputs):
        base = x.numpy().copy()
        grad = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            values = []
            for step in (eps, -eps):
                shifted = base.copy()
                shifted[idx] += step
                args = list(inputs)
                args[k] = minigrad.tensor(shifted, device=x.device)
                out = fn(*args).numpy()
                values.append(float(np.sum(out * cotangent)))
            grad[idx] = (values[0] - values[1]) / (2 * eps)
        grads.append(grad)
    return grads


def check_gradients(fn, *arrays, device="cpu", rtol=1e-6, atol=1e-7, seed=0):
    """Compare the engine's vjp of ``fn`` with centered differences, for a random cotangent."""
    inputs = [minigrad.tensor(np.asarray(a, dtype=np.float64), requires_grad=True, device=device) for a in arrays]
    out = fn(*inputs)
    rng = np.random.default_rng(seed)
    cotangent = rng.standard_normal(out.shape)
    out.backward(minigrad.tensor(cotangent, device=device))
    expected = numerical_vjp(fn, [x.detach() for x in inputs], cotangent)
    for x, want in zip(inputs, expected):
        assert x.grad is not None, "no gradient reached an input"
        assert x.grad.shape == x.shape
        np.testing.assert_allclose(x.grad.numpy(), want, rtol=rtol, atol=atol)
