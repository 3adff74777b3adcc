"""minigrad's samplers against PyTorch's, on what does not depend on the generator: shapes, dtypes,
broadcasting, which arguments are errors, and how gradients flow. (The numbers differ: NumPy's and
CuPy's generators are not PyTorch's; tests/test_random.py checks the distributions.)
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

DTYPES = {"float32": (mg.float32, torch.float32), "float64": (mg.float64, torch.float64)}
DTYPES.update({"int64": (mg.int64, torch.int64), "int32": (mg.int32, torch.int32)})
DTYPES.update({"uint8": (mg.uint8, torch.uint8), "bool": (mg.bool_, torch.bool)})


def both(call_mg, call_torch):
    """Run both; either both raise (returns the two exceptions) or neither does (returns the results)."""
    results = []
    for call in (call_mg, call_torch):
        try:
            results.append(call())
        except Exception as exc:  # noqa: BLE001 - the point is whether each raises
            results.append(exc)
    raised = [isinstance(r, Exception) for r in results]
    assert raised[0] == raised[1], results
    return results


def same_form(ours, theirs):
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert np.dtype(ours.dtype) == np.dtype(str(theirs.dtype).replace("torch.", "").replace("bool", "bool_"))
    assert ours.requires_grad == theirs.requires_grad


def _pair(shape, dtype="float32", value=0.5, requires_grad=False):
    m, t = DTYPES[dtype]
    return (mg.full(shape, value, dtype=m, requires_grad=requires_grad),
            torch.full(shape, value, dtype=t, requires_grad=requires_grad))  # fmt: skip


SHAPE_PAIRS = [((3, 1), (4,)), ((2, 3), (3, 2)), ((6,), (2, 3)), ((), (2,)), ((0, 3), (3,)), ((2, 1, 3), (4, 1))]


@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("float64", "float32"), ("float32", "float64")])
def test_normal_broadcasts_and_promotes_as_pytorch(shapes, dtypes):
    (ma, ta), (ms, ts) = _pair(shapes[0], dtypes[0]), _pair(shapes[1], dtypes[1], 1.0)
    ours, theirs = both(lambda: mg.normal(ma, ms), lambda: torch.normal(ta, ts))
    if not isinstance(ours, Exception):
        same_form(ours, theirs)


@pytest.mark.parametrize(
    "args",
    [
        (0.0, 1.0, (2, 3)),
        (0.0, 1.0, 4),
        (0.0, -1.0, (2,)),
        (0.0, 1.0),
        ("t", 2.0),
        ("t", -1.0),
        (1.0, "t"),
        ("t",),
        ("t", "neg"),
        ("t", "nan"),
        ("int", 1.0),
    ],
    ids=str,
)
def test_normal_forms_and_errors_as_pytorch(args):
    def build(lib):
        make = mg if lib == "mg" else torch
        table = {
            "t": lambda: make.zeros(2, 3),
            "neg": lambda: make.tensor([1.0, -1.0, 1.0]),
            "nan": lambda: make.tensor([1.0, float("nan"), 1.0]),
            "int": lambda: make.zeros(3, dtype=make.int64),
        }
        return [table[a]() if isinstance(a, str) else a for a in args]

    ours, theirs = both(lambda: mg.normal(*build("mg")), lambda: torch.normal(*build("torch")))
    if not isinstance(ours, Exception):
        same_form(ours, theirs)


def test_normal_factory_keywords_as_pytorch():
    for kwargs in ({"dtype": "float64"}, {"requires_grad": True}, {}):
        mk = {k: (DTYPES[v][0] if k == "dtype" else v) for k, v in kwargs.items()}
        tk = {k: (DTYPES[v][1] if k == "dtype" else v) for k, v in kwargs.items()}
        same_form(mg.normal(1.0, 2.0, (3, 2), **mk), torch.normal(1.0, 2.0, (3, 2), **tk))


@pytest.mark.parametrize("form", ["tt", "tf", "ft"])
def test_normal_gradients_are_zeros_as_pytorch(form):
    """torch.normal has a grad_fn and gives mean and std a zero gradient; so does minigrad's."""
    grads = []
    for lib in (mg, torch):
        mean = lib.tensor([[0.0], [1.0]], dtype=lib.float64, requires_grad=True)
        std = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        a = mean if form[0] == "t" else 0.5
        b = std if form[1] == "t" else 2.0
        out = lib.normal(a, b)
        assert out.requires_grad
        (out * out).sum().backward()
        grads.append([None if t.grad is None else t.grad.numpy() for t in (mean, std)])
    for ours, theirs in zip(*grads):
        if theirs is None:
            assert ours is None
        else:
            np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("probs", [[0.2, 0.9], [1.5], [-0.5], [float("nan")], [0.0, 1.0]], ids=str)
def test_bernoulli_as_pytorch(probs):
    ours, theirs = both(
        lambda: mg.bernoulli(mg.tensor(probs, requires_grad=True)),
        lambda: torch.bernoulli(torch.tensor(probs, requires_grad=True)),
    )
    if not isinstance(ours, Exception):
        same_form(ours, theirs)
    for p in (0.5, 1.5, -0.1, 1.0):
        ours, theirs = both(
            lambda p=p: mg.bernoulli(mg.zeros(2, 3), p), lambda p=p: torch.bernoulli(torch.zeros(2, 3), p)
        )
        if not isinstance(ours, Exception):
            same_form(ours, theirs)


def test_bernoulli_and_poisson_gradients_are_zeros_as_pytorch():
    for name in ("bernoulli", "poisson"):
        grads = []
        for lib in (mg, torch):
            p = lib.tensor([0.2, 0.7], requires_grad=True)
            getattr(lib, name)(p).sum().backward()
            grads.append(p.grad.numpy())
        np.testing.assert_array_equal(*grads)


@pytest.mark.parametrize("rates", [[1.0, 2.0], [-1.0], [float("nan")], [0.0]], ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_poisson_as_pytorch(rates, dtype):
    if dtype == "int64" and any(r != r or r != int(r) for r in rates):
        pytest.skip("integer rates only")
    ours, theirs = both(
        lambda: mg.poisson(mg.tensor(rates, dtype=DTYPES[dtype][0])),
        lambda: torch.poisson(torch.tensor(rates, dtype=DTYPES[dtype][1])),
    )
    if not isinstance(ours, Exception):
        same_form(ours, theirs)


MULTINOMIAL = [
    ([1.0, 2.0, 0.0, 3.0], 2, False),
    ([1.0, 2.0, 0.0, 3.0], 4, False),
    ([1.0, 2.0, 0.0, 3.0], 5, False),
    ([1.0, 2.0, 0.0, 3.0], 5, True),
    ([1.0, 2.0], 0, True),
    ([1.0, 2.0], -1, False),
    ([1.0, -1.0], 1, False),
    ([0.0, 0.0], 1, True),
    ([[1.0, 1.0], [0.0, 0.0]], 1, False),
    ([1.0, float("inf")], 1, False),
    ([1.0, float("nan")], 1, True),
    ([[[1.0]]], 1, False),
    (1.0, 1, False),
    ([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]], 3, False),
    ([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]], 7, True),
    ("empty_rows", 2, False),
    ("empty_categories", 1, True),
    ("ints", 1, False),
]


@pytest.mark.parametrize("weights,n,replacement", MULTINOMIAL, ids=str)
def test_multinomial_shapes_and_errors_as_pytorch(weights, n, replacement):
    def make(lib):
        if weights == "empty_rows":
            return lib.ones(0, 3)
        if weights == "empty_categories":
            return lib.ones(2, 0)
        if weights == "ints":
            return lib.tensor([1, 2])
        return lib.tensor(weights)

    ours, theirs = both(
        lambda: mg.multinomial(make(mg), n, replacement), lambda: torch.multinomial(make(torch), n, replacement)
    )
    if not isinstance(ours, Exception):
        same_form(ours, theirs)
        if not replacement:  # distinct categories in each row, as PyTorch's
            rows = ours.numpy().reshape(-1, n)
            assert all(len(set(r)) == n for r in rows)


INIT = [
    ("normal_", ()),
    ("normal_", (0, -1)),
    ("normal_", (0, 0)),
    ("uniform_", ()),
    ("uniform_", (2, 1)),
    ("uniform_", (1, 1)),
    ("bernoulli_", ()),
    ("bernoulli_", (1.5,)),
    ("bernoulli_", (0.0,)),
    ("exponential_", ()),
    ("exponential_", (0,)),
    ("exponential_", (-1,)),
    ("geometric_", (0.5,)),
    ("geometric_", (0,)),
    ("geometric_", (1,)),
    ("log_normal_", ()),
    ("log_normal_", (1, 0)),
    ("cauchy_", ()),
    ("cauchy_", (0, 0)),
    ("random_", ()),
    ("random_", (10,)),
    ("random_", (-3, 3)),
    ("random_", (5, 2)),
    ("random_", (0, 300)),
]


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("name,args", INIT, ids=str)
def test_initialisers_take_the_dtypes_and_arguments_pytorch_takes(name, args, dtype):
    m, t = DTYPES[dtype]
    ours, theirs = both(
        lambda: getattr(mg.zeros(5, dtype=m), name)(*args), lambda: getattr(torch.zeros(5, dtype=t), name)(*args)
    )
    if not isinstance(ours, Exception):
        same_form(ours, theirs)


def test_the_from_keyword_is_spelled_as_in_pytorch():
    """PyTorch's ``from`` is a Python keyword: ported code passes it as ``**{"from": a}``."""
    for name, kwargs in (("uniform_", {"from": 2.0, "to": 3.0}), ("random_", {"from": 2, "to": 5})):
        for make in (mg.zeros, torch.zeros):
            values = getattr(make(50), name)(**kwargs).numpy()
            assert values.min() >= 2 and values.max() < kwargs["to"]
    both(lambda: mg.zeros(3).uniform_(a=2), lambda: torch.zeros(3).uniform_(a=2))  # neither takes ``a``


def test_initialisers_and_leaves_as_pytorch():
    for lib in (mg, torch):
        leaf = lib.zeros(3, requires_grad=True)
        with pytest.raises(RuntimeError):  # a leaf that requires grad, while recording
            leaf.normal_()
        with lib.no_grad():
            assert leaf.uniform_() is leaf and leaf.requires_grad and leaf.is_leaf


def test_randint_like_as_pytorch():
    for args, kwargs in (((5,), {}), ((2, 5), {}), ((5, 2), {}), ((), {"low": 1, "high": 3})):
        for dtype in ("float32", "int32", "int64"):
            m, t = DTYPES[dtype]
            ours, theirs = both(
                lambda m=m, a=args, k=kwargs: mg.randint_like(mg.zeros(2, 3, dtype=m), *a, **k),
                lambda t=t, a=args, k=kwargs: torch.randint_like(torch.zeros(2, 3, dtype=t), *a, **k),
            )
            if not isinstance(ours, Exception):
                same_form(ours, theirs)


def test_generator_api_as_pytorch():
    ours, theirs = mg.Generator(), torch.Generator()
    assert ours.initial_seed() == theirs.initial_seed() and ours.device == str(theirs.device)
    assert ours.manual_seed(3) is ours and theirs.manual_seed(3) is theirs
    assert ours.initial_seed() == theirs.initial_seed() == 3
    assert ours.manual_seed(-1).initial_seed() == theirs.manual_seed(-1).initial_seed()
    for seed in (7, 7):  # a seeded generator repeats, in both
        a = mg.rand(3, generator=mg.Generator().manual_seed(seed))
        b = torch.rand(3, generator=torch.Generator().manual_seed(seed))
        assert a.shape == tuple(b.shape)
    for factory in ("rand", "randn"):
        same_form(getattr(mg, factory)(2, 3, generator=ours), getattr(torch, factory)(2, 3, generator=theirs))
        like = f"{factory}_like"
        same_form(
            getattr(mg, like)(mg.zeros(2, 1), generator=ours), getattr(torch, like)(torch.zeros(2, 1), generator=theirs)
        )
    same_form(mg.randint(0, 5, (4,), generator=ours), torch.randint(0, 5, (4,), generator=theirs))
    same_form(mg.randperm(6, generator=ours), torch.randperm(6, generator=theirs))
