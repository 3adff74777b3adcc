"""Hypothesis strategies and assertions for property-testing gradients of your own ops.

    from hypothesis import given
    from minigrad.testing import tensors, assert_gradcheck

    @given(tensors(shape=(3, 4), away_from_kinks=("relu",)))
    def test_my_op(x):
        assert_gradcheck(lambda x: my_op(x).sum(), x.requires_grad_())

Strategies draw float64 tensors by default (what gradcheck wants) with
bounded finite values; ``away_from_kinks`` keeps values a margin away from
the kinks of the named ops (or of given points), so that a random draw does
not land where the numerical derivative is meaningless. Needs ``hypothesis``
(the ``dev`` extra).
"""

from __future__ import annotations

import numpy as np

try:
    from hypothesis import assume
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as exc:  # pragma: no cover - exercised only without the dev extra
    raise ImportError(
        "minigrad.testing needs hypothesis: pip install 'minigrad[dev]' (or pip install hypothesis)"
    ) from exc

from .gradcheck import GradcheckReport, gradcheck
from .tensor import Tensor, tensor

# Where the built-in non-smooth ops have their kinks: points, or "ties" between elements.
KINKS = {
    "relu": (0.0,),
    "abs": (0.0,),
    "leaky_relu": (0.0,),
    "sign": (0.0,),
    "max": "ties",
    "min": "ties",
    "amax": "ties",
    "amin": "ties",
    "maximum": "ties",
    "minimum": "ties",
    "max_pool2d": "ties",
}


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4):
    """Array shapes (tuples) with ``min_dims..max_dims`` dimensions of size ``min_side..max_side``."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(shape, min_dims: int = 0, max_dims: int | None = None, min_side: int = 1, max_side=None):
    """Shapes that broadcast against ``shape`` (NumPy's rules), for testing un-broadcasting in vjps."""
    return hnp.broadcastable_shapes(shape, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def tensors(
    shape=None,
    dtype=np.float64,
    elements=None,
    requires_grad: bool = False,
    device: str = "cpu",
    away_from_kinks=(),
    margin: float = 1e-3,
):
    """Tensors of a given (or drawn) shape with bounded, finite values.

    Args:
        shape: a tuple or a strategy of tuples (default: :func:`shapes`).
        dtype: the dtype (float64 by default, what gradcheck wants).
        elements: a strategy for the values (default: floats in [-10, 10]).
        requires_grad: whether the drawn tensor requires grad.
        device: "cpu" or "cuda".
        away_from_kinks: op names from :data:`KINKS` ("relu", "abs",
            "max", ...) and/or numbers (kink points, e.g. clip bounds). Values
            are kept at least ``margin`` from every kink point, and at least
            ``margin`` apart when an op's kinks are ties (max, maximum, ...).
        margin: the distance kept from kinks; keep it well above gradcheck's
            step (1e-6).
    """
    points, ties = _kinks(away_from_kinks)  # unknown names fail here, not at draw time
    if shape is None:
        shape = shapes()
    if elements is None:
        width = np.dtype(dtype).itemsize * 8 if np.dtype(dtype).kind == "f" else 64
        elements = st.floats(-10, 10, allow_nan=False, allow_infinity=False, width=min(width, 64))
    return _tensors(shape, dtype, elements, requires_grad, device, points, ties, margin)


@st.composite
def _tensors(draw, shape, dtype, elements, requires_grad, device, points, ties, margin):
    if isinstance(shape, st.SearchStrategy):
        shape = draw(shape)
    array = draw(hnp.arrays(dtype, shape, elements=elements))
    if points or ties:
        array = _keep_away(array, points, ties, margin)
        assume(_is_away(array, points, ties, margin))
    t = tensor(array, device=device)
    return t.requires_grad_() if requires_grad else t


def _kinks(away_from_kinks):
    points, ties = [], False
    for item in away_from_kinks:
        if isinstance(item, str):
            if item not in KINKS:
                raise ValueError(f"tensors: unknown op {item!r} in away_from_kinks; known: {sorted(KINKS)}")
            if KINKS[item] == "ties":
                ties = True
            else:
                points.extend(KINKS[item])
        else:
            points.append(float(item))
    return points, ties


def _keep_away(array, points, ties, margin):
    """Shift values near a kink point outward by ``margin`` (keeping their order), then spread ties apart."""
    array = np.array(array, dtype=array.dtype, copy=True)
    for p in points:
        near = np.abs(array - p) < margin
        array[near] = array[near] + np.where(array[near] >= p, margin, -margin)
    if ties and array.size > 1:
        flat = array.ravel()
        order = np.argsort(flat, kind="stable")
        spread = flat[order].copy()
        for i in range(1, spread.size):
            spread[i] = max(spread[i], spread[i - 1] + 2 * margin)
        flat[order] = spread
        array = flat.reshape(array.shape)
    return array


def _is_away(array, points, ties, margin) -> bool:
    if any(np.any(np.abs(array - p) < margin) for p in points):
        return False
    if ties and array.size > 1:
        return bool(np.min(np.diff(np.sort(array.ravel()))) >= margin)
    return True


def assert_gradcheck(fn, *inputs, **kwargs) -> GradcheckReport:
    """Run :func:`minigrad.gradcheck`; on failure raise AssertionError with the report. For use inside ``@given``."""
    kwargs.setdefault("raise_exception", False)
    report = gradcheck(fn, inputs, **kwargs)
    if not report.passed:
        raise AssertionError(str(report))
    return report


__all__ = ["KINKS", "shapes", "broadcastable_shapes", "tensors", "assert_gradcheck", "Tensor"]
