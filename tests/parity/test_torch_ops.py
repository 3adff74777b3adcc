"""minigrad against PyTorch itself, op by op: forward values and gradients in float64 on the same inputs.

These tests run where PyTorch is installed (``pip install torch``) and skip
elsewhere; the op-table tests check the same ops against NumPy everywhere.
Each entry says how to call the op in both libraries with the same
arguments; hypothesis draws the shapes (broadcasting where the op
broadcasts, empty dimensions included) and values inside the op's domain.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg

torch = pytest.importorskip("torch")


def values(lo=-3.0, hi=3.0):
    return st.floats(lo, hi, allow_nan=False, width=64)


def _arrays(draw, shapes, elements):
    return [draw(hnp.arrays(np.float64, s, elements=e)) for s, e in zip(shapes, elements)]


@st.composite
def broadcast_inputs(draw, *elements):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=len(elements), max_dims=3, max_side=4)).input_shapes
    return _arrays(draw, shapes, elements)


@st.composite
def onto_first(draw, *elements):
    """Inputs whose shapes broadcast to the first one's (PyTorch's clamp keeps its input's shape)."""
    first = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
    rest = []
    for _ in elements[1:]:  # drop some leading dimensions, set some others to 1
        kept = first[draw(st.integers(0, len(first))) :]
        rest.append(tuple(1 if draw(st.booleans()) else n for n in kept))
    return _arrays(draw, [first, *rest], elements)


# name: (minigrad call, torch call, input strategy)
OPS = {
    **{name: (getattr(mg, name), getattr(torch, name), broadcast_inputs(domain)) for name, domain in {
        "sin": values(), "cos": values(), "tan": values(-1.2, 1.2), "asin": values(-0.9, 0.9),
        "acos": values(-0.9, 0.9), "atan": values(), "sinh": values(), "cosh": values(), "asinh": values(),
        "acosh": values(1.1, 3), "atanh": values(-0.9, 0.9), "log1p": values(-0.9, 3), "expm1": values(),
        "log2": values(0.1, 3), "log10": values(0.1, 3), "exp2": values(), "rsqrt": values(0.1, 3),
        "erf": values(), "floor": values(), "ceil": values(), "trunc": values(), "round": values(),
    }.items()},
    **{name: (getattr(mg, name), getattr(torch, name), broadcast_inputs(a, b)) for name, (a, b) in {
        "atan2": (values(), values(0.2, 3)), "logaddexp": (values(), values()), "hypot": (values(), values()),
        "fmod": (values(), values(0.5, 2)), "remainder": (values(), values(0.5, 2)),
        "copysign": (values(), values(0.1, 3)),
    }.items()},
    "lerp": (mg.lerp, torch.lerp, broadcast_inputs(values(), values(), values(0, 1))),
    "clamp": (lambda x, lo, hi: mg.clamp(x, lo, hi), lambda x, lo, hi: torch.clamp(x, lo, hi),
              onto_first(values(), values(-2, -0.5), values(0.5, 2))),
    "div_floor": (lambda a, b: mg.div(a, b, rounding_mode="floor"), lambda a, b: torch.div(a, b, rounding_mode="floor"),
                  broadcast_inputs(values(), values(0.5, 2))),
}  # fmt: skip


@pytest.mark.parametrize("name", list(OPS))
@given(data=st.data())
def test_forward_and_gradients_match_pytorch(name, data):
    ours, theirs, inputs = OPS[name]
    arrays = data.draw(inputs)
    mine = [mg.tensor(a, requires_grad=True) for a in arrays]
    torch_inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = ours(*mine), theirs(*torch_inputs)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-14)
    cotangent = data.draw(hnp.arrays(np.float64, expected.shape, elements=values()))
    out.backward(mg.tensor(cotangent))
    expected.backward(torch.tensor(cotangent))
    for m, t in zip(mine, torch_inputs):
        got = np.zeros(m.shape) if m.grad is None else m.grad.numpy()
        want = np.zeros(m.shape) if t.grad is None else t.grad.numpy()
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14, err_msg=f"{name}: gradient")
