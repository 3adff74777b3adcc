"""How the op tests check a gradient: minigrad.gradcheck on the op's full Jacobian.

gradcheck compares every element of the Jacobian (one backward pass per
output element, two evaluations per input element) in float64, judging each
by its relative error against a floor set by the rounding noise of that
output, and reports kinks instead of failing on them.
"""

import numpy as np

import minigrad
from minigrad.testing import assert_gradcheck


def check_gradients(fn, *arrays, device="cpu", seed=0, **gradcheck_kwargs):
    """Assert that the gradients of ``fn`` at ``arrays`` (made float64 tensors) pass gradcheck."""
    inputs = [minigrad.tensor(np.asarray(a, dtype=np.float64), requires_grad=True, device=device) for a in arrays]
    report = assert_gradcheck(fn, *inputs, seed=seed, **gradcheck_kwargs)
    if fn(*inputs).numel() and all(x.numel() for x in inputs):
        assert all(r.compared > 0 or r.kinks for r in report.inputs), "no gradient was compared"
    return report
