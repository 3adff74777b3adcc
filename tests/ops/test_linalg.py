"""Matrix products (minigrad.ops.linalg): matmul with NumPy's rules for 1-D and batched operands.

matmul, mT, linear and linear_weight_grad on hypothesis shapes are records of
optable.py, checked by the generic tests of test_optable.py; here every named
case of NumPy's rules, and errors.
"""

import numpy as np
import pytest
from helpers import check_gradients
from ophelpers import (
    DTYPES,
    check_second_order,
    tolerance,
)

import minigrad
from minigrad.ops import linalg

CASES = {  # every combination NumPy's matmul accepts, by name
    "1-D @ 1-D": ((3,), (3,)),
    "2-D @ 1-D": ((2, 3), (3,)),
    "1-D @ 2-D": ((3,), (3, 4)),
    "2-D @ 2-D": ((2, 3), (3, 4)),
    "batched @ 2-D": ((2, 2, 3), (3, 4)),
    "2-D @ batched": ((2, 3), (2, 3, 4)),
    "batched @ 1-D": ((2, 2, 3), (3,)),
    "1-D @ batched": ((3,), (2, 3, 4)),
    "broadcast batch": ((2, 1, 2, 3), (3, 3, 2)),
    "1 x 1": ((1, 1), (1, 1)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_matmul_forward(name, dtype, device):
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(s).astype(dtype) for s in CASES[name])
    want = np.matmul(a, b)
    ta, tb = minigrad.tensor(a, device=device), minigrad.tensor(b, device=device)
    for out in (ta @ tb, minigrad.matmul(ta, tb), ta.matmul(tb)):
        assert out.shape == want.shape
        assert out.dtype == want.dtype == dtype
        np.testing.assert_allclose(out.numpy(), want, **tolerance(dtype))


def test_matmul_with_a_numpy_operand():
    a = np.arange(6.0).reshape(2, 3)
    t = minigrad.tensor(np.ones((3, 2)), requires_grad=True)
    out = a @ t  # ndarray @ Tensor goes to Tensor.__rmatmul__
    assert isinstance(out, minigrad.Tensor)
    np.testing.assert_array_equal(out.numpy(), a @ np.ones((3, 2)))
    out.sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), a.T @ np.ones((2, 2)))


@pytest.mark.parametrize("name", sorted(CASES))
def test_matmul_gradient_cases(name, device):
    rng = np.random.default_rng(1)
    a, b = (rng.standard_normal(s) for s in CASES[name])
    check_gradients(lambda x, y: x @ y, a, b, device=device)
    check_gradients(lambda x: x @ minigrad.tensor(b, device=device), a, device=device)  # only one side needs grad
    array = minigrad.backend.xp_for(device).asarray(a)  # a bare array of the device's library on the left
    check_gradients(lambda y: array @ y, b, device=device)


@pytest.mark.parametrize("lead", [(), (2,), (2, 3)])
def test_second_order_linear(lead):
    rng = np.random.default_rng(4)
    x, w, b = (rng.standard_normal(s) for s in (lead + (3,), (2, 3), (2,)))
    check_second_order(linalg.linear, x, w, b)


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_order_matmul(name):
    rng = np.random.default_rng(2)
    a, b = (rng.standard_normal(s) for s in CASES[name])
    check_second_order(lambda x, y: x @ y, a, b)


def test_second_order_of_a_quadratic_form_is_exact():
    """f(x) = x^T A x: grad = (A + A^T) x, Hessian = A + A^T."""
    rng = np.random.default_rng(3)
    A = rng.standard_normal((3, 3))
    x = minigrad.tensor(rng.standard_normal(3), requires_grad=True)
    (g,) = minigrad.grad(x @ minigrad.tensor(A) @ x, x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), (A + A.T) @ x.numpy(), rtol=1e-12)
    hessian = np.stack([minigrad.grad(g[i], x, retain_graph=True)[0].numpy() for i in range(3)])
    np.testing.assert_allclose(hessian, A + A.T, rtol=1e-12)


@pytest.mark.parametrize(
    ("shape_a", "shape_b"),
    [
        ((2, 3), (4, 5)),
        ((3,), (4,)),
        ((2, 3), (2,)),
        pytest.param((2, 2, 3), (3, 3, 2), id="batch-mismatch"),
    ],
)
def test_matmul_shape_mismatch_is_a_shape_error(shape_a, shape_b):
    with pytest.raises(minigrad.ShapeError) as info:
        minigrad.ones(*shape_a) @ minigrad.ones(*shape_b)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert message.startswith("matmul")
    assert str(shape_a) in message and str(shape_b) in message


def test_matmul_of_a_scalar_is_an_error():
    with pytest.raises(minigrad.MinigradError, match="matmul"):
        minigrad.matmul(minigrad.ones(()), minigrad.ones(3))


# --- mm, bmm, outer (matmul after PyTorch's checks) ---------------------------------------------------


def test_mm_bmm_outer_forward_and_methods(device):
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    ba, bb = rng.standard_normal((2, 2, 3)), rng.standard_normal((2, 3, 4))
    u, v = rng.standard_normal(3), rng.standard_normal(2)
    t = lambda x: minigrad.tensor(x, device=device)  # noqa: E731
    for out in (minigrad.mm(t(a), t(b)), t(a).mm(t(b))):
        np.testing.assert_allclose(out.numpy(), a @ b, rtol=1e-12)
    for out in (minigrad.bmm(t(ba), t(bb)), t(ba).bmm(t(bb))):
        np.testing.assert_allclose(out.numpy(), ba @ bb, rtol=1e-12)
    for out in (minigrad.outer(t(u), t(v)), t(u).outer(t(v)), minigrad.ger(t(u), t(v)), t(u).ger(t(v))):
        np.testing.assert_allclose(out.numpy(), np.outer(u, v), rtol=1e-12)


@pytest.mark.parametrize(
    ("fn", "shapes"),
    [
        (minigrad.mm, ((2, 3), (3, 4))),
        (minigrad.mm, ((0, 3), (3, 2))),
        (minigrad.bmm, ((2, 2, 3), (2, 3, 1))),
        (minigrad.bmm, ((1, 2, 0), (1, 0, 2))),
        (minigrad.outer, ((3,), (2,))),
        (minigrad.outer, ((0,), (2,))),
    ],
)
def test_mm_bmm_outer_gradients(fn, shapes, device):
    rng = np.random.default_rng(6)
    arrays = [rng.standard_normal(s) for s in shapes]
    check_gradients(fn, *arrays, device=device)
    check_second_order(fn, *arrays)


@pytest.mark.parametrize(
    ("fn", "shapes", "match"),
    [
        (minigrad.mm, ((2, 3), (4, 5)), r"mm: mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"),
        (minigrad.mm, ((2, 3, 1), (3, 2)), r"mm: input must be a matrix"),
        (minigrad.mm, ((2, 3), (3,)), r"mm: mat2 must be a matrix"),
        (minigrad.bmm, ((2, 3), (3, 2)), r"bmm: input must be a 3-D tensor"),
        (minigrad.bmm, ((2, 2, 3), (1, 3, 2)), r"bmm: the batch sizes differ, 2 and 1"),
        (minigrad.bmm, ((2, 2, 3), (2, 2, 2)), r"bmm: the matrices cannot be multiplied, 3 columns against 2 rows"),
        (minigrad.outer, ((2, 1), (3,)), r"outer: input must be a 1-D tensor"),
        (minigrad.outer, ((2,), ()), r"outer: vec2 must be a 1-D tensor"),
    ],
)
def test_mm_bmm_outer_errors(fn, shapes, match):
    operands = [minigrad.ones(*s, requires_grad=True) if s else minigrad.tensor(1.0) for s in shapes]
    with pytest.raises(minigrad.ShapeError, match=match):
        fn(*operands)
    assert all(x.grad is None and x.is_leaf for x in operands)


# --- einsum: semantics beyond the op table's hypothesis cases, and errors -------------------------------

EINSUM_NAMED = {  # equation: operand shapes
    "ij,jk->ik": ((2, 3), (3, 4)),
    "ij,jk": ((2, 3), (3, 4)),
    "ji": ((2, 3),),
    "ii": ((3, 3),),
    "ii->i": ((3, 3),),
    "iii->i": ((2, 2, 2),),
    "ij->": ((2, 3),),
    "i,i": ((3,), (3,)),
    "i,j": ((3,), (2,)),
    "...ii->...i": ((4, 3, 3),),
    "i...i": ((2, 3, 2),),
    "bhqd,bhkd->bhqk": ((2, 2, 3, 4), (2, 2, 5, 4)),
    "...qd,...kd->...qk": ((2, 1, 3, 4), (3, 5, 4)),
    "ij,ij,ij->": ((2, 3), (2, 3), (2, 3)),
    "ab,bc,cd,de->ae": ((2, 3), (3, 4), (4, 2), (2, 3)),
    ",ij->ij": ((), (2, 3)),
    "Ab,bA->A": ((2, 3), (3, 2)),
    "ij,j->i": ((2, 0), (0,)),
    "ik,kj->ij": ((2, 1), (3, 4)),  # k broadcasts: size 1 against 3
}


@pytest.mark.parametrize("equation", sorted(EINSUM_NAMED))
def test_einsum_matches_numpy(equation, device):
    rng = np.random.default_rng(7)
    arrays = [rng.standard_normal(s) for s in EINSUM_NAMED[equation]]
    out = minigrad.einsum(equation, *[minigrad.tensor(a, device=device) for a in arrays])
    want = np.einsum(equation, *arrays)
    assert out.shape == want.shape
    np.testing.assert_allclose(out.to("cpu").numpy(), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("equation", ["ii->i", "ij,jk,kl->il", "...qd,...kd->...qk", "i,i", "ik,kj->ij"])
def test_einsum_gradients_and_second_order(equation, device):
    rng = np.random.default_rng(8)
    arrays = [rng.standard_normal(s) for s in EINSUM_NAMED.get(equation, ((2, 3), (3, 4), (4, 2)))]

    def fn(*xs):
        return minigrad.einsum(equation, *xs)

    check_gradients(fn, *arrays, device=device)
    check_second_order(fn, *arrays)


def test_einsum_float32_stays_float32_and_attention_is_one_batched_product():
    rng = np.random.default_rng(9)
    q, k = (minigrad.tensor(rng.standard_normal((2, 4, 3, 8)).astype(np.float32)) for _ in range(2))
    out = minigrad.einsum("bhqd,bhkd->bhqk", q, k)
    assert out.dtype == np.float32
    assert out.grad_fn is None  # nothing requires grad
    q.requires_grad_()
    out = minigrad.einsum("bhqd,bhkd->bhqk", q, k)
    assert out.grad_fn.node.name == "einsum"  # the contraction itself, no diagonal or sum around it


@pytest.mark.parametrize(
    ("equation", "shapes", "error", "match"),
    [
        ("ij,jk->ik", ((2, 3), (4, 5)), minigrad.ShapeError, r"einsum: subscript 'j' has size 3 .* and 4 in operand 1"),
        ("ij", ((2, 3, 4),), minigrad.ShapeError, r"einsum: operand 0 has 3 dimension\(s\) .* name 2"),
        ("ijk->i", ((2, 3),), minigrad.ShapeError, r"einsum: operand 0 has 2 dimension"),
        ("ii", ((2, 3),), minigrad.ShapeError, r"einsum: subscript 'i' is repeated in operand 0"),
        ("ij,jk", ((2, 3),), minigrad.ArgumentError, r"einsum: the equation 'ij,jk' has subscripts for 2 operand"),
        ("i->ii", ((2,),), minigrad.ArgumentError, r"output subscript 'i' appears more than once"),
        ("i->j", ((2,),), minigrad.ArgumentError, r"output subscript 'j' .* is in no operand"),
        ("i2", ((2, 2),), minigrad.ArgumentError, r"invalid subscript '2'"),
        ("......", ((2,),), minigrad.ArgumentError, r"more than one ellipsis"),
        ("i->i->i", ((2,),), minigrad.ArgumentError, r"at most one '->'"),
    ],
)
def test_einsum_errors_name_the_op_and_leave_the_graph_alone(equation, shapes, error, match):
    operands = [minigrad.ones(*s, requires_grad=True) for s in shapes]
    with pytest.raises(error, match=match):
        minigrad.einsum(equation, *operands)
    assert all(x.grad is None and x.is_leaf for x in operands)


def test_einsum_sums_the_ellipsis_dimensions_an_explicit_output_leaves_out():
    """PyTorch's rule (NumPy raises instead): "...ij->ij" sums over the batch dimensions."""
    rng = np.random.default_rng(15)
    x, y = rng.standard_normal((5, 2, 3)), rng.standard_normal((4, 1, 3, 2))
    np.testing.assert_allclose(minigrad.einsum("...ij->ij", minigrad.tensor(x)).numpy(), x.sum(0), rtol=1e-12)
    out = minigrad.einsum("...ij,...jk->ik", minigrad.tensor(x), minigrad.tensor(y))
    np.testing.assert_allclose(out.numpy(), np.einsum("...ij,...jk->...ik", x, y).sum((0, 1)), rtol=1e-12)
    check_gradients(lambda a, b: minigrad.einsum("...ij,...jk->ik", a, b), x, y)


def test_einsum_operand_kinds():
    with pytest.raises(minigrad.DTypeError, match="einsum: operand 1 must be a tensor"):
        minigrad.einsum("i,i", minigrad.ones(2), [1.0, 2.0])
    with pytest.raises(minigrad.ArgumentError, match="at least one operand"):
        minigrad.einsum("i")
    with pytest.raises(minigrad.ArgumentError, match="sublists hold integers"):
        minigrad.einsum(minigrad.ones(2), ["i"])


# --- norm --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, -1, np.inf, -np.inf, 0, None, "fro"])
def test_norm_matches_numpy_linalg_norm_on_vectors(p, device):
    rng = np.random.default_rng(10)
    x = rng.standard_normal((3, 4))
    t = minigrad.tensor(x, device=device)
    ord_ = 2 if p in (None, "fro") else p
    np.testing.assert_allclose(minigrad.norm(t, p).item(), np.linalg.norm(x.ravel(), ord_), rtol=1e-12)
    np.testing.assert_allclose(t.norm(p, dim=1).numpy(), np.linalg.norm(x, ord_, axis=1), rtol=1e-12)
    kept = t.norm(p, dim=0, keepdim=True)
    np.testing.assert_allclose(kept.numpy(), np.linalg.norm(x, ord_, axis=0, keepdims=True), rtol=1e-12)


def test_norm_defaults_and_frobenius_over_two_dims():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 3, 4))
    t = minigrad.tensor(x)
    np.testing.assert_allclose(t.norm().item(), np.sqrt((x**2).sum()), rtol=1e-12)  # p='fro', all elements
    np.testing.assert_allclose(
        minigrad.norm(t, "fro", dim=(1, 2)).numpy(), np.linalg.norm(x, "fro", axis=(1, 2)), rtol=1e-12
    )
    # a numeric p over a matrix is the vector norm of its elements (PyTorch), not NumPy's operator norm
    m = x[0]
    np.testing.assert_allclose(minigrad.norm(minigrad.tensor(m), 2).item(), np.linalg.norm(m.ravel()), rtol=1e-12)
    assert minigrad.norm(minigrad.tensor(m), 2).item() != pytest.approx(np.linalg.norm(m, 2))
    assert t.norm(dtype=np.float32).dtype == np.float32
    assert minigrad.norm(minigrad.tensor(np.zeros((0, 3))), dim=0).shape == (3,)


def test_norm_gradient_at_zero_is_zero_and_a_declared_kink():
    for p in (2, 3, 1, 0.5, np.inf):
        x = minigrad.tensor(np.zeros(3), requires_grad=True)
        minigrad.norm(x, p).backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros(3))
    x = minigrad.tensor(np.array([0.0, 0.0, 0.0]), requires_grad=True)
    report = minigrad.gradcheck(lambda t: minigrad.norm(t, 2), (x,), raise_exception=False)
    assert report.kinks, "the cone at x = 0 is reported as a kink"
    x = minigrad.tensor(np.array([1.0, 0.0, -2.0]), requires_grad=True)
    report = minigrad.gradcheck(lambda t: minigrad.norm(t, 1), (x,), raise_exception=False)
    assert report.passed and report.kinks  # |x_1| at 0
    x = minigrad.tensor(np.array([2.0, -2.0, 1.0]), requires_grad=True)
    minigrad.norm(x, np.inf).backward()  # a tie for the largest |x|: the winners share the gradient
    np.testing.assert_array_equal(x.grad.numpy(), [0.5, -0.5, 0.0])


def test_norm_errors():
    x = minigrad.ones(2, 3, requires_grad=True)
    with pytest.raises(minigrad.ArgumentError, match="norm: the nuclear norm"):
        minigrad.norm(x, "nuc")
    with pytest.raises(minigrad.ArgumentError, match="norm: p must be a number"):
        minigrad.norm(x, "max")
    with pytest.raises(minigrad.ArgumentError, match="norm: the Frobenius norm takes at most two dims"):
        minigrad.norm(minigrad.ones(2, 2, 2), "fro", dim=(0, 1, 2))
    with pytest.raises(minigrad.IndexOutOfRange, match="norm: dim 2 is out of range"):
        x.norm(dim=2)
    with pytest.raises(minigrad.ShapeError, match="more than once"):
        x.norm(dim=(1, -1))
    with pytest.raises(minigrad.DTypeError, match="norm: expects a floating-point tensor"):
        minigrad.norm(minigrad.tensor([1, 2]))
    with pytest.raises(minigrad.ShapeError, match="inf norm over an empty dimension"):
        minigrad.norm(minigrad.ones(0, 2), np.inf, dim=0)
    with pytest.raises(TypeError, match="give axis or dim"):
        minigrad.norm(x, dim=0, axis=0)
    assert x.grad is None and x.is_leaf


# --- diag, diagonal, trace -----------------------------------------------------------------------------


def test_diag_both_ways_and_trace(device):
    rng = np.random.default_rng(12)
    v, m = rng.standard_normal(3), rng.standard_normal((3, 4))
    tv, tm = minigrad.tensor(v, device=device), minigrad.tensor(m, device=device)
    for k in (-2, 0, 1):
        np.testing.assert_array_equal(minigrad.diag(tv, k).numpy(), np.diag(v, k))
        np.testing.assert_array_equal(tv.diag(diagonal=k).numpy(), np.diag(v, k))
        np.testing.assert_array_equal(minigrad.diag(tm, k).numpy(), np.diag(m, k))
        np.testing.assert_array_equal(tm.diagonal(k).numpy(), np.diagonal(m, k))
    d = minigrad.diag(tm)
    d[0] = 100.0  # diag of a matrix is a copy, as PyTorch's
    assert tm.numpy()[0, 0] == m[0, 0]
    np.testing.assert_allclose(minigrad.trace(tm).item(), np.trace(m), rtol=1e-12)
    np.testing.assert_allclose(tm.trace().item(), np.trace(m), rtol=1e-12)


@pytest.mark.parametrize(
    ("fn", "shape"),
    [
        (lambda x: minigrad.diag(x, 1), (3,)),
        (lambda x: minigrad.diag(x, -1), (3, 4)),
        (minigrad.trace, (3, 4)),
        (minigrad.trace, (0, 2)),
        (lambda x: x.diagonal(0, 2, 0), (2, 3, 2)),
    ],
)
def test_diag_and_trace_gradients(fn, shape, device):
    x = np.random.default_rng(13).standard_normal(shape)
    check_gradients(fn, x, device=device)
    check_second_order(fn, x)


def test_diagonal_errors():
    with pytest.raises(minigrad.ShapeError, match="diagonal: expects a tensor of at least 2 dimensions"):
        minigrad.diagonal(minigrad.ones(3))
    with pytest.raises(minigrad.ShapeError, match="diagonal: dim1 and dim2 name the same dimension"):
        minigrad.diagonal(minigrad.ones(2, 2), 0, 1, -1)
    with pytest.raises(minigrad.IndexOutOfRange, match="diagonal: dim 2 is out of range"):
        minigrad.diagonal(minigrad.ones(2, 2), 0, 0, 2)
    with pytest.raises(minigrad.ShapeError, match="diag: expects a 1-D or 2-D tensor"):
        minigrad.diag(minigrad.ones(2, 2, 2))
    with pytest.raises(minigrad.ShapeError, match="trace: expects a matrix"):
        minigrad.trace(minigrad.ones(3))
    with pytest.raises(minigrad.ShapeError, match="diag_embed: expects a tensor of at least 1 dimension"):
        minigrad.diag_embed(minigrad.tensor(1.0))


def test_linalg_vector_norm():
    rng = np.random.default_rng(14)
    x = rng.standard_normal((2, 3, 4))
    t = minigrad.tensor(x, requires_grad=True)
    np.testing.assert_allclose(minigrad.linalg.vector_norm(t).item(), np.linalg.norm(x.ravel()), rtol=1e-12)
    for ord_ in (1, 2, 3.5, np.inf, -np.inf, 0):
        out = minigrad.linalg.vector_norm(t, ord_, dim=(0, 2), keepdim=True)
        want = np.linalg.norm(np.moveaxis(x, 1, 0).reshape(3, -1), ord_, axis=1).reshape(1, 3, 1)
        np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-12)
    assert minigrad.linalg.vector_norm(t, dtype=np.float32).dtype == np.float32
    check_gradients(lambda y: minigrad.linalg.vector_norm(y, 3, dim=-1), x)
    with pytest.raises(minigrad.ArgumentError, match="vector_norm: the order must be a number"):
        minigrad.linalg.vector_norm(t, "fro")
