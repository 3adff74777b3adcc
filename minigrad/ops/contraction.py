"""einsum: Einstein summation over NumPy's and PyTorch's subscripts.

Every equation is brought, from the operands' shapes alone (a plan cached per
equation and shapes), to differentiable steps: a diagonal for each subscript
repeated in an operand, a squeeze for each size-1 dimension that broadcasts,
a sum for each subscript of one operand only, and then one contraction
primitive per pair of operands (a batched matrix product). The vjps of a
contraction are contractions of the same form, so every order of derivative
is an einsum too.
"""

from __future__ import annotations

import functools
import math
import string
from collections import Counter

import numpy as np

from .. import backend
from ..errors import ArgumentError, DTypeError, ShapeError
from ..primitive import primitive
from ..tensor import Tensor
from .linalg import _diagonal
from .reduction import _sum
from .shape import _permute, reshape

# --- the contraction primitive --------------------------------------------------------------------------

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
