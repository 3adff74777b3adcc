"""Linear algebra: matrix products, einsum, vector norms, diagonals.

``matmul`` follows NumPy: 1-D operands are promoted to a row (left) or a
column (right) and the added axis is dropped again; leading dimensions are
batch dimensions and broadcast. With C = A B, the vjps are dA = G B^T and
dB = A^T G, summed over broadcast batch dimensions. ``mm``, ``bmm`` and
``outer`` are PyTorch's stricter spellings of it, checked and then composed.

``einsum`` takes NumPy's and PyTorch's subscripts; it reduces every equation
to diagonals, sums and one two-operand contraction primitive per pair of
operands, whose vjps are contractions again. ``norm`` and ``vector_norm``
are one primitive with PyTorch's subgradients and declared kinks; ``diagonal``
and ``diag_embed`` are each other's vjp.
"""

from __future__ import annotations

import functools
import math
import string
from collections import Counter

import numpy as np

from .. import backend
from ..errors import ArgumentError, DTypeError, IndexOutOfRange, ShapeError
from ..primitive import primitive
from ..tensor import Tensor
from . import elementwise
from .elementwise import astype, clone, mul, sign, where
from .reduction import _spread, _sum
from .shape import _permute, reshape, squeeze, unsqueeze


@primitive(saves=(0, 1))
def matmul(a, b):
    """Matrix product a @ b with NumPy's rules for 1-D and batched operands."""
    return a @ b


@primitive(view=True)
def _mT(x):
    """The last two axes swapped (the matrix transpose of each batch element). Its own vjp."""
    return x.swapaxes(-1, -2)


_mT.defvjp(lambda g, ans, x: _mT(g))


def _matmul_vjp_a(g, ans, a, b):
    if b.ndim == 1:  # (..., n, k) @ (k,) -> (..., n): dA[..., n, k] = g[..., n] b[k]
        return unsqueeze(g, -1) * b
    if a.ndim == 1:  # (k,) @ (..., k, m) -> (..., m): dA[k] = sum B[..., k, m] g[..., m]
        return squeeze(matmul(b, unsqueeze(g, -1)), -1)
    return matmul(g, _mT(b))


def _matmul_vjp_b(g, ans, a, b):
    if a.ndim == 1 and b.ndim == 1:  # dot product: dB = g a
        return g * a
    if a.ndim == 1:  # (k,) @ (..., k, m): dB[..., k, m] = a[k] g[..., m]
        return unsqueeze(a, -1) * unsqueeze(g, -2)
    if b.ndim == 1:  # (..., n, k) @ (k,): dB[k] = sum A[..., n, k] g[..., n]
        return squeeze(matmul(_mT(a), unsqueeze(g, -1)), -1)
    return matmul(_mT(a), g)


matmul.defvjp(_matmul_vjp_a, _matmul_vjp_b)


@primitive(name="linear", saves=(0, 1))
def _linear(x, w, b):
    """x W^T + b in one node: one GEMM, the bias added in place into its fresh output."""
    out = x @ w.swapaxes(-1, -2)
    if out.dtype == getattr(b, "dtype", None) and out.ndim:
        out += b
        return out
    return out + b


@primitive(name="linear_weight_grad", saves=(0, 1))
def _weight_grad(g, x):
    """dW = sum over the batch of g^T x: linear's weight gradient, the batch dimensions flattened into one GEMM.

    Computed as (x^T g)^T, so the gradient comes out in the weight's own
    memory order when the weight is stored column-major (as nn.Linear's is).
    One primitive, so a plain backward pays one call for it, not five.
    With H the cotangent of dW: d/dg = x H^T, d/dx = g H.
    """
    n = math.prod(g.shape[:-1])  # not -1, which a zero-size batch or output would leave undetermined
    return (x.reshape(n, x.shape[-1]).T @ g.reshape(n, g.shape[-1])).T


_weight_grad.defvjp(
    lambda h, ans, g, x: matmul(x, _mT(h)),
    lambda h, ans, g, x: matmul(g, h),
)


def _bias_grad(g, ans, x, w, b):
    """db = g summed over the batch dimensions."""
    return _sum(g, axis=tuple(range(g.ndim - 1)), keepdims=False) if g.ndim > 1 else g


_linear.defvjp(
    lambda g, ans, x, w, b: matmul(g, w),
    lambda g, ans, x, w, b: _weight_grad(g, x),
    _bias_grad,
)


def linear(x, weight, bias=None):
    """y = x W^T + b with W of shape (out_features, in_features), as PyTorch's ``F.linear``.

    One node instead of transpose, matmul and add: dx = g W, dW = g^T x (batch
    dimensions flattened), db = g summed over the batch.
    """
    if weight.ndim != 2:  # a 1-D weight (in_features,) gives x @ w, as PyTorch; other shapes are errors
        if weight.ndim != 1:
            raise ShapeError(
                "linear: weight must have shape (out_features, in_features) or (in_features,), "
                f"got {tuple(weight.shape)}"
            )
        out = matmul(x, weight)
        return out if bias is None else out + bias
    if bias is None:
        return matmul(x, _mT(weight))
    if tuple(getattr(bias, "shape", ())) != tuple(weight.shape[:1]):  # a bias that broadcasts otherwise: x W^T + b
        return matmul(x, _mT(weight)) + bias
    return _linear(x, weight, bias)


# --- PyTorch's stricter products: mm, bmm, outer ----------------------------------------------------


def _dims(x) -> str:
    return "x".join(str(s) for s in x.shape) or "0-d"


def mm(input, mat2):
    """The matrix product of two 2-D tensors, PyTorch's ``torch.mm``: (n, k) @ (k, m) -> (n, m).

    Unlike :func:`matmul` it neither broadcasts nor takes 1-D operands; after
    the checks it is ``matmul``, so its gradients are matmul's: dA = G B^T,
    dB = A^T G. Raises ShapeError when an operand is not 2-D or the inner
    sizes differ.
    """
    for name, x in (("input", input), ("mat2", mat2)):
        if x.ndim != 2:
            raise ShapeError(f"mm: {name} must be a matrix (2-D), got shape {tuple(x.shape)}")
    if input.shape[1] != mat2.shape[0]:
        raise ShapeError(f"mm: mat1 and mat2 shapes cannot be multiplied ({_dims(input)} and {_dims(mat2)})")
    return matmul(input, mat2)


def bmm(input, mat2):
    """Batched matrix product of two 3-D tensors, PyTorch's ``torch.bmm``: (b, n, k) @ (b, k, m) -> (b, n, m).

    The batch sizes must be equal (no broadcasting, as PyTorch); then it is
    ``matmul``, with matmul's gradients. Raises ShapeError for an operand that
    is not 3-D, different batch sizes or different inner sizes.
    """
    for name, x in (("input", input), ("mat2", mat2)):
        if x.ndim != 3:
            raise ShapeError(f"bmm: {name} must be a 3-D tensor (batch, rows, columns), got shape {tuple(x.shape)}")
    if input.shape[0] != mat2.shape[0]:
        raise ShapeError(
            f"bmm: the batch sizes differ, {input.shape[0]} and {mat2.shape[0]} (shapes {tuple(input.shape)} "
            f"and {tuple(mat2.shape)}); bmm does not broadcast, matmul does"
        )
    if input.shape[2] != mat2.shape[1]:
        raise ShapeError(
            f"bmm: the matrices cannot be multiplied, {input.shape[2]} columns against {mat2.shape[1]} rows "
            f"(shapes {tuple(input.shape)} and {tuple(mat2.shape)})"
        )
    return matmul(input, mat2)


def outer(input, vec2):
    """The outer product of two 1-D tensors, PyTorch's ``torch.outer``: out[i, j] = input[i] vec2[j].

    Composed as a broadcast product (n, 1) * (m,), so d/dinput = G vec2 and
    d/dvec2 = G^T input come from ``mul``. Raises ShapeError for an operand
    that is not 1-D.
    """
    for name, x in (("input", input), ("vec2", vec2)):
        if x.ndim != 1:
            raise ShapeError(f"outer: {name} must be a 1-D tensor, got shape {tuple(x.shape)}")
    return mul(unsqueeze(input, -1), vec2)


ger = outer  # PyTorch's older name for outer


# --- einsum -----------------------------------------------------------------------------------------

_LETTERS = string.ascii_uppercase + string.ascii_lowercase  # ASCII order: implicit outputs are sorted by it


@functools.lru_cache(maxsize=512)
def _two_operand_equation(equation: str):
    """``"ab,bc->ac"`` as (("a", "b"), ("b", "c")), ("a", "c")), for the contraction primitive."""
    inputs, output = equation.split("->")
    left, right = inputs.split(",")
    return tuple(left), tuple(right), tuple(output)


def _contract(a, b, la, lb, lo):
    """sum over the labels not in ``lo`` of a[la] * b[lb], as one batched GEMM.

    The labels fall into four groups: in a, b and the output (batch), in a
    and b only (summed), in a and the output (rows), in b and the output
    (columns). Each operand is permuted to (batch, rows, summed) and (batch,
    summed, columns) and flattened to 3-D, so that the product is one matmul
    (BLAS on the CPU, cuBLAS on a GPU), then unflattened and permuted to the
    output's order.
    """
    batch = [c for c in lo if c in la and c in lb]
    rows = [c for c in lo if c in la and c not in lb]
    cols = [c for c in lo if c in lb and c not in la]
    summed = [c for c in la if c in lb and c not in lo]
    size = {**dict(zip(lb, b.shape)), **dict(zip(la, a.shape))}

    def block(labels):
        return math.prod(size[c] for c in labels)

    a3 = a.transpose([la.index(c) for c in batch + rows + summed]).reshape(block(batch), block(rows), block(summed))
    b3 = b.transpose([lb.index(c) for c in batch + summed + cols]).reshape(block(batch), block(summed), block(cols))
    order = batch + rows + cols
    out = (a3 @ b3).reshape([size[c] for c in order])
    return out.transpose([order.index(c) for c in lo])


@primitive(name="einsum", saves=(0, 1))
def _einsum(a, b, *, equation):
    """The contraction of two operands by an equation with one label per dimension, ``"ab,bc->ac"``.

    :func:`einsum` brings every equation to this form: no label repeated in
    an operand (those are diagonals, taken first), every label of an operand
    also in the other operand or the output (the others are summed first),
    equal sizes for a label (size-1 dimensions that broadcast are squeezed
    first). With C[o] = sum A[a] B[b], the vjps are contractions again:
    dA = einsum("o,b->a", G, B) and dB = einsum("a,o->b", A, G), of the
    same form, so every order of derivative is a contraction.
    """
    la, lb, lo = _two_operand_equation(equation)
    return _contract(a, b, la, lb, lo)


def _einsum_vjp_a(g, ans, a, b, equation):
    la, lb, lo = _two_operand_equation(equation)
    return _einsum(g, b, equation=f"{''.join(lo)},{''.join(lb)}->{''.join(la)}")


def _einsum_vjp_b(g, ans, a, b, equation):
    la, lb, lo = _two_operand_equation(equation)
    return _einsum(a, g, equation=f"{''.join(la)},{''.join(lo)}->{''.join(lb)}")


_einsum.defvjp(_einsum_vjp_a, _einsum_vjp_b)


def _parse_term(term: str, equation: str) -> list:
    """One operand's (or the output's) subscripts as a list of letters, ``"..."`` standing for the ellipsis."""
    labels, i = [], 0
    while i < len(term):
        if term.startswith("...", i):
            if "..." in labels:
                raise ArgumentError(f"einsum: {term!r} in the equation {equation!r} has more than one ellipsis")
            labels.append("...")
            i += 3
        elif term[i] in _LETTERS:
            labels.append(term[i])
            i += 1
        else:
            raise ArgumentError(
                f"einsum: invalid subscript {term[i]!r} in the equation {equation!r}; subscripts are the letters "
                "a-z and A-Z, with at most one '...' per operand"
            )
    return labels


def _sublist_labels(sublist, position: str) -> list:
    """A sublist of the other calling form (integers 0..51 and Ellipsis) as letters."""
    labels = []
    for item in sublist:
        if item is Ellipsis:
            labels.append("...")
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool) and 0 <= item < len(_LETTERS):
            labels.append(_LETTERS[int(item)])
        else:
            raise ArgumentError(
                f"einsum: the sublist of {position} holds {item!r}; sublists hold integers in [0, 52) and Ellipsis"
            )
    return labels


def _einsum_call(equation, operands):
    """(the equation as a string, the operands) from either calling form."""
    if isinstance(equation, str):
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):  # einsum("ij,jk", [a, b])
            operands = tuple(operands[0])
        return equation, tuple(operands)
    args = (equation, *operands)  # einsum(op0, sublist0, op1, sublist1, ..., [sublist_out])
    pairs, rest = args[: len(args) // 2 * 2], args[len(args) // 2 * 2 :]
    inputs = [_sublist_labels(s, f"operand {k}") for k, s in enumerate(pairs[1::2])]
    output = _sublist_labels(rest[0], "the output") if rest else None
    written = ",".join("".join(t) for t in inputs) + ("" if output is None else "->" + "".join(output))
    return written, tuple(pairs[0::2])


def _parse(equation: str):
    """The subscripts of each operand and of the output (None without '->'), as lists of labels."""
    text = equation.replace(" ", "")
    if text.count("->") > 1 or ("-" in text.replace("->", "")) or (">" in text.replace("->", "")):
        raise ArgumentError(f"einsum: the equation {equation!r} must have at most one '->'")
    lhs, arrow, rhs = text.partition("->")
    inputs = [_parse_term(term, equation) for term in lhs.split(",")]
    return inputs, (_parse_term(rhs, equation) if arrow else None)


def _label_sizes(equation, shapes, terms, ellipsis_letters) -> dict:
    """The size of every label; a label's dimensions must agree or be 1 (broadcast), within an operand agree."""
    sizes = {}

    def named(c):
        return "a dimension covered by '...'" if c in ellipsis_letters else f"subscript {c!r}"

    for k, (labels, shape) in enumerate(zip(terms, shapes)):
        own = {}
        for c, s in zip(labels, shape):
            if c in own and own[c] != s:
                raise ShapeError(
                    f"einsum: {named(c)} is repeated in operand {k} (shape {shape}) for dimensions of sizes "
                    f"{own[c]} and {s}; a repeated subscript takes a diagonal, which needs equal sizes "
                    f"(equation {equation!r})"
                )
            own[c] = s
        for c, s in own.items():
            if c not in sizes or sizes[c] == 1:
                sizes[c] = s
            elif s not in (1, sizes[c]):
                raise ShapeError(
                    f"einsum: {named(c)} has size {sizes[c]} in one operand and {s} in operand {k}; the sizes of a "
                    f"subscript must match or be 1 (equation {equation!r}, shapes {', '.join(map(str, shapes))})"
                )
    return sizes


def _normalize(shape, labels, sizes):
    """The steps that take the diagonals of repeated labels and squeeze the size-1 dimensions that broadcast,
    and the shape and labels after them."""
    steps = []
    while len(set(labels)) < len(labels):
        first = next(i for i, c in enumerate(labels) if labels.index(c) != i)
        i = labels.index(labels[first])
        steps.append(("diagonal", (i, first)))
        shape = tuple(s for j, s in enumerate(shape) if j not in (i, first)) + (shape[i],)
        labels = [c for j, c in enumerate(labels) if j not in (i, first)] + [labels[i]]
    broadcast = [j for j, c in enumerate(labels) if shape[j] == 1 and sizes[c] != 1]
    if broadcast:
        shape = tuple(s for j, s in enumerate(shape) if j not in broadcast)
        steps.append(("reshape", shape))
        labels = [c for j, c in enumerate(labels) if j not in broadcast]
    return steps, shape, labels


def _contraction_order(parts, output) -> list:
    """Pairs of positions to contract, as ``np.einsum_path`` (greedy) finds them from the shapes alone."""
    if len(parts) == 2:
        return [(0, 1)]
    equation = ",".join("".join(labels) for _, labels in parts) + "->" + "".join(output)
    dummies = [np.broadcast_to(np.zeros((), np.float64), shape) for shape, _ in parts]
    path = np.einsum_path(equation, *dummies, optimize="greedy")[0][1:]
    if all(len(p) == 2 for p in path) and len(path) == len(parts) - 1:
        return [tuple(p) for p in path]
    return [(0, 1)] * (len(parts) - 1)


@functools.lru_cache(maxsize=1024)
def _plan(equation: str, shapes: tuple):
    """What einsum does for this equation and these operand shapes, worked out once and cached.

    Returns (steps per operand, pairs to contract with their equations, the
    final permutation for a single operand or None). A step is ("diagonal",
    (dim1, dim2)), ("reshape", shape) or ("sum", axes). Raises the errors of
    :func:`einsum` (an exception is not cached).
    """
    inputs, output = _parse(equation)
    if len(inputs) != len(shapes):
        raise ArgumentError(
            f"einsum: the equation {equation!r} has subscripts for {len(inputs)} operand(s), "
            f"but {len(shapes)} were given"
        )
    spans = []  # how many dimensions each operand's ellipsis covers
    for k, (labels, shape) in enumerate(zip(inputs, shapes)):
        named = len(labels) - labels.count("...")
        if len(shape) < named or ("..." not in labels and len(shape) != named):
            raise ShapeError(
                f"einsum: operand {k} has {len(shape)} dimension(s) (shape {shape}), but its subscripts "
                f"{''.join(labels)!r} name {named}{' or more' if '...' in labels else ''} (equation {equation!r})"
            )
        spans.append(len(shape) - named)
    used = {c for labels in inputs + [output or []] for c in labels}
    width = max(spans)
    free = [c for c in _LETTERS if c not in used]
    if width > len(free):
        raise ShapeError(f"einsum: too many dimensions for the 52 subscripts (equation {equation!r})")
    ellipsis = free[:width]

    def expand(labels, span):
        out = []
        for c in labels:
            out.extend(ellipsis[width - span :] if c == "..." else [c])
        return out

    terms = [expand(labels, span) for labels, span in zip(inputs, spans)]
    if output is None:
        counts = Counter(c for labels in inputs for c in labels if c != "...")
        output = ellipsis + sorted(c for c, n in counts.items() if n == 1)
    else:  # an explicit output without '...' sums over its dimensions, as PyTorch (NumPy refuses)
        output = expand(output, width)
        repeated = sorted({c for c in output if output.count(c) > 1})
        if repeated:
            raise ArgumentError(f"einsum: output subscript {repeated[0]!r} appears more than once in {equation!r}")
        missing = [c for c in output if not any(c in labels for labels in terms)]
        if missing:
            raise ArgumentError(f"einsum: output subscript {missing[0]!r} of {equation!r} is in no operand")
    sizes = _label_sizes(equation, shapes, terms, set(ellipsis))
    steps, parts = [], []
    for shape, labels in zip(shapes, terms):
        own, shape, labels = _normalize(shape, labels, sizes)
        steps.append(own)
        parts.append((shape, labels))
    for k, (shape, labels) in enumerate(parts):  # a subscript of one operand only, not in the output: summed first
        others = set(output).union(*(set(p[1]) for j, p in enumerate(parts) if j != k))
        alone = [j for j, c in enumerate(labels) if c not in others]
        if alone:
            steps[k].append(("sum", tuple(alone)))
            keep = [j for j in range(len(labels)) if j not in alone]
            parts[k] = (tuple(shape[j] for j in keep), [labels[j] for j in keep])
    if len(parts) == 1:
        return steps, [], tuple(parts[0][1].index(c) for c in output)
    pairs = []
    for i, j in _contraction_order(parts, output):
        (sa, la), (sb, lb) = parts[i], parts[j]
        rest = [p for k, p in enumerate(parts) if k not in (i, j)]
        if rest:
            keep = set(output).union(*(set(p[1]) for p in rest))
            lc = [c for c in la + [c for c in lb if c not in la] if c in keep]
        else:
            lc = list(output)
        pairs.append((i, j, f"{''.join(la)},{''.join(lb)}->{''.join(lc)}"))
        size = {**dict(zip(lb, sb)), **dict(zip(la, sa))}
        parts = rest + [(tuple(size[c] for c in lc), lc)]
    return steps, pairs, None


def _apply_step(x, step):
    kind, arg = step
    if kind == "diagonal":
        return _diagonal(x, offset=0, dim1=arg[0], dim2=arg[1])
    if kind == "reshape":
        return reshape(x, arg)
    return _sum(x, axis=arg, keepdims=False)


def einsum(equation, *operands):
    """Sums of products of the operands' elements over the subscripts named in ``equation``, ``torch.einsum``.

    ``einsum("ij,jk->ik", a, b)`` is a matrix product: out[i, k] = sum_j
    a[i, j] b[j, k]. The equation takes what NumPy's and PyTorch's take: one
    letter (a-z, A-Z) per dimension, operands separated by commas, spaces
    anywhere; ``...`` for the dimensions not named, which broadcast (right
    aligned, as in arithmetic); a subscript repeated in one operand takes
    its diagonal (``"ii->i"``, ``"ii"`` is the trace); dimensions of size 1
    broadcast against the same subscript's size in other operands. Without
    ``->`` the output has the ellipsis dimensions, then the subscripts that
    appear once, in alphabetical order (upper case first). An explicit
    output without ``...`` sums over the dimensions it covers, as PyTorch
    (``"...ij->ij"`` sums a batch of matrices; NumPy refuses that). The
    operands may also be given as one list, ``einsum("ij,jk", [a, b])``, or
    in NumPy's and PyTorch's sublist form, ``einsum(a, [0, 1], b, [1, 2],
    [0, 2])``.

    Computed from differentiable steps: each repeated subscript a diagonal,
    each subscript of one operand only (and not in the output) a sum, and
    every pair of operands one contraction (a batched matrix product) in the
    order ``np.einsum_path`` finds; the vjp of a contraction is a
    contraction, so gradients of every order are einsums too. The plan is
    worked out once per equation and operand shapes, and cached.

    Raises ArgumentError for a malformed equation (letters other than a-z
    and A-Z, two ellipses in a term, an output subscript repeated or absent
    from the inputs, a count of terms other than the operands'), ShapeError
    when subscripts do not fit the operands' dimensions or sizes, DTypeError
    for an operand that is not a tensor.
    """
    equation, operands = _einsum_call(equation, operands)
    if not operands:
        raise ArgumentError("einsum: needs at least one operand")
    for k, x in enumerate(operands):
        if not (isinstance(x, Tensor) or backend.is_array(x)):
            raise DTypeError(f"einsum: operand {k} must be a tensor, got {type(x).__name__}")
    steps, pairs, final = _plan(equation, tuple(tuple(x.shape) for x in operands))
    parts = list(operands)
    for k, own in enumerate(steps):
        for step in own:
            parts[k] = _apply_step(parts[k], step)
    if final is not None:
        return _permute(parts[0], axes=final)
    for i, j, contraction in pairs:
        c = _einsum(parts[i], parts[j], equation=contraction)
        parts = [p for k, p in enumerate(parts) if k not in (i, j)] + [c]
    return parts[0]


# --- norms ------------------------------------------------------------------------------------------


def _norm_dims(op, x, dim):
    """``dim`` as a tuple of distinct non-negative axes, or None for all of them."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    if not dims:  # PyTorch: an empty dim list reduces over every dimension
        return None
    n = max(x.ndim, 1)
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
            raise DTypeError(f"{op}: dim must be an int or a tuple of ints, got {dim!r}")
        if not -n <= d < n:
            raise IndexOutOfRange(f"{op}: dim {d} is out of range for a tensor of shape {tuple(x.shape)}")
    normal = tuple(int(d) % n for d in dims)
    if len(set(normal)) != len(normal):
        raise ShapeError(f"{op}: dim {dim!r} names a dimension more than once")
    return normal if x.ndim else None


def _norm_signature(x, *, ord, axis, keepdims):
    """Which side of the norm's kinks each element is on.

    p = 0 is a step at every zero element; p <= 1 has a kink at every zero
    element (|x|); inf and -inf at ties of |x| for the largest (smallest)
    and where the winner crosses 0; other p > 1 only where the whole slice
    is 0, which an element crosses when it is the only nonzero one of its
    slice. The signature says that: x != 0; sign(x); sign(x) at the winners;
    sign(x) where the slice has at most one nonzero element.
    """
    xp = backend.xp_of(x)
    if ord == 0:
        return x != 0
    s = xp.sign(x)
    if ord <= 1:
        return s
    a = xp.abs(x)
    if math.isinf(ord):
        best = (a.max if ord > 0 else a.min)(axis=axis, keepdims=True)
        return xp.where(a == best, s, 0)
    alone = (x != 0).sum(axis=axis, keepdims=True) <= 1
    return xp.where(alone, s, 0)


@primitive(name="vector_norm", saves=(0,), saves_output=True, signature=_norm_signature)
def _vector_norm(x, *, ord, axis, keepdims):
    """||x||_p over ``axis``: (sum |x|^p)^(1/p); max |x| (inf), min |x| (-inf), the count of nonzeros (0)."""
    xp = backend.xp_of(x)
    if ord == 0:
        return (x != 0).sum(axis=axis, keepdims=keepdims).astype(x.dtype)
    a = xp.abs(x)
    if ord == math.inf:
        return a.max(axis=axis, keepdims=keepdims)
    if ord == -math.inf:
        return a.min(axis=axis, keepdims=keepdims)
    if ord == 1:
        return a.sum(axis=axis, keepdims=keepdims)
    if ord == 2:
        return xp.sqrt((x * x).sum(axis=axis, keepdims=keepdims))
    with np.errstate(divide="ignore"):  # 0 ** (negative p) is inf, and the norm 0: as PyTorch
        return (a ** x.dtype.type(ord)).sum(axis=axis, keepdims=keepdims) ** x.dtype.type(1 / ord)


def _vector_norm_vjp(g, ans, x, ord, axis, keepdims):
    """PyTorch's subgradients, 0 wherever the formula divides by 0.

    p = 1: g sign(x). p = 2: g x / ||x||. p = inf, -inf: g sign(x) at the
    winners of max (min) |x|, shared evenly by ties. p < 1: g sign(x)
    |x|^(p-1) ||x||^(1-p), 0 at zero elements. Other p: g sign(x) |x|^(p-1) /
    ||x||^(p-1). p = 0: 0 (a count).
    """
    if ord == 0:
        return _zeros_like(x)
    g = _spread(g, x.shape, axis, keepdims)
    if ord == 1:
        return g * sign(x)
    norm = _spread(ans, x.shape, axis, keepdims)
    if math.isinf(ord):
        won = elementwise.abs(x) == norm
        ties = astype(_sum(won, axis=axis, keepdims=True), dtype=g.dtype)
        return where(won, g * sign(x), 0) / ties
    zero = norm == 0
    safe = where(zero, 1, norm)
    if ord == 2:
        return where(zero, 0, g * x / safe)
    if ord < 1:
        scaled = where(x == 0, 0, sign(x) * elementwise.abs(where(x == 0, 1, x)) ** (ord - 1))
        return scaled * g * norm ** (1 - ord)
    return where(zero, 0, sign(x) * elementwise.abs(x) ** (ord - 1) * (g / safe ** (ord - 1)))


def _zeros_like(x):
    """Zeros of x's shape and dtype, a constant (the gradient of the count of nonzeros)."""
    if isinstance(x, Tensor):
        return Tensor._wrap(x.xp.zeros_like(x.data))
    return backend.xp_of(x).zeros_like(x)


_vector_norm.defvjp(_vector_norm_vjp)


def _check_ord(op, ord):
    if isinstance(ord, bool) or not isinstance(ord, (int, float, np.integer, np.floating)) or math.isnan(ord):
        raise ArgumentError(f"{op}: the order must be a number (or inf, -inf), got {ord!r}")
    return float(ord)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The vector p-norm of ``x`` over ``dim`` (all elements when None), ``torch.linalg.vector_norm``.

    ||x||_p = (sum |x_i|^p)^(1/p) for any real p; inf gives max |x_i|, -inf
    min |x_i|, 0 the number of nonzero elements. A 2-D ``x`` is treated as a
    vector too (no matrix norms). The gradient is PyTorch's: g x / ||x|| for
    p = 2 and 0 where the norm is 0; g sign(x) for p = 1 (0 at zero
    elements); for inf the winners of the max share g evenly. Those points
    are kinks, declared as the op's branch signature.

    ``dtype`` casts ``x`` first. Raises DTypeError for a non-floating tensor,
    ArgumentError for an order that is not a number, IndexOutOfRange and
    ShapeError for bad dims, ShapeError for inf, -inf or negative orders over
    an empty dimension (they have no identity).
    """
    ord = _check_ord("vector_norm", ord)
    return _norm(x, ord, _norm_dims("vector_norm", x, dim), bool(keepdim), dtype, "vector_norm")


def _norm(x, ord, axis, keepdims, dtype, op):
    if dtype is not None:
        x = astype(x, dtype=np.dtype(dtype))
    if x.dtype.kind != "f":
        raise DTypeError(
            f"{op}: expects a floating-point tensor, got dtype {x.dtype}; cast it with .double() or pass dtype="
        )
    if ord < 0 or math.isinf(ord):
        reduced = range(x.ndim) if axis is None else axis
        if any(x.shape[d] == 0 for d in reduced):
            raise ShapeError(
                f"{op}: the {ord} norm over an empty dimension has no identity (shape {tuple(x.shape)}, dim {axis})"
            )
    return _vector_norm(x, ord=ord, axis=axis, keepdims=keepdims)


def norm(input, p="fro", dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """The norm of ``input``, ``torch.norm``: a vector p-norm over ``dim``, or the Frobenius norm.

    ``p`` is a number (1, 2, inf, -inf, 0, any real; None means 2): the
    vector norm (sum |x_i|^p)^(1/p) over ``dim``, or over all elements when
    ``dim`` is None (a matrix is flattened, as PyTorch, not its operator
    norm). ``p="fro"`` (the default) is sqrt(sum x_i^2) over all elements,
    one dim or a pair of dims. See :func:`vector_norm` for the gradients and
    kinks (0 at x = 0, as PyTorch). ``axis``/``keepdims`` are NumPy's names
    for ``dim``/``keepdim``.

    Raises ArgumentError for ``p="nuc"`` (it needs singular values, which
    minigrad does not compute), other strings, or "fro" over more than two
    dims; the errors of :func:`vector_norm` otherwise.
    """
    if axis is not None:
        if dim is not None:
            raise TypeError("norm: give axis or dim, not both")
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if isinstance(p, str):
        if p == "nuc":
            raise ArgumentError("norm: the nuclear norm (p='nuc') needs singular values, which minigrad does not have")
        if p != "fro":
            raise ArgumentError(f"norm: p must be a number, 'fro' or 'nuc', got {p!r}")
        if dim is not None and not isinstance(dim, (int, np.integer)) and len(dim) > 2:
            raise ArgumentError(f"norm: the Frobenius norm takes at most two dims, got {dim!r}")
        p = 2
    ord = 2.0 if p is None else _check_ord("norm", p)
    return _norm(input, ord, _norm_dims("norm", input, dim), bool(keepdim), dtype, "norm")


# --- diagonals --------------------------------------------------------------------------------------


@primitive(name="diagonal", view=True)
def _diagonal(x, *, offset, dim1, dim2):
    """The diagonal of the (dim1, dim2) planes, appended as the last dimension (a read-only view)."""
    return x.diagonal(offset, dim1, dim2)


_diagonal.defvjp(
    lambda g, ans, x, offset, dim1, dim2: _diag_embed(g, offset=offset, dim1=dim1, dim2=dim2, shape=tuple(x.shape))
)


@primitive(name="diag_embed")
def _diag_embed(g, *, offset, dim1, dim2, shape):
    """Zeros of ``shape`` with g's last dimension written on the diagonal of the (dim1, dim2) planes.

    The adjoint of :func:`_diagonal`: each is the other's vjp.
    """
    xp = backend.xp_of(g)
    out = xp.zeros(shape, dtype=g.dtype)
    n = g.shape[-1]
    rows = xp.arange(n) + max(-offset, 0)
    cols = xp.arange(n) + max(offset, 0)
    xp.moveaxis(out, (dim1, dim2), (-2, -1))[..., rows, cols] = g
    return out


_diag_embed.defvjp(lambda g, ans, x, offset, dim1, dim2, shape: _diagonal(g, offset=offset, dim1=dim1, dim2=dim2))


def _plane(op, ndim, dim1, dim2, shape):
    """dim1, dim2 as distinct non-negative axes of an ``ndim``-dimensional tensor."""
    for d in (dim1, dim2):
        if not -ndim <= d < ndim:
            raise IndexOutOfRange(f"{op}: dim {d} is out of range for {ndim} dimensions (shape {shape})")
    d1, d2 = dim1 % ndim, dim2 % ndim
    if d1 == d2:
        raise ShapeError(f"{op}: dim1 and dim2 name the same dimension ({dim1} and {dim2}) of shape {shape}")
    return d1, d2


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The ``offset``-th diagonal of the planes (dim1, dim2), as the last dimension, ``torch.diagonal``.

    out[..., i] = input[..., i, i + offset, ...] (offset > 0 above the main
    diagonal, < 0 below), the other dimensions first in their order. A view
    of ``input``, as PyTorch's (read-only here). vjp: the cotangent written
    back on that diagonal of zeros (:func:`diag_embed`).

    Raises ShapeError for a tensor of fewer than 2 dimensions or dim1 ==
    dim2, IndexOutOfRange for a dim outside the tensor.
    """
    if input.ndim < 2:
        raise ShapeError(f"diagonal: expects a tensor of at least 2 dimensions, got shape {tuple(input.shape)}")
    d1, d2 = _plane("diagonal", input.ndim, dim1, dim2, tuple(input.shape))
    return _diagonal(input, offset=int(offset), dim1=d1, dim2=d2)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """A tensor whose (dim1, dim2) planes hold ``input``'s last dimension on their ``offset``-th diagonal.

    ``torch.diag_embed``: the output has one dimension more than ``input``,
    the planes are square of side n + |offset| (n the last dimension's size)
    and zero off that diagonal. dim1 and dim2 count in the output's
    dimensions. vjp: the diagonal of the cotangent (:func:`diagonal`).
    """
    if input.ndim < 1:
        raise ShapeError("diag_embed: expects a tensor of at least 1 dimension, got a 0-d tensor")
    ndim = input.ndim + 1
    d1, d2 = _plane("diag_embed", ndim, dim1, dim2, tuple(input.shape))
    side = input.shape[-1] + max(int(offset), -int(offset))
    rest = iter(input.shape[:-1])
    shape = tuple(side if k in (d1, d2) else next(rest) for k in range(ndim))
    return _diag_embed(input, offset=int(offset), dim1=d1, dim2=d2, shape=shape)


def diag(input, diagonal=0):
    """``torch.diag``: a 1-D tensor becomes the square matrix with it on its ``diagonal``-th diagonal,
    a 2-D tensor gives its ``diagonal``-th diagonal as a new 1-D tensor (a copy, not a view).

    Raises ShapeError for other numbers of dimensions.
    """
    if input.ndim == 1:
        return diag_embed(input, offset=diagonal, dim1=0, dim2=1)
    if input.ndim == 2:
        return clone(_diagonal(input, offset=int(diagonal), dim1=0, dim2=1))
    raise ShapeError(f"diag: expects a 1-D or 2-D tensor, got shape {tuple(input.shape)}")


def trace(input):
    """The sum of the main diagonal of a 2-D tensor, ``torch.trace``. vjp: the identity pattern times g.

    Raises ShapeError for a tensor that is not 2-D.
    """
    if input.ndim != 2:
        raise ShapeError(f"trace: expects a matrix (2-D tensor), got shape {tuple(input.shape)}")
    return _sum(_diagonal(input, offset=0, dim1=0, dim2=1), axis=None, keepdims=False)
